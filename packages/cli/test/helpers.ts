import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { CliIo } from '../src/io.ts';

/** A captured stream: everything written to it, and whether it claims to be a terminal. */
export interface CapturedStream {
  text: string;
  isTTY: boolean;
  write(text: string): boolean;
}

/** A stream double that records what is written to it. */
export function capture(isTTY = false): CapturedStream {
  return {
    text: '',
    isTTY,
    write(text: string) {
      this.text += text;
      return true;
    },
  };
}

/** A CliIo with captured streams, the given environment and a temporary home directory; no real process state. */
export function fakeIo(
  options: { env?: Record<string, string | undefined>; homeDir?: string; tty?: boolean; stdin?: string } = {},
): CliIo & { stdout: CapturedStream; stderr: CapturedStream } {
  return {
    stdout: capture(options.tty ?? false),
    stderr: capture(options.tty ?? false),
    env: options.env ?? {},
    homeDir: options.homeDir ?? temporaryDir(),
    readStdin: async () => options.stdin ?? '',
  };
}

const created: string[] = [];
afterEach(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory, removed after the test. */
export function temporaryDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pave-cli-test-'));
  created.push(dir);
  return dir;
}
