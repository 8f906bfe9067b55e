import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceDiff, ResourceDriver, ResourceInputs, ResourceOutputs } from '@pave/plugin-api';
import type { ScoreWorkload } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/**
 * A cloud load balancer's listeners, as a `route` driver: a listener's host cannot change in place (its diff
 * answers `replace`), and every create makes a new listener with an id of its own. It keeps its listeners in
 * memory, so a test sees every one that exists, whether Pave recorded it or not.
 */
class ListenerDriver implements ResourceDriver {
  readonly name = 'lb-listener';
  /** The listeners that exist, by id: their host. */
  readonly listeners = new Map<string, string>();
  private made = 0;

  async check(): Promise<[]> {
    return [];
  }
  async diff(_id: string, olds: ResourceInputs, news: ResourceInputs): Promise<ResourceDiff> {
    const moved = olds.params.host !== news.params.host;
    return { changes: moved, replace: moved, changedProperties: moved ? ['params.host'] : [] };
  }
  async create(inputs: ResourceInputs): Promise<{ id: string; outputs: ResourceOutputs }> {
    const id = `listener-${++this.made}`;
    this.listeners.set(id, String(inputs.params.host));
    return { id, outputs: outputsOf(inputs) };
  }
  async update(
    _id: string,
    _olds: ResourceInputs,
    news: ResourceInputs,
  ): Promise<{ outputs: ResourceOutputs }> {
    return { outputs: outputsOf(news) };
  }
  async read(id: string, inputs: ResourceInputs): Promise<{ outputs: ResourceOutputs } | null> {
    return this.listeners.has(id) ? { outputs: outputsOf(inputs) } : null;
  }
  async delete(id: string): Promise<void> {
    this.listeners.delete(id);
  }
}

function outputsOf(inputs: ResourceInputs): ResourceOutputs {
  const { host, path, port } = inputs.params;
  return { values: { host: String(host), path: String(path), port: String(port) }, secrets: {} };
}

/** A workload serving port 8080 behind a `route` on `host`. */
const routed = (host: string): ScoreWorkload => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'web' },
  containers: { main: { image: 'node:20' } },
  service: { ports: { web: { port: 8080 } } },
  resources: { route: { type: 'route', params: { host, path: '/', port: 8080 } } },
});

describe.each(storeEngines)('replacing a resource on %s', (engine) => {
  let api: DeployingApi;
  const driver = new ListenerDriver();

  const deploy = (env: string, host: string) =>
    api.deploy('shop', env, { workloads: [{ spec: routed(host), dir: '/srv/app' }] });
  /** The listener ids Pave records for shop/`env`. */
  const recorded = async (env: string) =>
    (
      await api.store.db
        .selectFrom('resources')
        .select('driver_id')
        .where('app_id', '=', 'shop')
        .where('env_id', '=', env)
        .execute()
    ).map((row) => row.driver_id);

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, resourceDrivers: [driver], worker: true });
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    for (const env of ['dev', 'prod']) {
      const created = await api.call('POST', '/apps/shop/envs', { id: env, type: 'development' });
      expect(created.statusCode, created.body).toBe(201);
    }
    const applied = await api.call('POST', '/resource-definitions/apply', {
      definitions: [
        {
          id: 'listeners',
          type: 'route',
          driver: 'lb-listener',
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

  it('deletes the new resource again when its record cannot be stored, so none is left that Pave does not know', async () => {
    expect((await deploy('prod', 'www.shop.test')).status).toBe('succeeded');
    expect((await deploy('dev', 'dev.shop.test')).status).toBe('succeeded');
    const [prod] = await recorded('prod');

    // dev's listener is replaced to serve www.shop.test, a host prod routes: the new one cannot be recorded.
    const taken = await deploy('dev', 'www.shop.test');
    expect(taken.status).toBe('failed');
    expect(taken.reason).toContain('host www.shop.test belongs to app "shop", environment "prod"');
    expect([...driver.listeners.keys()]).toEqual([prod]);
    expect(await recorded('dev')).toEqual([]);

    // Nothing is left half-recorded either: the next deployment creates dev's listener anew.
    expect((await deploy('dev', 'dev.shop.test')).status).toBe('succeeded');
    const [dev] = await recorded('dev');
    expect(Object.fromEntries(driver.listeners)).toEqual({
      [prod!]: 'www.shop.test',
      [dev!]: 'dev.shop.test',
    });
  });
});
