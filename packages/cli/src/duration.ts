import { CliUsageError } from './errors.ts';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** The longest duration accepted, so the resulting date stays representable and meaningful. */
export const MAX_DURATION_DAYS = 36_500;
const MAX_MS = MAX_DURATION_DAYS * UNIT_MS.d;

/** How a duration is written, for help texts and error messages. */
export const DURATION_FORMAT =
  'a whole number followed by s (seconds), m (minutes), h (hours) or d (days), e.g. 30m, 12h, 90d';

/**
 * Parses a duration such as `90s`, `30m`, `12h` or `90d` into milliseconds. Throws CliUsageError naming `flag`
 * and the accepted format when `text` is not one, is zero, or is longer than {@link MAX_DURATION_DAYS} days.
 */
export function parseDuration(text: string, flag = '--expires-in'): number {
  const match = /^([0-9]+)([smhd])$/.exec(text.trim());
  const amount = match ? Number(match[1]) : NaN;
  const unit = match?.[2] as keyof typeof UNIT_MS | undefined;
  if (!unit || !Number.isSafeInteger(amount) || amount < 1) {
    throw new CliUsageError(`${flag}: "${text}" is not a duration; use ${DURATION_FORMAT}`);
  }
  const ms = amount * UNIT_MS[unit];
  if (ms > MAX_MS) {
    throw new CliUsageError(`${flag}: "${text}" is too long; use at most ${MAX_DURATION_DAYS}d`);
  }
  return ms;
}

/** A duration (see {@link parseDuration}) in whole seconds, as the API's `ttlSeconds` wants. */
export function durationSeconds(text: string, flag: string): number {
  return parseDuration(text, flag) / 1000;
}

/** The ISO 8601 instant `duration` (see {@link parseDuration}) after `now`, as the API's `expiresAt` wants. */
export function expiresAtAfter(duration: string, now: Date = new Date(), flag = '--expires-in'): string {
  return new Date(now.getTime() + parseDuration(duration, flag)).toISOString();
}
