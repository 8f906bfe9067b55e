import picocolors from 'picocolors';
import { describe, expect, it } from 'vitest';
import { humanLogLine, humanLogStream } from '../src/output/log-lines.ts';

const plain = picocolors.createColors(false);
const at = (hours: number, minutes: number, seconds: number) =>
  new Date(2026, 0, 2, hours, minutes, seconds).getTime();

describe('pave up’s human log lines', () => {
  it('show the local time, the level, the message and the other fields as key=value', () => {
    const line = JSON.stringify({
      level: 30,
      time: at(12, 3, 4),
      service: 'pave',
      engine: 'sqlite',
      store: '/var/lib/pave/pave.db',
      msg: 'store ready',
    });
    expect(humanLogLine(line, plain)).toBe(
      '12:03:04 info  store ready engine=sqlite store=/var/lib/pave/pave.db',
    );
  });

  it('quote strings with spaces, show objects as JSON and an error as its message only, never its stack', () => {
    const line = JSON.stringify({
      level: 50,
      time: at(7, 0, 9),
      msg: 'deployment failed',
      reason: 'crash looping',
      counts: { ready: 1 },
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at run (worker.ts:1:1)' },
    });
    const human = humanLogLine(line, plain);
    expect(human).toBe(
      '07:00:09 error deployment failed reason="crash looping" counts={"ready":1} err="boom"',
    );
    expect(human).not.toContain('worker.ts');
  });

  it('pass a line that is not a JSON record through unchanged', () => {
    expect(humanLogLine('plain text', plain)).toBe('plain text');
    expect(humanLogLine('[1,2]', plain)).toBe('[1,2]');
  });

  it('come one per record from a stream that gets records in arbitrary chunks', async () => {
    let out = '';
    const stream = humanLogStream({ write: (text: string) => (out += text) }, plain);
    const record = (msg: string) => `${JSON.stringify({ level: 40, time: at(1, 2, 3), msg })}\n`;
    const both = record('first') + record('second');
    stream.write(both.slice(0, 10));
    stream.write(both.slice(10));
    await new Promise<void>((resolve) => stream.end(resolve));
    expect(out).toBe('01:02:03 warn  first\n01:02:03 warn  second\n');
  });
});
