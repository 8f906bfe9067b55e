import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentDetail, ScoreWorkload } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/**
 * Writes an exec command (a node script) that answers with `secrets` as its secret outputs and, for the
 * actions listed in its `FAIL_ON` environment variable, fails printing everything secret it knows to stderr:
 * its params, its driver secrets and (but on create) its own secret outputs.
 */
function echoingScript(dir: string, name: string, secrets: Record<string, string>): string[] {
  const script = join(dir, `${name}.mjs`);
  writeFileSync(
    script,
    [
      'const chunks = [];',
      'for await (const chunk of process.stdin) chunks.push(chunk);',
      'const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));',
      `const secrets = ${JSON.stringify(secrets)};`,
      'if ((process.env.FAIL_ON ?? "").split(",").includes(request.action)) {',
      '  console.error(`cannot reach ${JSON.stringify(request.params)}`);',
      '  console.error(`tried token ${JSON.stringify(request.secrets)}`);',
      // Outputs it made before: nothing knows them on create.
      '  if (request.action !== "create") console.error(`made ${JSON.stringify(secrets)}`);',
      '  process.exit(1);',
      '}',
      'if (request.action !== "delete") console.log(JSON.stringify({ values: { host: "h.test" }, secrets }));',
      '',
    ].join('\n'),
  );
  chmodSync(script, 0o644);
  return [process.execPath, script];
}

/** A workload whose `cache` resource's params are built from its `db` resource's secret password. */
const workload = (withCache: boolean): { spec: ScoreWorkload; dir: string } => ({
  spec: {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'api' },
    containers: { main: { image: 'node:20', command: ['node', 'server.js'] } },
    resources: {
      db: { type: 'postgres' },
      ...(withCache
        ? { cache: { type: 'dns', params: { url: 'postgres://app:${resources.db.password}@db.test/app' } } }
        : {}),
    },
  },
  dir: '/srv/app',
});

describe.each(storeEngines)('driver failures keep the resource secrets masked on %s', (engine) => {
  let api: DeployingApi;
  const logged: string[] = [];
  const unique = Math.random().toString(36).slice(2);
  const dbPassword = `db-password-${unique}`;
  const cacheToken = `cache-token-${unique}`;
  const cacheKey = `cache-key-${unique}`;
  const secrets = [dbPassword, cacheToken, cacheKey];
  let dbCommand: string[];
  let cacheCommand: string[];

  /** Applies the definitions, the cache's command failing on `failOn` (comma-separated actions). */
  const applyDefinitions = async (failOn: string) => {
    const response = await api.call('POST', '/resource-definitions/apply', {
      definitions: [
        {
          id: 'db-exec',
          type: 'postgres',
          driver: 'exec',
          driverInputs: { values: { command: dbCommand }, secrets: {} },
          criteria: [{ appId: 'shop' }],
        },
        {
          id: 'cache-exec',
          type: 'dns',
          driver: 'exec',
          driverInputs: {
            values: { command: cacheCommand, env: { FAIL_ON: failOn } },
            secrets: { token: cacheToken },
          },
          criteria: [{ appId: 'shop' }],
        },
      ],
    });
    expect(response.statusCode, response.body).toBe(200);
  };
  /** Everything a user or an operator can read about `deployment`: its record, the events and Pave's log. */
  const visible = async (deployment: DeploymentDetail) =>
    [
      JSON.stringify(deployment),
      (await api.call('GET', `/apps/shop/envs/dev/deployments/${deployment.id}`)).body,
      (await api.call('GET', '/events?app=shop')).body,
      logged.join(''),
    ].join('\n');
  const expectMasked = (text: string) => {
    for (const secret of secrets) expect(text).not.toContain(secret);
  };

  beforeAll(async () => {
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          logged.push(chunk.toString('utf8'));
          done();
        },
      }),
    );
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true, logger });
    dbCommand = echoingScript(api.dataDir, 'db', { password: dbPassword });
    cacheCommand = echoingScript(api.dataDir, 'cache', { key: cacheKey });
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, response.body).toBe(201);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('masks the secret outputs its params are built from when a driver cannot create a resource', async () => {
    await applyDefinitions('create');
    const failed = await api.deploy('shop', 'dev', { workloads: [workload(true)] });
    expect(failed.status).toBe('failed');
    // The failure still says what happened, with the secrets masked.
    expect(failed.reason).toContain('could not create it');
    expect(failed.reason).toContain('postgres://app:***@db.test/app');
    const text = await visible(failed);
    expect(text).toContain('resource.failed');
    expectMasked(text);
  });

  it('masks the resource secrets when a driver cannot update or delete it', async () => {
    await applyDefinitions('');
    const deployed = await api.deploy('shop', 'dev', { workloads: [workload(true)] });
    expect(deployed.status, deployed.reason ?? '').toBe('succeeded');

    await applyDefinitions('update');
    const notUpdated = await api.deploy('shop', 'dev', { workloads: [workload(true)] });
    expect(notUpdated.status).toBe('failed');
    expect(notUpdated.reason).toContain('could not update it');
    expectMasked(await visible(notUpdated));

    // Deleted (and read) with the inputs it was last provisioned with: these.
    await applyDefinitions('delete,read');
    const updated = await api.deploy('shop', 'dev', { workloads: [workload(true)] });
    expect(updated.status, updated.reason ?? '').toBe('succeeded');

    const notDeleted = await api.deploy('shop', 'dev', {
      workloads: [workload(false)],
      prune: true,
      allowDataLoss: true,
    });
    // The workloads run: a resource that could not be pruned is journaled and kept, and fails nothing.
    expect(notDeleted.status, notDeleted.reason ?? '').toBe('succeeded');
    expect(JSON.stringify(notDeleted.journal)).toContain('could not delete it');
    expectMasked(await visible(notDeleted));
  });

  it('masks the secret outputs its params are built from in `pave resources check`', async () => {
    const response = await api.call('GET', '/apps/shop/envs/dev/resources/check');
    expect(response.statusCode, response.body).toBe(200);
    const cache = (response.json().items as Array<{ address: string; status: string; detail: string }>).find(
      (item) => item.address === 'api.cache',
    );
    expect(cache).toMatchObject({ status: 'error' });
    expect(cache!.detail).toContain('postgres://app:***@db.test/app');
    expectMasked(response.body);
  });
});
