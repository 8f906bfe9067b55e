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
    // Exit now: Node 20 would otherwise wait ~0.3 s for V8 to finish compiling fetch's WebAssembly parser in
    // the background. stdout and stderr are synchronous for files and pipes on Linux, so nothing printed is lost.
    process.exit(code);
  }
});
