import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { DeploymentDetail, ScoreWorkload } from '@pave/core';
import type { ResourceDiff, ResourceDriver, ResourceInputs, ResourceOutputs } from '@pave/plugin-api';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/** A driver call as the driver received it. */
interface Call {
  action: 'check' | 'create' | 'delete';
  env: string;
  address: string;
  inputs: ResourceInputs;
}

/**
 * A resource driver that records every check, create and delete it is asked for, with a secret output of its
 * own per environment and resource. With `failWith`, creating the `api.session` resource of the environment it
 * names fails quoting the secret outputs it was asked to copy data from, as a copy that could not sign in does.
 */
class RecordingDriver implements ResourceDriver {
  readonly name = 'recording';
  readonly calls: Call[] = [];
  failWith: string | undefined;

  constructor(private readonly unique: string) {}

  secretOf(env: string, address: string): string {
    return `secret-${env}-${address}-${this.unique}`;
  }

  private record(action: Call['action'], inputs: ResourceInputs): void {
    this.calls.push({
      action,
      env: inputs.scope.env,
      address: inputs.scope.address,
      inputs: structuredClone(inputs),
    });
  }

  async check(inputs: ResourceInputs): Promise<[]> {
    this.record('check', inputs);
    return [];
  }
  async diff(): Promise<ResourceDiff> {
    return { changes: false };
  }
  async create(inputs: ResourceInputs): Promise<{ id: string; outputs: ResourceOutputs }> {
    this.record('create', inputs);
    const { env, address } = inputs.scope;
    if (env === this.failWith && address === 'api.session') {
      throw new Error(`cannot copy the data: ${JSON.stringify(inputs.cloneFrom?.secrets)} was refused`);
    }
    return {
      id: `${env}/${address}`,
      outputs: { values: { host: `${address}.test` }, secrets: { password: this.secretOf(env, address) } },
    };
  }
  async update(
    _id: string,
    _olds: ResourceInputs,
    news: ResourceInputs,
  ): Promise<{ outputs: ResourceOutputs }> {
    const { env, address } = news.scope;
    return {
      outputs: { values: { host: `${address}.test` }, secrets: { password: this.secretOf(env, address) } },
    };
  }
  async read(): Promise<null> {
    return null;
  }
  async delete(_id: string, inputs: ResourceInputs): Promise<void> {
    this.record('delete', inputs);
  }
}

/** A workload with a database and a session store whose params use the database's host (so it comes second). */
const workload: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image: 'node:20' } },
  resources: {
    db: { type: 'postgres' },
    session: { type: 'redis', params: { near: '${resources.db.host}' } },
  },
};

/**
 * Every row of every table of the store, as text, and every file of the data dir (the SQLite database and its
 * write-ahead log among them): what Pave persisted.
 */
async function everythingStored(api: DeployingApi): Promise<string> {
  const tables =
    api.store.engine === 'sqlite'
      ? await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(api.store.db)
      : await sql<{
          name: string;
        }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(
          api.store.db,
        );
  const dumps: string[] = [];
  for (const { name } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(api.store.db);
    dumps.push(
      JSON.stringify(rows.rows, (_key, value: unknown) =>
        Buffer.isBuffer(value) || value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value,
      ),
    );
  }
  for (const entry of readdirSync(api.dataDir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) dumps.push(readFileSync(join(entry.parentPath, entry.name), 'latin1'));
  }
  return dumps.join('\n');
}

describe.each(storeEngines)("a clone's data source is given to create only, on %s", (engine) => {
  let api: DeployingApi;
  const driver = new RecordingDriver(Math.random().toString(36).slice(2));

  /** Polls the latest deployment of shop/`env` until it has finished. */
  const finished = async (env: string): Promise<DeploymentDetail> => {
    for (let attempt = 0; attempt < 300; attempt++) {
      const [latest] = (await api.call('GET', `/apps/shop/envs/${env}/deployments`)).json()
        .items as DeploymentDetail[];
      const shown = latest && (await api.call('GET', `/apps/shop/envs/${env}/deployments/${latest.id}`));
      const detail = shown?.json() as DeploymentDetail | undefined;
      if (detail && (detail.status === 'succeeded' || detail.status === 'failed')) return detail;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the deployment of shop/${env} did not finish`);
  };

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, resourceDrivers: [driver], worker: true });
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, response.body).toBe(201);
    }
    const applied = await api.call('POST', '/resource-definitions/apply', {
      definitions: ['postgres', 'redis'].map((type) => ({
        id: `recording-${type}`,
        type,
        driver: 'recording',
        driverInputs: { values: {} },
        criteria: [{ appId: 'shop' }],
      })),
    });
    expect(applied.statusCode, applied.body).toBe(200);
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('never hands the source environment’s outputs to check or delete, nor stores or shows them', async () => {
    const deployed = await api.deploy('shop', 'dev', { workloads: [{ spec: workload, dir: '/srv/app' }] });
    expect(deployed.status, deployed.reason ?? '').toBe('succeeded');
    const sources = ['api.db', 'api.session'].map((address) => driver.secretOf('dev', address));

    // The clone's session store cannot be created: its database, created just before, is deleted again.
    driver.failWith = 'feature';
    const created = await api.call('POST', '/apps/shop/envs', {
      id: 'feature',
      type: 'development',
      from: 'dev',
      withData: true,
    });
    expect(created.statusCode, created.body).toBe(201);
    const clone = await finished('feature');
    expect(clone.status).toBe('failed');
    expect(clone.reason).toContain('cannot copy the data');

    const calls = driver.calls.filter((call) => call.env === 'feature');
    // Create got what to copy from...
    expect(calls.filter((call) => call.action === 'create').map((call) => call.inputs.cloneFrom)).toEqual([
      { values: { host: 'api.db.test' }, secrets: { password: sources[0] } },
      { values: { host: 'api.session.test' }, secrets: { password: sources[1] } },
    ]);
    // ...and nothing else did: the database created before the failure was deleted without it.
    expect(calls.filter((call) => call.action === 'delete').map((call) => call.inputs.scope.address)).toEqual(
      ['api.db'],
    );
    for (const call of calls.filter((each) => each.action !== 'create')) {
      expect(call.inputs, `${call.action} of ${call.address}`).not.toHaveProperty('cloneFrom');
    }

    // What the driver said is masked, and nothing Pave stored or shows holds the source's secrets.
    const shown = [
      JSON.stringify(clone),
      (await api.call('GET', '/events?app=shop')).body,
      (await api.call('GET', '/audit')).body,
      await everythingStored(api),
    ].join('\n');
    expect(shown).toContain('cannot copy the data');
    for (const secret of sources) expect(shown).not.toContain(secret);
  });
});
