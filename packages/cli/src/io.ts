import { homedir } from 'node:os';
import type { CliEnvironment } from './config.ts';
import type { OutputStream } from './output/colors.ts';

/** Everything a command touches outside itself, so tests can run commands without a real process. */
export interface CliIo extends CliEnvironment {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Reads standard input to its end (for `--token-stdin`). */
  readStdin: () => Promise<string>;
}

/** The real process: its streams, environment and home directory. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    homeDir: homedir(),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}
