import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '@pave/core';
import { bootstrapAdmin, buildApi, type Store } from '../src/index.ts';
import { listAudit, verifyAuditChain } from '../src/domain/audit.ts';
import { loadAuditKey } from '../src/domain/audit-key.ts';
import { RefusalRecorder, refusalsFor } from '../src/domain/audit-refusals.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

const PASSWORD = 'a long enough password';

async function entries(store: Store, action: string): Promise<AuditEntry[]> {
  const page = await listAudit(store.db, { limit: 500 });
  return page.items.filter((entry) => entry.action === action);
}

async function keyedTestStore(engine: (typeof storeEngines)[number]) {
  const opened = await openTestStore(engine);
  const keyring = keyringSource(opened.location.dataDir, {});
  const box = new SecretBox(opened.store.db, keyring);
  await loadAuditKey(opened.store.db, box);
  return { ...opened, keyring, box };
}

describe.each(storeEngines)('refusals in the audit log, counted per kind and window, on %s', (engine) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function store(): Promise<Store> {
    const opened = await keyedTestStore(engine);
    cleanups.push(opened.cleanup);
    return opened.store;
  }
  const vera = { userId: 'u-vera', username: 'vera' };
  const refusal = (index: number, permission = 'values.reveal', target = 'apps/shop/values') => ({
    actor: vera,
    permission,
    reason: 'viewers never see secret values',
    target,
    appId: 'shop',
    method: 'GET',
    requestId: `req-${index}`,
  });

  it('writes one entry per actor, permission and target for a whole flood, with how many and when', async () => {
    const db = await store();
    const recorder = new RefusalRecorder(db);
    for (let index = 0; index < 500; index++) recorder.accessDenied(refusal(index));
    recorder.accessDenied(refusal(500, 'values.write'));
    expect(await entries(db, 'access.denied')).toEqual([]); // counted, not yet written
    await recorder.flush();

    const written = await entries(db, 'access.denied');
    expect(written).toHaveLength(2);
    const reveal = written.find((entry) => entry.summary.permission === 'values.reveal')!;
    expect(reveal).toMatchObject({
      actor: 'vera',
      target: 'apps/shop/values',
      appId: 'shop',
      requestId: 'req-0',
      summary: {
        permission: 'values.reveal',
        reason: 'viewers never see secret values',
        method: 'GET',
        count: 500,
        lastRequestId: 'req-499',
      },
    });
    expect(Date.parse(String(reveal.summary.lastAt))).toBeGreaterThanOrEqual(
      Date.parse(String(reveal.summary.firstAt)),
    );
    expect(written.find((entry) => entry.summary.permission === 'values.write')?.summary.count).toBe(1);
    // A new window starts afresh; an empty one writes nothing.
    await recorder.flush();
    expect(await entries(db, 'access.denied')).toHaveLength(2);
    expect((await verifyAuditChain(db.db)).ok).toBe(true);
  });

  it('writes by itself when the window ends', async () => {
    const db = await store();
    const recorder = new RefusalRecorder(db, { windowMs: 100 });
    recorder.accessDenied(refusal(1));
    recorder.accessDenied(refusal(2));
    const deadline = Date.now() + 5_000;
    while ((await entries(db, 'access.denied')).length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await entries(db, 'access.denied')).map((entry) => entry.summary.count)).toEqual([2]);
  });

  it('caps the entries of a window: kinds past the limit share one overflow entry', async () => {
    const db = await store();
    const recorder = new RefusalRecorder(db, { kindsPerWindow: 3 });
    for (let index = 0; index < 40; index++) {
      recorder.accessDenied(refusal(index, 'user.read', `users/random-${index % 10}`));
    }
    for (let index = 0; index < 6; index++) {
      recorder.loginFailed({
        username: `guess-${index}`,
        clientAddress: '127.0.0.9',
        requestId: `l-${index}`,
      });
    }
    await recorder.flush();
    const denied = await entries(db, 'access.denied');
    expect(denied.filter((entry) => !entry.summary.overflow).map((entry) => entry.summary.count)).toEqual([
      4, 4, 4,
    ]);
    expect(denied.find((entry) => entry.summary.overflow)).toMatchObject({
      actor: 'pave',
      target: 'refusals',
      summary: { overflow: true, count: 28 },
    });
    // The limit is shared by both actions; failed logins past it get an overflow entry of their own.
    const failed = await entries(db, 'auth.login-failed');
    expect(failed.filter((entry) => entry.summary.overflow).map((entry) => entry.summary.count)).toEqual([6]);
  });
});

describe.each(storeEngines)('refused requests and failed logins through the API, on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let adminToken: string;
  const tokens: Record<string, string> = {};
  const call = (token: string, method: string, url: string, payload?: object) =>
    app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  const login = (username: string, password: string) =>
    app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });

  beforeAll(async () => {
    const opened = await keyedTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    adminToken = readFileSync((await bootstrapAdmin(store, opened.location.dataDir))!, 'utf8').trim();
    await opened.box.init();
    app = await buildApi({ store, secrets: { box: opened.box } });
    await call(adminToken, 'POST', '/apps', { id: 'shop' });
    await call(adminToken, 'PATCH', '/apps/shop/values', {
      set: { API_KEY: { value: 'the-secret-value', secret: true } },
    });
    for (const username of ['vera', 'olivia']) {
      await call(adminToken, 'POST', '/users', { username, password: PASSWORD });
      tokens[username] = (await login(username, PASSWORD)).json().token;
    }
    await call(adminToken, 'POST', '/roles', { role: 'viewer', user: 'vera', app: 'shop' });
    await call(adminToken, 'POST', '/roles', { role: 'owner', user: 'olivia', app: 'shop' });
    await new Promise((resolve) => setTimeout(resolve, 1_050)); // roles are cached for up to a second
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  it("records a flood of 403s as one entry, which the app's owner reads in its trail", async () => {
    for (let index = 0; index < 30; index++) {
      const refused = await call(tokens.vera!, 'GET', '/apps/shop/values?reveal=true');
      expect(refused.statusCode).toBe(403);
    }
    // Refused by the route's own permission, before it runs: another kind.
    expect((await call(tokens.vera!, 'POST', '/env-types', { id: 'qa', description: 'qa' })).statusCode).toBe(
      403,
    );
    await refusalsFor(store).flush();

    const trail = await call(tokens.olivia!, 'GET', '/audit?app=shop');
    const denied = (trail.json().items as AuditEntry[]).filter((entry) => entry.action === 'access.denied');
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({
      actor: 'vera',
      target: 'apps/shop/values',
      appId: 'shop',
      summary: { permission: 'values.reveal', method: 'GET', count: 30 },
    });
    const all = await entries(store, 'access.denied');
    expect(all.map((entry) => `${entry.actor} ${entry.summary.permission} ${entry.target}`).sort()).toEqual([
      'vera env-type.write env-types',
      'vera values.reveal apps/shop/values',
    ]);
    const text = JSON.stringify(all);
    expect(text).not.toContain('the-secret-value');
    expect(text).not.toContain(tokens.vera!);
  });

  it('records failed logins per username and client address, without the passwords tried', async () => {
    for (let index = 0; index < 3; index++) {
      expect((await login('olivia', `wrong password ${index}`)).statusCode).toBe(401);
    }
    expect((await login('nobody-here', 'a guessed password')).statusCode).toBe(401);
    expect((await login('olivia', PASSWORD)).statusCode).toBe(200);
    await refusalsFor(store).flush();

    const failed = await entries(store, 'auth.login-failed');
    expect(
      failed
        .map((entry) => [entry.actor, entry.target, entry.summary.clientAddress, entry.summary.count])
        .sort(),
    ).toEqual([
      ['anonymous', 'users/nobody-here', '127.0.0.1', 1],
      ['anonymous', 'users/olivia', '127.0.0.1', 3],
    ]);
    const text = JSON.stringify(failed);
    expect(text).not.toContain('wrong password');
    expect(text).not.toContain('a guessed password');
    expect((await verifyAuditChain(store.db)).ok).toBe(true);
  });

  it('writes what was counted when the API shuts down', async () => {
    const second = await buildApi({ store });
    const refused = await second.inject({
      method: 'GET',
      url: '/api/v1/users',
      headers: { authorization: `Bearer ${tokens.vera!}` },
    });
    expect(refused.statusCode).toBe(403);
    expect((await entries(store, 'access.denied')).some((entry) => entry.target === 'users')).toBe(false);
    await second.close();
    expect((await entries(store, 'access.denied')).find((entry) => entry.target === 'users')).toMatchObject({
      actor: 'vera',
      summary: { permission: 'user.read', count: 1 },
    });
  });
});
