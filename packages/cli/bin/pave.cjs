#!/usr/bin/env node
// The `pave` executable: loads the bundle made by `npm run build` (run by `npm install` too). CommonJS, like the
// bundle: Node starts CommonJS sooner than ES modules (scripts/build.mjs says why the bundle is CommonJS).
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS file, on purpose (see above)
  require('../dist/pave.cjs');
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes('dist/pave.cjs')) {
    process.stderr.write('pave: error: the CLI is not built yet; run `npm run build` in the Pave checkout\n');
  } else {
    process.stderr.write(`pave: error: ${error && error.stack ? error.stack : error}\n`);
  }
  process.exit(1);
}
