import { z } from 'zod';

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
