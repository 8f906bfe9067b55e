import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTORS } from '@pave/core';
import { buildApi, bootstrapAdmin, type Store } from '../src/index.ts';
import { OidcSignOn } from '../src/domain/sso.ts';
import { usersWithReservedNames } from '../src/domain/users.ts';
import { RESTART_ACTOR } from '../src/domain/deployments/restart.ts';
import { WEBHOOK_ACTOR } from '../src/domain/webhooks/dispatcher.ts';
import { STATE_USERNAME } from '../src/domain/resources/state.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';
import {
  signInAtProvider,
  startOidcProvider,
  type TestOidcProvider,
} from '../../../test/support/oidc-provider.ts';

/** The address the tests pretend the browser reached Pave at (app.inject sends this Host). */
const PAVE = 'http://127.0.0.1:7300';
const HOST = { host: '127.0.0.1:7300' };

describe('the names Pave records its own actions under', () => {
  it('are the ones its actors use', () => {
    const reserved: string[] = Object.values(SYSTEM_ACTORS);
    for (const actor of [RESTART_ACTOR, WEBHOOK_ACTOR, STATE_USERNAME]) expect(reserved).toContain(actor);
  });
});

describe.each(storeEngines)('usernames reserved for Pave itself on %s', (engine) => {
  let store: Store;
  let app: FastifyInstance;
  let adminToken: string;
  let provider: TestOidcProvider;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    const file = await bootstrapAdmin(store, opened.location.dataDir);
    adminToken = readFileSync(file ?? join(opened.location.dataDir, 'admin.token'), 'utf8').trim();
    provider = await startOidcProvider();
    provider.setRedirectUri(`${PAVE}/api/v1/auth/sso/callback`);
    const box = new SecretBox(store.db, keyringSource(opened.location.dataDir, {}));
    const sso = new OidcSignOn(
      store,
      { issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret },
      box,
    );
    app = await buildApi({ store, sso });
  });
  afterAll(async () => {
    await app?.close();
    await provider?.close();
    await cleanup?.();
  });

  const createUser = (payload: object) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization: `Bearer ${adminToken}` },
      payload,
    });

  it('gives an SSO user whose provider name is reserved another name', async () => {
    provider.accounts.set('sys-sub', { preferredUsername: 'system', groups: [] });
    provider.accounts.set('pave-sub', { email: 'pave@example.com', groups: [] });
    for (const [subject, expected] of [
      ['sys-sub', 'system-2'],
      ['pave-sub', 'pave-2'],
    ] as const) {
      const start = await app.inject({ url: '/api/v1/auth/sso/start', headers: HOST });
      const { pathname, search } = new URL(await signInAtProvider(start.headers.location as string, subject));
      const answer = await app.inject({ url: `${pathname}${search}`, headers: HOST });
      expect(answer.statusCode, answer.body).toBe(302);
      const location = answer.headers.location as string;
      expect(new URLSearchParams(location.slice(location.indexOf('?') + 1)).get('username')).toBe(expected);
    }
  });

  it.each(Object.values(SYSTEM_ACTORS))(
    'refuses to create a user or service account named %s',
    async (name) => {
      for (const payload of [
        { username: name, password: 'a long enough passphrase' },
        { username: name, kind: 'service' },
      ]) {
        const response = await createUser(payload);
        expect(response.statusCode, response.body).toBe(400);
        const body = response.json() as { detail: string; errors: Array<{ path: string; message: string }> };
        expect(body.detail).toContain(`"${name}"`);
        expect(body.errors).toEqual([
          { path: '/username', message: expect.stringMatching(/reserved for Pave's own actions.*another/u) },
        ]);
      }
      const users = await app.inject({
        url: '/api/v1/users',
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect((users.json().items as Array<{ username: string }>).map((user) => user.username)).not.toContain(
        name,
      );
    },
  );

  it('still creates users whose names merely start like a reserved one', async () => {
    expect((await createUser({ username: 'systems', kind: 'service' })).statusCode).toBe(201);
    expect((await createUser({ username: 'pave-ops', kind: 'service' })).statusCode).toBe(201);
  });

  it('finds users created with a reserved name before it was refused', async () => {
    expect(await usersWithReservedNames(store.db)).toEqual([]);
    await store.db
      .insertInto('users')
      .values({
        id: `usr_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
        username: 'system',
        created_at: new Date().toISOString(),
        kind: 'user',
        password_hash: null,
      })
      .execute();
    expect(await usersWithReservedNames(store.db)).toEqual(['system']);
  });
});
