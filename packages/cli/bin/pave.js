#!/usr/bin/env node
// The `pave` executable: loads the esbuild bundle made by `npm run build` (run by `npm install` too).
import('../dist/pave.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/pave.js')) {
    process.stderr.write('pave: error: the CLI is not built yet; run `npm run build` in the Pave checkout\n');
  } else {
    process.stderr.write(`pave: error: ${error && error.stack ? error.stack : error}\n`);
  }
  process.exit(1);
});
