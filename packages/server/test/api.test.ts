import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi, bootstrapAdmin, type Store } from '../src/index.ts';
import { insertToken } from '../src/domain/tokens.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

describe.each(storeEngines)('HTTP API on %s', (engine) => {
  let store: Store;
  let app: FastifyInstance;
  let token: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    const file = await bootstrapAdmin(store, opened.location.dataDir);
    token = readFileSync(file ?? join(opened.location.dataDir, 'admin.token'), 'utf8').trim();
    app = await buildApi({ store });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  const auth = () => ({ authorization: `Bearer ${token}` });
  const snapshot = async () => ({
    apps: await store.db.selectFrom('apps').selectAll().execute(),
    envs: await store.db.selectFrom('environments').selectAll().execute(),
    envTypes: await store.db.selectFrom('env_types').selectAll().execute(),
    audit: await store.db.selectFrom('audit_entries').selectAll().execute(),
  });

  it('answers health checks without a token', async () => {
    const live = await app.inject({ method: 'GET', url: '/healthz' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
  });

  it('creates, lists, gets and deletes apps and environments, auditing each change as the caller', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/apps',
      headers: auth(),
      payload: { id: 'shop' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ id: 'shop', name: 'shop', createdBy: 'admin' });
    const requestId = created.headers['x-request-id'];
    expect(requestId).toBeTruthy();

    const env = await app.inject({
      method: 'POST',
      url: '/api/v1/apps/shop/envs',
      headers: auth(),
      payload: { id: 'dev', type: 'development' },
    });
    expect(env.statusCode).toBe(201);
    expect(env.json()).toMatchObject({ appId: 'shop', id: 'dev', type: 'development', createdBy: 'admin' });

    const list = await app.inject({ method: 'GET', url: '/api/v1/apps', headers: auth() });
    expect(list.json().items.map((a: { id: string }) => a.id)).toEqual(['shop']);
    const detail = await app.inject({ method: 'GET', url: '/api/v1/apps/shop', headers: auth() });
    expect(detail.json().environments).toEqual([{ id: 'dev', type: 'development' }]);
    const envs = await app.inject({ method: 'GET', url: '/api/v1/apps/shop/envs', headers: auth() });
    expect(envs.json().items).toHaveLength(1);

    const audit = await app.inject({ method: 'GET', url: '/api/v1/audit?app=shop', headers: auth() });
    const entries = audit.json().items as Array<Record<string, unknown>>;
    expect(entries.map((e) => e.action)).toEqual(['environment.create', 'app.create']);
    expect(entries.every((e) => e.actor === 'admin')).toBe(true);
    expect(entries[1]).toMatchObject({ target: 'apps/shop', requestId, summary: { id: 'shop' } });
  });

  it('refuses to delete an app that has environments unless forced', async () => {
    await app.inject({ method: 'POST', url: '/api/v1/apps', headers: auth(), payload: { id: 'doomed' } });
    await app.inject({
      method: 'POST',
      url: '/api/v1/apps/doomed/envs',
      headers: auth(),
      payload: { id: 'qa', type: 'staging' },
    });
    const refused = await app.inject({ method: 'DELETE', url: '/api/v1/apps/doomed', headers: auth() });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toContain('qa');
    expect(refused.json().errors[0].message).toContain('--force');
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/apps/doomed', headers: auth() })).statusCode,
    ).toBe(200);

    const forced = await app.inject({
      method: 'DELETE',
      url: '/api/v1/apps/doomed?force=true',
      headers: auth(),
    });
    expect(forced.statusCode).toBe(204);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/apps/doomed', headers: auth() })).statusCode,
    ).toBe(404);
    const envRows = await store.db
      .selectFrom('environments')
      .selectAll()
      .where('app_id', '=', 'doomed')
      .execute();
    expect(envRows).toEqual([]);
  });

  it('deletes an environment and reports a missing one as 404', async () => {
    await app.inject({ method: 'POST', url: '/api/v1/apps', headers: auth(), payload: { id: 'cart' } });
    await app.inject({
      method: 'POST',
      url: '/api/v1/apps/cart/envs',
      headers: auth(),
      payload: { id: 'tmp', type: 'development' },
    });
    expect(
      (await app.inject({ method: 'DELETE', url: '/api/v1/apps/cart/envs/tmp', headers: auth() })).statusCode,
    ).toBe(204);
    const again = await app.inject({ method: 'DELETE', url: '/api/v1/apps/cart/envs/tmp', headers: auth() });
    expect(again.statusCode).toBe(404);
    expect(again.headers['content-type']).toContain('application/problem+json');
  });

  it('adds environment types and refuses environments of an unknown type, naming the known ones', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/env-types',
      headers: auth(),
      payload: { id: 'preview', description: 'Short-lived previews' },
    });
    expect(created.statusCode).toBe(201);
    const types = await app.inject({ method: 'GET', url: '/api/v1/env-types', headers: auth() });
    expect(types.json().items.map((t: { id: string }) => t.id)).toEqual([
      'development',
      'preview',
      'production',
      'staging',
    ]);
    const before = await snapshot();
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/apps/shop/envs',
      headers: auth(),
      payload: { id: 'x', type: 'nope' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual([{ path: '/type', message: expect.stringContaining('development') }]);
    expect(await snapshot()).toEqual(before);
  });

  describe('refuses bad input with 4xx problem+json naming the field, and writes nothing', () => {
    const cases: Array<{
      name: string;
      request: Record<string, unknown>;
      status: number;
      path: string;
      text: RegExp;
    }> = [
      {
        name: 'a bad app id',
        request: { method: 'POST', url: '/api/v1/apps', payload: { id: 'Bad_Id' } },
        status: 400,
        path: '/id',
        text: /DNS label.*\^\[a-z0-9\]/,
      },
      {
        name: 'an id longer than 63 characters',
        request: { method: 'POST', url: '/api/v1/apps', payload: { id: 'a'.repeat(64) } },
        status: 400,
        path: '/id',
        text: /DNS label/,
      },
      {
        name: 'an unknown field',
        request: { method: 'POST', url: '/api/v1/apps', payload: { id: 'ok', owner: 'mallory' } },
        status: 400,
        path: '/owner',
        text: /not a known field/,
      },
      {
        name: 'malformed JSON',
        request: {
          method: 'POST',
          url: '/api/v1/apps',
          payload: '{"id": "shop2",',
          headers: { 'content-type': 'application/json' },
        },
        status: 400,
        path: '/',
        text: /JSON/,
      },
      {
        name: 'a body over 1 MiB',
        request: { method: 'POST', url: '/api/v1/apps', payload: { id: 'big', name: 'x'.repeat(1_100_000) } },
        status: 413,
        path: '/',
        text: /1048576 bytes/,
      },
      {
        name: 'a body that is not JSON',
        request: {
          method: 'POST',
          url: '/api/v1/apps',
          payload: 'id=shop3',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        },
        status: 415,
        path: 'header.content-type',
        text: /application\/json/,
      },
      {
        name: 'a bad environment id in the body',
        request: {
          method: 'POST',
          url: '/api/v1/apps/shop/envs',
          payload: { id: '-dev', type: 'development' },
        },
        status: 400,
        path: '/id',
        text: /DNS label/,
      },
      {
        name: 'a bad app id in the path',
        request: { method: 'GET', url: '/api/v1/apps/SHOP' },
        status: 400,
        path: 'path.app',
        text: /DNS label/,
      },
      {
        name: 'an unknown query parameter',
        request: { method: 'DELETE', url: '/api/v1/apps/shop?forse=true' },
        status: 400,
        path: 'query.forse',
        text: /not a known field/,
      },
      {
        name: 'a bad audit page size',
        request: { method: 'GET', url: '/api/v1/audit?limit=0' },
        status: 400,
        path: 'query.limit',
        text: /1/,
      },
      {
        name: 'a token that expires in the past',
        request: {
          method: 'POST',
          url: '/api/v1/tokens',
          payload: { name: 'old', expiresAt: '2001-01-01T00:00:00Z' },
        },
        status: 400,
        path: '/expiresAt',
        text: /future/,
      },
      {
        name: 'an existing app id',
        request: { method: 'POST', url: '/api/v1/apps', payload: { id: 'shop' } },
        status: 409,
        path: '/id',
        text: /taken/,
      },
    ];
    it.each(cases)('$name', async ({ request, status, path, text }) => {
      const before = await snapshot();
      const headers = { ...auth(), ...((request.headers as Record<string, string>) ?? {}) };
      const response = await app.inject({ ...request, headers } as never);
      expect(response.statusCode).toBe(status);
      expect(response.headers['content-type']).toContain('application/problem+json');
      const problem = response.json();
      expect(problem).toMatchObject({ status, requestId: response.headers['x-request-id'] });
      const problemField = problem.errors.find((e: { path: string }) => e.path === path);
      expect(problemField, JSON.stringify(problem.errors)).toBeDefined();
      expect(`${problem.detail} ${problemField.message}`).toMatch(text);
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('authentication', () => {
    it.each([
      ['no Authorization header', undefined, /needs a token/],
      ['a garbage token', 'Bearer hello', /not a Pave token/],
      ['an unknown well-formed token', `Bearer pave_${'A'.repeat(43)}`, /not valid/],
      ['a Basic credential', 'Basic YWRtaW46YWRtaW4=', /needs a token/],
    ])('refuses %s with 401 problem+json', async (_name, header, text) => {
      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/apps',
        headers: header ? { authorization: header } : {},
      });
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.headers['www-authenticate']).toContain('Bearer');
      expect(response.json().detail).toMatch(text);
    });

    it('refuses a revoked token, and the revocation is audited', async () => {
      const created = await app.inject({
        method: 'POST',
        url: '/api/v1/tokens',
        headers: auth(),
        payload: { name: 'ci' },
      });
      expect(created.statusCode).toBe(201);
      const { id, token: secondToken, prefix } = created.json();
      expect(secondToken).toMatch(/^pave_[A-Za-z0-9_-]{43}$/);
      expect(secondToken.startsWith(prefix)).toBe(true);
      const headers = { authorization: `Bearer ${secondToken}` };
      expect((await app.inject({ method: 'GET', url: '/api/v1/whoami', headers })).json()).toMatchObject({
        username: 'admin',
        token: { id, name: 'ci' },
      });
      expect(
        (await app.inject({ method: 'DELETE', url: `/api/v1/tokens/${id}`, headers: auth() })).statusCode,
      ).toBe(204);
      const refused = await app.inject({ method: 'GET', url: '/api/v1/apps', headers });
      expect(refused.statusCode).toBe(401);
      expect(refused.json().detail).toMatch(/revoked/);
      const listed = await app.inject({ method: 'GET', url: '/api/v1/tokens', headers: auth() });
      expect(listed.json().items.find((t: { id: string }) => t.id === id).revokedAt).not.toBeNull();
      const audit = await app.inject({ method: 'GET', url: '/api/v1/audit?limit=5', headers: auth() });
      expect(audit.json().items[0]).toMatchObject({ action: 'token.revoke', target: `tokens/${id}` });
    });

    it('refuses an expired token', async () => {
      const admin = await store.db
        .selectFrom('users')
        .selectAll()
        .where('username', '=', 'admin')
        .executeTakeFirstOrThrow();
      const expired = await insertToken(
        store.db,
        admin,
        'expired',
        new Date(Date.now() - 1000).toISOString(),
      );
      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/apps',
        headers: { authorization: `Bearer ${expired.token}` },
      });
      expect(response.statusCode).toBe(401);
      expect(response.json().detail).toMatch(/expired/);
    });

    it('stores only hashes of tokens', async () => {
      const rows = await store.db.selectFrom('tokens').selectAll().execute();
      const dump = JSON.stringify(rows);
      expect(dump).not.toContain(token);
      expect(rows.find((row) => row.prefix === token.slice(0, 9))?.token_hash).toHaveLength(64);
    });
  });

  it('pages through the audit log newest first', async () => {
    for (const id of ['p1', 'p2', 'p3']) {
      await app.inject({ method: 'POST', url: '/api/v1/apps', headers: auth(), payload: { id } });
    }
    const first = (await app.inject({ method: 'GET', url: '/api/v1/audit?limit=2', headers: auth() })).json();
    expect(first.items.map((e: { target: string }) => e.target)).toEqual(['apps/p3', 'apps/p2']);
    expect(first.nextCursor).not.toBeNull();
    const second = (
      await app.inject({
        method: 'GET',
        url: `/api/v1/audit?limit=2&cursor=${first.nextCursor}`,
        headers: auth(),
      })
    ).json();
    expect(second.items[0].target).toBe('apps/p1');
    expect(second.items[0].id).toBeLessThan(first.items[1].id);
  });

  it('serves an OpenAPI 3.1 document generated from the route schemas', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(response.statusCode).toBe(200);
    const doc = response.json();
    expect(doc.openapi).toBe('3.1.0');
    const createApp = doc.paths['/api/v1/apps'].post;
    const bodySchema = createApp.requestBody.content['application/json'].schema;
    expect(bodySchema.properties.id.pattern).toBe('^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$');
    expect(bodySchema.additionalProperties).toBe(false);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/apps/{app}',
        '/api/v1/apps/{app}/envs/{env}',
        '/api/v1/audit',
        '/api/v1/tokens/{id}',
      ]),
    );
    expect(doc.components.schemas.App).toBeDefined();
  });

  it('answers unknown routes with a 404 problem', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/nope', headers: auth() });
    expect(response.statusCode).toBe(404);
    expect(response.json().detail).toBe('no route GET /api/v1/nope');
  });

  it('echoes a caller-supplied request id', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/apps',
      headers: { ...auth(), 'x-request-id': 'trace-123' },
    });
    expect(response.headers['x-request-id']).toBe('trace-123');
  });
});
