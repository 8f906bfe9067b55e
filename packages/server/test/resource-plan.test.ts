import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  DriverContext,
  ResourceDiff,
  ResourceDriver,
  ResourceInputs,
  ResourceOutputs,
} from '@pave/plugin-api';
import type { ResourceChange, ScoreWorkload } from '@pave/core';
import type { ExecAction } from '@pave/resource-basic';
import { storeEngines } from '../../../test/support/stores.ts';
import { execLoggingScript, idleRuntime, openDeployingApi } from './support/deploying-api.ts';
import type { DeployingApi, ExecLoggingScript } from './support/deploying-api.ts';

/**
 * A volume driver whose `zone` cannot change in place, as a cloud disk's cannot: its diff answers `replace`
 * when the zone changes. It keeps its volumes in memory and records every call, so a test can remove a
 * volume behind Pave's back and see what Pave asked for.
 */
class ZonedVolumeDriver implements ResourceDriver {
  readonly name = 'zoned-volume';
  /** The volumes that exist, by id: their zone. */
  readonly volumes = new Map<string, string>();
  /** Each call: `<verb> <id or address> [zone]`, and for diff whether it was a dry run. */
  readonly calls: string[] = [];
  private created = 0;

  async check(): Promise<[]> {
    return [];
  }
  async diff(
    _id: string,
    olds: ResourceInputs,
    news: ResourceInputs,
    ctx: DriverContext,
  ): Promise<ResourceDiff> {
    this.calls.push(`diff dryRun=${ctx.dryRun}`);
    const moved = olds.driverInputs.zone !== news.driverInputs.zone;
    return { changes: moved, replace: moved, changedProperties: moved ? ['driverInputs.zone'] : [] };
  }
  async create(inputs: ResourceInputs): Promise<{ id: string; outputs: ResourceOutputs }> {
    const zone = String(inputs.driverInputs.zone);
    const id = `${inputs.scope.env}-${zone}-${++this.created}`;
    this.volumes.set(id, zone);
    this.calls.push(`create ${id} ${zone}`);
    return { id, outputs: outputsOf(id, zone) };
  }
  async update(
    id: string,
    _olds: ResourceInputs,
    news: ResourceInputs,
  ): Promise<{ outputs: ResourceOutputs }> {
    this.calls.push(`update ${id}`);
    return { outputs: outputsOf(id, String(news.driverInputs.zone)) };
  }
  /** When set, read fails with a message that quotes the definition's secret token, as a careless driver might. */
  failReads = false;

  /** When set, read reports this drift (quoting the secret token, which the check must mask). */
  driftReport: string[] | undefined;

  async read(
    id: string,
    inputs: ResourceInputs,
  ): Promise<{ outputs: ResourceOutputs; drift?: string[] } | null> {
    this.calls.push(`read ${id}`);
    if (this.failReads) throw new Error(`zone API refused token ${String(inputs.driverSecrets.token)}`);
    const zone = this.volumes.get(id);
    if (zone === undefined) return null;
    const drift = this.driftReport?.map((line) => `${line} (token ${String(inputs.driverSecrets.token)})`);
    return { outputs: outputsOf(id, zone), ...(drift ? { drift } : {}) };
  }
  async delete(id: string, inputs: ResourceInputs): Promise<void> {
    this.calls.push(`delete ${id} ${String(inputs.driverInputs.zone)}`);
    this.volumes.delete(id);
  }
}

function outputsOf(id: string, zone: string): ResourceOutputs {
  return { values: { source: `/volumes/${zone}/${id}` }, secrets: {} };
}

/** A workload using a `dns` resource (provisioned by exec) and a `volume` (provisioned by zoned-volume). */
const workload: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image: 'node:20', command: ['node', 'server.js'] } },
  resources: { name: { type: 'dns' }, data: { type: 'volume' } },
};

describe.each(storeEngines)(
  'the deployment plan asks resource drivers what a change means on %s',
  (engine) => {
    let api: DeployingApi;
    let exec: ExecLoggingScript;
    const volumes = new ZonedVolumeDriver();
    const zoneToken = `zone-${Math.random().toString(36).slice(2)}`;

    /** Applies the definitions: exec for `dns` with `version`, zoned-volume for `volume` in `zone`. */
    const applyDefinitions = async (version: string, zone: string) => {
      const response = await api.call('POST', '/resource-definitions/apply', {
        definitions: [
          {
            id: 'dns-exec',
            type: 'dns',
            driver: 'exec',
            driverInputs: { values: { command: [exec.script], version } },
            criteria: [{ appId: 'shop' }],
          },
          {
            id: 'zoned-volumes',
            type: 'volume',
            driver: 'zoned-volume',
            driverInputs: { values: { zone }, secrets: { token: zoneToken } },
            criteria: [{ appId: 'shop' }],
          },
        ],
      });
      expect(response.statusCode, response.body).toBe(200);
    };
    const deployBody = (extra: object = {}) => ({
      workloads: [{ spec: workload, dir: '/srv/app' }],
      ...extra,
    });
    /** The plan of deploying the workload to shop/dev with `extra` options. */
    const plan = (extra: object = {}) =>
      api.call('POST', '/apps/shop/envs/dev/deployments', deployBody({ plan: true, ...extra }));
    const planned = async (extra: object = {}): Promise<Record<string, ResourceChange>> => {
      const response = await plan(extra);
      expect(response.statusCode, response.body).toBe(200);
      const changes = response.json().resources as ResourceChange[];
      return Object.fromEntries(changes.map((change) => [change.address, change]));
    };
    /** Deploys the workload to shop/dev; resolves with the finished deployment (status and reason). */
    const deploy = (extra: object = {}) => api.deploy('shop', 'dev', deployBody(extra));
    const lastOf = (action: ExecAction) =>
      exec
        .requests()
        .filter((request) => request.action === action)
        .at(-1);
    const volumeRow = () =>
      api.store.db
        .selectFrom('resources')
        .select(['driver_id', 'output_values'])
        .where('address', '=', 'api.data')
        .executeTakeFirstOrThrow();

    beforeAll(async () => {
      // Nothing runs: these tests are about the resources of a deployment.
      api = await openDeployingApi(engine, {
        runtime: idleRuntime,
        resourceDrivers: [volumes],
        worker: true,
      });
      // The exec command provisions `dns`: it logs the requests it is sent and provides a host.
      exec = execLoggingScript(api.dataDir);
      expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
      expect((await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(
        201,
      );
      await applyDefinitions('v1', 'eu-1');
      expect((await deploy()).status).toBe('succeeded');
    });
    afterAll(async () => {
      await api?.cleanup();
    });

    it('plans an update when a definition’s inputs changed, naming the property; the update gets old and new inputs', async () => {
      expect((await planned())['api.name']).toMatchObject({ action: 'keep' });
      await applyDefinitions('v2', 'eu-1');
      expect((await planned())['api.name']).toMatchObject({
        action: 'update',
        reason: expect.stringContaining('driverInputs.version'),
      });
      expect((await deploy()).status).toBe('succeeded');
      const update = lastOf('update');
      expect(update?.inputs).toEqual({ version: 'v2' });
      expect(update?.previous).toMatchObject({ inputs: { version: 'v1' } });
      expect((await planned())['api.name']).toMatchObject({ action: 'keep' });
    });

    it('refuses to replace a stateful resource without allowDataLoss, naming it, the property and the fix', async () => {
      const before = await volumeRow();
      await applyDefinitions('v2', 'eu-2');
      for (const body of [{ plan: true }, {}]) {
        const refused = await api.call('POST', '/apps/shop/envs/dev/deployments', deployBody(body));
        expect(refused.statusCode, refused.body).toBe(409);
        const problem = refused.json().errors[0] as { path: string; message: string };
        expect(problem.path).toBe('api.data');
        expect(problem.message).toContain('driverInputs.zone');
        expect(problem.message).toContain('--allow-data-loss');
      }
      // The plan asked the driver with a dry run, and nothing was deleted or created.
      expect(volumes.calls).toContain('diff dryRun=true');
      expect(await volumeRow()).toEqual(before);
      expect(volumes.volumes.get(before.driver_id)).toBe('eu-1');
    });

    it('replaces it with allowDataLoss: deleted with its stored inputs, then created anew', async () => {
      const before = await volumeRow();
      expect((await planned({ allowDataLoss: true }))['api.data']).toMatchObject({
        action: 'replace',
        reason: expect.stringContaining('driverInputs.zone'),
      });
      volumes.calls.length = 0;
      expect(await deploy({ allowDataLoss: true })).toMatchObject({ status: 'succeeded' });
      const after = await volumeRow();
      expect(after.driver_id).not.toBe(before.driver_id);
      expect(volumes.calls.filter((c) => /^(create|delete|update)/.test(c))).toEqual([
        `delete ${before.driver_id} eu-1`,
        `create ${after.driver_id} eu-2`,
      ]);
      expect(JSON.parse(after.output_values)).toEqual({ source: `/volumes/eu-2/${after.driver_id}` });
      expect([...volumes.volumes.keys()]).toEqual([after.driver_id]);
    });

    it('finds a resource gone behind Pave’s back: plans it as create, fails without recreateMissing, creates it with it', async () => {
      const before = await volumeRow();
      volumes.volumes.delete(before.driver_id);
      expect((await planned())['api.data']).toMatchObject({
        action: 'create',
        reason: expect.stringContaining('`pave deploy --recreate-missing --app shop --env dev`'),
      });
      const failed = await deploy();
      expect(failed.status).toBe('failed');
      expect(failed.reason).toContain('api.data');
      expect(failed.reason).toContain(
        '`pave deploy --recreate-missing --app shop --env dev` creates it again',
      );
      expect(failed.reason).toContain('repeat the rollback or promote with --recreate-missing');
      expect(await volumeRow()).toEqual(before);

      expect((await deploy({ recreateMissing: true })).status).toBe('succeeded');
      const after = await volumeRow();
      expect(after.driver_id).not.toBe(before.driver_id);
      expect(volumes.volumes.get(after.driver_id)).toBe('eu-2');
      expect((await planned())['api.data']).toMatchObject({ action: 'keep' });
    });

    it('checks every resource with its driver: ok, missing, drifted (naming outputs) and error (secrets masked)', async () => {
      const check = async () => {
        const response = await api.call('GET', '/apps/shop/envs/dev/resources/check');
        expect(response.statusCode, response.body).toBe(200);
        expect(response.body).not.toContain(zoneToken);
        const items = response.json().items as Array<{
          address: string;
          status: string;
          detail: string;
          driftedOutputs: string[];
        }>;
        return Object.fromEntries(items.map((item) => [item.address, item]));
      };
      expect(await check()).toMatchObject({ 'api.name': { status: 'ok' }, 'api.data': { status: 'ok' } });

      const row = await volumeRow();
      await api.store.db
        .updateTable('resources')
        .set({ output_values: JSON.stringify({ source: '/elsewhere' }) })
        .where('address', '=', 'api.data')
        .execute();
      expect((await check())['api.data']).toMatchObject({ status: 'drifted', driftedOutputs: ['source'] });
      await api.store.db
        .updateTable('resources')
        .set({ output_values: row.output_values })
        .where('address', '=', 'api.data')
        .execute();

      volumes.driftReport = ['disk resized outside Pave'];
      const reported = (await check())['api.data']!;
      volumes.driftReport = undefined;
      expect(reported).toMatchObject({ status: 'drifted', driftedOutputs: [] });
      expect(reported.detail).toBe('disk resized outside Pave (token ***)');

      volumes.failReads = true;
      const failed = (await check())['api.data']!;
      volumes.failReads = false;
      expect(failed.status).toBe('error');
      expect(failed.detail).toContain('zone API refused token ***');

      volumes.volumes.delete(row.driver_id);
      expect((await check())['api.data']).toMatchObject({
        status: 'missing',
        detail: expect.stringContaining('--recreate-missing'),
      });
      expect((await check())['api.name']).toMatchObject({ status: 'ok' });
    });
  },
);
