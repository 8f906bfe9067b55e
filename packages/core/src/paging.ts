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
