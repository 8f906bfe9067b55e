import type { Approval, DeploymentDetail } from '@pave/core';
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// What an artifact runs is its pusher's: four eyes means someone other than them approves it into production,
// also when a colleague deploys it by hand (a rule's deployment already counted the pusher).
describe.each(storeEngines)('approving an artifact deployed by hand, on %s', (engine) => {
  let api: DeployingApi;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
    for (const [method, url, payload] of [
      ['PATCH', '/env-types/production', { requiresApproval: true }],
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps/shop/envs', { id: 'prod', type: 'production' }],
    ] as const) {
      const response = await api.call(method, url, payload);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    for (const user of ['alice', 'carol', 'dave']) tokens[user] = await api.createUser(user);
    for (const [user, role, scope] of [
      ['alice', 'developer', { app: 'shop' }],
      ['alice', 'deployer', { envType: 'production' }],
      // Carol builds and approves, but may not deploy to production herself.
      ['carol', 'developer', { app: 'shop' }],
      ['carol', 'approver', { envType: 'production' }],
      ['dave', 'viewer', { app: 'shop' }],
      ['dave', 'approver', { envType: 'production' }],
    ] as const) {
      const granted = await api.call('POST', '/roles', { role, user, ...scope });
      expect(granted.statusCode, granted.body).toBe(201);
    }
    await sleep(1_100);
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it("counts the artifact's pusher as a requester, who may not approve it, but needs no right to deploy", async () => {
    const pushed = await api.callAs(tokens.carol!, 'POST', '/apps/shop/artifacts', {
      commit: 'c0ffee1',
      scoreFiles: [{ file: 'api.score.yaml', dir: '/srv/shop', content: score }],
      image: 'reg/api:1',
    });
    expect(pushed.statusCode, pushed.body).toBe(201);
    const queued = await api.callAs(tokens.alice!, 'POST', '/apps/shop/envs/prod/deployments', {
      artifact: pushed.json().id,
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const id = queued.json().id as string;
    expect(queued.json().status).toBe('awaiting-approval');

    const listed = (await api.callAs(tokens.dave!, 'GET', '/approvals?app=shop')).json().items as Approval[];
    expect(listed.find((approval) => approval.id === id)?.requesters).toEqual(['alice', 'carol']);

    const byPusher = await api.callAs(tokens.carol!, 'POST', `/approvals/${id}/approve`, {});
    expect(byPusher.statusCode, byPusher.body).toBe(403);
    expect(byPusher.json().detail).toBe(
      `you pushed the artifact that deployment ${id} deploys (artifact ${pushed.json().id}): ` +
        'someone else must approve or reject it (four eyes)',
    );

    const byDave = await api.callAs(tokens.dave!, 'POST', `/approvals/${id}/approve`, {});
    expect(byDave.statusCode, byDave.body).toBe(200);
    let shown: DeploymentDetail | undefined;
    for (let attempt = 0; attempt < 300; attempt++) {
      shown = (await api.call('GET', `/apps/shop/envs/prod/deployments/${id}`)).json();
      if (shown?.status === 'succeeded' || shown?.status === 'failed' || shown?.status === 'cancelled') break;
      await sleep(50);
    }
    expect(shown?.status, shown?.reason ?? '').toBe('succeeded');
  });
});
