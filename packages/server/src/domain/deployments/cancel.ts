import { ConflictError, type DeploymentDetail, type DeploymentKind } from '@pave/core';
import type { Executor, Store } from '../../store/index.ts';
import { recordAudit } from '../audit.ts';
import { now, systemContext, type RequestContext } from '../context.ts';
import { recordEvent } from '../events.ts';
import { getDeployment, journal } from './records.ts';

/**
 * Cancels a queued deployment, or one awaiting approval (its requester withdrawing it, say): it becomes
 * `cancelled` and never runs. A deployment that has started cannot be
 * cancelled (its changes are under way; roll back once it has finished) and one that has finished is left as
 * it is: both are a ConflictError saying so. The status changes only if it is still `queued` at that moment,
 * so a worker that takes the deployment at the same time either runs it (and the cancel is refused) or finds
 * it cancelled (and skips it). Audited, with a `deployment.cancelled` event.
 */
export async function cancelDeployment(
  store: Store,
  context: RequestContext,
  app: string,
  env: string,
  id: string,
): Promise<DeploymentDetail> {
  const existing = await getDeployment(store.db, app, env, id);
  const reason = `cancelled by ${context.actor.username} before it started${existing.status === 'awaiting-approval' ? ' (it was awaiting approval)' : ''}`;
  const cancelled = await store.transaction(async (tx) => {
    const row = await tx
      .updateTable('deployments')
      .set({ status: 'cancelled', reason, finished_at: now() })
      .where('id', '=', Number(existing.id))
      .where('status', 'in', ['queued', 'awaiting-approval'])
      .returning(['kind'])
      .executeTakeFirst();
    if (!row) return false;
    await journal(tx, Number(existing.id), { step: 'cancel', status: 'info', message: reason });
    await recordAudit(tx, context, {
      action: 'deployment.cancel',
      target: `apps/${app}/envs/${env}/deployments/${existing.id}`,
      appId: app,
      summary: { id: existing.id, kind: row.kind },
    });
    await recordEvent(tx, context, {
      type: 'deployment.cancelled',
      app,
      env,
      data: { deploymentId: existing.id, kind: row.kind as DeploymentKind, status: 'cancelled', reason },
    });
    return true;
  });
  if (!cancelled) {
    const now = await getDeployment(store.db, app, env, id);
    const why =
      now.status === 'running'
        ? 'it is running: its changes are under way. Wait for it to finish, then roll back with `pave rollback` if you do not want it'
        : `it has already ${now.status === 'cancelled' ? 'been cancelled' : now.status}`;
    throw new ConflictError(`deployment ${id} of ${app}/${env} cannot be cancelled: ${why}`, [
      { path: 'id', message: 'only a deployment that is queued or awaiting approval can be cancelled' },
    ]);
  }
  return getDeployment(store.db, app, env, id);
}

/**
 * Cancels queued deployment `deployment` for `reason` on Pave's own account (the worker finding it should
 * not run), as `actor`: journaled and audited, with a `deployment.cancelled` event. Nothing when it was
 * cancelled or taken up meanwhile.
 */
export async function cancelQueued(
  tx: Executor,
  deployment: { id: number; app: string; env: string; kind: DeploymentKind },
  reason: string,
  actor: string,
): Promise<void> {
  const { id, app, env, kind } = deployment;
  const cancelled = await tx
    .updateTable('deployments')
    .set({ status: 'cancelled', reason, finished_at: now() })
    .where('id', '=', id)
    .where('status', '=', 'queued')
    .executeTakeFirst();
  if (Number(cancelled.numUpdatedRows) === 0) return;
  await journal(tx, id, { step: 'cancel', status: 'info', message: reason });
  const context = systemContext(actor, `deployment-${id}`);
  await recordAudit(tx, context, {
    action: 'deployment.cancel',
    target: `apps/${app}/envs/${env}/deployments/${id}`,
    appId: app,
    summary: { id: String(id), kind, reason },
  });
  await recordEvent(tx, context, {
    type: 'deployment.cancelled',
    app,
    env,
    data: { deploymentId: String(id), kind, status: 'cancelled', reason },
  });
}
