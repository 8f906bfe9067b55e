import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreWorkload } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/*
 * Found by a review of secrets: a driver's plain outputs were stored and shown as they came. An exec or
 * Terraform driver that returned a postgres `password` among its plain values, or a plain output built from
 * another resource's secret (`label: lbl-${resources.db.password}`), put the secret in plain text in the
 * store and in every app member's `GET …/resources`; so did a route whose path held one, in the routes and
 * the status too.
 */

/** An exec command (a node script) that prints `values(request)` as its plain outputs and no secrets. */
function plainScript(dir: string, name: string, values: string): string[] {
  const script = join(dir, `${name}.mjs`);
  writeFileSync(
    script,
    [
      'const chunks = [];',
      'for await (const chunk of process.stdin) chunks.push(chunk);',
      'const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));',
      `if (request.action !== "delete") console.log(JSON.stringify({ values: ${values}, secrets: {} }));`,
      '',
    ].join('\n'),
  );
  chmodSync(script, 0o644);
  return [process.execPath, script];
}

const workload = (resources: ScoreWorkload['resources']): { spec: ScoreWorkload; dir: string } => ({
  spec: {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'api' },
    containers: { main: { image: 'node:20', command: ['node', 'server.js'] } },
    resources,
  },
  dir: '/srv/app',
});

describe.each(storeEngines)("a driver's plain outputs that hold a secret, on %s", (engine) => {
  let api: DeployingApi;
  let viewer: string;
  const password = `pw-${Math.random().toString(36).slice(2)}-secret`;

  /** Everything an app member reads about the environment's resources, and what the store holds of them. */
  const shown = async () =>
    [
      (await api.callAs(viewer, 'GET', '/apps/shop/envs/dev/resources')).body,
      (await api.callAs(viewer, 'GET', '/apps/shop/envs/dev/status')).body,
      JSON.stringify(await api.store.db.selectFrom('resources').selectAll().execute()),
      JSON.stringify(await api.store.db.selectFrom('routes').selectAll().execute()),
    ].join('\n');

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
    const db = plainScript(
      api.dataDir,
      'db',
      `{ host: "db.test", port: "5432", name: "shop", database: "shop", username: "shop", ` +
        `password: ${JSON.stringify(password)}, url: ${JSON.stringify(`postgres://shop:${password}@db.test/shop`)} }`,
    );
    const thing = plainScript(api.dataDir, 'thing', '{ host: "thing.test", label: request.params.label }');
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
      [
        '/resource-definitions/apply',
        {
          definitions: [
            { id: 'db-exec', type: 'postgres', driver: 'exec', driverInputs: { values: { command: db } } },
            { id: 'thing-exec', type: 'thing', driver: 'exec', driverInputs: { values: { command: thing } } },
          ],
        },
      ],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, `${url}: ${response.body}`).toBeLessThan(300);
    }
    viewer = await api.createUser('vic');
    const role = await api.call('POST', '/roles', { role: 'viewer', user: 'vic', app: 'shop' });
    expect(role.statusCode, role.body).toBe(201);
    for (let tries = 0; (await api.callAs(viewer, 'GET', '/apps/shop')).statusCode !== 200; tries++) {
      if (tries > 40) throw new Error('the viewer role did not reach the token');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it("keeps the type's secret outputs, and plain outputs built from a secret, among the secrets", async () => {
    const deployed = await api.deploy('shop', 'dev', {
      workloads: [
        workload({
          db: { type: 'postgres' },
          thing: { type: 'thing', params: { label: 'lbl-${resources.db.password}' } },
        }),
      ],
    });
    expect(deployed.status, deployed.reason ?? '').toBe('succeeded');
    const listed = await api.callAs(viewer, 'GET', '/apps/shop/envs/dev/resources');
    const items = listed.json().items as Array<{
      address: string;
      values: Record<string, string>;
      secrets: string[];
    }>;
    const byAddress = Object.fromEntries(items.map((item) => [item.address, item]));
    expect(byAddress['api.db']).toMatchObject({
      values: { host: 'db.test', port: '5432', username: 'shop' },
      secrets: ['password', 'url'],
    });
    expect(byAddress['api.thing']).toMatchObject({ values: { host: 'thing.test' }, secrets: ['label'] });
    expect(await shown()).not.toContain(password);
  });

  it('refuses a route whose path holds a secret, recording nothing of it', async () => {
    const failed = await api.deploy('shop', 'dev', {
      workloads: [
        workload({
          db: { type: 'postgres' },
          web: {
            type: 'route',
            params: { host: 'api.dev.shop.localhost', path: '/${resources.db.password}', port: 8080 },
          },
        }),
      ],
    });
    expect(failed.status).toBe('failed');
    expect(failed.reason).toContain('api.web: its output "path" holds a secret');
    expect(failed.reason).toContain('keep secrets out of its params');
    expect(JSON.stringify(failed.journal)).toContain('api.web: deleted again (this deployment created it)');
    expect(JSON.stringify(failed)).not.toContain(password);
    expect(await shown()).not.toContain(password);
    const routes = await api.store.db.selectFrom('routes').selectAll().execute();
    expect(routes).toEqual([]);
  });
});
