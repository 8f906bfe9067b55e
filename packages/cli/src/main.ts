// The entry point of the `pave` bundle (see scripts/build.mjs and bin/pave.cjs). CommonJS once built, so no
// top-level await.
import { processIo } from './io.ts';
import { runCli } from './cli.ts';

// `pave audit | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

void runCli(process.argv, processIo()).then((code) => {
  if (process.argv[2] === 'up') {
    // The control plane has stopped; let its buffered logs drain on their own.
    process.exitCode = code;
  } else {
    // Exit as soon as what was printed is out: Node 20 would otherwise wait ~0.3 s for V8 to finish compiling
    // fetch's WebAssembly parser in the background. A pipe whose reader is slower than the output holds what
    // did not fit in it in Node's buffer: an empty write's callback runs once everything before it is written.
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  }
});
