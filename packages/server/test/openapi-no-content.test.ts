import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';
import { storeEngines } from '../../../test/support/stores.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * Every route that answers 204 No Content, as the OpenAPI document names it, with a request that gets that
 * answer from the store the test sets up (in this order: a deletion does not take what a later one needs).
 * `alsoOk`: the route answers 200 too (the log stream, when the runtime can stream logs).
 */
const NO_CONTENT: Array<{
  method: Method;
  path: string;
  url: string;
  body?: object;
  alsoOk?: boolean;
}> = [
  // The runtime of this API streams no logs: the log route answers 204.
  {
    method: 'GET',
    path: '/api/v1/apps/{app}/envs/{env}/logs',
    url: '/apps/shop/envs/dev/logs',
    alsoOk: true,
  },
  { method: 'DELETE', path: '/api/v1/apps/{app}/rules/{id}', url: '/apps/shop/rules/{rule}' },
  { method: 'DELETE', path: '/api/v1/webhooks/{id}', url: '/webhooks/{webhook}' },
  { method: 'DELETE', path: '/api/v1/apps/{app}/envs/{env}', url: '/apps/shop/envs/dev' },
  { method: 'DELETE', path: '/api/v1/apps/{app}', url: '/apps/shop' },
  { method: 'DELETE', path: '/api/v1/tokens/{id}', url: '/tokens/{token}' },
  {
    method: 'POST',
    path: '/api/v1/roles/revoke',
    url: '/roles/revoke',
    body: { role: 'viewer', user: 'vera', app: 'blog' },
  },
  { method: 'DELETE', path: '/api/v1/teams/{team}/members/{username}', url: '/teams/web/members/vera' },
  { method: 'DELETE', path: '/api/v1/teams/{team}', url: '/teams/web' },
  { method: 'DELETE', path: '/api/v1/users/{username}', url: '/users/vera' },
  { method: 'DELETE', path: '/api/v1/policies/{id}', url: '/policies/warn-a' },
  { method: 'DELETE', path: '/api/v1/profiles/{id}', url: '/profiles/replicas-a' },
  { method: 'DELETE', path: '/api/v1/runtime-targets/{id}', url: '/runtime-targets/edge' },
  { method: 'DELETE', path: '/api/v1/resource-definitions/{id}', url: '/resource-definitions/aa-pg' },
  { method: 'DELETE', path: '/api/v1/templates/{id}', url: '/templates/svc-a' },
];

/**
 * The OpenAPI document (GET /api/v1/openapi.json) says what each route answers: a route that answers 204 No
 * Content declares it, with no content, and a deletion declares no 200 it never sends.
 */
describe.each(storeEngines)('routes that answer 204 No Content on %s', (engine) => {
  let api: DeployingApi;
  /** The ids the test's requests name, by their placeholder in NO_CONTENT's urls. */
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime });
    const ok = async (method: Method, url: string, body?: object) => {
      const response = await api.call(method, url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
      return response.body ? response.json() : undefined;
    };
    await ok('POST', '/apps', { id: 'shop' });
    await ok('POST', '/apps', { id: 'blog' });
    await ok('POST', '/apps/shop/envs', { id: 'dev', type: 'development' });
    ids.rule = String((await ok('POST', '/apps/shop/rules', { env: 'dev', branch: 'main' })).id);
    const created = await ok('POST', '/webhooks', { name: 'ci', url: 'https://hooks.example.com/pave' });
    ids.webhook = String(created.webhook.id);
    ids.token = String((await ok('POST', '/tokens', { name: 'ci' })).id);
    await ok('POST', '/users', { username: 'vera' });
    await ok('POST', '/roles', { role: 'viewer', user: 'vera', app: 'blog' });
    await ok('POST', '/teams', { id: 'web' });
    await ok('PUT', '/teams/web/members/vera');
    await ok('POST', '/policies/apply', {
      policies: [
        {
          id: 'warn-a',
          severity: 'warn',
          message: 'warn-a says so',
          each: 'container',
          rule: 'container.image != ""',
        },
      ],
    });
    await ok('POST', '/profiles/apply', {
      profiles: [
        {
          id: 'replicas-a',
          criteria: [{ envType: 'production' }],
          patches: [
            { target: { kind: 'Deployment' }, ops: [{ op: 'add', path: '/spec/replicas', value: 2 }] },
          ],
        },
      ],
    });
    await ok('POST', '/runtime-targets/apply', {
      targets: [
        {
          id: 'edge',
          type: 'kubernetes',
          config: { namespacePattern: 'team-{app}-{env}' },
          criteria: [{ envType: 'staging', envId: 'edge' }],
        },
      ],
    });
    await ok('POST', '/resource-definitions/apply', {
      definitions: [
        {
          id: 'aa-pg',
          type: 'postgres',
          driver: 'postgres-server',
          driverInputs: { secrets: { adminUrl: 'postgres://admin:pw@db.internal:5432/postgres' } },
          criteria: [{ envType: 'staging', envId: 'aa' }],
        },
      ],
    });
    await ok('POST', '/templates', {
      id: 'svc-a',
      title: 'svc-a',
      parameters: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
      files: [{ path: 'README.md', content: '# svc-a\n' }],
    });
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('declares 204 with no content for each of them in the OpenAPI document', async () => {
    const response = await api.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(response.statusCode).toBe(200);
    const paths = response.json().paths as Record<string, Record<string, { responses: object }>>;
    for (const route of NO_CONTENT) {
      const responses = paths[route.path]?.[route.method.toLowerCase()]?.responses as
        Record<string, { description: string; content?: object }> | undefined;
      const where = `${route.method} ${route.path}`;
      expect(responses, where).toBeDefined();
      expect(responses!['204'], where).toMatchObject({ description: expect.any(String) });
      expect(responses!['204']!.content, where).toBeUndefined();
      expect(Object.keys(responses!).sort(), where).toEqual(route.alsoOk ? ['200', '204'] : ['204']);
    }
  });

  it('answers 204 with no body on each of them', async () => {
    for (const route of NO_CONTENT) {
      const url = route.url.replace(/\{(\w+)\}/g, (_, name: string) => ids[name]!);
      const response = await api.call(route.method, url, route.body);
      expect(response.statusCode, `${route.method} ${url}: ${response.body}`).toBe(204);
      expect(response.body).toBe('');
    }
  });
});
