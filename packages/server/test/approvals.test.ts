import type { Approval, DeploymentDetail, PaveEvent } from '@pave/core';
import type { LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentJanitor } from '../src/domain/janitor.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const PASSWORD = 'a long enough password';

const body = (name: string, image = 'node:20') => ({
  workloads: [
    {
      spec: {
        apiVersion: 'score.dev/v1b1',
        metadata: { name },
        containers: { main: { image, command: ['node', 'server.js'] } },
      },
      dir: '/srv/app',
    },
  ],
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(storeEngines)('four-eyes approvals on %s', (engine) => {
  let api: DeployingApi;
  const tokens: Record<string, string> = {};

  /** Calls `/api/v1<url>` as `user` (`admin`: the bootstrapped admin). */
  const as = (user: string, method: 'GET' | 'POST', url: string, payload?: object) =>
    api.app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${user === 'admin' ? api.token : tokens[user]}` },
      ...(payload ? { payload } : {}),
    });
  const accepted = (response: LightMyRequestResponse) => {
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.body ? response.json() : undefined;
  };
  const deploy = async (user: string, env: string, name: string, image?: string) =>
    accepted(
      await as(user, 'POST', `/apps/shop/envs/${env}/deployments`, body(name, image)),
    ) as DeploymentDetail;
  const detail = async (env: string, id: string): Promise<DeploymentDetail> =>
    (await api.call('GET', `/apps/shop/envs/${env}/deployments/${id}`)).json();
  const settled = async (env: string, id: string): Promise<DeploymentDetail> => {
    for (let attempt = 0; attempt < 300; attempt++) {
      const shown = await detail(env, id);
      if (shown.status === 'succeeded' || shown.status === 'failed') return shown;
      await sleep(50);
    }
    throw new Error(`deployment ${id} did not finish`);
  };
  const events = async (type: string): Promise<PaveEvent[]> =>
    (await api.call('GET', `/events?app=shop&type=${type}`)).json().items;

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
    for (const [method, url, payload] of [
      ['PATCH', '/env-types/production', { requiresApproval: true }],
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps/shop/envs', { id: 'staging', type: 'staging' }],
      ['POST', '/apps/shop/envs', { id: 'prod', type: 'production' }],
      ['POST', '/apps', { id: 'blog' }],
      ['POST', '/apps/blog/envs', { id: 'prod', type: 'production' }],
      ['POST', '/users', { username: 'alice', password: PASSWORD }],
      ['POST', '/users', { username: 'bob', password: PASSWORD }],
      ['POST', '/roles', { role: 'developer', user: 'alice', app: 'shop' }],
      ['POST', '/roles', { role: 'deployer', user: 'alice', envType: 'production' }],
      ['POST', '/roles', { role: 'viewer', user: 'bob', app: 'shop' }],
      ['POST', '/roles', { role: 'approver', user: 'bob', envType: 'production' }],
    ] as const) {
      const response = await api.app.inject({
        method,
        url: `/api/v1${url}`,
        headers: { authorization: `Bearer ${api.token}` },
        payload,
      });
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    for (const username of ['alice', 'bob']) {
      const login = await api.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: PASSWORD },
      });
      tokens[username] = login.json().token;
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('shows whether a type requires approval; seeded types do not', async () => {
    const types = (await api.call('GET', '/env-types')).json().items as Array<{
      id: string;
      requiresApproval: boolean;
    }>;
    expect(Object.fromEntries(types.map((type) => [type.id, type.requiresApproval]))).toEqual({
      development: false,
      production: true,
      staging: false,
    });
  });

  it('holds a deployment into production until someone else approves it; then it runs', async () => {
    const queued = await deploy('alice', 'prod', 'api');
    expect(queued.status).toBe('awaiting-approval');
    await sleep(600);
    const waiting = await detail('prod', queued.id);
    expect(waiting.status).toBe('awaiting-approval');
    expect(waiting.startedAt).toBeNull();

    const listed = accepted(await as('bob', 'GET', '/approvals?app=shop')).items as Approval[];
    expect(listed).toMatchObject([
      { id: queued.id, requestedBy: 'alice', envType: 'production', summary: 'add api' },
    ]);
    expect(listed[0]!.diff.changes).toMatchObject([{ workload: 'api', action: 'add' }]);
    // The first deployment into an empty environment: neither side has a stored set, yet they differ.
    expect(listed[0]!.diff.unified).toMatch(/^\+ +image: node:20$/m);
    // One of them alone, as `pave approvals get` shows it: the same as listed.
    expect(accepted(await as('bob', 'GET', `/approvals/${queued.id}`))).toEqual(listed[0]);

    const own = await as('alice', 'POST', `/approvals/${queued.id}/approve`, {});
    expect(own.statusCode).toBe(403);
    expect(own.json().detail).toContain('approver');

    const approved = await as('bob', 'POST', `/approvals/${queued.id}/approve`, { comment: 'looks right' });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ id: queued.id, status: 'queued' });
    expect((await settled('prod', queued.id)).status).toBe('succeeded');
    expect((await as('bob', 'POST', `/approvals/${queued.id}/approve`, {})).json().detail).toContain(
      'is succeeded, not awaiting approval',
    );
    const decided = await as('bob', 'GET', `/approvals/${queued.id}`);
    expect(decided.statusCode).toBe(404);
    expect(decided.json().detail).toBe(`deployment ${queued.id} is not awaiting approval: it is succeeded`);
    expect(decided.json().errors[0].message).toContain(
      `pave deployments get ${queued.id} --app shop --env prod`,
    );

    expect(await events('approval.requested')).toMatchObject([
      {
        actor: 'alice',
        env: 'prod',
        data: { deploymentId: queued.id, kind: 'deploy', requestedBy: 'alice' },
      },
    ]);
    expect(await events('approval.approved')).toMatchObject([
      {
        actor: 'bob',
        data: { deploymentId: queued.id, approver: 'bob', comment: 'looks right', requestedBy: 'alice' },
      },
    ]);
    const audit = (await api.call('GET', '/audit?app=shop')).json().items as Array<{ action: string }>;
    expect(audit.map((entry) => entry.action)).toContain('deployment.approve');
  });

  it('never runs a rejected deployment; rejecting needs a comment', async () => {
    const queued = await deploy('alice', 'prod', 'api', 'node:22');
    const silent = await as('bob', 'POST', `/approvals/${queued.id}/reject`, { comment: ' ' });
    expect(silent.statusCode).toBe(400);
    const rejected = await as('bob', 'POST', `/approvals/${queued.id}/reject`, { comment: 'not today' });
    expect(rejected.statusCode, rejected.body).toBe(200);
    expect(rejected.json()).toMatchObject({ status: 'rejected', reason: 'rejected by bob: not today' });
    await sleep(400);
    const after = await detail('prod', queued.id);
    expect(after.status).toBe('rejected');
    expect(after.startedAt).toBeNull();
    const again = await as('bob', 'POST', `/approvals/${queued.id}/approve`, {});
    expect(again.statusCode).toBe(409);
    expect(again.json().detail).toContain('is rejected');
    expect((await events('approval.rejected')).map((event) => event.data)).toMatchObject([
      { deploymentId: queued.id, approver: 'bob', comment: 'not today' },
    ]);
  });

  it('refuses the requester, whatever their role, and hides deployments of apps the caller cannot see', async () => {
    const mine = await deploy('admin', 'prod', 'worker');
    const own = await api.call('POST', `/approvals/${mine.id}/approve`, {});
    expect(own.statusCode).toBe(403);
    expect(own.json().detail).toContain('yourself');

    // A newer request for the same environment supersedes it.
    const newer = await deploy('alice', 'prod', 'worker', 'node:22');
    const superseded = await detail('prod', mine.id);
    expect(superseded).toMatchObject({
      status: 'superseded',
      reason: `superseded by deployment ${newer.id}`,
    });
    expect((await events('approval.superseded')).map((event) => event.data)).toMatchObject([
      { deploymentId: mine.id, supersededBy: newer.id, requestedBy: 'admin' },
    ]);
    accepted(await as('bob', 'POST', `/approvals/${newer.id}/reject`, { comment: 'tidying up' }));

    const other = accepted(
      await api.call('POST', '/apps/blog/envs/prod/deployments', body('web')),
    ) as DeploymentDetail;
    expect(other.status).toBe('awaiting-approval');
    expect((await as('bob', 'POST', `/approvals/${other.id}/approve`, {})).statusCode).toBe(404);
    // Reading it tells bob no more than a deployment that does not exist would.
    const hidden = await as('bob', 'GET', `/approvals/${other.id}`);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().detail).toBe(`deployment ${other.id} not found`);
    expect((await as('bob', 'GET', '/approvals/999999')).json().detail).toBe('deployment 999999 not found');
    expect(accepted(await api.call('GET', `/approvals/${other.id}`))).toMatchObject({
      id: other.id,
      requestedBy: 'admin',
      summary: 'add web',
    });
    expect((await as('bob', 'GET', '/approvals/latest')).statusCode).toBe(400);
    const seen = accepted(await as('bob', 'GET', '/approvals')).items as Approval[];
    expect(seen.map((approval) => approval.deployment.appId)).not.toContain('blog');
    expect((await as('bob', 'GET', '/approvals?app=blog')).statusCode).toBe(404);
  });

  it('expires a request nobody decided within the approval TTL (the janitor)', async () => {
    const queued = await deploy('alice', 'prod', 'api', 'node:18');
    await sleep(30);
    const janitor = new EnvironmentJanitor({
      store: api.store,
      teardown: undefined as never,
      logger: pino({ level: 'silent' }),
      replicaId: 'test',
      approvalTtlMs: 20,
    });
    await janitor.sweep();
    expect(await detail('prod', queued.id)).toMatchObject({ status: 'expired', startedAt: null });
    expect(await events('approval.expired')).toMatchObject([
      { actor: 'pave-janitor', data: { deploymentId: queued.id, requestedBy: 'alice' } },
    ]);
    // The other app's request expired with it.
    expect((await as('bob', 'GET', '/approvals')).json().items).toEqual([]);
  });

  it('refuses to approve when the requester may no longer deploy there', async () => {
    const queued = await deploy('alice', 'prod', 'api', 'node:16');
    accepted(
      await api.call('POST', '/roles/revoke', { role: 'deployer', user: 'alice', envType: 'production' }),
    );
    const refused = await as('bob', 'POST', `/approvals/${queued.id}/approve`, {});
    expect(refused.statusCode).toBe(403);
    expect(refused.json().detail).toContain('alice may no longer do deployment.create');
    expect((await detail('prod', queued.id)).status).toBe('awaiting-approval');

    accepted(await api.call('POST', '/roles', { role: 'deployer', user: 'alice', envType: 'production' }));
    accepted(await as('bob', 'POST', `/approvals/${queued.id}/approve`, {}));
    expect((await settled('prod', queued.id)).status).toBe('succeeded');
  });

  it('holds promotions and rollbacks into production too', async () => {
    const staged = await deploy('alice', 'staging', 'web');
    expect(staged.status).toBe('queued');
    expect((await settled('staging', staged.id)).status).toBe('succeeded');

    const promoted = accepted(
      await as('alice', 'POST', '/apps/shop/envs/prod/deployments', { fromEnv: 'staging' }),
    ) as DeploymentDetail;
    expect(promoted).toMatchObject({ kind: 'promote', status: 'awaiting-approval' });
    accepted(await as('bob', 'POST', `/approvals/${promoted.id}/approve`, {}));
    expect((await settled('prod', promoted.id)).status).toBe('succeeded');

    const rolledBack = accepted(
      await as('alice', 'POST', '/apps/shop/envs/prod/rollback', {}),
    ) as DeploymentDetail;
    expect(rolledBack).toMatchObject({ kind: 'rollback', status: 'awaiting-approval' });
    accepted(await as('bob', 'POST', `/approvals/${rolledBack.id}/approve`, {}));
    expect((await settled('prod', rolledBack.id)).status).toBe('succeeded');
    const kinds = (await events('approval.approved')).map((event) => (event.data as { kind: string }).kind);
    expect(kinds).toEqual(expect.arrayContaining(['promote', 'rollback']));
  });

  // Found by a review of RBAC: a token bob limited to viewing shop approved and rejected production
  // deployments, as his approver role does; a scope lets a token do only what the scope allows too.
  it('refuses an app-scoped token of an approver: approving takes a token without a scope', async () => {
    const queued = await deploy('alice', 'prod', 'api', 'node:24');
    const scoped = accepted(
      await as('bob', 'POST', '/tokens', { name: 'read-shop', scope: 'app:shop:viewer' }),
    ) as { token: string };
    const withScope = (action: 'approve' | 'reject') =>
      api.app.inject({
        method: 'POST',
        url: `/api/v1/approvals/${queued.id}/${action}`,
        headers: { authorization: `Bearer ${scoped.token}` },
        payload: { comment: 'from a read-only token' },
      });
    for (const action of ['approve', 'reject'] as const) {
      const refused = await withScope(action);
      expect(refused.statusCode, refused.body).toBe(403);
      expect(refused.json().detail).toContain('the token is limited to viewer on app shop');
    }
    expect((await detail('prod', queued.id)).status).toBe('awaiting-approval');
    accepted(await as('bob', 'POST', `/approvals/${queued.id}/reject`, { comment: 'tidying up' }));
  });

  it('lets the requester withdraw a pending request with cancel; it can no longer be approved', async () => {
    const queued = await deploy('alice', 'prod', 'api', 'node:23');
    expect(queued.status).toBe('awaiting-approval');
    const cancelled = await as('alice', 'POST', `/apps/shop/envs/prod/deployments/${queued.id}/cancel`);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({
      status: 'cancelled',
      reason: 'cancelled by alice before it started (it was awaiting approval)',
    });
    const approve = await as('bob', 'POST', `/approvals/${queued.id}/approve`, {});
    expect(approve.statusCode).toBe(409);
    expect((await as('bob', 'GET', '/approvals?app=shop')).json().items).toEqual([]);
  });
});
