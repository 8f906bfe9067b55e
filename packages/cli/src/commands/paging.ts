import { PAGE_LIMIT_MAX } from '@pave/core';
import { CliUsageError } from '../errors.ts';

/** The `--limit` of a paged list: a whole number from 1 to `max` (the largest page the server answers). */
export function parseLimit(text: string, items: string, max: number = PAGE_LIMIT_MAX): number {
  const limit = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(limit) || limit < 1) {
    throw new CliUsageError(
      `--limit: "${text}" is not a number of ${items}; use a whole number from 1 to ${max}`,
    );
  }
  if (limit > max) {
    throw new CliUsageError(`--limit: "${text}" is more ${items} than a page holds; use at most ${max}`);
  }
  return limit;
}

/** The query of a paged list from its `--limit` and `--cursor` options; `items` names them in errors. */
export function pageQuery(
  options: { limit?: string | undefined; cursor?: string | undefined },
  items: string,
): { limit?: number; cursor?: string } {
  return {
    ...(options.limit === undefined ? {} : { limit: parseLimit(options.limit, items) }),
    ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
  };
}

/**
 * A page printed for people: `shown`, then, when the list goes on, the command that prints the next page
 * (`More policies: pave policies list --cursor X`, keeping `--limit`).
 */
export function withMoreLine(
  shown: string,
  nextCursor: string | null,
  more: { items: string; command: string; limit?: string | undefined },
): string {
  if (!nextCursor) return shown;
  const limit = more.limit === undefined ? '' : ` --limit ${more.limit.trim()}`;
  return `${shown}\n\nMore ${more.items}: ${more.command}${limit} --cursor ${nextCursor}`;
}

/**
 * What an empty page prints. The first page says the list is empty, in the list's own `empty` line with its
 * advice (`No policies yet. Apply some with …`). A page after `--cursor` is past the end of a list that has
 * entries before it, so it says only that: `No policies after "no-latest".`
 */
export function emptyPageLine(empty: string, cursor: string | undefined, items: string): string {
  return cursor === undefined ? empty : `No ${items} after "${cursor}".`;
}
