import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreWorkload } from '@pave/core';
import type { ExecAction } from '@pave/resource-basic';
import { storeEngines } from '../../../test/support/stores.ts';
import { execLoggingScript, idleRuntime, openDeployingApi } from './support/deploying-api.ts';
import type { DeployingApi, ExecLoggingScript } from './support/deploying-api.ts';

/** A workload using one `dns` resource, which the exec definition under test provisions. */
const workload: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image: 'node:20', command: ['node', 'server.js'] } },
  resources: { name: { type: 'dns' } },
};

describe.each(storeEngines)('a resource keeps the inputs it was provisioned with on %s', (engine) => {
  let api: DeployingApi;
  let exec: ExecLoggingScript;
  const secret = `token-${Math.random().toString(36).slice(2)}`;

  /** Applies the exec definition `dns-exec` with `version` among its inputs. */
  const applyDefinition = async (version: string) => {
    const response = await api.call('POST', '/resource-definitions/apply', {
      definitions: [
        {
          id: 'dns-exec',
          type: 'dns',
          driver: 'exec',
          driverInputs: {
            values: { command: [exec.script], version },
            secrets: { token: `${secret}-${version}` },
          },
          criteria: [{ appId: 'shop' }],
        },
      ],
    });
    expect(response.statusCode, response.body).toBe(200);
  };
  /** Deploys the workload to shop/`env` and expects the deployment to succeed. */
  const deploy = async (env: string) => {
    const finished = await api.deploy('shop', env, { workloads: [{ spec: workload, dir: '/srv/app' }] });
    expect(finished.status, finished.reason ?? '').toBe('succeeded');
  };
  const lastOf = (env: string, action: ExecAction) =>
    exec
      .requests(env)
      .filter((request) => request.action === action)
      .at(-1);

  beforeAll(async () => {
    // Nothing runs: these tests are about the resources a deployment provisions and an environment deletion
    // deletes, which the real exec driver and a real script do.
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
    // The exec command provisions `dns`: it logs the requests it is sent and provides a host.
    exec = execLoggingScript(api.dataDir);
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    for (const env of ['dev', 'stage']) {
      expect((await api.call('POST', '/apps/shop/envs', { id: env, type: 'development' })).statusCode).toBe(
        201,
      );
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('updates with the stored inputs as previous, and deletes with them after the definition changed', async () => {
    await applyDefinition('v1');
    await deploy('dev');
    expect(lastOf('dev', 'create')).toMatchObject({ inputs: { version: 'v1' } });

    await applyDefinition('v2');
    await deploy('dev');
    const update = lastOf('dev', 'update');
    expect(update?.inputs).toEqual({ version: 'v2' });
    expect(update?.secrets).toEqual({ token: `${secret}-v2` });
    expect(update?.previous).toMatchObject({ inputs: { version: 'v1' }, secrets: { token: `${secret}-v1` } });

    // The secret inputs are stored with the resource, sealed like its outputs.
    const stored = JSON.stringify(await api.store.db.selectFrom('resources').selectAll().execute());
    expect(stored).not.toContain(secret);

    // Changed again, not deployed: the environment's deletion deletes what v2 provisioned.
    await applyDefinition('v3');
    const deleted = await api.call('DELETE', '/apps/shop/envs/dev');
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect(lastOf('dev', 'delete')).toMatchObject({
      inputs: { version: 'v2' },
      secrets: { token: `${secret}-v2` },
    });
  });

  it('refuses to delete a definition resources use, naming them, unless forced; they are deleted with their inputs', async () => {
    await deploy('stage');
    expect(lastOf('stage', 'create')).toMatchObject({ inputs: { version: 'v3' } });

    const refused = await api.call('DELETE', '/resource-definitions/dns-exec');
    expect(refused.statusCode).toBe(409);
    expect(refused.json().errors[0].message).toContain('shop/stage api.name');
    expect(refused.json().errors[0].message).toContain('--force');
    expect((await api.call('GET', '/resource-definitions/dns-exec')).statusCode).toBe(200);

    const forced = await api.call('DELETE', '/resource-definitions/dns-exec?force=true');
    expect(forced.statusCode, forced.body).toBe(204);
    expect((await api.call('GET', '/resource-definitions/dns-exec')).statusCode).toBe(404);

    const deleted = await api.call('DELETE', '/apps/shop/envs/stage');
    expect(deleted.statusCode, deleted.body).toBe(204);
    const request = lastOf('stage', 'delete');
    expect(request).toMatchObject({ inputs: { version: 'v3' }, secrets: { token: `${secret}-v3` } });
    expect(request?.id).toBeTruthy();
  });

  it('stores the inputs of a resource provisioned before they were stored at its next deployment', async () => {
    await applyDefinition('v4');
    expect((await api.call('POST', '/apps/shop/envs', { id: 'old', type: 'development' })).statusCode).toBe(
      201,
    );
    await deploy('old');
    // As a resource provisioned before migration 0011 looks.
    await api.store.db.updateTable('resources').set({ inputs: null }).where('env_id', '=', 'old').execute();

    const refused = await api.call('DELETE', '/resource-definitions/dns-exec?force=true');
    expect(refused.statusCode).toBe(409);
    expect(refused.json().errors[0].message).toContain('shop/old api.name');
    expect(refused.json().errors[0].message).toContain('deploy those environments once');

    await deploy('old');
    expect(lastOf('old', 'update')).toBeUndefined();
    const forced = await api.call('DELETE', '/resource-definitions/dns-exec?force=true');
    expect(forced.statusCode, forced.body).toBe(204);
    expect((await api.call('DELETE', '/apps/shop/envs/old')).statusCode).toBe(204);
    expect(lastOf('old', 'delete')).toMatchObject({ inputs: { version: 'v4' } });
  });
});
