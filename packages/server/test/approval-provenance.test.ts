import type { Approval, Deployment } from '@pave/core';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const score = [
  'apiVersion: score.dev/v1b1',
  'metadata:',
  '  name: api',
  'containers:',
  '  main:',
  '    image: .',
  '    command: ["node", "server.js"]',
  '',
].join('\n');

const plain = {
  workloads: [
    {
      spec: {
        apiVersion: 'score.dev/v1b1',
        metadata: { name: 'worker' },
        containers: { main: { image: 'node:20', command: ['node', 'worker.js'] } },
      },
      dir: '/srv/shop',
    },
  ],
};

const COMMIT_TIME = '2026-01-31T12:00:00.000Z';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// A deployment made from another one (a promotion, a rollback, a redeploy, a clone) deploys the same code: it
// carries its source's artifact and commit, so the artifact's pusher stays a requester who may not approve it.
describe.each(storeEngines)('the provenance of deployments made from others, on %s', (engine) => {
  let api: DeployingApi;
  const tokens: Record<string, string> = {};
  let artifactId = '';
  let promotionId = '';

  const accepted = (response: LightMyRequestResponse) => {
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json();
  };
  const settled = (env: string, id: string) => api.finished('shop', env, id);
  /** Checks that bob, who pushed the artifact, may not approve deployment `id`; dave then approves it. */
  const approvedByDaveNotBob = async (env: string, id: string) => {
    const byPusher = await api.callAs(tokens.bob!, 'POST', `/approvals/${id}/approve`, {});
    expect(byPusher.statusCode, byPusher.body).toBe(403);
    expect(byPusher.json().detail).toContain(
      `you pushed the artifact that deployment ${id} deploys (artifact ${artifactId})`,
    );
    accepted(await api.callAs(tokens.dave!, 'POST', `/approvals/${id}/approve`, {}));
    const done = await settled(env, id);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    return done;
  };

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
    for (const user of ['alice', 'bob', 'dave']) tokens[user] = await api.createUser(user);
    for (const [user, role, scope] of [
      ['alice', 'developer', { app: 'shop' }],
      ['alice', 'deployer', { envType: 'production' }],
      // Bob builds and approves, but may not deploy to production himself.
      ['bob', 'developer', { app: 'shop' }],
      ['bob', 'approver', { envType: 'production' }],
      ['dave', 'viewer', { app: 'shop' }],
      ['dave', 'approver', { envType: 'production' }],
    ] as const) {
      const granted = await api.call('POST', '/roles', { role, user, ...scope });
      expect(granted.statusCode, granted.body).toBe(201);
    }
    await sleep(1_100);
    const pushed = accepted(
      await api.callAs(tokens.bob!, 'POST', '/apps/shop/artifacts', {
        commit: 'c0ffee1',
        commitTime: COMMIT_TIME,
        scoreFiles: [{ file: 'api.score.yaml', dir: '/srv/shop', content: score }],
        image: 'reg/api:1',
      }),
    );
    artifactId = pushed.id;
    const staged = accepted(
      await api.callAs(tokens.bob!, 'POST', '/apps/shop/envs/staging/deployments', { artifact: artifactId }),
    );
    expect((await settled('staging', staged.id)).status).toBe('succeeded');
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it("a promotion carries the source deployment's artifact and commit; its pusher may not approve it", async () => {
    const promoted = accepted(
      await api.callAs(tokens.alice!, 'POST', '/apps/shop/envs/prod/deployments', { fromEnv: 'staging' }),
    ) as Deployment;
    promotionId = promoted.id;
    expect(promoted).toMatchObject({
      kind: 'promote',
      status: 'awaiting-approval',
      artifactId,
      commit: 'c0ffee1',
      commitTime: COMMIT_TIME,
    });
    const approval = accepted(await api.callAs(tokens.dave!, 'GET', `/approvals/${promotionId}`)) as Approval;
    expect(approval.requesters).toEqual(['alice', 'bob']);

    const done = await approvedByDaveNotBob('prod', promotionId);
    expect(done).toMatchObject({ artifactId, commit: 'c0ffee1' });
    // Lead time is commit to production: the promotion that brought the commit there has one.
    const facts = await api.store.db
      .selectFrom('deployments')
      .select('lead_seconds')
      .where('id', '=', Number(promotionId))
      .executeTakeFirstOrThrow();
    expect(facts.lead_seconds).not.toBeNull();
  });

  it('a rollback and a redeploy of it carry its artifact and commit too', async () => {
    // Something else runs in prod first, deployed by hand without an artifact.
    const other = accepted(
      await api.callAs(tokens.alice!, 'POST', '/apps/shop/envs/prod/deployments', plain),
    ) as Deployment;
    expect(other.artifactId).toBeNull();
    accepted(await api.callAs(tokens.dave!, 'POST', `/approvals/${other.id}/approve`, {}));
    expect((await settled('prod', other.id)).status).toBe('succeeded');

    const rolledBack = accepted(
      await api.callAs(tokens.alice!, 'POST', '/apps/shop/envs/prod/rollback', { deploymentId: promotionId }),
    ) as Deployment;
    expect(rolledBack).toMatchObject({
      kind: 'rollback',
      status: 'awaiting-approval',
      artifactId,
      commit: 'c0ffee1',
    });
    const listed = accepted(await api.callAs(tokens.dave!, 'GET', '/approvals?app=shop')).items as Approval[];
    expect(listed.find((approval) => approval.id === rolledBack.id)?.requesters).toEqual(['alice', 'bob']);

    const redeploy = accepted(
      await api.callAs(tokens.alice!, 'POST', '/apps/shop/envs/prod/deployments', {
        fromDeployment: promotionId,
      }),
    ) as Deployment;
    expect(redeploy).toMatchObject({ status: 'awaiting-approval', artifactId, commit: 'c0ffee1' });
    const done = await approvedByDaveNotBob('prod', redeploy.id);
    expect(done).toMatchObject({ artifactId, commit: 'c0ffee1' });
  });

  it('refuses a commit named for a deployment made from another, which deploys its own', async () => {
    for (const source of [{ fromEnv: 'staging' }, { fromDeployment: promotionId }]) {
      const refused = await api.callAs(tokens.alice!, 'POST', '/apps/shop/envs/prod/deployments', {
        ...source,
        commit: 'deadbee',
      });
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.json().errors).toMatchObject([{ path: '/commit' }]);
    }
  });

  it("a clone's first deployment carries the artifact of the set it copies", async () => {
    accepted(
      await api.callAs(tokens.alice!, 'POST', '/apps/shop/envs', {
        id: 'prod-copy',
        type: 'production',
        from: 'staging',
      }),
    );
    const listed = accepted(await api.callAs(tokens.dave!, 'GET', '/approvals?app=shop')).items as Approval[];
    const clone = listed.find((approval) => approval.deployment.envId === 'prod-copy');
    expect(clone?.deployment).toMatchObject({ kind: 'clone', artifactId, commit: 'c0ffee1' });
    expect(clone?.requesters).toEqual(['alice', 'bob']);
    await approvedByDaveNotBob('prod-copy', clone!.id);
  });
});
