import { CATALOG_PAGE_DEFAULT, CatalogEntityList, CatalogQuery, InputError } from '@pave/core';
import type { ApiServer } from '../app.ts';
import type { Store } from '../../store/index.ts';
import { catalogEntities, catalogPage } from '../../domain/catalog.ts';

/**
 * The Backstage catalog (docs/backstage.md): `GET /catalog/entities` describes the apps the caller may read,
 * their workloads and resources, and (for callers who may list users) teams and users, as Backstage entities,
 * a page at a time: apps, then teams, then users.
 */
export function catalogRoutes(api: ApiServer, store: Store): void {
  api.get(
    '/catalog/entities',
    {
      config: { permission: 'catalog.read' },
      schema: {
        tags: ['catalog'],
        summary: 'List Backstage catalog entities of what the caller may read, a page at a time',
        description:
          'A System per app, a Component per workload (`<app>.<workload>`), a Resource per provisioned ' +
          'resource (`<app>.<env>.<address>`), and, for callers with user.read, a Group per team and a ' +
          'User per user. Apps the caller has no role on are left out; no entity holds a secret. Links ' +
          'point at the portal: `portalUrl`, or the URL the request was sent to. Pages walk apps (by id), ' +
          'then teams (by id), then users (by username): `limit` counts apps, teams and users, not entities ' +
          `(${CATALOG_PAGE_DEFAULT} unless given), a page holds all the entities of each of its apps and ` +
          'continues into the next section when one runs out; `nextCursor` fetches the next page.',
        querystring: CatalogQuery,
        response: { 200: CatalogEntityList },
      },
    },
    async (request) => {
      const portalUrl = portalUrlOf(request.query.portalUrl ?? `${request.protocol}://${request.host}`);
      const { snapshot, nextCursor } = await catalogPage(store.db, request.pave.actor, request.query);
      return { items: catalogEntities(snapshot, portalUrl), nextCursor };
    },
  );
}

/**
 * The portal's base URL for entity links, as a URL writes it (what would end an HTML attribute or a YAML
 * scalar, `"` `<` `>`, percent-encoded) and without a trailing slash. InputError when the request's Host
 * header, the default, makes no URL.
 */
function portalUrlOf(given: string): string {
  try {
    return new URL(given).href.replace(/\/+$/, '');
  } catch {
    throw new InputError(`the portal's URL cannot be made from "${given}"`, [
      { path: 'query.portalUrl', message: "give the portal's URL, e.g. https://pave.example.com" },
    ]);
  }
}
