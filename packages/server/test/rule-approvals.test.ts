import type { LightMyRequestResponse } from 'fastify';
import type { PushedArtifact } from '@pave/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { pushedScoreFile } from './support/artifacts.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Four eyes held for a deployment someone asked for directly, but a deployment a rule queued counted only
 * the rule's creator as its requester: an approver who pushed an artifact on the rule's branch could approve
 * the production deployment of their own artifact, which nobody else had looked at.
 */
describe.each(storeEngines)('approving what a rule deploys on %s', (engine) => {
  let api: FullApi;
  const tokens: Record<string, string> = {};
  let ruleId: string;

  const as = (user: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    api.callAs(tokens[user]!, method, url, payload);
  const accepted = (response: LightMyRequestResponse) => {
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json();
  };
  /** Pushes an artifact on main as `user`; resolves with the production deployment the rule queued. */
  const pushToProduction = async (user: string, commit: string): Promise<string> => {
    const pushed = accepted(
      await as(user, 'POST', '/apps/shop/artifacts', {
        commit,
        branch: 'main',
        scoreFiles: [pushedScoreFile(commit)],
      }),
    ) as PushedArtifact;
    // The push says the deployment awaits approval, so the CLI does not call it queued.
    expect(pushed.triggered).toMatchObject([{ ruleId, env: 'prod', awaitsApproval: true, refused: null }]);
    const id = pushed.triggered[0]!.deploymentId!;
    expect(accepted(await api.call('GET', `/apps/shop/envs/prod/deployments/${id}`))).toMatchObject({
      status: 'awaiting-approval',
      actor: `rule:${ruleId}`,
      artifactId: pushed.id,
    });
    return id;
  };

  beforeAll(async () => {
    api = await openFullApi(engine);
    for (const username of ['ann', 'dora', 'abe']) tokens[username] = await api.createUser(username);
    const setup: Array<['PATCH' | 'POST', string, object]> = [
      ['PATCH', '/env-types/production', { requiresApproval: true }],
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps/shop/envs', { id: 'prod', type: 'production' }],
      ['POST', '/roles', { role: 'developer', user: 'ann', app: 'shop' }],
      ['POST', '/roles', { role: 'deployer', user: 'ann', envType: 'production' }],
      ['POST', '/roles', { role: 'approver', user: 'ann', envType: 'production' }],
      ['POST', '/roles', { role: 'developer', user: 'dora', app: 'shop' }],
      ['POST', '/roles', { role: 'deployer', user: 'dora', envType: 'production' }],
      ['POST', '/roles', { role: 'approver', user: 'dora', envType: 'production' }],
      ['POST', '/roles', { role: 'viewer', user: 'abe', app: 'shop' }],
      ['POST', '/roles', { role: 'approver', user: 'abe', envType: 'production' }],
    ];
    for (const [method, url, body] of setup) {
      const response = await api.call(method, url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    ruleId = accepted(await as('dora', 'POST', '/apps/shop/rules', { env: 'prod', branch: 'main' })).id;
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('refuses the approval of whoever pushed the artifact, saying they pushed it', async () => {
    const id = await pushToProduction('ann', 'a11n001');
    for (const decision of ['approve', 'reject']) {
      const own = await as('ann', 'POST', `/approvals/${id}/${decision}`, { comment: 'mine, fine' });
      expect(own.statusCode, own.body).toBe(403);
      expect(own.json().detail).toContain(`you pushed the artifact that rule ${ruleId} deploys`);
      expect(own.json().detail).toContain('someone else must approve or reject it (four eyes)');
    }
    const shown = accepted(await api.call('GET', `/apps/shop/envs/prod/deployments/${id}`));
    expect(shown.status).toBe('awaiting-approval');
    // The list says who may not decide it, so the portal offers them no Approve button.
    const listed = (await api.call('GET', '/approvals?app=shop')).json().items as Array<{
      id: string;
      requestedBy: string;
      requesters: string[];
    }>;
    expect(listed.find((approval) => approval.id === id)).toMatchObject({
      requestedBy: `rule:${ruleId}`,
      requesters: ['dora', 'ann'],
    });

    const approved = await as('abe', 'POST', `/approvals/${id}/approve`, {});
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ id, status: 'queued' });
  });

  it("refuses the approval of the rule's creator; anyone else who holds approver may approve", async () => {
    const id = await pushToProduction('ann', 'a11n002');
    const creator = await as('dora', 'POST', `/approvals/${id}/approve`, {});
    expect(creator.statusCode, creator.body).toBe(403);
    expect(creator.json().detail).toContain(`you made rule ${ruleId}, which asked for deployment ${id}`);

    // dora both made the rule and pushed this one; ann did neither, so she may approve it.
    const pushedByDora = await pushToProduction('dora', 'd0ra001');
    const approved = await as('ann', 'POST', `/approvals/${pushedByDora}/approve`, {});
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ id: pushedByDora, status: 'queued' });
  });

  it('refuses an approval once the pusher may no longer deploy there, naming them', async () => {
    const id = await pushToProduction('ann', 'a11n003');
    const revoked = await api.call('POST', '/roles/revoke', {
      role: 'deployer',
      user: 'ann',
      envType: 'production',
    });
    expect(revoked.statusCode, revoked.body).toBe(204);
    const refused = await as('abe', 'POST', `/approvals/${id}/approve`, {});
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().detail).toContain('its requester ann may no longer do deployment.create');
  });
});
