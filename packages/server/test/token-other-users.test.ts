import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Found by review: the tokens an admin creates for a service account (`pave tokens create bt --user bot2`) could
 * be neither listed nor revoked: `GET /tokens` lists only the caller's own, and `DELETE /tokens/{id}` answered
 * "no such token of yours". A leaked CI token could be stopped only by deleting the account. Admins (those who
 * may create a token for another user: user.write) now list a user's tokens with `?user=` and revoke any
 * user's token by id, audited with whose token it was; never the secret.
 */
describe.each(storeEngines)("another user's tokens, on %s", (engine) => {
  let api: FullApi;
  let alice: string;

  beforeAll(async () => {
    api = await openFullApi(engine);
    for (const username of ['bot2', 'bot3']) {
      const created = await api.call('POST', '/users', { username, kind: 'service' });
      expect(created.statusCode, created.body).toBe(201);
    }
    alice = await api.createUser('alice');
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  async function tokenFor(
    user: string,
    name: string,
  ): Promise<{ id: string; token: string; prefix: string }> {
    const created = await api.call('POST', '/tokens', { name, user });
    expect(created.statusCode, created.body).toBe(201);
    return created.json();
  }

  it("lists them for an admin with ?user=, never with their secrets; the default stays the caller's own", async () => {
    const bt = await tokenFor('bot2', 'bt');
    const listed = await api.call('GET', '/tokens?user=bot2');
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json()).toMatchObject({
      items: [{ id: bt.id, name: 'bt', username: 'bot2', prefix: bt.prefix, revokedAt: null }],
      nextCursor: null,
    });
    expect(listed.body).not.toContain(bt.token);
    expect(listed.json().items[0]).not.toHaveProperty('token');

    // Without ?user= (or naming oneself), the caller's own tokens, as before.
    const own = await api.call('GET', '/tokens');
    expect(own.statusCode, own.body).toBe(200);
    expect(own.json().items.map((token: { id: string }) => token.id)).not.toContain(bt.id);
    expect(own.json().items.every((token: { username: string }) => token.username === 'admin')).toBe(true);
    const named = await api.call('GET', '/tokens?user=admin');
    expect(named.json()).toEqual(own.json());
  });

  it("pages through a user's tokens with the same ?user=", async () => {
    const ids = [(await tokenFor('bot3', 'one')).id, (await tokenFor('bot3', 'two')).id];
    const first = await api.call('GET', '/tokens?user=bot3&limit=1');
    expect(first.json().items.map((token: { id: string }) => token.id)).toEqual([ids[1]]);
    const cursor = first.json().nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    const second = await api.call('GET', `/tokens?user=bot3&limit=1&cursor=${encodeURIComponent(cursor)}`);
    expect(second.json()).toMatchObject({ items: [{ id: ids[0] }], nextCursor: null });
  });

  it('lets an admin revoke one by id: it stops working, shows as revoked, and the audit names whose it was', async () => {
    const bt = await tokenFor('bot2', 'leaked');
    expect((await api.callAs(bt.token, 'GET', '/whoami')).statusCode).toBe(200);

    const revoked = await api.call('DELETE', `/tokens/${bt.id}`);
    expect(revoked.statusCode, revoked.body).toBe(204);
    const refused = await api.callAs(bt.token, 'GET', '/whoami');
    expect(refused.statusCode).toBe(401);
    expect(refused.json().detail).toMatch(/revoked/);

    const listed = await api.call('GET', '/tokens?user=bot2');
    const row = listed.json().items.find((token: { id: string }) => token.id === bt.id);
    expect(row).toMatchObject({ username: 'bot2', revokedAt: expect.any(String) });

    const audit = await api.call('GET', '/audit?limit=5');
    const entry = audit
      .json()
      .items.find(
        (item: { action: string; target: string }) =>
          item.action === 'token.revoke' && item.target === `tokens/${bt.id}`,
      );
    expect(entry).toMatchObject({
      actor: 'admin',
      summary: { id: bt.id, name: 'leaked', prefix: bt.prefix, user: 'bot2' },
    });
    expect(audit.body).not.toContain(bt.token);

    // Revoking it again changes nothing and records nothing more.
    expect((await api.call('DELETE', `/tokens/${bt.id}`)).statusCode).toBe(204);
    const again = await api.call('GET', '/audit?limit=5');
    const entries = again
      .json()
      .items.filter((item: { target: string }) => item.target === `tokens/${bt.id}`)
      .map((item: { action: string }) => item.action);
    expect(entries).toEqual(['token.revoke', 'token.create']);
  });

  it('refuses ?user= naming someone else to a non-admin with 403 naming user.write', async () => {
    const refused = await api.callAs(alice, 'GET', '/tokens?user=bot2');
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().errors).toEqual([
      { path: 'permission', message: expect.stringMatching(/^user\.write: /) },
    ]);
    // Her own, named or not, as before.
    const own = await api.callAs(alice, 'GET', '/tokens');
    expect(own.statusCode, own.body).toBe(200);
    expect(own.json().items.length).toBeGreaterThan(0);
    expect(own.json().items.every((token: { username: string }) => token.username === 'alice')).toBe(true);
    expect((await api.callAs(alice, 'GET', '/tokens?user=alice')).json()).toEqual(own.json());
  });

  it("does not let a non-admin revoke another user's token, nor learn that it exists", async () => {
    const bt = await tokenFor('bot2', 'kept');
    const refused = await api.callAs(alice, 'DELETE', `/tokens/${bt.id}`);
    expect(refused.statusCode, refused.body).toBe(404);
    expect(refused.json()).toMatchObject({ detail: `token "${bt.id}" not found` });
    expect(refused.json().errors[0].message).toMatch(/no such token of yours/);
    expect((await api.callAs(bt.token, 'GET', '/whoami')).statusCode).toBe(200);
  });

  it('answers 404 at query.user for a user that does not exist, 400 for one that cannot', async () => {
    const missing = await api.call('GET', '/tokens?user=nobody');
    expect(missing.statusCode, missing.body).toBe(404);
    expect(missing.json()).toMatchObject({
      detail: 'user "nobody" not found',
      errors: [{ path: 'query.user', message: expect.stringContaining('`pave users list`') }],
    });
    const malformed = await api.call('GET', '/tokens?user=B_B');
    expect(malformed.statusCode, malformed.body).toBe(400);
    expect(malformed.json().errors[0].path).toBe('query.user');
  });

  it("answers 404 naming the list of a user's tokens for an admin revoking an id that is no one's", async () => {
    const missing = await api.call('DELETE', '/tokens/tok_0000000000000000');
    expect(missing.statusCode, missing.body).toBe(404);
    expect(missing.json().errors[0].message).toMatch(/`pave tokens list --user NAME`/);
  });

  it("keeps an admin's scoped token to its scope: an app-scoped one may not list or revoke others' tokens", async () => {
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    const scoped = await api.call('POST', '/tokens', { name: 'shop', scope: 'app:shop:owner' });
    expect(scoped.statusCode, scoped.body).toBe(201);
    const token = scoped.json().token as string;
    const listed = await api.callAs(token, 'GET', '/tokens?user=bot2');
    expect(listed.statusCode, listed.body).toBe(403);
    expect(listed.json().errors[0].message).toMatch(/^user\.write: /);

    const bt = await tokenFor('bot2', 'wide');
    const revoked = await api.callAs(token, 'DELETE', `/tokens/${bt.id}`);
    expect(revoked.statusCode, revoked.body).toBe(404);
    expect((await api.callAs(bt.token, 'GET', '/whoami')).statusCode).toBe(200);
  });
});
