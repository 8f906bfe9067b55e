import { MAX_TTL_SECONDS } from '@pave/core';

const DURATION = /^([0-9]+)([smhd])$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** A duration such as 30m, 12h or 90d in seconds (as `--ttl` takes it); undefined when the text is not one. */
export function durationSeconds(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const seconds = amount * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
  return amount >= 1 && Number.isSafeInteger(seconds) ? seconds : undefined;
}

/**
 * What is wrong with a time to live typed into a form, to follow "The time to live …" under its field;
 * undefined when it is empty or a duration.
 */
export function ttlProblem(text: string): string | undefined {
  const trimmed = text.trim();
  const seconds = durationSeconds(trimmed);
  if (seconds !== undefined && seconds > MAX_TTL_SECONDS) {
    return `"${trimmed}" is too long; use at most ${MAX_TTL_SECONDS / 86_400}d`;
  }
  if (!trimmed || seconds !== undefined) return undefined;
  return /^0+[smhd]$/.test(trimmed)
    ? 'must be more than zero, e.g. 30m, 12h or 90d'
    : `"${trimmed}" is not a duration; use e.g. 30m, 12h or 90d`;
}
