import type { Approval, Deployment } from '@pave/core';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/** A Score file of workload `name` built from the artifact's directory. */
const score = (name: string) =>
  [
    'apiVersion: score.dev/v1b1',
    'metadata:',
    `  name: ${name}`,
    'containers:',
    '  main:',
    '    image: .',
    '    command: ["node", "server.js"]',
    '',
  ].join('\n');

/** A workload deployed by hand (no artifact), whose command says its version. */
const byHand = (version: number) => ({
  workloads: [
    {
      spec: {
        apiVersion: 'score.dev/v1b1',
        metadata: { name: 'worker' },
        containers: { main: { image: 'node:20', command: ['node', 'worker.js', `--v${version}`] } },
      },
      dir: '/srv/shop',
    },
  ],
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The code of a set comes from several deployments: each workload from the artifact (or the hand) that last
// deployed it. A promotion of a set whose newest deployment was by hand still deploys, into production, code an
// artifact's pusher wrote: that pusher is one of its requesters, for the workloads whose code the promotion
// changes there.
describe.each(storeEngines)('the requesters of a set deployed partly from an artifact, on %s', (engine) => {
  let api: DeployingApi;
  const tokens: Record<string, string> = {};
  let artifactId = '';
  /** Carol's deployment of worker by hand, the newest in staging after bob's artifact deployed api. */
  let byHandId = '';

  const accepted = (response: LightMyRequestResponse) => {
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json();
  };
  const settled = (env: string, id: string) => api.finished('shop', env, id);
  const succeeded = async (env: string, id: string) => {
    const done = await settled(env, id);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    return done;
  };
  const promote = async (): Promise<Deployment> => {
    const promoted = accepted(
      await api.callAs(tokens.alice!, 'POST', '/apps/shop/envs/prod/deployments', { fromEnv: 'staging' }),
    ) as Deployment;
    expect(promoted.status).toBe('awaiting-approval');
    return promoted;
  };
  const requesters = async (id: string) =>
    (accepted(await api.callAs(tokens.dave!, 'GET', `/approvals/${id}`)) as Approval).requesters;

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
    for (const [method, url, payload] of [
      ['PATCH', '/env-types/production', { requiresApproval: true }],
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps/shop/envs', { id: 'staging', type: 'staging' }],
      ['POST', '/apps/shop/envs', { id: 'prod', type: 'production' }],
    ] as const) {
      const response = await api.call(method, url, payload);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    for (const user of ['alice', 'bob', 'carol', 'dave']) tokens[user] = await api.createUser(user);
    for (const [user, role, scope] of [
      ['alice', 'developer', { app: 'shop' }],
      ['alice', 'deployer', { envType: 'production' }],
      // Bob builds and approves, but may not deploy to production himself.
      ['bob', 'developer', { app: 'shop' }],
      ['bob', 'approver', { envType: 'production' }],
      ['carol', 'developer', { app: 'shop' }],
      ['dave', 'viewer', { app: 'shop' }],
      ['dave', 'approver', { envType: 'production' }],
    ] as const) {
      const granted = await api.call('POST', '/roles', { role, user, ...scope });
      expect(granted.statusCode, granted.body).toBe(201);
    }
    await sleep(1_100);
    // Staging: bob's artifact deploys api; then carol deploys worker by hand, the newest deployment there.
    artifactId = accepted(
      await api.callAs(tokens.bob!, 'POST', '/apps/shop/artifacts', {
        commit: 'c0ffee1',
        scoreFiles: [{ file: 'api.score.yaml', dir: '/srv/shop', content: score('api') }],
        image: 'reg/api:1',
      }),
    ).id;
    const staged = accepted(
      await api.callAs(tokens.bob!, 'POST', '/apps/shop/envs/staging/deployments', { artifact: artifactId }),
    );
    await succeeded('staging', staged.id);
    const worker = accepted(
      await api.callAs(tokens.carol!, 'POST', '/apps/shop/envs/staging/deployments', byHand(1)),
    ) as Deployment;
    expect(worker.artifactId).toBeNull();
    await succeeded('staging', worker.id);
    byHandId = worker.id;
  });

  it('shows which artifact each workload of a deployment came from', async () => {
    const shown = await settled('staging', byHandId);
    expect(shown.artifactId).toBeNull();
    expect(shown.workloadArtifacts).toEqual({ api: artifactId, worker: null });
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it("makes the pusher of the artifact a workload comes from a requester, though the set's newest deployment was by hand", async () => {
    const promotion = await promote();
    expect(promotion.artifactId).toBeNull();
    expect(await requesters(promotion.id)).toEqual(['alice', 'bob']);
    const byPusher = await api.callAs(tokens.bob!, 'POST', `/approvals/${promotion.id}/approve`, {});
    expect(byPusher.statusCode, byPusher.body).toBe(403);
    expect(byPusher.json().detail).toBe(
      `you pushed artifact ${artifactId}, which workload api of deployment ${promotion.id} comes from: ` +
        'someone else must approve or reject it (four eyes)',
    );
    accepted(await api.callAs(tokens.dave!, 'POST', `/approvals/${promotion.id}/approve`, {}));
    const promoted = await succeeded('prod', promotion.id);
    expect(promoted.workloadArtifacts).toEqual({ api: artifactId, worker: null });
  });

  it('leaves out the pusher of a workload the promotion does not change', async () => {
    // Production runs bob's api already; the next promotion changes only carol's worker.
    const worker = accepted(
      await api.callAs(tokens.carol!, 'POST', '/apps/shop/envs/staging/deployments', byHand(2)),
    ) as Deployment;
    await succeeded('staging', worker.id);
    const promotion = await promote();
    expect(await requesters(promotion.id)).toEqual(['alice']);
    accepted(await api.callAs(tokens.bob!, 'POST', `/approvals/${promotion.id}/approve`, {}));
    await succeeded('prod', promotion.id);
  });

  it('keeps the provenance across a rollback: rolling back to a set whose api was not running counts its pusher', async () => {
    // Production runs api from bob's artifact; a by-hand api replaces it there, then a rollback restores bob's.
    const first = accepted(
      await api.callAs(tokens.alice!, 'GET', '/apps/shop/envs/prod/deployments'),
    ).items.at(-1) as Deployment;
    const handApi = {
      workloads: [
        {
          spec: {
            apiVersion: 'score.dev/v1b1',
            metadata: { name: 'api' },
            containers: { main: { image: 'node:20', command: ['node', 'api.js'] } },
          },
          dir: '/srv/shop',
        },
      ],
    };
    const replaced = accepted(
      await api.callAs(tokens.alice!, 'POST', '/apps/shop/envs/prod/deployments', handApi),
    ) as Deployment;
    expect(await requesters(replaced.id)).toEqual(['alice']);
    accepted(await api.callAs(tokens.dave!, 'POST', `/approvals/${replaced.id}/approve`, {}));
    await succeeded('prod', replaced.id);

    const rollback = accepted(
      await api.callAs(tokens.alice!, 'POST', '/apps/shop/envs/prod/rollback', { deploymentId: first.id }),
    ) as Deployment;
    expect(rollback.artifactId).toBeNull();
    expect(await requesters(rollback.id)).toEqual(['alice', 'bob']);
  });
});
