import { describe, expect, it } from 'vitest';
import { runCommand, type CommandRun, type CommandStream } from '../src/index.ts';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

function sh(script: string, extra: Partial<CommandRun> = {}): CommandRun {
  return { argv: ['sh', '-c', script], env, timeoutMs: 10_000, killGraceMs: 500, ...extra };
}

describe('runCommand', () => {
  it('hands every line of stdout and stderr to onLine, the last one even without a newline', async () => {
    const lines: [CommandStream, string][] = [];
    const result = await runCommand(
      sh(`printf 'one\\r\\ntwo\\n'; printf 'warn\\n' >&2; printf 'héllo\\n'; printf 'last'`, {
        onLine: (line, stream) => lines.push([stream, line]),
      }),
    );
    expect(result).toMatchObject({ started: true, exitCode: 0, stdout: 'one\r\ntwo\nhéllo\nlast' });
    expect(lines.filter(([stream]) => stream === 'stdout').map(([, line]) => line)).toEqual([
      'one',
      'two',
      'héllo',
      'last',
    ]);
    expect(lines).toContainEqual(['stderr', 'warn']);
    expect(result.stderrLines).toEqual(['warn']);
  });

  it('keeps no stdout without captureStdout, and gives no stdin when none is given', async () => {
    const lines: string[] = [];
    const result = await runCommand(
      sh(`if read -r line; then echo "read $line"; else echo 'no input'; fi`, {
        captureStdout: false,
        onLine: (line) => lines.push(line),
      }),
    );
    expect(result).toMatchObject({ exitCode: 0, stdout: '' });
    expect(lines).toEqual(['no input']);
  });

  it('writes stdin when given', async () => {
    const result = await runCommand(sh('cat', { stdin: '{"a":1}' }));
    expect(result).toMatchObject({ exitCode: 0, stdout: '{"a":1}' });
  });

  it('stops a command whose captured stdout exceeds maxStdoutBytes', async () => {
    const result = await runCommand(sh('while :; do echo xxxxxxxxxxxxxxxx; done', { maxStdoutBytes: 1024 }));
    expect(result.stdout).toBeUndefined();
    expect(result.exitSignal).toBe('SIGTERM');
  });
});
