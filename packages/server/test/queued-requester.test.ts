import type { DeploymentDetail, PaveEvent } from '@pave/core';
import type { RuntimeDriver, WorkloadStatus } from '@pave/plugin-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const body = (image: string) => ({
  workloads: [
    {
      spec: {
        apiVersion: 'score.dev/v1b1',
        metadata: { name: 'api' },
        containers: { main: { image, command: ['node', 'server.js'] } },
      },
      dir: '/srv/app',
    },
  ],
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A runtime whose readiness waits block while a rollout is held (a long rollout in production, with the
 * next deployment queued behind it), and which remembers every image it was asked to deploy.
 */
function heldRuntime() {
  let held: Promise<void> | undefined;
  let release = () => {};
  const deployed: string[] = [];
  const runtime: RuntimeDriver = {
    name: 'held',
    deploy: async (target, workload) => {
      deployed.push(`${target.env}:${workload.containers[0]?.image}`);
    },
    waitReady: async () => {
      await held;
      return { ready: true };
    },
    remove: async () => undefined,
    status: async (): Promise<WorkloadStatus[]> => [],
    destroy: async () => undefined,
  };
  return {
    runtime,
    deployed,
    hold() {
      held = new Promise<void>((resolve) => (release = resolve));
    },
    release() {
      held = undefined;
      release();
    },
  };
}

// A deployment waits in the queue (behind another, or for an approval) for as long as that takes; whoever
// asked for it may lose the right to deploy there meanwhile, or leave. It runs with their authority, so the
// worker asks again when it takes it up.
describe.each(storeEngines)('a queued deployment whose requester may no longer deploy, on %s', (engine) => {
  let api: DeployingApi;
  const runtime = heldRuntime();
  const tokens: Record<string, string> = {};

  const admin = async (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => {
    const response = await api.call(method, url, payload);
    expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
  };
  const detail = async (env: string, id: string): Promise<DeploymentDetail> =>
    (await api.call('GET', `/apps/shop/envs/${env}/deployments/${id}`)).json();
  const finished = async (env: string, id: string): Promise<DeploymentDetail> => {
    for (let attempt = 0; attempt < 300; attempt++) {
      const shown = await detail(env, id);
      if (['succeeded', 'failed', 'cancelled'].includes(shown.status)) return shown;
      await sleep(50);
    }
    throw new Error(`deployment ${id} did not finish`);
  };
  const running = async (env: string, id: string) => {
    for (let attempt = 0; attempt < 300; attempt++) {
      if ((await detail(env, id)).status === 'running') return;
      await sleep(20);
    }
    throw new Error(`deployment ${id} did not start`);
  };
  /** Queues a deployment of `image` into `env` as `user`, behind a held one of the admin's. */
  const queuedBehind = async (env: string, user: string, image: string) => {
    runtime.hold();
    const first = await api.call('POST', `/apps/shop/envs/${env}/deployments`, body(`${image}-before`));
    expect(first.statusCode, first.body).toBe(202);
    await running(env, first.json().id);
    const queued = await api.callAs(tokens[user]!, 'POST', `/apps/shop/envs/${env}/deployments`, body(image));
    expect(queued.statusCode, queued.body).toBe(202);
    expect(queued.json().status).toBe('queued');
    return { first: first.json().id as string, id: queued.json().id as string };
  };

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: runtime.runtime, worker: true });
    await admin('POST', '/apps', { id: 'shop' });
    await admin('POST', '/apps/shop/envs', { id: 'prod', type: 'production' });
    await admin('POST', '/apps/shop/envs', { id: 'dev', type: 'development' });
    await admin('POST', '/env-types', { id: 'review', requiresApproval: true });
    for (const user of ['dora', 'erin', 'gus', 'bob']) tokens[user] = await api.createUser(user);
    for (const user of ['dora', 'erin', 'gus']) {
      await admin('POST', '/roles', { role: 'developer', user, app: 'shop' });
      await admin('POST', '/roles', { role: 'deployer', user, envType: 'production' });
    }
    await admin('POST', '/roles', { role: 'viewer', user: 'bob', app: 'shop' });
    await admin('POST', '/roles', { role: 'approver', user: 'bob', envType: 'review' });
    // Roles reach a token within a second (the actor cache).
    await sleep(1_100);
  });
  afterAll(async () => {
    runtime.release();
    await api?.cleanup();
  });

  it('cancels it, saying why, when its requester lost deployer on the type before it started', async () => {
    const { first, id } = await queuedBehind('prod', 'dora', 'img:dora');
    await admin('POST', '/roles/revoke', { role: 'deployer', user: 'dora', envType: 'production' });
    runtime.release();
    expect((await finished('prod', first)).status).toBe('succeeded');

    const shown = await finished('prod', id);
    expect(shown.status).toBe('cancelled');
    expect(shown.reason).toMatch(/dora may no longer do deployment\.create on shop\/prod/);
    expect(shown.startedAt).toBeNull();
    expect(runtime.deployed).not.toContain('prod:img:dora');
    const cancelled = (await api.call('GET', '/events?app=shop&type=deployment.cancelled')).json()
      .items as PaveEvent[];
    expect(cancelled.map((event) => event.data)).toContainEqual(
      expect.objectContaining({ deploymentId: id, reason: shown.reason }),
    );
    const audit = (await api.call('GET', '/audit?app=shop&limit=500')).json().items as Array<{
      action: string;
      target: string;
    }>;
    expect(audit).toContainEqual(
      expect.objectContaining({
        action: 'deployment.cancel',
        target: `apps/shop/envs/prod/deployments/${id}`,
      }),
    );
  });

  it('cancels it when its requester no longer exists', async () => {
    const { id } = await queuedBehind('prod', 'erin', 'img:erin');
    await admin('DELETE', '/users/erin');
    runtime.release();
    const shown = await finished('prod', id);
    expect(shown.status).toBe('cancelled');
    expect(shown.reason).toMatch(/erin no longer exists/);
    expect(runtime.deployed).not.toContain('prod:img:erin');
  });

  it('runs it when its requester may still deploy there', async () => {
    const { id } = await queuedBehind('prod', 'gus', 'img:gus');
    runtime.release();
    expect((await finished('prod', id)).status).toBe('succeeded');
    expect(runtime.deployed).toContain('prod:img:gus');
  });

  it('cancels it when a policy denies it now: a freeze began while it waited', async () => {
    const { first, id } = await queuedBehind('prod', 'gus', 'img:frozen');
    const hour = 3_600_000;
    await admin('POST', '/policies/apply', {
      policies: [
        {
          id: 'release-freeze',
          criteria: [{ envType: 'production' }],
          severity: 'deny',
          message: 'production is frozen for the release',
          freeze: {
            from: new Date(Date.now() - hour).toISOString(),
            to: new Date(Date.now() + hour).toISOString(),
          },
        },
      ],
    });
    try {
      runtime.release();
      expect((await finished('prod', first)).status).toBe('succeeded');
      const shown = await finished('prod', id);
      expect(shown.status).toBe('cancelled');
      expect(shown.reason).toMatch(
        /^cancelled before it started: policy release-freeze refuses this deployment to shop\/prod now \(release-freeze: production is frozen for the release/,
      );
      expect(runtime.deployed).not.toContain('prod:img:frozen');
    } finally {
      await admin('DELETE', '/policies/release-freeze');
    }
  });

  it('fails it, rather than trying again and again, when asking about it fails', async () => {
    const { first, id } = await queuedBehind('prod', 'gus', 'img:unreadable');
    // A request that cannot be read (a store written by something else, say): asking about it throws.
    await api.store.db
      .updateTable('deployments')
      .set({ request: 'not json' })
      .where('id', '=', Number(id))
      .execute();
    runtime.release();
    expect((await finished('prod', first)).status).toBe('succeeded');
    // (Its record cannot be shown either: read from the store.)
    const row = () =>
      api.store.db
        .selectFrom('deployments')
        .select(['status', 'reason'])
        .where('id', '=', Number(id))
        .executeTakeFirstOrThrow();
    for (let attempt = 0; attempt < 300 && (await row()).status === 'queued'; attempt++) await sleep(50);
    expect(await row()).toMatchObject({ status: 'failed', reason: expect.stringMatching(/internal error/) });
    expect(runtime.deployed).not.toContain('prod:img:unreadable');
  });

  it('refuses to approve a clone with data once its requester may no longer read the source', async () => {
    await admin('POST', '/roles', { role: 'deployer', user: 'dora', envType: 'production' });
    await admin('POST', '/apps/shop/envs/prod/deployments', body('img:prod'));
    await sleep(1_100);
    const created = await api.callAs(tokens.dora!, 'POST', '/apps/shop/envs', {
      id: 'copy',
      type: 'review',
      from: 'prod',
      withData: true,
    });
    expect(created.statusCode, created.body).toBe(201);
    const clone = (await api.call('GET', '/apps/shop/envs/copy/deployments')).json()
      .items[0] as DeploymentDetail;
    expect(clone).toMatchObject({ kind: 'clone', status: 'awaiting-approval' });

    await admin('POST', '/roles/revoke', { role: 'deployer', user: 'dora', envType: 'production' });
    const approved = await api.callAs(tokens.bob!, 'POST', `/approvals/${clone.id}/approve`, {});
    expect(approved.statusCode, approved.body).toBe(403);
    expect(approved.json().detail).toMatch(/dora may no longer do values\.reveal on shop\/prod/);
    expect((await detail('copy', clone.id)).status).toBe('awaiting-approval');
  });
});
