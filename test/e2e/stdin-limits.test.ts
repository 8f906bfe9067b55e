import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PAVE_BIN } from '../support/pave.ts';

/** Runs `pave ARGS` with standard input from the shell command `feed` (a pipe); no server is needed. */
function paveFed(feed: string, args: string): { status: number | null; stderr: string } {
  const result = spawnSync('sh', ['-c', `${feed} | "${process.execPath}" "${PAVE_BIN}" ${args}`], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', NO_COLOR: '1' },
    timeout: 60_000,
  });
  return { status: result.status, stderr: result.stderr };
}

describe('standard input given as a file (-f -)', () => {
  it('is read up to 16 MiB: an endless pipe is refused at once, saying why', () => {
    const endless = paveFed('cat /dev/zero', 'validate -f -');
    expect(endless.status).toBe(2);
    expect(endless.stderr).toContain('<stdin>');
    expect(endless.stderr).toContain('it holds more than 16 MiB; Pave reads at most 16 MiB from a file');
    expect(endless.stderr).not.toMatch(/\n\s+at /);
  });

  it('must be UTF-8, as a file must: said at the first byte that is not', () => {
    const latin1 = paveFed(
      String.raw`printf 'apiVersion: score.dev/v1b1\nmetadata:\n  name: caf\351\n'`,
      'validate -f -',
    );
    expect(latin1.status).toBe(2);
    expect(latin1.stderr).toMatch(/<stdin>.*not UTF-8: byte \d+ \(0xE9, line 3, column 12\)/);
    // The same for a .env file from standard input, refused before anything is sent (no server here).
    const dotenv = paveFed(String.raw`printf 'A=caf\351\n'`, 'values import - --app shop --env dev');
    expect(dotenv.status).toBe(2);
    expect(dotenv.stderr).toContain('cannot read <stdin>: it is not UTF-8: byte 6 (0xE9, line 1, column 6)');
  });
});
