import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * A request's caller and permission are checked as soon as its headers arrive, and its body may follow minutes
 * later. What the check read meanwhile can change: an environment the request names may be made (of a
 * restricted type) or deleted and made again, the caller's token revoked. The check runs again once the body
 * is in, so a slow body gets what a fast one would.
 */

/** How long the test lets the server run its first check on the headers before it changes what that check read. */
const HEADERS_SETTLE_MS = 300;

/**
 * Sends `method path` as the holder of `token` with `body`, all but its last byte at once and the last once
 * `meanwhile` has run; resolves with the answer's status and body.
 */
async function slowRequest(
  port: number,
  token: string,
  method: string,
  path: string,
  body: object,
  meanwhile: () => Promise<void>,
): Promise<{ status: number; body: string }> {
  const payload = Buffer.from(JSON.stringify(body));
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(
    `${method} /api/v1${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\nConnection: close\r\n\r\n`,
  );
  socket.write(payload.subarray(0, -1));
  await new Promise((resolve) => setTimeout(resolve, HEADERS_SETTLE_MS));
  await meanwhile();
  socket.write(payload.subarray(-1));
  await ended;
  const status = Number(/^HTTP\/1\.1 (\d{3})/u.exec(answer)?.[1]);
  return { status, body: answer.slice(answer.indexOf('\r\n\r\n') + 4) };
}

describe.each(storeEngines)('a request whose body arrives slowly on %s', (engine) => {
  let api: FullApi;
  let port: number;
  let developer: string;

  const ok = async (method: 'POST' | 'DELETE' | 'PATCH', url: string, body?: object) => {
    const response = await api.call(method, url, body);
    expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
  };

  beforeAll(async () => {
    api = await openFullApi(engine);
    await ok('POST', '/apps', { id: 'shop' });
    await ok('POST', '/apps/shop/envs', { id: 'dev', type: 'development' });
    developer = await api.createUser('dev');
    await ok('POST', '/roles', { role: 'developer', user: 'dev', app: 'shop' });
    // The token's actor is cached for up to a second: the role reaches it after that.
    for (let tries = 0; (await api.callAs(developer, 'GET', '/apps/shop')).statusCode !== 200; tries++) {
      if (tries > 40) throw new Error('the developer role did not reach the token');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    port = (api.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('refuses a developer the values of an environment made production while the body was on its way', async () => {
    const answer = await slowRequest(
      port,
      developer,
      'PATCH',
      '/apps/shop/envs/live/values',
      { set: { PLANTED: { value: 'planted-by-a-developer', secret: true } } },
      () => ok('POST', '/apps/shop/envs', { id: 'live', type: 'production' }),
    );
    expect(answer.status, answer.body).toBe(403);
    expect(JSON.parse(answer.body).detail).toMatch(/deployer/u);
    const values = await api.call('GET', '/apps/shop/envs/live/values');
    expect(values.json().items).toEqual([]);
  });

  it('refuses a developer to delete, or to give a time to live to, such an environment', async () => {
    const deleting = await slowRequest(port, developer, 'DELETE', '/apps/shop/envs/gone', {}, () =>
      ok('POST', '/apps/shop/envs', { id: 'gone', type: 'production' }),
    );
    expect(deleting.status, deleting.body).toBe(403);
    const extending = await slowRequest(
      port,
      developer,
      'POST',
      '/apps/shop/envs/short/extend',
      { ttlSeconds: 60 },
      () => ok('POST', '/apps/shop/envs', { id: 'short', type: 'production' }),
    );
    expect(extending.status, extending.body).toBe(403);
    for (const env of ['gone', 'short']) {
      const shown = await api.call('GET', `/apps/shop/envs/${env}`);
      expect(shown.statusCode, shown.body).toBe(200);
      expect(shown.json().expiresAt ?? null).toBeNull();
    }
  });

  it('refuses a token revoked while the body was on its way', async () => {
    const created = await api.call('POST', '/tokens', { name: 'short-lived' });
    expect(created.statusCode, created.body).toBe(201);
    const { token, id } = created.json() as { token: string; id: string };
    const answer = await slowRequest(
      port,
      token,
      'PATCH',
      '/apps/shop/envs/dev/values',
      { set: { AFTER_REVOKE: { value: 'set with a revoked token' } } },
      () => ok('DELETE', `/tokens/${id}`),
    );
    expect(answer.status, answer.body).toBe(401);
    const values = await api.call('GET', '/apps/shop/envs/dev/values');
    expect(values.json().items.map((item: { key: string }) => item.key)).not.toContain('AFTER_REVOKE');
  });
});
