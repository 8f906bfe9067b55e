import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, buildApi, openStore, type Store } from '../src/index.ts';
import { OidcSignOn } from '../src/domain/sso.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import { migrations } from '../src/store/migrations/index.ts';
import {
  createTestStoreLocation,
  openTestStore,
  storeEngines,
  type TestStoreLocation,
} from '../../../test/support/stores.ts';
import {
  signInAtProvider,
  startOidcProvider,
  type TestOidcProvider,
} from '../../../test/support/oidc-provider.ts';

/** The address the tests pretend the browser reached Pave at (app.inject sends this Host). */
const PAVE = 'http://127.0.0.1:7300';
const HOST = { host: '127.0.0.1:7300' };
/** The loopback URL of `pave login --sso`: its path is the CLI's secret. */
const CLI_CALLBACK = 'http://127.0.0.1:45678/cli-secret-path-0123456789';
const TAB = 'portal-tab-value-0123456789';

describe.each(storeEngines)('SSO sign-ins under way are sealed at rest on %s', (engine) => {
  let store: Store;
  let dataDir: string;
  let app: FastifyInstance;
  let adminToken: string;
  let provider: TestOidcProvider;
  let cleanup: () => Promise<void>;
  /** The PKCE verifiers Pave sent to the provider's token endpoint, in order. */
  const verifiers: string[] = [];

  const recordingFetch: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.endsWith('/token') && init?.body) {
      const verifier = new URLSearchParams(String(init.body)).get('code_verifier');
      if (verifier) verifiers.push(verifier);
    }
    return fetch(input, init);
  };

  /** An API like the server's, with its own secret box over the keyring as it now is (a fresh replica). */
  const api = async () => {
    const box = new SecretBox(store.db, keyringSource(dataDir, {}));
    await box.init();
    const sso = new OidcSignOn(
      store,
      {
        issuer: provider.issuer,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
        fetch: recordingFetch,
      },
      box,
    );
    return buildApi({ store, sso, secrets: { box } });
  };

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    dataDir = opened.location.dataDir;
    adminToken = readFileSync((await bootstrapAdmin(store, dataDir))!, 'utf8').trim();
    provider = await startOidcProvider();
    provider.setRedirectUri(`${PAVE}/api/v1/auth/sso/callback`);
    provider.accounts.set('alice-sub', { preferredUsername: 'alice', groups: [] });
    app = await api();
  });
  afterAll(async () => {
    await app?.close();
    await provider?.close();
    await cleanup?.();
  });

  const start = async (on: FastifyInstance, query: string) => {
    const response = await on.inject({ url: `/api/v1/auth/sso/start?${query}`, headers: HOST });
    expect(response.statusCode, response.body).toBe(302);
    return response.headers.location as string;
  };
  const callback = async (on: FastifyInstance, url: string) => {
    const { pathname, search } = new URL(url);
    return on.inject({ url: `${pathname}${search}`, headers: HOST });
  };
  const storedSignIns = async () =>
    JSON.stringify(await store.db.selectFrom('sso_sign_ins').selectAll().execute());
  const whoami = (token: string) =>
    app.inject({ url: '/api/v1/whoami', headers: { authorization: `Bearer ${token}` } });

  it("keeps neither a sign-in's nonce nor its PKCE verifier nor where it returns to in plaintext, and completes it", async () => {
    const authorization = await start(app, `redirect=${encodeURIComponent(CLI_CALLBACK)}`);
    const nonce = new URL(authorization).searchParams.get('nonce')!;
    expect(nonce.length).toBeGreaterThan(20);
    const stored = await storedSignIns();
    expect(stored).toContain('"state_hash"');

    const response = await callback(app, await signInAtProvider(authorization, 'alice-sub'));
    expect(response.statusCode, response.body).toBe(302);
    const location = new URL(response.headers.location as string);
    expect(location.origin + location.pathname).toBe(CLI_CALLBACK);
    expect((await whoami(location.searchParams.get('token')!)).json()).toMatchObject({ username: 'alice' });

    const verifier = verifiers.at(-1)!;
    expect(verifier.length).toBeGreaterThan(20);
    for (const secret of [nonce, verifier, 'cli-secret-path-0123456789']) {
      expect(stored).not.toContain(secret);
    }
  });

  it("keeps the portal tab's value sealed too, and hands it back", async () => {
    const authorization = await start(app, `tab=${TAB}`);
    expect(await storedSignIns()).not.toContain(TAB);
    const response = await callback(app, await signInAtProvider(authorization, 'alice-sub'));
    const params = new URLSearchParams((response.headers.location as string).split('#/sso?')[1]);
    expect(params.get('tab')).toBe(TAB);
    expect(params.get('token')).toMatch(/^pave_/);
  });

  it('refuses a sign-in whose sealed secrets were swapped with another sign-in’s', async () => {
    await store.db.deleteFrom('sso_sign_ins').execute();
    const first = await start(app, '');
    const second = await start(app, '');
    const rows = await store.db.selectFrom('sso_sign_ins').selectAll().orderBy('created_at').execute();
    expect(rows).toHaveLength(2);
    const [a, b] = rows as [(typeof rows)[0], (typeof rows)[0]];
    const { state_hash: _a, ...aSecrets } = a;
    const { state_hash: _b, ...bSecrets } = b;
    await store.db.updateTable('sso_sign_ins').set(bSecrets).where('state_hash', '=', a.state_hash).execute();
    await store.db.updateTable('sso_sign_ins').set(aSecrets).where('state_hash', '=', b.state_hash).execute();
    for (const authorization of [first, second]) {
      const response = await callback(app, await signInAtProvider(authorization, 'alice-sub'));
      expect(response.statusCode).toBe(401);
      expect(response.json().detail).toBe('this SSO sign-in is unknown or was used already (state)');
    }
  });

  it('finishes a sign-in started before a master-key rotation, on a replica that knows only the new key', async () => {
    const authorization = await start(app, `redirect=${encodeURIComponent(CLI_CALLBACK)}`);
    const rotated = await app.inject({
      method: 'POST',
      url: '/api/v1/admin/rotate-master-key',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(rotated.statusCode, rotated.body).toBe(200);
    expect(keyringSource(dataDir, {}).load().keys.size).toBe(1);
    const replica = await api();
    try {
      const response = await callback(replica, await signInAtProvider(authorization, 'alice-sub'));
      expect(response.statusCode, response.body).toBe(302);
      expect(new URL(response.headers.location as string).searchParams.get('token')).toMatch(/^pave_/);
    } finally {
      await replica.close();
    }
  });
});

describe.each(storeEngines)('upgrading a store with SSO sign-ins under way on %s', (engine) => {
  let location: TestStoreLocation | undefined;
  afterAll(async () => {
    await location?.cleanup();
  });

  it('deletes the sign-ins under way, whose secrets were in plaintext (they would expire in 10 minutes)', async () => {
    location = await createTestStoreLocation(engine);
    const before = migrations.slice(
      0,
      migrations.findIndex((migration) => migration.name === '0030_sso_sealed_sign_ins'),
    );
    expect(before.length).toBeLessThan(migrations.length);
    const old = await openStore({ url: location.url, dataDir: location.dataDir, migrations: before });
    const at = new Date();
    // The table as 0022 made it: the types describe the latest schema.
    await (old.db as unknown as Kysely<Record<string, Record<string, string>>>)
      .insertInto('sso_sign_ins')
      .values({
        state_hash: 'a'.repeat(64),
        nonce: 'plaintext-nonce',
        code_verifier: 'plaintext-verifier',
        callback_url: `${PAVE}/api/v1/auth/sso/callback`,
        return_to: JSON.stringify({ kind: 'portal', origin: PAVE }),
        created_at: at.toISOString(),
        expires_at: new Date(at.getTime() + 600_000).toISOString(),
      })
      .execute();
    await old.close();

    const store = await openStore({ url: location.url, dataDir: location.dataDir });
    try {
      expect(await store.db.selectFrom('sso_sign_ins').selectAll().execute()).toEqual([]);
      const table = (await store.db.introspection.getTables()).find((t) => t.name === 'sso_sign_ins')!;
      const columns = table.columns.map((column) => column.name);
      expect(columns).not.toContain('nonce');
      expect(columns).not.toContain('code_verifier');
    } finally {
      await store.close();
    }
  });
});
