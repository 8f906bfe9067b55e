import { z } from 'zod';
import { DNS_LABEL_PATTERN } from './ids.ts';

/** The largest page a list route answers (its `limit` at most). */
export const PAGE_LIMIT_MAX = 500;

/** The `limit` query parameter of a list that pages with cursors; `items` names them in its description. */
export function pageLimit(items: string, defaultSize: number) {
  return z.coerce
    .number()
    .int()
    .min(1)
    .max(PAGE_LIMIT_MAX)
    .optional()
    .describe(`At most this many ${items} (${defaultSize} unless given).`);
}

/**
 * The `limit` and `cursor` query parameters of a list ordered by a DNS-label `key` (its id unless said) that
 * pages with cursors: `cursor` is the `nextCursor` of the previous page (the items whose key sorts after it).
 */
export function labelPageFields(items: string, defaultSize: number, key = 'id') {
  return {
    limit: pageLimit(items, defaultSize),
    cursor: z
      .string()
      .regex(DNS_LABEL_PATTERN, { message: 'must be the nextCursor value of a previous page' })
      .optional()
      .describe(
        `Continue after a previous page: its \`nextCursor\` (${items} whose ${key} sorts after that one).`,
      ),
  };
}

/** The query of a list ordered by a DNS-label key, with nothing but its page (see labelPageFields). */
export function labelPageQuery(items: string, defaultSize: number, key = 'id') {
  return z.strictObject(labelPageFields(items, defaultSize, key));
}

/** An ISO 8601 time as a cursor's part holds it (the store's `created_at`). */
export const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * The `nextCursor` of a page whose position takes several parts (a time and an id, say): base64url of their
 * JSON, opaque to callers. decodeCursor reads it back.
 */
export function encodeCursor(parts: readonly unknown[]): string {
  const bytes = new TextEncoder().encode(JSON.stringify(parts));
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/**
 * The `length` parts encodeCursor made `cursor` of; undefined for any other text (longer than `maxLength`,
 * not base64url, not JSON, not a list of that length, a part with a NUL character). The caller checks each
 * part.
 */
export function decodeCursor(cursor: string, length: number, maxLength = 512): unknown[] | undefined {
  if (cursor.length > maxLength || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  try {
    const binary = atob(cursor.replaceAll('-', '+').replaceAll('_', '/'));
    const text = new TextDecoder('utf-8', { fatal: true }).decode(
      Uint8Array.from(binary, (char) => char.charCodeAt(0)),
    );
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value) || value.length !== length) return undefined;
    // Pave makes no cursor with a NUL character, and PostgreSQL cannot compare text holding one.
    return value.some((part) => typeof part === 'string' && part.includes('\u0000')) ? undefined : value;
  } catch {
    return undefined;
  }
}

/**
 * The answer of a list that pages with cursors: `items`, and `nextCursor`, which the next page's `cursor`
 * query parameter takes (null on the last page).
 */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .describe('Give it as `cursor` for the next page; null on the last page.'),
  });
}

/** A page of a list the API pages with cursors. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Every item of a cursor-paged list, page after page, for a caller that needs the whole list (a choice in a
 * form, a lookup by name). `load` fetches the page after `cursor` (the first page without one).
 */
export async function allPages<T>(load: (cursor?: string) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await load(cursor);
    items.push(...page.items);
    if (!page.nextCursor) return items;
    if (page.nextCursor === cursor) throw new Error(`a list answered the same cursor twice: ${cursor}`);
    cursor = page.nextCursor;
  }
}
