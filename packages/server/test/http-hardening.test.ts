import { gzipSync } from 'node:zlib';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_NESTING_DEPTH } from '@pave/core';
import { buildApi, startServer, type RunningServer } from '../src/index.ts';
import { PORTAL_CSP } from '../src/http/headers.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/** `{"a":{"a":…{}…}}` nested `depth` objects deep, built as text (a value this deep breaks JSON.stringify). */
function nestedObjectText(depth: number, key = 'a'): string {
  return `${`{"${key}":`.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;
}

const score = (name: string, metadataExtra = '') =>
  `{"apiVersion":"score.dev/v1b1","metadata":{"name":"${name}"${metadataExtra}},` +
  `"containers":{"main":{"image":"node:20","command":["node","server.js"]}}}`;

/** Every header an API answer carries, whatever it is. */
function expectApiHeaders(headers: Record<string, unknown>): void {
  expect(headers).toMatchObject({
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'content-security-policy': expect.stringContaining("frame-ancestors 'none'"),
  });
}

describe('the hardened HTTP API', () => {
  let api: FullApi;
  let app: FastifyInstance;
  const auth = () => ({ authorization: `Bearer ${api.token}`, 'content-type': 'application/json' });
  const rowCount = async (table: 'deployments' | 'resource_definitions' | 'apps') =>
    (await api.store.db.selectFrom(table).selectAll().execute()).length;

  beforeAll(async () => {
    api = await openFullApi('sqlite');
    app = api.app;
    await app.inject({ method: 'POST', url: '/api/v1/apps', headers: auth(), payload: '{"id":"shop"}' });
    await app.inject({
      method: 'POST',
      url: '/api/v1/apps/shop/envs',
      headers: auth(),
      payload: '{"id":"dev","type":"development"}',
    });
  });
  afterAll(async () => api?.cleanup());

  const deploy = (spec: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/apps/shop/envs/dev/deployments',
      headers: auth(),
      payload: `{"workloads":[{"spec":${spec},"dir":"/srv/app"}]}`,
    });

  describe('deeply nested bodies', () => {
    it.each([3000, 4500])(
      'refuses a deployment whose metadata is %i levels deep with a 400 naming the path, writing nothing',
      async (depth) => {
        const response = await deploy(score('api', `,"deep":${nestedObjectText(depth)}`));
        expect(response.statusCode).toBe(400);
        expect(response.headers['content-type']).toContain('application/problem+json');
        const [problem] = response.json().errors;
        // workloads/0/spec/metadata/deep are 5 levels; the first value too deep is the 65th.
        expect(problem.path).toBe(`/workloads/0/spec/metadata/deep${'/a'.repeat(MAX_NESTING_DEPTH - 5)}`);
        expect(problem.message).toContain(`at most ${MAX_NESTING_DEPTH} levels`);
        expect(response.body).not.toMatch(/stack|at .*\.ts/i);
        expect(await rowCount('deployments')).toBe(0);
      },
    );

    it('leaves the environment usable: diff answers and the next deploy is queued', async () => {
      await deploy(score('api', `,"deep":${nestedObjectText(3000)}`));
      const diff = await app.inject({
        method: 'GET',
        url: '/api/v1/apps/shop/envs/dev/diff',
        headers: auth(),
      });
      expect(diff.statusCode).toBeLessThan(500);
      const next = await deploy(score('api', `,"annotations":{"team":"shop"}`));
      expect(next.statusCode, next.body).toBe(202);
      expect(await rowCount('deployments')).toBe(1);
    });

    it('refuses resource definitions whose driverInputs are 5 000 levels deep, writing nothing', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/resource-definitions/apply',
        headers: auth(),
        payload:
          '{"definitions":[{"id":"pg","type":"postgres","driver":"postgres-server",' +
          `"driverInputs":{"values":{"deep":${nestedObjectText(5000)}}}}]}`,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors[0].path).toBe(
        `/definitions/0/driverInputs/values/deep${'/a'.repeat(MAX_NESTING_DEPTH - 5)}`,
      );
      expect(await rowCount('resource_definitions')).toBe(0);
    });

    it('accepts exactly the limit: a body 64 levels deep reaches validation', async () => {
      // apps/{id} refuses the unknown field, which shows the body was parsed and validated.
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/apps',
        headers: auth(),
        payload: `{"id":"deep","extra":${nestedObjectText(MAX_NESTING_DEPTH - 1)}}`,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors).toEqual([
        { path: '/extra', message: expect.stringContaining('known field') },
      ]);
      const tooDeep = await app.inject({
        method: 'POST',
        url: '/api/v1/apps',
        headers: auth(),
        payload: `{"id":"deep","extra":${nestedObjectText(MAX_NESTING_DEPTH)}}`,
      });
      // The root is level 1 and `extra` level 2: the first value too deep is 63 levels below `extra`.
      expect(tooDeep.json().errors[0].path).toBe(`/extra${'/a'.repeat(MAX_NESTING_DEPTH - 1)}`);
    });
  });

  describe('security headers', () => {
    it('marks every API answer no-store, nosniff, unframeable, including revealed secrets and errors', async () => {
      await app.inject({
        method: 'PATCH',
        url: '/api/v1/apps/shop/envs/dev/values',
        headers: auth(),
        payload: '{"set":{"DB_PASSWORD":{"value":"hunter2","secret":true}}}',
      });
      const revealed = await app.inject({
        method: 'GET',
        url: '/api/v1/apps/shop/envs/dev/values?reveal=true',
        headers: auth(),
      });
      expect(revealed.statusCode).toBe(200);
      expect(revealed.body).toContain('hunter2');
      for (const response of [
        revealed,
        await app.inject({ method: 'GET', url: '/api/v1/apps', headers: auth() }),
        await app.inject({ method: 'GET', url: '/api/v1/apps/nope', headers: auth() }),
        await app.inject({ method: 'GET', url: '/api/v1/apps' }),
        await app.inject({ method: 'GET', url: '/healthz' }),
      ]) {
        expectApiHeaders(response.headers);
      }
    });

    it('serves the portal with a strict CSP: no inline script, no framing, no referrer', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pave-portal-'));
      mkdirSync(join(dir, 'assets'));
      writeFileSync(
        join(dir, 'index.html'),
        '<!doctype html><script type="module" src="/assets/a.js"></script>',
      );
      writeFileSync(join(dir, 'assets', 'a.js'), 'export {};');
      const portal = await buildApi({ store: api.store, portalDir: dir });
      try {
        const page = await portal.inject({ method: 'GET', url: '/' });
        expect(page.statusCode).toBe(200);
        expect(page.headers['content-security-policy']).toBe(PORTAL_CSP);
        expect(PORTAL_CSP).toContain("script-src 'self'");
        expect(PORTAL_CSP).not.toContain('unsafe-inline');
        expect(page.headers).toMatchObject({
          'x-frame-options': 'DENY',
          'referrer-policy': 'no-referrer',
          'x-content-type-options': 'nosniff',
          'cache-control': 'no-cache',
        });
        const asset = await portal.inject({ method: 'GET', url: '/assets/a.js' });
        expect(asset.headers['cache-control']).toContain('immutable');
        expect(asset.headers['x-content-type-options']).toBe('nosniff');
      } finally {
        await portal.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('error answers', () => {
    it.each([
      ['text/plain', 'id=shop2'],
      ['application/x-www-form-urlencoded', 'id=shop2'],
      [
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="id"\r\n\r\nshop2\r\n--x--',
      ],
    ])('refuses a %s body with 415 problem+json on every route', async (type, payload) => {
      for (const [method, url] of [
        ['POST', '/api/v1/apps'],
        ['PATCH', '/api/v1/apps/shop/envs/dev/values'],
        ['DELETE', '/api/v1/apps/shop'],
      ] as const) {
        const response = await app.inject({
          method,
          url,
          headers: { ...auth(), 'content-type': type },
          payload,
        });
        expect(response.statusCode, `${method} ${url}`).toBe(415);
        expect(response.headers['content-type']).toContain('application/problem+json');
        expect(response.json().errors[0].path).toBe('header.content-type');
      }
      expect(await rowCount('apps')).toBe(1);
    });

    // Found by a review of bad input: bytes that are not UTF-8 became U+FFFD and were stored so, silently.
    it('refuses a body that is not UTF-8, saying at which byte, line and column; stores nothing', async () => {
      const payload = Buffer.concat([
        Buffer.from('{"set":{\n  "GREETING":{"value":"caf'),
        Buffer.from([0xe9]),
        Buffer.from('"}}}'),
      ]);
      const response = await app.inject({
        method: 'PATCH',
        url: '/api/v1/apps/shop/envs/dev/values',
        headers: auth(),
        payload,
      });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json()).toMatchObject({
        detail: 'the request body is not UTF-8',
        errors: [
          {
            path: '/',
            message: expect.stringMatching(
              /^byte 36 \(0xE9, line 2, column 27\) does not begin a UTF-8 character;/u,
            ),
          },
        ],
      });
      const values = await app.inject({
        method: 'GET',
        url: '/api/v1/apps/shop/envs/dev/values',
        headers: auth(),
      });
      expect(values.body).not.toContain('GREETING');
      // U+FFFD itself, sent as UTF-8, is text like any other.
      const replacement = await app.inject({
        method: 'PATCH',
        url: '/api/v1/apps/shop/envs/dev/values',
        headers: auth(),
        payload: '{"set":{"MARK":{"value":"\uFFFD ok"}}}',
      });
      expect(replacement.statusCode, replacement.body).toBe(200);
    });

    // Found by a review of bad input: a gzipped body was "not valid JSON".
    it('refuses an encoded body with 415 naming the encoding', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/apps',
        headers: { ...auth(), 'content-encoding': 'gzip' },
        payload: gzipSync('{"id":"zipped"}'),
      });
      expect(response.statusCode).toBe(415);
      expect(response.json()).toMatchObject({
        detail: 'the request body is encoded (gzip); Pave reads it unencoded only',
        errors: [{ path: 'header.content-encoding' }],
      });
      expect(await rowCount('apps')).toBe(1);
    });

    it('refuses a JSON body in another charset with 415 naming it; takes charset=utf-8', async () => {
      for (const charset of ['latin1', 'utf-16', 'ISO-8859-1']) {
        const response = await app.inject({
          method: 'POST',
          url: '/api/v1/apps',
          headers: { ...auth(), 'content-type': `application/json; charset=${charset}` },
          payload: '{"id":"shop3"}',
        });
        expect(response.statusCode, charset).toBe(415);
        expect(response.json()).toMatchObject({
          detail: `the request body is in ${charset}; Pave reads JSON in UTF-8 only`,
          errors: [{ path: 'header.content-type' }],
        });
      }
      const utf8 = await app.inject({
        method: 'POST',
        url: '/api/v1/apps',
        headers: { ...auth(), 'content-type': 'application/json; charset=UTF-8' },
        payload: '{"id":"shop3"}',
      });
      expect(utf8.statusCode, utf8.body).toBe(201);
    });

    it('answers an unknown path 404 and a wrong method 405 with Allow, both problem+json', async () => {
      const missing = await app.inject({ method: 'GET', url: '/api/v1/nothing-here', headers: auth() });
      expect(missing.statusCode).toBe(404);
      expect(missing.headers['content-type']).toContain('application/problem+json');
      const wrong = await app.inject({
        method: 'PUT',
        url: '/api/v1/apps/shop',
        headers: { authorization: `Bearer ${api.token}` },
      });
      expect(wrong.statusCode).toBe(405);
      expect(wrong.headers.allow).toBe('DELETE, GET, HEAD');
      expect(wrong.json()).toMatchObject({ status: 405, errors: [{ path: 'method' }] });
    });

    it('answers a too-long path parameter 414 and a broken URL 400 without echoing them', async () => {
      const long = `x${'y'.repeat(300)}`;
      const response = await app.inject({ method: 'GET', url: `/api/v1/apps/${long}`, headers: auth() });
      expect(response.statusCode).toBe(414);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.body).not.toContain(long.slice(0, 120));
      expect(response.json().instance).toBeUndefined();
      const broken = await app.inject({ method: 'GET', url: '/api/v1/apps/%E0%A4%A', headers: auth() });
      expect(broken.statusCode).toBe(400);
      expect(broken.headers['content-type']).toContain('application/problem+json');
      expect(broken.body).not.toContain('%E0%A4%A');
    });

    it('does not echo credentials from the query string', async () => {
      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/nothing?token=pave_secret123&page=2',
      });
      expect(response.json().instance).toBe('/api/v1/nothing?token=[redacted]&page=2');
      expect(response.body).not.toContain('pave_secret123');
    });
  });
});

describe('a listening server', () => {
  let server: RunningServer;
  let dataDir: string;
  const log: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-hardening-'));
    const destination = new PassThrough();
    destination.on('data', (chunk: Buffer) =>
      log.push(...chunk.toString('utf8').split('\n').filter(Boolean)),
    );
    server = await startServer({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      env: {},
      logDestination: destination,
      supervisorScript: '/nonexistent/supervisor.js',
      janitorIntervalMs: 3_600_000,
    });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** One raw HTTP/1.1 request; resolves with the status, headers and body. */
  const get = (path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const request = httpRequest(`${server.url}${path}`, { headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      });
      request.on('error', reject);
      request.end();
    });

  it('redacts credentials in the query string from the request log', async () => {
    const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const secrets = ['pave_querytoken1', 'hunter2pw', 'oauthcode9', 'sk_live_42', 'refresh77'];
    // GET /apps refuses parameters it does not know (400): the line is logged, redacted, all the same.
    const response = await get(
      `/api/v1/apps?token=${secrets[0]}&password=${secrets[1]}&code=${secrets[2]}&api_key=${secrets[3]}` +
        `&refreshToken=${secrets[4]}&limit=5`,
      { authorization: `Bearer ${token}` },
    );
    expect(response.status).toBe(400);
    for (const secret of secrets) expect(response.body).not.toContain(secret);
    server.logger.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const line = log
      .map((text) => JSON.parse(text) as Record<string, unknown>)
      .find((entry) => entry.msg === 'request');
    expect(line).toMatchObject({ method: 'GET', status: 400 });
    expect(line!.url).toBe(
      '/api/v1/apps?token=[redacted]&password=[redacted]&code=[redacted]&api_key=[redacted]' +
        '&refreshToken=[redacted]&limit=5',
    );
    for (const secret of [...secrets, token]) expect(log.join('\n')).not.toContain(secret);
  });

  it('answers a too-long path parameter 414 whatever the method, with the portal served beside the API', async () => {
    const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const long = `x${'y'.repeat(100)}`;
    for (const path of [`/api/v1/apps/${long}`, `/api/v1/apps/${long}/envs`, `/api/v1/users/${long}`]) {
      const response = await get(path, { authorization: `Bearer ${token}` });
      expect(response.status, path).toBe(414);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.body).not.toContain(long);
    }
  });

  it('answers a URL too large for the HTTP parser with a 431 problem that does not echo it', async () => {
    const long = `/api/v1/apps?q=${'z'.repeat(20_000)}`;
    const response = await get(long);
    expect(response.status).toBe(431);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(response.body)).toMatchObject({ status: 431, errors: [{ path: 'header' }] });
    expect(response.body).not.toContain('zzzz');
  });
});
