import { ConflictError, type DeploymentDetail, type DeploymentKind, type DeploymentStatus } from '@pave/core';
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
  const cancelled = await store.transaction((tx) =>
    markCancelled(tx, context, { id: Number(existing.id), app, env }, reason, [
      'queued',
      'awaiting-approval',
    ]),
  );
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
  deployment: { id: number; app: string; env: string },
  reason: string,
  actor: string,
): Promise<void> {
  await markCancelled(tx, systemContext(actor, `deployment-${deployment.id}`), deployment, reason, [
    'queued',
  ]);
}

/**
 * Marks `deployment` cancelled for `reason` if its status is still one of `from` (a conditional update, so a
 * worker taking it at the same moment either runs it or finds it cancelled), journaled and audited as
 * `context`'s, with a `deployment.cancelled` event; false when it had left those statuses.
 */
async function markCancelled(
  tx: Executor,
  context: RequestContext,
  deployment: { id: number; app: string; env: string },
  reason: string,
  from: readonly DeploymentStatus[],
): Promise<boolean> {
  const { id, app, env } = deployment;
  const row = await tx
    .updateTable('deployments')
    .set({ status: 'cancelled', reason, finished_at: now() })
    .where('id', '=', id)
    .where('status', 'in', from)
    .returning(['kind'])
    .executeTakeFirst();
  if (!row) return false;
  const kind = row.kind as DeploymentKind;
  await journal(tx, id, { step: 'cancel', status: 'info', message: reason });
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
  return true;
}
