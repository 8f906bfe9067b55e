// Container logs as the Engine API sends them (without a TTY): frames of an 8-byte header, [stream, 0, 0,
// 0, size as uint32 big-endian], then `size` bytes; with `timestamps`, every line starts with an RFC 3339
// time and a space. Docker gives nanoseconds, Podman whole seconds.
import { byLogTime, logTimeKey } from '@pave/plugin-api';

/** One log line of a container, with the engine's timestamp. */
export interface TimedLine {
  stream: 'stdout' | 'stderr';
  /** RFC 3339, as the engine wrote it. */
  at: string;
  line: string;
}

/** Splits a multiplexed log stream into lines, whatever the chunk boundaries. */
export class LogDemuxer {
  private pending: Buffer = Buffer.alloc(0);
  private readonly partial = { stdout: '', stderr: '' };
  private readonly decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  /** The complete lines in `chunk` (and what came before it). */
  push(chunk: Buffer): TimedLine[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const lines: TimedLine[] = [];
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const kind = this.pending[0] === 2 ? 'stderr' : 'stdout';
      const text = this.decoders[kind].decode(this.pending.subarray(8, 8 + size), { stream: true });
      this.pending = this.pending.subarray(8 + size);
      const parts = (this.partial[kind] + text).split('\n');
      this.partial[kind] = parts.pop() ?? '';
      for (const part of parts) lines.push(timedLine(kind, part));
    }
    return lines;
  }

  /** The unterminated last lines, once the stream has ended. */
  end(): TimedLine[] {
    const lines: TimedLine[] = [];
    for (const kind of ['stdout', 'stderr'] as const) {
      const rest = this.partial[kind] + this.decoders[kind].decode();
      if (rest) lines.push(timedLine(kind, rest));
      this.partial[kind] = '';
    }
    return lines;
  }
}

/** Every line of a complete (not followed) log response. */
export function demuxLogs(buffer: Buffer): TimedLine[] {
  const demuxer = new LogDemuxer();
  return [...demuxer.push(buffer), ...demuxer.end()];
}

const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ?/;

function timedLine(stream: 'stdout' | 'stderr', text: string): TimedLine {
  const line = text.endsWith('\r') ? text.slice(0, -1) : text;
  const match = TIMESTAMP.exec(line);
  if (!match?.[1]) return { stream, at: new Date().toISOString(), line };
  return { stream, at: match[1], line: line.slice(match[0].length) };
}

/** A key that sorts RFC 3339 times in time order at nanosecond precision ('' for one that does not parse). */
export const timeKey = logTimeKey;

/** Whole UTC seconds of a time key, for the Engine API's `since`. */
export function keySeconds(key: string): number {
  return key ? Math.floor(Number(key.split('.')[0])) : 0;
}

/** `lines` sorted by time; lines of the same time keep their order. */
export const byTime = byLogTime;

/**
 * What a container's log has been shown up to: the time of its last line shown and the lines shown at that
 * time. Logs are read again from that second on (the API's `since` takes whole seconds), and FollowFilter
 * drops what was already shown.
 */
export interface LogPosition {
  key: string;
  linesAtKey: string[];
}

/** The position after showing `lines` (in log order) from `position`. */
export function advance(position: LogPosition, lines: TimedLine[]): LogPosition {
  let { key, linesAtKey } = position;
  for (const line of lines) {
    const lineKey = timeKey(line.at);
    if (lineKey > key) {
      key = lineKey;
      linesAtKey = [];
    }
    if (lineKey === key) linesAtKey = [...linesAtKey, line.line];
  }
  return { key, linesAtKey };
}

/**
 * Drops the lines of a log read again from `since` that were already shown: those before the position's
 * time, and at that time, every line up to the end of the run of lines shown last. A line after that time
 * ends the skipping (whatever was held back is then new after all).
 */
export class FollowFilter {
  private skipping: boolean;
  private held: TimedLine[] = [];

  constructor(private readonly position: LogPosition) {
    this.skipping = position.key !== '';
  }

  /** The lines of `lines` that are new. */
  accept(lines: TimedLine[]): TimedLine[] {
    if (!this.skipping) return lines;
    const fresh: TimedLine[] = [];
    for (const line of lines) {
      if (!this.skipping) {
        fresh.push(line);
        continue;
      }
      const key = timeKey(line.at);
      if (key < this.position.key) continue;
      if (key === this.position.key) {
        this.held.push(line);
        if (this.endsWithShown()) this.stopSkipping([]);
        continue;
      }
      this.stopSkipping(fresh);
      fresh.push(line);
    }
    return fresh;
  }

  private endsWithShown(): boolean {
    const shown = this.position.linesAtKey;
    if (shown.length === 0 || this.held.length < shown.length) return false;
    const tail = this.held.slice(-shown.length);
    return tail.every((line, index) => line.line === shown[index]);
  }

  private stopSkipping(into: TimedLine[]): void {
    into.push(...this.held);
    this.held = [];
    this.skipping = false;
  }
}
