// The format of a container's log file, shared by the supervisor (writer) and the runtime (reader):
// one JSON object per line, so a line's text can hold anything and `logs` can show when it was printed.
// Imported by the supervisor bundle: node: built-ins only.
import { StringDecoder } from 'node:string_decoder';

/** One stored log line. */
export interface StoredLogLine {
  /** When the supervisor read the line, RFC 3339. */
  at: string;
  stream: 'stdout' | 'stderr';
  line: string;
}

/** Longest line kept whole; longer output is split, so one endless line cannot hold the supervisor's memory. */
export const MAX_LINE_CHARS = 64 * 1024;

/** The stored form of a line, with its newline. */
export function formatLogLine(entry: StoredLogLine): string {
  return `${JSON.stringify(entry)}\n`;
}

/** Parses one stored line; null if it is not one (a torn or foreign line is skipped, not fatal). */
export function parseLogLine(text: string): StoredLogLine | null {
  try {
    const value = JSON.parse(text) as Partial<StoredLogLine>;
    if (
      typeof value.at === 'string' &&
      typeof value.line === 'string' &&
      (value.stream === 'stdout' || value.stream === 'stderr')
    ) {
      return { at: value.at, stream: value.stream, line: value.line };
    }
  } catch {
    // fall through
  }
  return null;
}

/** Splits a byte stream into lines (UTF-8 safe across chunks; "\r\n" and "\n" both end a line). */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  /** The complete lines `chunk` finishes. */
  push(chunk: Buffer): string[] {
    const parts = (this.pending + this.decoder.write(chunk)).split('\n');
    this.pending = parts.pop() ?? '';
    const lines = parts.map(stripCarriageReturn);
    while (this.pending.length > MAX_LINE_CHARS) {
      lines.push(this.pending.slice(0, MAX_LINE_CHARS));
      this.pending = this.pending.slice(MAX_LINE_CHARS);
    }
    return lines;
  }

  /** The unfinished last line, if any, once the stream has ended. */
  end(): string[] {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    return rest ? [stripCarriageReturn(rest)] : [];
  }
}

function stripCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
