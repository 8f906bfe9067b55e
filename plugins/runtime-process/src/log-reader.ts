// Reading the containers' JSON-lines logs: the last lines of a file (and of its rotated predecessor),
// and following files as their supervisors append to them and rotate them.
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { containerOfLogFile } from './layout.ts';
import { parseLogLine, type StoredLogLine } from './log-format.ts';

/** One container's log file. */
export interface LogSource {
  workload: string;
  container: string;
  path: string;
}

/** A stored line with where it comes from. */
export interface SourcedLogLine extends StoredLogLine {
  workload: string;
  container: string;
}

const CHUNK_BYTES = 64 * 1024;
/** More than the longest stored line (MAX_LINE_CHARS of JSON-escaped text), so every read makes progress. */
const READ_LIMIT_BYTES = 4 * 1024 * 1024;

/** The log files of `workloads` under `environmentDir` (every workload there when `workloads` is null). */
export async function listLogSources(
  environmentDir: string,
  workloads: string[] | null,
): Promise<LogSource[]> {
  const names = workloads ?? (await readdir(environmentDir).catch(() => [] as string[]));
  const sources: LogSource[] = [];
  for (const workload of names.sort()) {
    const logsDir = join(environmentDir, workload, 'logs');
    const files = await readdir(logsDir).catch(() => [] as string[]);
    // A container whose file was just rotated has only its `.jsonl.1` until the supervisor writes again.
    const containers = new Set(
      files.map((file) => containerOfLogFile(file.replace(/\.1$/u, ''))).filter((name) => name !== null),
    );
    for (const container of [...containers].sort()) {
      sources.push({ workload, container, path: join(logsDir, `${container}.jsonl`) });
    }
  }
  return sources;
}

/** The last `count` lines of `source` (reaching into the rotated file if needed), oldest first. */
export async function tailLog(source: LogSource, count: number, end?: number): Promise<SourcedLogLine[]> {
  if (count <= 0) return [];
  const current = await lastLines(source.path, count, end);
  const older = current.length < count ? await lastLines(`${source.path}.1`, count - current.length) : [];
  return toLines(source, [...older, ...current]);
}

/** Lines from several sources in time order (stable, so one file's order is kept for equal times). */
export function byTime<T extends { at: string }>(lines: T[]): T[] {
  return lines.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

/** The last `count` complete lines of a file before byte `end` (default: its size); [] if it is missing. */
async function lastLines(path: string, count: number, end?: number): Promise<string[]> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return [];
  }
  try {
    let position = Math.min(end ?? Infinity, (await handle.stat()).size);
    const chunks: Buffer[] = [];
    let newlines = 0;
    while (position > 0 && newlines <= count) {
      const length = Math.min(CHUNK_BYTES, position);
      position -= length;
      const chunk = Buffer.alloc(length);
      await handle.read(chunk, 0, length, position);
      chunks.unshift(chunk);
      for (const byte of chunk) if (byte === 0x0a) newlines += 1;
    }
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    lines.pop(); // after the last newline: nothing, or a line still being written
    if (position > 0) lines.shift(); // may start mid-line
    return lines.slice(-count);
  } finally {
    await handle.close();
  }
}

function toLines(source: LogSource, texts: string[]): SourcedLogLine[] {
  const lines: SourcedLogLine[] = [];
  for (const text of texts) {
    const parsed = parseLogLine(text);
    if (parsed) lines.push({ ...parsed, workload: source.workload, container: source.container });
  }
  return lines;
}

/** Where a follower is in one log file; the inode tells when the supervisor rotated it. */
export class LogCursor {
  private constructor(
    readonly source: LogSource,
    private inode: number,
    private offset: number,
  ) {}

  /** A cursor at the current end of `source` (with that position, so a tail can stop exactly there). */
  static async atEnd(source: LogSource): Promise<{ cursor: LogCursor; end: number }> {
    const info = await stat(source.path).catch(() => null);
    return { cursor: new LogCursor(source, info?.ino ?? -1, info?.size ?? 0), end: info?.size ?? 0 };
  }

  /** A cursor at the start of `source`, for files that appear while following. */
  static atStart(source: LogSource): LogCursor {
    return new LogCursor(source, -1, 0);
  }

  /**
   * The complete lines appended since the last call, including the end of a file rotated meanwhile; at
   * most about READ_LIMIT_BYTES of the current file per call, so a flood is delivered in bounded batches.
   */
  async readNew(): Promise<SourcedLogLine[]> {
    const info = await stat(this.source.path).catch(() => null);
    if (!info) return [];
    const texts: string[] = [];
    if (info.ino !== this.inode) {
      if (this.inode !== -1) {
        const rotated = `${this.source.path}.1`;
        const old = await stat(rotated).catch(() => null);
        let offset = this.offset;
        while (old?.ino === this.inode && offset < old.size) {
          const { lines, bytes } = await readLines(rotated, offset, old.size);
          if (bytes === 0) break;
          texts.push(...lines);
          offset += bytes;
        }
      }
      this.inode = info.ino;
      this.offset = 0;
    } else if (info.size < this.offset) {
      this.offset = 0; // truncated
    }
    const { lines, bytes } = await readLines(this.source.path, this.offset, info.size);
    texts.push(...lines);
    this.offset += bytes;
    return toLines(this.source, texts);
  }
}

/**
 * The complete lines between `from` and `to` (at most READ_LIMIT_BYTES of them), and how many bytes they
 * take; a torn last line waits for the next call.
 */
async function readLines(
  path: string,
  from: number,
  to: number,
): Promise<{ lines: string[]; bytes: number }> {
  const length = Math.min(to - from, READ_LIMIT_BYTES);
  if (length <= 0) return { lines: [], bytes: 0 };
  const handle = await open(path, 'r').catch(() => null);
  if (!handle) return { lines: [], bytes: 0 };
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, from);
    const complete = buffer.subarray(0, buffer.lastIndexOf(0x0a, bytesRead - 1) + 1);
    const text = complete.toString('utf8');
    return { lines: text ? text.slice(0, -1).split('\n') : [], bytes: complete.length };
  } finally {
    await handle.close();
  }
}
