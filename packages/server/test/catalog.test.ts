import {
  DefaultNamespaceEntityPolicy,
  EntityPolicies,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  componentEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
  type Entity,
} from '@backstage/catalog-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogEntity, ScoreWorkload } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { catalogEntityName } from '../src/domain/catalog.ts';
import { insertToken } from '../src/domain/tokens.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/** Backstage's own checks of an entity, as its catalog runs them when it ingests one. */
const policies = EntityPolicies.allOf([
  new DefaultNamespaceEntityPolicy(),
  new FieldFormatEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new SchemaValidEntityPolicy(),
]);
const kindValidators = [
  componentEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  userEntityV1alpha1Validator,
];

/** Throws with Backstage's words unless the entity passes the policies and exactly one kind validator. */
async function validateWithBackstage(entity: CatalogEntity): Promise<void> {
  const copy = structuredClone(entity) as unknown as Entity;
  expect(await policies.enforce(copy)).toBeDefined();
  const accepted = [];
  for (const validator of kindValidators) {
    if (await validator.check(copy)) accepted.push(validator);
  }
  expect(accepted, `${entity.kind} ${entity.metadata.name}`).toHaveLength(1);
}

const SECRET = `s3cret-${Math.random().toString(36).slice(2)}`;

/** Two workloads sharing one postgres database; `api` also has a reports database of its own. */
const workloads: ScoreWorkload[] = [
  {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'api' },
    containers: { main: { image: 'node:20' } },
    resources: {
      db: { type: 'postgres', id: 'orders' },
      reports: { type: 'postgres' },
      env: { type: 'environment' },
    },
  },
  {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'worker' },
    containers: { main: { image: 'node:20' } },
    resources: { db: { type: 'postgres', id: 'orders' } },
  },
];

describe.each(storeEngines)(
  'GET /catalog/entities describes what Pave runs for Backstage on %s',
  (engine) => {
    let api: DeployingApi;
    let aliceToken: string;
    let bobToken: string;
    const as = (token: string, url = '/catalog/entities') =>
      api.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` } });
    const entitiesAs = async (token: string): Promise<CatalogEntity[]> => {
      const response = await as(token);
      expect(response.statusCode, response.body).toBe(200);
      return (response.json() as { items: CatalogEntity[] }).items;
    };
    const find = (entities: CatalogEntity[], kind: string, name: string) =>
      entities.find((entity) => entity.kind === kind && entity.metadata.name === name);

    beforeAll(async () => {
      api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
      const ok = async (method: 'POST' | 'PUT', url: string, body?: object) => {
        const response = await api.call(method, url, body);
        expect(response.statusCode, response.body).toBeLessThan(300);
        return response.json() as { id: string };
      };
      await ok('POST', '/apps', { id: 'shop' });
      await ok('POST', '/apps/shop/envs', { id: 'dev', type: 'development' });
      await ok('POST', '/apps/shop/envs', { id: 'prod', type: 'production' });
      await ok('POST', '/resource-definitions/apply', {
        definitions: [
          {
            id: 'shop-postgres',
            type: 'postgres',
            driver: 'static',
            driverInputs: {
              values: { host: 'db.internal', port: 5432, name: 'shop', database: 'shop', username: 'shop' },
              secrets: { password: SECRET, url: `postgresql://shop:${SECRET}@db.internal:5432/shop` },
            },
            criteria: [{ appId: 'shop' }],
          },
        ],
      });
      const dev = await api.deploy('shop', 'dev', {
        workloads: workloads.map((spec) => ({ spec, dir: '/srv/shop' })),
      });
      expect(dev.status, JSON.stringify(dev)).toBe('succeeded');
      const prod = await api.deploy('shop', 'prod', {
        workloads: [{ spec: workloads[0], dir: '/srv/shop' }],
      });
      expect(prod.status, JSON.stringify(prod)).toBe('succeeded');

      // alice owns shop through her team; bob has no role on it.
      const alice = await ok('POST', '/users', { username: 'alice' });
      const bob = await ok('POST', '/users', { username: 'bob' });
      await ok('POST', '/teams', { id: 'web' });
      await ok('PUT', '/teams/web/members/alice');
      await ok('POST', '/roles', { role: 'owner', team: 'web', app: 'shop' });
      await ok('POST', '/roles', { role: 'member', user: 'bob' });
      aliceToken = (await insertToken(api.store.db, { id: alice.id, username: 'alice' }, 'test', null)).token;
      bobToken = (await insertToken(api.store.db, { id: bob.id, username: 'bob' }, 'test', null)).token;
    });
    afterAll(async () => {
      await api?.cleanup();
    });

    it('describes every app, workload, resource, team and user as an entity Backstage accepts', async () => {
      const entities = await entitiesAs(api.token);
      expect(entities.map((entity) => `${entity.kind} ${entity.metadata.name}`)).toEqual([
        'System shop',
        'Component shop.api',
        'Component shop.worker',
        'Resource shop.dev.api.reports',
        'Resource shop.dev.shared.orders',
        'Resource shop.prod.api.reports',
        'Resource shop.prod.shared.orders',
        'Group web',
        'User admin',
        'User alice',
        'User bob',
      ]);
      for (const entity of entities) await validateWithBackstage(entity);
    });

    it('relates components to their system and resources, and gives everything of the app its owner', async () => {
      const entities = await entitiesAs(api.token);
      expect(find(entities, 'Component', 'shop.api')?.spec).toEqual({
        type: 'service',
        lifecycle: 'production',
        owner: 'group:default/web',
        system: 'system:default/shop',
        dependsOn: [
          'resource:default/shop.dev.api.reports',
          'resource:default/shop.dev.shared.orders',
          'resource:default/shop.prod.api.reports',
          'resource:default/shop.prod.shared.orders',
        ],
      });
      expect(find(entities, 'Component', 'shop.worker')?.spec).toMatchObject({
        lifecycle: 'experimental',
        dependsOn: ['resource:default/shop.dev.shared.orders'],
      });
      expect(find(entities, 'Resource', 'shop.dev.shared.orders')).toMatchObject({
        metadata: {
          annotations: {
            'pave.dev/app': 'shop',
            'pave.dev/env': 'dev',
            'pave.dev/resource-address': 'shared.orders',
          },
          links: [{ url: 'http://localhost/#/apps/shop/envs/dev' }],
        },
        spec: { type: 'postgres', owner: 'group:default/web', system: 'system:default/shop' },
      });
      expect(find(entities, 'System', 'shop')?.spec).toEqual({ owner: 'group:default/web' });
      expect(find(entities, 'Group', 'web')?.spec).toEqual({
        type: 'team',
        children: [],
        members: ['user:default/alice'],
      });
      expect(find(entities, 'User', 'alice')?.spec).toEqual({ memberOf: ['group:default/web'] });
    });

    it('never carries a secret output of a resource', async () => {
      const response = await as(api.token);
      expect(response.body).not.toContain(SECRET);
      expect(response.body).not.toContain('db.internal');
    });

    it('links to the portal at portalUrl when one is given', async () => {
      const response = await as(api.token, '/catalog/entities?portalUrl=https://pave.example.com/');
      const system = find((response.json() as { items: CatalogEntity[] }).items, 'System', 'shop');
      expect(system?.metadata.links).toEqual([
        { url: 'https://pave.example.com/#/apps/shop', title: 'shop in Pave' },
      ]);
      expect((await as(api.token, '/catalog/entities?portalUrl=ftp://x')).statusCode).toBe(400);
      // Links carry the URL as a URL: what would end an HTML attribute is encoded.
      const odd = await as(
        api.token,
        `/catalog/entities?portalUrl=${encodeURIComponent('http://x/"><script>')}`,
      );
      expect(odd.statusCode, odd.body).toBe(200);
      expect(
        find((odd.json() as { items: CatalogEntity[] }).items, 'System', 'shop')?.metadata.links,
      ).toEqual([{ url: 'http://x/%22%3E%3Cscript%3E/#/apps/shop', title: 'shop in Pave' }]);
      expect(odd.body).not.toContain('<script>');
    });

    it("shows an owner its app's entities, but no users or teams without user.read", async () => {
      const entities = await entitiesAs(aliceToken);
      expect(entities.map((entity) => entity.kind)).not.toContain('User');
      expect(entities.map((entity) => entity.kind)).not.toContain('Group');
      expect(find(entities, 'System', 'shop')).toBeDefined();
      expect(entities.filter((entity) => entity.kind === 'Resource')).toHaveLength(4);
    });

    it('shows a user without a role on an app none of its entities', async () => {
      expect(await entitiesAs(bobToken)).toEqual([]);
    });

    describe('a page at a time', () => {
      /** carol is a viewer of a2 and a5 only; a1..a5 sort before shop. */
      let carolToken: string;
      const label = (entity: CatalogEntity) => `${entity.kind} ${entity.metadata.name}`;
      /** The app, team or user an entity is about: what `limit` counts. */
      const unitOf = (entity: CatalogEntity) =>
        entity.metadata.annotations['pave.dev/app'] ?? `${entity.kind} ${entity.metadata.name}`;
      /** Every page as `token`, following nextCursor. */
      const pagesAs = async (token: string, query: string): Promise<CatalogEntity[][]> => {
        const pages: CatalogEntity[][] = [];
        let cursor: string | null = null;
        do {
          const response = await as(token, `/catalog/entities?${query}${cursor ? `&cursor=${cursor}` : ''}`);
          expect(response.statusCode, response.body).toBe(200);
          const page = response.json() as { items: CatalogEntity[]; nextCursor: string | null };
          pages.push(page.items);
          cursor = page.nextCursor;
        } while (cursor !== null && pages.length < 50);
        expect(cursor).toBeNull();
        return pages;
      };

      beforeAll(async () => {
        const ok = async (method: 'POST' | 'PUT', url: string, body?: object) => {
          const response = await api.call(method, url, body);
          expect(response.statusCode, response.body).toBeLessThan(300);
          return response.json() as { id: string };
        };
        for (const app of ['a4', 'a2', 'a5', 'a1', 'a3']) await ok('POST', '/apps', { id: app });
        await ok('POST', '/apps/a3/envs', { id: 'dev', type: 'development' });
        for (const team of ['qa', 'ops']) await ok('POST', '/teams', { id: team });
        await ok('POST', '/roles', { role: 'owner', team: 'ops', app: 'a1' });
        const carol = await ok('POST', '/users', { username: 'carol' });
        await ok('PUT', '/teams/qa/members/carol');
        await ok('POST', '/roles', { role: 'viewer', user: 'carol', app: 'a2' });
        await ok('POST', '/roles', { role: 'viewer', user: 'carol', app: 'a5' });
        carolToken = (await insertToken(api.store.db, { id: carol.id, username: 'carol' }, 'test', null))
          .token;
      });

      it('walks apps, then teams, then users, limit of them a page, with no gap or repeat', async () => {
        const [whole] = await pagesAs(api.token, 'limit=500');
        const units = [...new Set(whole!.map(unitOf))];
        // 6 apps, 3 teams (ops, qa, web), 4 users (admin, alice, bob, carol).
        expect(units).toHaveLength(13);
        for (const limit of [1, 2, 4, 5, 12, 13]) {
          const pages = await pagesAs(api.token, `limit=${limit}`);
          expect(pages, `limit=${limit}`).toHaveLength(Math.ceil(13 / limit));
          const pageUnits = pages.map((page) => [...new Set(page.map(unitOf))]);
          for (const [index, page] of pageUnits.entries()) {
            expect(page.length, `limit=${limit} page ${index}`).toBe(
              index < pages.length - 1 ? limit : 13 - limit * (pages.length - 1),
            );
          }
          // An app's entities are all on one page; every unit is on exactly one page.
          expect(pageUnits.flat().toSorted(), `limit=${limit}`).toEqual(units.toSorted());
          // Apps (by id), then teams, then users, across pages.
          expect(pageUnits.flat(), `limit=${limit}`).toEqual([
            'a1',
            'a2',
            'a3',
            'a4',
            'a5',
            'shop',
            'Group ops',
            'Group qa',
            'Group web',
            'User admin',
            'User alice',
            'User bob',
            'User carol',
          ]);
          // The same entities, each as the one big page describes it (owners, lifecycle, dependsOn, members).
          const paged = pages.flat();
          expect(paged.map(label).toSorted(), `limit=${limit}`).toEqual(whole!.map(label).toSorted());
          for (const entity of paged) {
            expect(entity, label(entity)).toEqual(whole!.find((other) => label(other) === label(entity)));
          }
        }
        const [, second] = await pagesAs(api.token, 'limit=1');
        expect(find(second!, 'System', 'a2')?.spec).toEqual({ owner: 'user:default/admin' });
        const [first] = await pagesAs(api.token, 'limit=1');
        expect(find(first!, 'System', 'a1')?.spec).toEqual({ owner: 'group:default/ops' });
      });

      it('keeps portalUrl on every page', async () => {
        const pages = await pagesAs(api.token, 'limit=2&portalUrl=https://pave.example.com');
        for (const entity of pages.flat()) {
          for (const link of entity.metadata.links ?? []) {
            expect(link.url).toMatch(/^https:\/\/pave\.example\.com\/#\/apps\//);
          }
        }
        expect(find(pages[2]!, 'System', 'a5')?.metadata.links).toEqual([
          { url: 'https://pave.example.com/#/apps/a5', title: 'a5 in Pave' },
        ]);
      });

      it("shows a viewer only its apps' entities, full pages, and no Group or User on any page", async () => {
        const pages = await pagesAs(carolToken, 'limit=1');
        expect(pages.map((page) => page.map(label))).toEqual([['System a2'], ['System a5']]);
        const owner = await pagesAs(aliceToken, 'limit=1');
        expect(owner).toHaveLength(1);
        expect(owner[0]!.map(unitOf)).toEqual(Array(owner[0]!.length).fill('shop'));
        expect(await pagesAs(bobToken, 'limit=1')).toEqual([[]]);
      });

      it('refuses a cursor that is not a nextCursor and a limit out of 1..500', async () => {
        const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
        for (const cursor of [
          'abc',
          'shop',
          cursorOf(['apps']),
          cursorOf(['groups', 'web']),
          cursorOf(['apps', 'Not A Label']),
          cursorOf({ section: 'apps', key: 'shop' }),
          Buffer.from('not json').toString('base64url'),
          '%2B%2B',
        ]) {
          const response = await as(api.token, `/catalog/entities?cursor=${cursor}`);
          expect(response.statusCode, cursor).toBe(400);
          expect(response.json().errors, cursor).toEqual([
            expect.objectContaining({
              path: 'query.cursor',
              message: 'must be the nextCursor value of a previous page',
            }),
          ]);
        }
        for (const limit of [0, 501, -1]) {
          const response = await as(api.token, `/catalog/entities?limit=${limit}`);
          expect(response.statusCode, `limit=${limit}`).toBe(400);
          expect(JSON.stringify(response.json())).toContain('limit');
        }
        const valid = await as(api.token, `/catalog/entities?limit=1&cursor=${cursorOf(['users', 'alice'])}`);
        expect(valid.statusCode, valid.body).toBe(200);
        expect((valid.json() as { items: CatalogEntity[] }).items.map(label)).toEqual(['User bob']);
      });
    });
  },
);

describe('catalog entity names', () => {
  it('keep short names as they are and cut long ones to 63 characters, stable and distinct', () => {
    expect(catalogEntityName('shop', 'dev', 'api.db')).toBe('shop.dev.api.db');
    const long = catalogEntityName('a'.repeat(40), 'dev', `api.${'b'.repeat(40)}`);
    expect(long).toHaveLength(63);
    expect(long).toMatch(/^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/);
    expect(catalogEntityName('a'.repeat(40), 'dev', `api.${'b'.repeat(40)}`)).toBe(long);
    expect(catalogEntityName('a'.repeat(40), 'dev', `api.${'b'.repeat(39)}c`)).not.toBe(long);
  });
});
