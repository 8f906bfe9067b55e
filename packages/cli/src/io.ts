import { homedir } from 'node:os';
import type { CliEnvironment } from './config.ts';
import type { OutputStream } from './output/colors.ts';

/** Everything a command touches outside itself, so tests can run commands without a real process. */
export interface CliIo extends CliEnvironment {
  stdout: OutputStream;
  stderr: OutputStream;
  /**
   * Reads standard input to its end (for `--token-stdin`, `-f -`); a later call resolves with the same text,
   * so a command may read it where it needs it.
   */
  readStdin: () => Promise<string>;
  /** Whether standard input is a terminal, so that a person can answer a question. */
  stdinIsTTY: boolean;
  /**
   * Writes `question` to stderr and resolves with the line typed in answer, without its newline; with ''
   * when input ends or Ctrl-C is pressed first.
   */
  ask: (question: string) => Promise<string>;
  /**
   * Like {@link ask}, for a password: what is typed is not shown. Absent where nothing can be typed unseen
   * (test doubles); commands then refuse to prompt and name the `--…-stdin` flag to use instead.
   */
  askSecret?: (question: string) => Promise<string>;
}

/** The real process: its streams, environment and home directory. */
export function processIo(): CliIo {
  let stdinText: Promise<string> | undefined;
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    homeDir: homedir(),
    readStdin: () => (stdinText ??= readAllOfStdin()),
    stdinIsTTY: process.stdin.isTTY === true,
    ask: async (question) => {
      const { createInterface } = await import('node:readline');
      const lines = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await new Promise<string>((resolve) => {
          lines.once('close', () => resolve(''));
          // Without a listener Ctrl-C would only pause the prompt; take it as "no".
          lines.once('SIGINT', () => {
            process.stderr.write('\n');
            lines.close();
          });
          lines.question(question, resolve);
        });
      } finally {
        lines.close();
      }
    },
    askSecret: async (question) => {
      const { createInterface } = await import('node:readline');
      const { Writable } = await import('node:stream');
      // readline echoes what is typed to its output: after the question, that output goes nowhere.
      let muted = false;
      const output = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          if (!muted) process.stderr.write(chunk);
          callback();
        },
      });
      const lines = createInterface({ input: process.stdin, output, terminal: true });
      try {
        return await new Promise<string>((resolve) => {
          lines.once('close', () => resolve(''));
          lines.once('SIGINT', () => lines.close());
          lines.question(question, resolve);
          muted = true;
        });
      } finally {
        lines.close();
        // The Enter (or Ctrl-C) was not echoed either.
        process.stderr.write('\n');
      }
    },
  };
}

// Standard input, read once to its end (a second read of the stream would find it ended, and empty), as a file
// argument is read: at most FILE_SIZE_LIMIT_BYTES (FileTooLargeError beyond), and UTF-8 (NotUtf8FileError).
async function readAllOfStdin(): Promise<string> {
  const { readAtMost, utf8Text } = await import('./file-arguments.ts');
  return utf8Text(await readAtMost(process.stdin));
}
