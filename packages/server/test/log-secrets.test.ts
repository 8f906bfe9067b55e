import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, buildApi, type Store } from '../src/index.ts';
import { environmentSecrets, environmentSecretsMark } from '../src/domain/logs.ts';
import { maskSecrets } from '../src/domain/resources/masking.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

const PEM = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7',
  'x9Zk3mQ2lP0aR7vT1yU8wN5cB6dE4fG2hJ0kL9mN3oP7qR1sT5',
  '-----END PRIVATE KEY-----',
].join('\n');

describe('maskSecrets', () => {
  it('masks each line of a multi-line secret, as a log shows it a line at a time', () => {
    const lines = PEM.split('\n').map((line) => maskSecrets(`key: ${line}`, [PEM]));
    expect(lines).toEqual(['key: ***', 'key: ***', 'key: ***', 'key: ***']);
  });

  it('masks a secret as it is, JSON-escaped and URL-encoded, longest first', () => {
    const secret = 'p@ss "word"/1';
    const text = `plain=${secret} json=${JSON.stringify(secret)} url=${encodeURIComponent(secret)}`;
    expect(maskSecrets(text, [secret, 'p@ss'])).toBe('plain=*** json="***" url=***');
  });
});

describe.each(storeEngines)("the secrets an environment's logs are masked with, on %s", (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let box: SecretBox;
  let token: string;
  const target = { app: 'shop', env: 'dev' };

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    const dataDir = opened.location.dataDir;
    token = readFileSync((await bootstrapAdmin(store, dataDir))!, 'utf8').trim();
    const keyring = keyringSource(dataDir, {});
    box = new SecretBox(store.db, keyring);
    await box.init();
    app = await buildApi({ store, secrets: { box } });
    await call('POST', '/apps', { id: 'shop' });
    await call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });
  async function call(method: string, url: string, payload: object) {
    const response = await app.inject({
      method: method as 'POST',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      payload,
    });
    expect(response.statusCode, response.body).toBeLessThan(300);
  }

  it('holds the secrets of every values version, not only the newest, and says when they may have changed', async () => {
    const before = await environmentSecretsMark(store.db, target);
    await call('PATCH', '/apps/shop/envs/dev/values', {
      set: { TOKEN: { value: 'first-secret', secret: true }, PLAIN: { value: 'not-a-secret' } },
    });
    const afterFirst = await environmentSecretsMark(store.db, target);
    expect(afterFirst).not.toBe(before);
    await call('PATCH', '/apps/shop/envs/dev/values', {
      set: { TOKEN: { value: 'second-secret', secret: true } },
    });
    await call('PATCH', '/apps/shop/values', {
      set: { APP_KEY: { value: 'app-level-secret', secret: true } },
    });
    expect(await environmentSecretsMark(store.db, target)).not.toBe(afterFirst);
    // A line printed under the first version still shows it: it is masked as well.
    expect((await environmentSecrets(box, store.db, target)).sort()).toEqual([
      'app-level-secret',
      'first-secret',
      'second-secret',
    ]);
    const mark = await environmentSecretsMark(store.db, target);
    expect(await environmentSecretsMark(store.db, target)).toBe(mark);
  });
});
