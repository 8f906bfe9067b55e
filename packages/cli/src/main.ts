// The entry point of the `pave` bundle (see scripts/build.mjs and bin/pave.js).
import { processIo } from './io.ts';
import { runCli } from './program.ts';

// `pave audit | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runCli(process.argv, processIo());
