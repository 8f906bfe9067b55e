import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeDriver, WorkloadStatus } from '@pave/plugin-api';
import type { ScoreWorkload } from '@pave/core';
import { bootstrapAdmin, buildApi, type Store } from '../src/index.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import { resourceDriverRegistry } from '../src/resource-drivers.ts';
import { DeploymentWorker } from '../src/domain/deployments/worker.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

/** The JSON request the exec driver wrote to its command's stdin, as the script logged it. */
interface LoggedRequest {
  action: 'create' | 'update' | 'read' | 'delete';
  id: string | null;
  inputs: Record<string, unknown>;
  secrets: Record<string, unknown>;
  previous: { inputs: Record<string, unknown>; secrets: Record<string, unknown> } | null;
}

/**
 * A runtime that runs nothing and answers ready: these tests are about the resources a deployment
 * provisions and an environment deletion deletes, which the real exec driver and a real script do.
 */
const idleRuntime: RuntimeDriver = {
  name: 'idle',
  deploy: async () => undefined,
  waitReady: async () => ({ ready: true }),
  remove: async () => undefined,
  status: async (): Promise<WorkloadStatus[]> => [],
  destroy: async () => undefined,
};

/** A workload using one `dns` resource, which the exec definition under test provisions. */
const workload: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image: 'node:20', command: ['node', 'server.js'] } },
  resources: { name: { type: 'dns' } },
};

describe.each(storeEngines)('a resource keeps the inputs it was provisioned with on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let worker: DeploymentWorker;
  let token: string;
  let script: string;
  let log: string;
  const secret = `token-${Math.random().toString(36).slice(2)}`;

  const call = (method: string, url: string, payload?: object) =>
    app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  /** Applies the exec definition `dns-exec` with `version` among its inputs. */
  const applyDefinition = async (version: string) => {
    const response = await call('POST', '/resource-definitions/apply', {
      definitions: [
        {
          id: 'dns-exec',
          type: 'dns',
          driver: 'exec',
          driverInputs: {
            values: { command: [script], version },
            secrets: { token: `${secret}-${version}` },
          },
          criteria: [{ appId: 'shop' }],
        },
      ],
    });
    expect(response.statusCode, response.body).toBe(200);
  };
  /** Deploys the workload to shop/`env` and resolves once the deployment finished. */
  const deploy = async (env: string) => {
    const queued = await call('POST', `/apps/shop/envs/${env}/deployments`, {
      workloads: [{ spec: workload, dir: '/srv/app' }],
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const id = queued.json().id as string;
    for (let attempt = 0; attempt < 300; attempt++) {
      const shown = (await call('GET', `/apps/shop/envs/${env}/deployments/${id}`)).json();
      if (shown.status === 'succeeded' || shown.status === 'failed') {
        expect(shown.status, shown.reason ?? '').toBe('succeeded');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`deployment ${id} of shop/${env} did not finish in 15 s`);
  };
  /** The requests the script received for shop/`env`, oldest first. */
  const requests = (env: string): LoggedRequest[] =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as LoggedRequest & { scope: { env: string } })
          .filter((request) => request.scope.env === env)
      : [];
  const lastOf = (env: string, action: LoggedRequest['action']) =>
    requests(env)
      .filter((request) => request.action === action)
      .at(-1);

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    const dataDir = opened.location.dataDir;
    // The exec command: appends the request it reads on stdin to a log, one line each, and provides a host.
    log = join(dataDir, 'requests.jsonl');
    script = join(dataDir, 'dns.sh');
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        'request=$(cat)',
        `printf '%s\\n' "$request" >> '${log}'`,
        '[ "$PAVE_ACTION" = delete ] || printf \'{"values":{"host":"%s.example.test"}}\' "$PAVE_ENV"',
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    token = readFileSync((await bootstrapAdmin(store, dataDir))!, 'utf8').trim();
    const keyring = keyringSource(dataDir, {});
    const box = new SecretBox(store.db, keyring);
    await box.init();
    const resourceDrivers = resourceDriverRegistry({
      dataDir,
      pgliteScript: '/nonexistent/pglite-server.js',
    });
    worker = new DeploymentWorker({
      store,
      runtime: idleRuntime,
      box,
      resourceDrivers,
      logger: pino({ level: 'silent' }),
    });
    app = await buildApi({
      store,
      runtime: idleRuntime,
      secrets: { box, keyring },
      resourceDrivers,
      onDeploymentQueued: () => worker.poke(),
    });
    expect((await call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    for (const env of ['dev', 'stage']) {
      expect((await call('POST', '/apps/shop/envs', { id: env, type: 'development' })).statusCode).toBe(201);
    }
  });
  afterAll(async () => {
    await worker?.stop();
    await app?.close();
    await cleanup?.();
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
    const stored = JSON.stringify(await store.db.selectFrom('resources').selectAll().execute());
    expect(stored).not.toContain(secret);

    // Changed again, not deployed: the environment's deletion deletes what v2 provisioned.
    await applyDefinition('v3');
    const deleted = await call('DELETE', '/apps/shop/envs/dev');
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect(lastOf('dev', 'delete')).toMatchObject({
      inputs: { version: 'v2' },
      secrets: { token: `${secret}-v2` },
    });
  });

  it('refuses to delete a definition resources use, naming them, unless forced; they are deleted with their inputs', async () => {
    await deploy('stage');
    expect(lastOf('stage', 'create')).toMatchObject({ inputs: { version: 'v3' } });

    const refused = await call('DELETE', '/resource-definitions/dns-exec');
    expect(refused.statusCode).toBe(409);
    expect(refused.json().errors[0].message).toContain('shop/stage api.name');
    expect(refused.json().errors[0].message).toContain('--force');
    expect((await call('GET', '/resource-definitions/dns-exec')).statusCode).toBe(200);

    const forced = await call('DELETE', '/resource-definitions/dns-exec?force=true');
    expect(forced.statusCode, forced.body).toBe(204);
    expect((await call('GET', '/resource-definitions/dns-exec')).statusCode).toBe(404);

    const deleted = await call('DELETE', '/apps/shop/envs/stage');
    expect(deleted.statusCode, deleted.body).toBe(204);
    const request = lastOf('stage', 'delete');
    expect(request).toMatchObject({ inputs: { version: 'v3' }, secrets: { token: `${secret}-v3` } });
    expect(request?.id).toBeTruthy();
  });

  it('stores the inputs of a resource provisioned before they were stored at its next deployment', async () => {
    await applyDefinition('v4');
    expect((await call('POST', '/apps/shop/envs', { id: 'old', type: 'development' })).statusCode).toBe(201);
    await deploy('old');
    // As a resource provisioned before migration 0011 looks.
    await store.db.updateTable('resources').set({ inputs: null }).where('env_id', '=', 'old').execute();

    const refused = await call('DELETE', '/resource-definitions/dns-exec?force=true');
    expect(refused.statusCode).toBe(409);
    expect(refused.json().errors[0].message).toContain('shop/old api.name');
    expect(refused.json().errors[0].message).toContain('deploy those environments once');

    await deploy('old');
    expect(lastOf('old', 'update')).toBeUndefined();
    const forced = await call('DELETE', '/resource-definitions/dns-exec?force=true');
    expect(forced.statusCode, forced.body).toBe(204);
    expect((await call('DELETE', '/apps/shop/envs/old')).statusCode).toBe(204);
    expect(lastOf('old', 'delete')).toMatchObject({ inputs: { version: 'v4' } });
  });
});
