import { z } from 'zod';
import { DNS_LABEL_PATTERN } from './ids.ts';

/** The largest page a list route answers. */
const PAGE_MAX = 500;

/** The `limit` query parameter of a list that pages with cursors; `items` names them in its description. */
export function pageLimit(items: string, defaultSize: number) {
  return z.coerce
    .number()
    .int()
    .min(1)
    .max(PAGE_MAX)
    .optional()
    .describe(`At most this many ${items} (${defaultSize} unless given).`);
}

/**
 * The query of a list ordered by a DNS-label id that pages with cursors: `limit` (`defaultSize` unless
 * given) and `cursor`, the `nextCursor` of the previous page (the items whose id sorts after it).
 */
export function labelPageQuery(items: string, defaultSize: number) {
  return z.strictObject({
    limit: pageLimit(items, defaultSize),
    cursor: z
      .string()
      .regex(DNS_LABEL_PATTERN, { message: 'must be the nextCursor value of a previous page' })
      .optional()
      .describe(
        `Continue after a previous page: its \`nextCursor\` (${items} whose id sorts after that one).`,
      ),
  });
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
