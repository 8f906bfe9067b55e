import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceDiff, ResourceDriver, ResourceInputs, ResourceOutputs } from '@pave/plugin-api';
import type { ScoreWorkload } from '@pave/core';
import { environmentSecrets } from '../src/domain/logs.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/**
 * An account at an external service as a driver of a type of the platform team's own (`partner-account`):
 * its `size` cannot change in place (replace), a new `rotation` updates it in place with a new password, and
 * every create and update makes a password of its own.
 */
class RotatingDatabaseDriver implements ResourceDriver {
  readonly name = 'rotating-account';
  private passwords = 0;
  /** The accounts that exist, by id: their outputs. */
  private readonly accounts = new Map<string, ResourceOutputs>();

  async check(): Promise<[]> {
    return [];
  }
  async diff(_id: string, olds: ResourceInputs, news: ResourceInputs): Promise<ResourceDiff> {
    const replace = olds.params.size !== news.params.size;
    const changes =
      replace || olds.params.rotation !== news.params.rotation || olds.params.label !== news.params.label;
    return { changes, replace, changedProperties: replace ? ['params.size'] : [] };
  }
  async create(): Promise<{ id: string; outputs: ResourceOutputs }> {
    const id = `account-${this.passwords + 1}`;
    const outputs = this.outputs();
    this.accounts.set(id, outputs);
    return { id, outputs };
  }
  async update(
    id: string,
    olds: ResourceInputs,
    news: ResourceInputs,
  ): Promise<{ outputs: ResourceOutputs }> {
    // Only a new rotation makes a new password; a new label keeps it.
    const kept = this.accounts.get(id);
    const outputs = kept && olds.params.rotation === news.params.rotation ? kept : this.outputs();
    this.accounts.set(id, outputs);
    return { outputs };
  }
  async read(id: string): Promise<{ outputs: ResourceOutputs } | null> {
    const outputs = this.accounts.get(id);
    return outputs ? { outputs } : null;
  }
  async delete(id: string): Promise<void> {
    this.accounts.delete(id);
  }

  private outputs(): ResourceOutputs {
    return { values: { host: 'partner.internal' }, secrets: { password: `password-${++this.passwords}-x9` } };
  }
}

/** A workload that uses a `partner-account` with `params`, or none. */
const workload = (params?: { size: string; rotation: number; label?: string }): ScoreWorkload => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image: 'node:20' } },
  ...(params ? { resources: { partner: { type: 'partner-account', params } } } : {}),
});

describe.each(storeEngines)('the secrets of a replaced, updated or deleted resource, on %s', (engine) => {
  let api: DeployingApi;
  const target = { app: 'shop', env: 'dev' };

  const deploy = async (spec: ScoreWorkload, options: { prune?: boolean } = {}) => {
    const done = await api.deploy('shop', 'dev', { workloads: [{ spec, dir: '/srv/app' }], ...options });
    expect(done.status, done.reason ?? '').toBe('succeeded');
  };
  const secrets = async () => (await environmentSecrets(api.box, api.store.db, target)).sort();

  beforeAll(async () => {
    api = await openDeployingApi(engine, {
      runtime: idleRuntime,
      resourceDrivers: [new RotatingDatabaseDriver()],
      worker: true,
    });
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    const created = await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' });
    expect(created.statusCode, created.body).toBe(201);
    const applied = await api.call('POST', '/resource-definitions/apply', {
      definitions: [
        {
          id: 'rotating',
          type: 'partner-account',
          driver: 'rotating-account',
          driverInputs: { values: {} },
          criteria: [{ appId: 'shop' }],
        },
      ],
    });
    expect(applied.statusCode, applied.body).toBe(200);
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('masks the logs with every password the account had, not only its current one', async () => {
    await deploy(workload({ size: 'small', rotation: 1 }));
    expect(await secrets()).toEqual(['password-1-x9']);

    // Replaced (its size cannot change in place): a line the workload printed before still has the old one.
    await deploy(workload({ size: 'large', rotation: 1 }));
    expect(await secrets()).toEqual(['password-1-x9', 'password-2-x9']);

    // Updated in place with a new password.
    await deploy(workload({ size: 'large', rotation: 2 }));
    expect(await secrets()).toEqual(['password-1-x9', 'password-2-x9', 'password-3-x9']);

    // Updated in place, the password kept: nothing more is retired.
    const retiredRows = () =>
      api.store.db
        .selectFrom('retired_resource_secrets')
        .select('address')
        .where('app_id', '=', 'shop')
        .execute();
    const before = (await retiredRows()).length;
    await deploy(workload({ size: 'large', rotation: 2, label: 'renamed' }));
    expect((await retiredRows()).length).toBe(before);
    expect(await secrets()).toEqual(['password-1-x9', 'password-2-x9', 'password-3-x9']);

    // Deleted: the workload no longer uses it.
    await deploy(workload(), { prune: true });
    const retired = await api.store.db
      .selectFrom('resources')
      .select('address')
      .where('app_id', '=', 'shop')
      .execute();
    expect(retired).toEqual([]);
    expect(await secrets()).toEqual(['password-1-x9', 'password-2-x9', 'password-3-x9']);
  });

  it('keeps nothing of them once the environment is deleted', async () => {
    const left = () =>
      api.store.db
        .selectFrom('retired_resource_secrets')
        .select('address')
        .where('app_id', '=', 'shop')
        .where('env_id', '=', 'dev')
        .execute();
    expect((await left()).length).toBeGreaterThan(0);
    const deleted = await api.call('DELETE', '/apps/shop/envs/dev');
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect(await left()).toEqual([]);
  });
});
