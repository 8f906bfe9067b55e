import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { bootstrapAdmin, buildApi, openStore, startServer, type Store } from '../src/index.ts';
import { loadAuditKey } from '../src/domain/audit-key.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import {
  createTestStoreLocation,
  openTestStore,
  storeEngines,
  type TestStoreLocation,
} from '../../../test/support/stores.ts';

/** The number of data keys the stores below hold besides the audit and fingerprint keys. */
const SCOPES = 20;

describe.each(storeEngines)('master key rotation on %s', (engine) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A replica's API over `store` and the key file in `dataDir`, with a secret box of its own. */
  async function replica(store: Store, dataDir: string, env: NodeJS.ProcessEnv = {}) {
    const keyring = keyringSource(dataDir, env);
    const box = new SecretBox(store.db, keyring);
    await loadAuditKey(store.db, box);
    await box.init();
    const app = await buildApi({ store, secrets: { box } });
    cleanups.push(() => app.close());
    return { app, box, keyring };
  }

  /** A store with an admin, a keyed audit chain and SCOPES more data keys, each with a secret sealed. */
  async function seeded() {
    const opened = await openTestStore(engine);
    cleanups.push(opened.cleanup);
    const { store, location } = opened;
    const token = readFileSync((await bootstrapAdmin(store, location.dataDir))!, 'utf8').trim();
    const first = await replica(store, location.dataDir);
    const sealed = new Map<string, string>();
    for (let index = 0; index < SCOPES; index++) {
      sealed.set(`secret-${index}`, await first.box.encrypt(`test:scope-${index}`, `secret-${index}`));
    }
    return { store, location, token, first, sealed };
  }

  const rotate = (app: FastifyInstance, token: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/admin/rotate-master-key',
      headers: { authorization: `Bearer ${token}` },
    });

  /** The versions the key file holds. */
  const fileVersions = (dataDir: string) =>
    Object.keys((JSON.parse(readFileSync(join(dataDir, 'master.key'), 'utf8')) as { keys: object }).keys).map(
      Number,
    );

  /** What a restarted replica finds: every data key wrapped by a version the key file holds, every secret open. */
  async function expectRestartable(store: Store, dataDir: string, sealed: Map<string, string>) {
    const referenced = await store.db.selectFrom('data_keys').select('master_version').execute();
    expect(referenced.length).toBe(SCOPES + 2);
    const versions = fileVersions(dataDir);
    for (const row of referenced) expect(versions).toContain(row.master_version);
    const restarted = new SecretBox(store.db, keyringSource(dataDir, {}));
    expect(await loadAuditKey(store.db, restarted)).toMatchObject({ created: false });
    await restarted.init();
    for (const [plaintext, ciphertext] of sealed) expect(await restarted.decrypt(ciphertext)).toBe(plaintext);
    // No temporary key files are left behind.
    expect(readdirSync(dataDir).filter((name) => name.startsWith('master.key'))).toEqual(['master.key']);
  }

  it('runs rotations sent at once to one replica one after the other, losing no data key', async () => {
    const { store, location, token, first, sealed } = await seeded();
    const answers = await Promise.all(Array.from({ length: 5 }, () => rotate(first.app, token)));
    for (const answer of answers) expect(answer.statusCode, answer.body).toBe(200);
    const versions = answers.map(
      (answer) => (answer.json() as { masterKeyVersion: number }).masterKeyVersion,
    );
    expect([...versions].sort()).toEqual([2, 3, 4, 5, 6]);
    await expectRestartable(store, location.dataDir, sealed);
    // The last rotation re-wrapped everything with version 6 and retired the rest.
    expect(fileVersions(location.dataDir)).toEqual([6]);
    const rows = await store.db.selectFrom('data_keys').select('master_version').distinct().execute();
    expect(rows.map((row) => row.master_version)).toEqual([6]);
  });

  it('runs rotations sent at once to two replicas on one store and data directory one after the other', async () => {
    const { store, location, token, first, sealed } = await seeded();
    // On PostgreSQL the second replica has a connection pool of its own, as another process would.
    const secondStore =
      engine === 'postgres' ? await openStore({ url: location.url, dataDir: location.dataDir }) : store;
    if (secondStore !== store) cleanups.push(() => secondStore.close());
    const second = await replica(secondStore, location.dataDir);
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, index) => rotate(index % 2 === 0 ? first.app : second.app, token)),
    );
    for (const answer of answers) expect(answer.statusCode, answer.body).toBe(200);
    await expectRestartable(store, location.dataDir, sealed);
  });

  it('never leaves a data key created during a rotation wrapped by a retired master key', async () => {
    const { store, location, token, first, sealed } = await seeded();
    const secondStore =
      engine === 'postgres' ? await openStore({ url: location.url, dataDir: location.dataDir }) : store;
    if (secondStore !== store) cleanups.push(() => secondStore.close());
    const second = await replica(secondStore, location.dataDir);
    const fresh = new Map<string, string>();
    await Promise.all([
      ...Array.from({ length: 4 }, () => rotate(first.app, token)),
      ...Array.from({ length: 30 }, async (_, index) => {
        fresh.set(`new-${index}`, await second.box.encrypt(`test:new-${index}`, `new-${index}`));
      }),
    ]);
    const versions = fileVersions(location.dataDir);
    const rows = await store.db.selectFrom('data_keys').select(['scope', 'master_version']).execute();
    expect(rows).toHaveLength(SCOPES + 2 + 30);
    for (const row of rows) expect(versions, row.scope).toContain(row.master_version);
    const restarted = new SecretBox(store.db, keyringSource(location.dataDir, {}));
    for (const [plaintext, ciphertext] of [...sealed, ...fresh]) {
      expect(await restarted.decrypt(ciphertext)).toBe(plaintext);
    }
  });

  it('with PAVE_MASTER_KEY, re-wraps with its newest version once one is added, and refuses with the steps before', async () => {
    const opened = await openTestStore(engine);
    cleanups.push(opened.cleanup);
    const { store, location } = opened;
    const token = readFileSync((await bootstrapAdmin(store, location.dataDir))!, 'utf8').trim();
    const [one, two] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    const before = await replica(store, location.dataDir, { PAVE_MASTER_KEY: one });
    const sealed = await before.box.encrypt('test:scope', 'a secret');
    const refused = await rotate(before.app, token);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      detail: expect.stringMatching(/PAVE_MASTER_KEY, so Pave cannot add a new one itself/),
      errors: [{ path: 'PAVE_MASTER_KEY', message: expect.stringMatching(/"1:OLD,2:NEW"/) }],
    });

    const after = await replica(store, location.dataDir, { PAVE_MASTER_KEY: `1:${one},2:${two}` });
    const rotated = await rotate(after.app, token);
    expect(rotated.statusCode, rotated.body).toBe(200);
    expect(rotated.json()).toEqual({ masterKeyVersion: 2, rewrappedDataKeys: 3 });
    // The old key may now be left out.
    const newOnly = new SecretBox(store.db, keyringSource(location.dataDir, { PAVE_MASTER_KEY: `2:${two}` }));
    expect(await loadAuditKey(store.db, newOnly)).toMatchObject({ created: false });
    expect(await newOnly.decrypt(sealed)).toBe('a secret');
    expect((await rotate(after.app, token)).statusCode).toBe(409);
    expect(existsSync(join(location.dataDir, 'master.key'))).toBe(false);
  });

  it('refuses, without creating master.key, to start a replica that has no key file of its own', async () => {
    const { store } = await seeded();
    const elsewhere = mkdtempSync(join(tmpdir(), 'pave-other-'));
    cleanups.push(async () => rmSync(elsewhere, { recursive: true, force: true }));
    const box = new SecretBox(store.db, keyringSource(elsewhere, {}));
    const refusal = loadAuditKey(store.db, box);
    await expect(refusal).rejects.toMatchObject({ name: 'ServiceUnavailableError' });
    const message = ((await refusal.catch((error: unknown) => error)) as Error).message;
    expect(message).toContain(join(elsewhere, 'master.key'));
    expect(message).toMatch(/does not exist/);
    expect(message).toMatch(/every replica needs the same PAVE_MASTER_KEY or master\.key/i);
    expect(message).not.toMatch(/unable to authenticate/);
    await expect(box.init()).rejects.toMatchObject({ name: 'ServiceUnavailableError' });
    await expect(box.encrypt('test:another', 'value')).rejects.toMatchObject({
      name: 'ServiceUnavailableError',
    });
    expect(existsSync(join(elsewhere, 'master.key'))).toBe(false);
  });

  it('refuses a master key that does not open the data keys, naming where it came from and its version', async () => {
    const { store, location } = await seeded();
    const wrong = { PAVE_MASTER_KEY: randomBytes(32).toString('base64') };
    const fromEnv = new SecretBox(store.db, keyringSource(location.dataDir, wrong));
    const refusal = (await loadAuditKey(store.db, fromEnv).catch((error: unknown) => error)) as Error;
    expect(refusal.name).toBe('ServiceUnavailableError');
    expect(refusal.message).toMatch(/master key version 1 from PAVE_MASTER_KEY does not open/);
    expect(refusal.message).toMatch(/every replica needs the same PAVE_MASTER_KEY or master\.key/i);
    await expect(fromEnv.init()).rejects.toThrow(/from PAVE_MASTER_KEY does not open/);

    // A key file of another installation, copied into a new data directory.
    const elsewhere = mkdtempSync(join(tmpdir(), 'pave-other-'));
    cleanups.push(async () => rmSync(elsewhere, { recursive: true, force: true }));
    keyringSource(elsewhere, {}).load();
    const fromFile = new SecretBox(store.db, keyringSource(elsewhere, {}));
    await expect(fromFile.init()).rejects.toThrow(
      `master key version 1 from ${join(elsewhere, 'master.key')} does not open`,
    );
  });
});

describe('a PostgreSQL replica started with another master key', () => {
  let location: TestStoreLocation | undefined;
  const others: string[] = [];
  afterEach(async () => {
    await location?.cleanup();
    for (const dir of others.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const start = (dataDir: string, env: NodeJS.ProcessEnv = {}) =>
    startServer({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      store: location!.url,
      env,
      logLevel: 'silent',
      supervisorScript: '/nonexistent/supervisor.js',
      janitorIntervalMs: 3_600_000,
    });

  it('does not start, and says every replica needs the same master key', async () => {
    location = await createTestStoreLocation('postgres');
    const first = await start(location.dataDir);
    await first.close();
    const elsewhere = mkdtempSync(join(tmpdir(), 'pave-replica-'));
    others.push(elsewhere);
    const refusal = (await start(elsewhere).catch((error: unknown) => error)) as Error;
    expect(refusal.name).toBe('ServiceUnavailableError');
    expect(refusal.message).toContain(join(elsewhere, 'master.key'));
    expect(refusal.message).toMatch(/every replica needs the same PAVE_MASTER_KEY or master\.key/i);
    expect(existsSync(join(elsewhere, 'master.key'))).toBe(false);

    const wrong = (await start(elsewhere, { PAVE_MASTER_KEY: randomBytes(32).toString('hex') }).catch(
      (error: unknown) => error,
    )) as Error;
    expect(wrong.name).toBe('ServiceUnavailableError');
    expect(wrong.message).toMatch(/master key version 1 from PAVE_MASTER_KEY does not open/);
  });
});
