import { CliUsageError } from '../errors.ts';

/** The `--limit` of a paged list: a whole number from 1 (the server caps it). */
export function parseLimit(text: string, items: string): number {
  const limit = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(limit) || limit < 1) {
    throw new CliUsageError(`--limit: "${text}" is not a number of ${items}; use a whole number from 1`);
  }
  return limit;
}
