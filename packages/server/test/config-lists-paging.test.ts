import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';
import { storeEngines } from '../../../test/support/stores.ts';

/** The platform team's lists, each with the ids the test stores (and the ones Pave ships) in it. */
const LISTS = [
  {
    url: '/env-types',
    ids: ['development', 'production', 'staging', 'qa', 'sandbox', 'perf'],
  },
  { url: '/policies', ids: ['warn-a', 'warn-b', 'warn-c', 'warn-d'] },
  { url: '/profiles', ids: ['replicas-a', 'replicas-b', 'replicas-c'] },
  {
    url: '/resource-definitions',
    ids: [
      'default-amqp',
      'default-dns',
      'default-mysql',
      'default-postgres',
      'default-redis',
      'default-route',
      'default-volume',
      'aa-pg',
      'dz-pg',
      'zz-pg',
    ],
  },
  // Around the built-in `local`: a hyphen sorts differently under some collations, and the page still holds.
  { url: '/runtime-targets', ids: ['local', 'edge', 'local-k8s', 'localdev', 'zone'] },
  { url: '/templates', ids: ['svc-a', 'svc-b', 'svc-c'] },
] as const;

const target = (id: string) => ({
  id,
  type: 'kubernetes',
  config: { namespacePattern: 'team-{app}-{env}' },
  criteria: [{ envType: 'staging', envId: id }],
});
const template = (id: string, title: string) => ({
  id,
  title,
  parameters: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  files: [{ path: 'README.md', content: `# ${id}\n` }],
});

describe.each(storeEngines)('the platform lists page with cursors on %s', (engine) => {
  let api: DeployingApi;

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime });
    const ok = async (method: 'POST', url: string, body: object) => {
      const response = await api.call(method, url, body);
      expect(response.statusCode, `${url}: ${response.body}`).toBeLessThan(300);
    };
    for (const id of ['sandbox', 'qa', 'perf']) await ok('POST', '/env-types', { id, description: id });
    await ok('POST', '/policies/apply', {
      policies: ['warn-d', 'warn-a', 'warn-c', 'warn-b'].map((id) => ({
        id,
        severity: 'warn',
        message: `${id} says so`,
        each: 'container',
        rule: 'container.image != ""',
      })),
    });
    await ok('POST', '/profiles/apply', {
      profiles: ['replicas-c', 'replicas-a', 'replicas-b'].map((id) => ({
        id,
        criteria: [{ envType: 'production' }],
        patches: [{ target: { kind: 'Deployment' }, ops: [{ op: 'add', path: '/spec/replicas', value: 2 }] }],
      })),
    });
    await ok('POST', '/resource-definitions/apply', {
      definitions: ['zz-pg', 'aa-pg', 'dz-pg'].map((id) => ({
        id,
        type: 'postgres',
        driver: 'postgres-server',
        driverInputs: { secrets: { adminUrl: 'postgres://admin:pw@db.internal:5432/postgres' } },
        criteria: [{ envType: 'staging', envId: id }],
      })),
    });
    await ok('POST', '/runtime-targets/apply', {
      targets: ['zone', 'localdev', 'edge', 'local-k8s'].map(target),
    });
    for (const id of ['svc-c', 'svc-a', 'svc-b']) await ok('POST', '/templates', template(id, `${id} v1`));
    // A second version: the list shows each template once, at its latest version.
    await ok('POST', '/templates', template('svc-b', 'svc-b v2'));
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  /** Every page of GET `url`, following nextCursor. */
  async function pages(url: string, limit: number): Promise<{ id: string }[][]> {
    const seen: { id: string }[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=${limit}` + (cursor ? `&cursor=${cursor}` : '');
      const response = await api.call('GET', `${url}${query}`);
      expect(response.statusCode, response.body).toBe(200);
      const page = response.json() as { items: { id: string }[]; nextCursor: string | null };
      seen.push(page.items);
      cursor = page.nextCursor;
      if (cursor !== null) expect(cursor).toBe(page.items.at(-1)?.id);
    } while (cursor !== null && seen.length < 30);
    return seen;
  }

  it.each(LISTS)('gives every item of $url once, in order, a page at a time', async ({ url, ids }) => {
    const whole = await api.call('GET', url);
    expect(whole.statusCode, whole.body).toBe(200);
    const all = whole.json() as { items: { id: string }[]; nextCursor: string | null };
    // Fewer than a default page: one page, the last.
    expect(all.nextCursor).toBeNull();
    expect(all.items.map((item) => item.id).sort()).toEqual([...ids].sort());
    for (const limit of [1, 2, 3]) {
      const paged = await pages(url, limit);
      expect(paged.flat(), `limit ${limit}`).toEqual(all.items);
      expect(paged.slice(0, -1).every((page) => page.length === limit)).toBe(true);
      expect(paged.at(-1)!.length).toBeGreaterThan(0);
    }
    // A page that ends exactly at the last item says there is no more.
    expect(await pages(url, ids.length)).toEqual([all.items]);
  });

  it('orders by id the way the engine compares ids, so a cursor never skips or repeats', async () => {
    for (const { url } of LISTS) {
      const ids = ((await api.call('GET', url)).json() as { items: { id: string }[] }).items.map((i) => i.id);
      for (const [index, id] of ids.entries()) {
        const after = await api.call('GET', `${url}?cursor=${id}`);
        expect(
          after.json().items.map((item: { id: string }) => item.id),
          `${url} after ${id}`,
        ).toEqual(ids.slice(index + 1));
      }
    }
  });

  it('lists each template once, at its latest version', async () => {
    const [first, second] = await pages('/templates', 2);
    expect(first).toEqual([
      expect.objectContaining({ id: 'svc-a', version: 1 }),
      expect.objectContaining({ id: 'svc-b', version: 2, title: 'svc-b v2' }),
    ]);
    expect(second).toEqual([expect.objectContaining({ id: 'svc-c', version: 1 })]);
  });

  it('keeps the built-in items in the pages they sort into', async () => {
    const targets = (await pages('/runtime-targets', 2)).flat();
    expect(targets.find((t) => t.id === 'local')).toEqual(expect.objectContaining({ builtIn: true }));
    const definitions = (await pages('/resource-definitions', 4)).flat();
    expect(definitions.filter((d) => (d as { builtIn?: boolean }).builtIn)).toHaveLength(7);
  });

  it.each(LISTS)(
    'refuses a cursor or limit of $url that cannot be one, naming the parameter',
    async ({ url }) => {
      const badCursor = await api.call('GET', `${url}?cursor=Not_An_Id`);
      expect(badCursor.statusCode).toBe(400);
      expect(badCursor.json().errors).toEqual([
        expect.objectContaining({
          path: 'query.cursor',
          message: 'must be the nextCursor value of a previous page',
        }),
      ]);
      for (const limit of ['0', '501', 'ten']) {
        const badLimit = await api.call('GET', `${url}?limit=${limit}`);
        expect(badLimit.statusCode, limit).toBe(400);
        expect(badLimit.json().errors).toEqual([expect.objectContaining({ path: 'query.limit' })]);
      }
      const unknown = await api.call('GET', `${url}?offset=2`);
      expect(unknown.statusCode).toBe(400);
    },
  );

  it('documents limit, cursor and nextCursor in the OpenAPI document', async () => {
    const document = (await api.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    for (const { url } of LISTS) {
      const list = document.paths[`/api/v1${url}`].get;
      expect(
        list.parameters.map((p: { name: string }) => p.name),
        url,
      ).toEqual(['limit', 'cursor']);
      expect(list.summary, url).toContain('a page at a time (100 unless `limit` says)');
      const answer = list.responses['200'].content['application/json'].schema;
      expect(Object.keys(answer.properties), url).toEqual(['items', 'nextCursor']);
    }
  });

  it('still asks for the permission to read each list', async () => {
    const anonymous = await api.app.inject({ method: 'GET', url: '/api/v1/policies?limit=1' });
    expect(anonymous.statusCode).toBe(401);
  });
});
