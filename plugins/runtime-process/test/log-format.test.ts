import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter, MAX_LINE_CHARS, formatLogLine, parseLogLine } from '../src/log-format.ts';

/** Feeds `bytes` to a splitter in pieces cut at `cuts`, then ends it. */
function split(bytes: Buffer, cuts: number[]): string[] {
  const splitter = new LineSplitter();
  const lines: string[] = [];
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    lines.push(...splitter.push(bytes.subarray(start, cut)));
    start = Math.max(start, cut);
  }
  lines.push(...splitter.push(bytes.subarray(start)), ...splitter.end());
  return lines;
}

describe('LineSplitter', () => {
  it('gives back the lines of any output, however the pipe cuts it (UTF-8 included)', () => {
    const line = fc.string({ unit: 'grapheme', maxLength: 30 }).filter((text) => !/[\r\n]/.test(text));
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 20 }), fc.array(fc.nat()), (lines, cuts) => {
        const bytes = Buffer.from(`${lines.join('\n')}\n`);
        expect(
          split(
            bytes,
            cuts.map((cut) => cut % (bytes.length + 1)),
          ),
        ).toEqual(lines);
      }),
    );
  });

  it('ends lines at "\\r\\n" too, keeps an unfinished last line, and splits endless ones', () => {
    expect(split(Buffer.from('a\r\nb\nc'), [2])).toEqual(['a', 'b', 'c']);
    const endless = 'x'.repeat(MAX_LINE_CHARS * 2 + 5);
    expect(split(Buffer.from(endless), []).map((part) => part.length)).toEqual([
      MAX_LINE_CHARS,
      MAX_LINE_CHARS,
      5,
    ]);
  });
});

describe('stored log lines', () => {
  it('read back what was written, whatever the text holds', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('stdout' as const, 'stderr' as const), (line, stream) => {
        const entry = { at: '2025-01-01T00:00:00.000Z', stream, line };
        const stored = formatLogLine(entry);
        expect(stored.indexOf('\n')).toBe(stored.length - 1);
        expect(parseLogLine(stored.slice(0, -1))).toEqual(entry);
      }),
    );
  });

  it('skip a torn or foreign line instead of failing', () => {
    expect(parseLogLine('{"at":"2025')).toBeNull();
    expect(parseLogLine('{"at":"x","stream":"other","line":"y"}')).toBeNull();
  });
});
