import type { RuntimeDriver } from '@pave/plugin-api';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EnvironmentJanitor } from '../src/domain/janitor.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

describe.each(storeEngines)('an environment deleted while other requests reach it, on %s', (engine) => {
  let api: DeployingApi;
  // Tearing an environment's workloads down waits for the test to open the gate: its deletion stays running.
  let open: () => void = () => undefined;
  let gate = Promise.resolve();
  const runtime: RuntimeDriver = { ...idleRuntime, name: 'gated', destroy: () => gate };
  const holdDeletions = () => {
    gate = new Promise((resolve) => (open = resolve));
  };
  const releaseDeletions = () => {
    open();
    gate = Promise.resolve();
  };
  /** Resolves once the deletion of `env` holds its lease (and so waits at the gate). */
  const deletionStarted = async (env: string) => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const row = await api.store.db
        .selectFrom('environments')
        .select('lease_owner')
        .where('app_id', '=', 'shop')
        .where('id', '=', env)
        .executeTakeFirst();
      if (row?.lease_owner?.startsWith('deletion:')) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`the deletion of ${env} did not start`);
  };

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime });
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
  });
  afterAll(async () => {
    open();
    await api?.cleanup();
  });

  it('a second deletion while the first runs says so at once, and does not delete the environment created again under its id', async () => {
    expect(
      (await api.call('POST', '/apps/shop/envs', { id: 'preview', type: 'development' })).statusCode,
    ).toBe(201);
    holdDeletions();
    const first = api.call('DELETE', '/apps/shop/envs/preview');
    await deletionStarted('preview');
    const second = api.call('DELETE', '/apps/shop/envs/preview');
    await new Promise((resolve) => setTimeout(resolve, 100));
    releaseDeletions();
    expect((await first).statusCode).toBe(204);
    const again = await api.call('POST', '/apps/shop/envs', { id: 'preview', type: 'development' });
    expect(again.statusCode, again.body).toBe(201);

    // Not "a deployment of it is starting" after waiting for a lease that a deletion holds.
    const late = await second;
    expect(late.statusCode, late.body).toBe(409);
    expect(late.json()).toMatchObject({
      detail: 'environment "preview" of app "shop" is being deleted',
      errors: [{ path: 'path.env', message: expect.stringContaining('its deletion goes on') }],
    });
    const kept = await api.call('GET', '/apps/shop/envs/preview');
    expect(kept.statusCode, kept.body).toBe(200);
    expect(kept.json().createdAt).toBe(again.json().createdAt);
  });

  it('refuses to extend an environment while it is being deleted, rather than answer for one that is gone', async () => {
    expect(
      (await api.call('POST', '/apps/shop/envs', { id: 'short', type: 'development', ttlSeconds: 60 }))
        .statusCode,
    ).toBe(201);
    holdDeletions();
    const deletion = api.call('DELETE', '/apps/shop/envs/short');
    await deletionStarted('short');
    const extended = await api.call('POST', '/apps/shop/envs/short/extend', { ttlSeconds: 3600 });
    releaseDeletions();
    expect((await deletion).statusCode).toBe(204);
    expect(extended.statusCode, extended.body).toBe(409);
    expect(extended.json()).toMatchObject({
      detail: 'environment "short" of app "shop" is being deleted',
      errors: [{ path: 'path.env', message: expect.stringContaining('pave envs create') }],
    });
  });

  it("a second replica's janitor leaves an expired environment alone while the first one's deletion runs for minutes", async () => {
    expect((await api.call('POST', '/apps/shop/envs', { id: 'old', type: 'development' })).statusCode).toBe(
      201,
    );
    await api.store.db
      .updateTable('environments')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('app_id', '=', 'shop')
      .where('id', '=', 'old')
      .execute();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const teardowns: string[] = [];
    const janitor = (replicaId: string, wait: () => Promise<void>) =>
      new EnvironmentJanitor({
        store: api.store,
        teardown: {
          workloads: async ({ env }) => {
            teardowns.push(`${replicaId}:${env}`);
            await wait();
          },
          resources: async () => undefined,
        },
        logger: pino({ level: 'silent' }),
        replicaId,
      });
    const first = janitor('one', () => held).sweep();
    await expect.poll(() => teardowns).toEqual(['one:old']);

    // Two minutes on: the first replica still tears the environment down (a slow driver, a stopping workload).
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 120_000 });
    try {
      await janitor('two', async () => undefined).sweep();
    } finally {
      vi.useRealTimers();
    }
    release();
    await first;
    expect(teardowns).toEqual(['one:old']);
    expect((await api.call('GET', '/apps/shop/envs/old')).statusCode).toBe(404);
    const audited = await api.store.db
      .selectFrom('audit_entries')
      .select('actor')
      .where('action', '=', 'environment.delete')
      .where('target', '=', 'apps/shop/envs/old')
      .execute();
    expect(audited).toHaveLength(1);
  });
});
