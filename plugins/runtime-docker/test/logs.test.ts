import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  advance,
  byTime,
  demuxLogs,
  FollowFilter,
  keySeconds,
  LogDemuxer,
  timeKey,
  type TimedLine,
} from '../src/logs.ts';

/** One frame of the Engine API's multiplexed log stream. */
function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

const line = (at: string, text: string, stream: TimedLine['stream'] = 'stdout'): TimedLine => ({
  stream,
  at,
  line: text,
});

describe('reading multiplexed container logs', () => {
  it('splits frames into timestamped stdout and stderr lines', () => {
    const buffer = Buffer.concat([
      frame(1, '2026-11-28T11:11:42.123456789Z hello\n'),
      frame(2, '2026-11-28T11:11:42Z oops: “unicode”\n'),
      frame(1, '2026-11-28T11:11:43Z no newline at the end'),
    ]);
    expect(demuxLogs(buffer)).toEqual([
      line('2026-11-28T11:11:42.123456789Z', 'hello'),
      line('2026-11-28T11:11:42Z', 'oops: “unicode”', 'stderr'),
      line('2026-11-28T11:11:43Z', 'no newline at the end'),
    ]);
  });

  it('gives the same lines however the stream is cut into chunks', () => {
    const lines = [
      '2026-11-28T11:11:42Z first',
      '2026-11-28T11:11:43Z sécond ✓',
      '2026-11-28T11:11:44Z third',
    ];
    const buffer = Buffer.concat(lines.map((text, index) => frame(index === 1 ? 2 : 1, `${text}\n`)));
    const expected = demuxLogs(buffer);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: buffer.length - 1 })), (cuts) => {
        const demuxer = new LogDemuxer();
        const seen: TimedLine[] = [];
        let from = 0;
        for (const cut of [...cuts.sort((a, b) => a - b), buffer.length]) {
          seen.push(...demuxer.push(buffer.subarray(from, cut)));
          from = cut;
        }
        seen.push(...demuxer.end());
        expect(seen).toEqual(expected);
      }),
    );
  });

  it('orders lines of several containers by time at nanosecond precision, keeping ties in order', () => {
    const lines = [
      line('2026-11-28T11:11:42.5Z', 'b'),
      line('2026-11-28T11:11:42Z', 'a'),
      line('2026-11-28T11:11:42.000000001Z', 'a2'),
      line('2026-11-28T11:11:42.5Z', 'c'),
      line('2026-11-28T12:11:41+01:00', 'earliest'),
    ];
    expect(byTime(lines).map((entry) => entry.line)).toEqual(['earliest', 'a', 'a2', 'b', 'c']);
    expect(keySeconds(timeKey('2026-11-28T11:11:42.999Z'))).toBe(Date.parse('2026-11-28T11:11:42Z') / 1000);
    expect(timeKey('not a time')).toBe('');
  });
});

describe('following a log from where it was shown', () => {
  it('drops the lines already shown and passes everything after them', () => {
    const shown = [
      line('2026-11-28T11:11:41Z', 'one'),
      line('2026-11-28T11:11:42Z', 'two'),
      line('2026-11-28T11:11:42Z', 'three'),
    ];
    const position = advance({ key: '', linesAtKey: [] }, shown);
    expect(position.linesAtKey).toEqual(['two', 'three']);
    // Read again from 11:11:42 on: two and three again, then a line of the same second, then later ones.
    const again = [
      line('2026-11-28T11:11:42Z', 'two'),
      line('2026-11-28T11:11:42Z', 'three'),
      line('2026-11-28T11:11:42Z', 'four'),
      line('2026-11-28T11:11:43Z', 'five'),
    ];
    const filter = new FollowFilter(position);
    expect(filter.accept(again.slice(0, 1)).map((entry) => entry.line)).toEqual([]);
    expect(filter.accept(again.slice(1)).map((entry) => entry.line)).toEqual(['four', 'five']);
    expect(filter.accept([line('2026-11-28T11:11:44Z', 'six')]).map((entry) => entry.line)).toEqual(['six']);
  });

  it('skips the older lines of the last second that the tail cut off', () => {
    const position = advance({ key: '', linesAtKey: [] }, [line('2026-11-28T11:11:42Z', 'b')]);
    const filter = new FollowFilter(position);
    const again = [
      line('2026-11-28T11:11:40Z', 'older'),
      line('2026-11-28T11:11:42Z', 'a'),
      line('2026-11-28T11:11:42Z', 'b'),
      line('2026-11-28T11:11:42Z', 'c'),
    ];
    expect(filter.accept(again).map((entry) => entry.line)).toEqual(['c']);
  });

  it('passes everything of a log that showed nothing yet', () => {
    const filter = new FollowFilter({ key: '', linesAtKey: [] });
    expect(filter.accept([line('2026-11-28T11:11:40Z', 'x')])).toHaveLength(1);
  });
});
