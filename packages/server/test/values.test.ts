import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, buildApi, type Store } from '../src/index.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

describe.each(storeEngines)('values API on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let token: string;
  let dataDir: string;
  const marker = `canary-${Math.random().toString(36).slice(2)}`;

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    dataDir = opened.location.dataDir;
    token = readFileSync((await bootstrapAdmin(store, dataDir))!, 'utf8').trim();
    const keyring = keyringSource(dataDir, {});
    const box = new SecretBox(store.db, keyring);
    await box.init();
    app = await buildApi({ store, secrets: { box } });
    const auth = { authorization: `Bearer ${token}` };
    await app.inject({ method: 'POST', url: '/api/v1/apps', headers: auth, payload: { id: 'shop' } });
    await app.inject({
      method: 'POST',
      url: '/api/v1/apps/shop/envs',
      headers: auth,
      payload: { id: 'dev', type: 'development' },
    });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });
  const call = (method: string, url: string, payload?: object) =>
    app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  const rows = async () => ({
    app: await store.db.selectFrom('app_values').selectAll().execute(),
    env: await store.db.selectFrom('env_values').selectAll().execute(),
    versions: await store.db.selectFrom('env_value_versions').selectAll().execute(),
  });

  it('creates the master key file with mode 0600 on first use', () => {
    expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
  });

  it('stores secrets only as ciphertext with a key-version prefix, and masks them unless revealed', async () => {
    const set = await call('PATCH', '/apps/shop/envs/dev/values', {
      set: { TOKEN: { value: marker, secret: true }, MODE: { value: 'fast' } },
    });
    expect(set.statusCode).toBe(200);
    expect(set.body).not.toContain(marker);
    const raw = JSON.stringify(await rows());
    expect(raw).not.toContain(marker);
    expect(
      (
        await store.db
          .selectFrom('env_values')
          .select('value')
          .where('key', '=', 'TOKEN')
          .executeTakeFirstOrThrow()
      ).value,
    ).toMatch(/^pave:\d+:/);
    const masked = await call('GET', '/apps/shop/envs/dev/values');
    expect(masked.json().items).toEqual([
      expect.objectContaining({ key: 'MODE', value: 'fast', secret: false }),
      expect.objectContaining({ key: 'TOKEN', value: null, secret: true }),
    ]);
    const revealed = await call('GET', '/apps/shop/envs/dev/values?reveal=true');
    expect(revealed.json().items[1].value).toBe(marker);
    const audit = await call('GET', '/audit?app=shop&limit=1');
    expect(audit.json().items[0]).toMatchObject({ action: 'values.reveal', summary: { keys: ['TOKEN'] } });
  });

  it('refuses a malformed dotenv import, naming the bad lines, and writes nothing', async () => {
    const before = await rows();
    const response = await call('POST', '/apps/shop/envs/dev/values/import', {
      dotenv: `GOOD=1\nthis is not an assignment\n2BAD=x\nQUOTE="unterminated\n`,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors.map((e: { path: string }) => e.path)).toEqual([
      'line 2',
      'line 3',
      'line 4',
    ]);
    expect(await rows()).toEqual(before);
  });

  it('refuses a key that is no environment variable name, saying what a key must be, and writes nothing', async () => {
    const before = await rows();
    const response = await call('PATCH', '/apps/shop/envs/dev/values', {
      set: { 'bad-key': { value: 'x' } },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([
      {
        path: '/set/bad-key',
        message: 'must be an environment variable name: letters, digits and "_", not starting with a digit',
      },
    ]);
    expect(await rows()).toEqual(before);
  });

  it('refuses a change that names no key (nothing to set or unset), and records nothing', async () => {
    const audited = async () =>
      (await store.db.selectFrom('audit_entries').select('action').execute()).filter((entry) =>
        entry.action.startsWith('values.'),
      ).length;
    const before = { rows: await rows(), audited: await audited() };
    for (const [url, body] of [
      ['/apps/shop/envs/dev/values', {}],
      ['/apps/shop/envs/dev/values', { set: {}, unset: [] }],
      ['/apps/shop/values', {}],
    ] as const) {
      const response = await call('PATCH', url, body);
      expect(response.statusCode, `${url} ${JSON.stringify(body)}`).toBe(400);
      expect(response.json().errors).toEqual([
        { path: '/', message: 'give at least one key in "set" or "unset"' },
      ]);
    }
    expect({ rows: await rows(), audited: await audited() }).toEqual(before);
  });

  it('answers an unset of keys that are not set with their names in notSet, and records nothing for them', async () => {
    const audited = async () =>
      (await store.db.selectFrom('audit_entries').select('action').execute()).filter((entry) =>
        entry.action.startsWith('values.'),
      ).length;
    await call('PATCH', '/apps/shop/values', { set: { SHARED: { value: 'app' } } });
    const before = { rows: await rows(), audited: await audited() };
    for (const [url, unset] of [
      ['/apps/shop/values', ['NOPE']],
      // SHARED is set at app level, not as dev's own override: nothing of dev's to remove.
      ['/apps/shop/envs/dev/values', ['NOPE', 'SHARED']],
    ] as const) {
      const response = await call('PATCH', url, { unset });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toEqual({ changes: [], versions: [], notSet: unset });
    }
    expect({ rows: await rows(), audited: await audited() }).toEqual(before);

    const mixed = await call('PATCH', '/apps/shop/values', { unset: ['SHARED', 'NOPE'] });
    expect(mixed.statusCode, mixed.body).toBe(200);
    expect(mixed.json()).toMatchObject({
      changes: [{ key: 'SHARED', action: 'removed' }],
      notSet: ['NOPE'],
    });
    const audit = await call('GET', '/audit?app=shop&limit=1');
    expect(audit.json().items[0]).toMatchObject({ action: 'values.unset', summary: { unset: ['SHARED'] } });
  });

  // Found by a newcomer's review: app-level values of an app without environments were stored, yet the
  // answer said nothing changed (`pave values set` printed "No changes").
  it('answers an app-level change no environment shows with what changed at app level', async () => {
    expect((await call('POST', '/apps', { id: 'lonely' })).statusCode).toBe(201);
    const set = await call('PATCH', '/apps/lonely/values', {
      set: { FOO: { value: 'bar' }, TOKEN: { value: 'hidden-XYZ', secret: true } },
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toEqual({
      changes: [
        { key: 'FOO', action: 'added', secret: false, to: 'bar' },
        { key: 'TOKEN', action: 'added', secret: true },
      ],
      versions: [],
      notSet: [],
    });
    const again = await call('PATCH', '/apps/lonely/values', { set: { FOO: { value: 'bar' } } });
    expect(again.json()).toMatchObject({ changes: [], versions: [] });
    const removed = await call('PATCH', '/apps/lonely/values', { unset: ['FOO'] });
    expect(removed.json()).toMatchObject({ changes: [{ key: 'FOO', action: 'removed', from: 'bar' }] });
  });

  it('does not quote the text of a malformed secret import back', async () => {
    const response = await call('POST', '/apps/shop/envs/dev/values/import', {
      dotenv: `${marker}\n`,
      secret: true,
    });
    expect(response.statusCode).toBe(400);
    expect(response.body).not.toContain(marker);
  });

  it('versions every change and restores an earlier version as a new one', async () => {
    await call('PATCH', '/apps/shop/envs/dev/values', { set: { MODE: { value: 'slow' } } });
    const history = (await call('GET', '/apps/shop/envs/dev/values/versions')).json().items;
    expect(history[0]).toMatchObject({
      changes: [{ key: 'MODE', action: 'changed', from: 'fast', to: 'slow' }],
    });
    const restored = await call('POST', '/apps/shop/envs/dev/values/rollback', {
      version: history[1].version,
    });
    expect(restored.json().changes).toEqual([
      { key: 'MODE', action: 'changed', secret: false, from: 'slow', to: 'fast' },
    ]);
    const again = await call('POST', '/apps/shop/envs/dev/values/rollback', { version: history[1].version });
    expect(again.statusCode).toBe(409);
  });

  it('re-wraps every data key on rotation; a fresh process reads the secrets with the new key alone', async () => {
    const rotated = await call('POST', '/admin/rotate-master-key', {});
    expect(rotated.json()).toMatchObject({ masterKeyVersion: 2 });
    const keyFile = JSON.parse(readFileSync(join(dataDir, 'master.key'), 'utf8'));
    expect(Object.keys(keyFile.keys)).toEqual(['2']);
    const fresh = new SecretBox(store.db, keyringSource(dataDir, {}));
    const row = await store.db
      .selectFrom('env_values')
      .select('value')
      .where('key', '=', 'TOKEN')
      .executeTakeFirstOrThrow();
    expect(await fresh.decrypt(row.value!)).toBe(marker);
  });

  it('takes the master key from PAVE_MASTER_KEY, and refuses one of the wrong size with the fix', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(keyringSource(dataDir, { PAVE_MASTER_KEY: key }).load().keys.get(1)).toEqual(Buffer.alloc(32, 7));
    expect(() => keyringSource(dataDir, { PAVE_MASTER_KEY: 'short' })).toThrow(/not 32 bytes/);
  });
});
