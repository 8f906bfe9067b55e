import { Writable } from 'node:stream';
import type { Colors, OutputStream } from './colors.ts';

/** pino's numeric levels, as words padded to one width. */
const LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info ',
  40: 'warn ',
  50: 'error',
  60: 'fatal',
};

/** Fields every record has, which a human line shows in its own place or not at all. */
const OMITTED_FIELDS = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname', 'v']);

/**
 * One human line for one pino JSON log record, e.g. `12:03:04 info  store ready engine=sqlite`: local time,
 * level, message, then the other fields as key=value (strings quoted when they hold spaces, objects as
 * JSON, an error as its message only: a user never sees a stack trace). A line that is not a JSON object
 * comes back as it was. Secrets are not a concern here: pino has redacted them before serialising.
 */
export function humanLogLine(line: string, colors: Colors): string {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return line;
    record = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = typeof record.level === 'number' ? record.level : 30;
  const time = typeof record.time === 'number' ? new Date(record.time) : new Date();
  const clock = [time.getHours(), time.getMinutes(), time.getSeconds()]
    .map((part) => String(part).padStart(2, '0'))
    .join(':');
  const paint =
    level >= 50 ? colors.red : level >= 40 ? colors.yellow : level >= 30 ? colors.green : colors.gray;
  const fields = Object.entries(record)
    .filter(([key, value]) => !OMITTED_FIELDS.has(key) && value !== undefined)
    .map(([key, value]) => colors.dim(`${key}=${fieldText(value)}`));
  const message = typeof record.msg === 'string' ? record.msg : '';
  return [colors.dim(clock), paint(LEVEL_NAMES[level] ?? String(level)), message, ...fields]
    .filter((part) => part !== '')
    .join(' ');
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { message?: unknown }).message === 'string'
  ) {
    return JSON.stringify((value as { message: string }).message);
  }
  return JSON.stringify(value);
}

/**
 * A stream to hand pino as its destination: it turns each JSON line written to it into a human line (see
 * {@link humanLogLine}) on `out`.
 */
export function humanLogStream(out: OutputStream, colors: Colors): Writable {
  let pending = '';
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') out.write(`${humanLogLine(line, colors)}\n`);
      done();
    },
    final(done) {
      if (pending.trim() !== '') out.write(`${humanLogLine(pending, colors)}\n`);
      done();
    },
  });
}
