import type { Deployment } from '@pave/core';
import { href } from '../router.ts';
import { Time } from './common.tsx';

/**
 * What a deployment did, for people: `deploy`, `rollback to #3`, `promote from staging`, `restart of #5` (Pave
 * deployed the current set again at start, its workloads having stopped).
 */
export function describeKind(deployment: Deployment): string {
  if (deployment.kind === 'rollback' && deployment.source.deploymentId) {
    return `rollback to #${deployment.source.deploymentId}`;
  }
  if (deployment.kind === 'restart' && deployment.source.deploymentId) {
    return `restart of #${deployment.source.deploymentId}`;
  }
  if ((deployment.kind === 'promote' || deployment.kind === 'clone') && deployment.source.envId) {
    return `${deployment.kind} from ${deployment.source.envId}`;
  }
  return deployment.kind;
}

/** The route of a deployment's page (`#/apps/<app>/envs/<env>/deployments/<id>`). */
export function deploymentRoute({ appId, envId, id }: Pick<Deployment, 'appId' | 'envId' | 'id'>): string[] {
  return ['apps', appId, 'envs', envId, 'deployments', id];
}

/** How long a deployment ran, from start to finish: `4.2 s`, `3 min`; `-` until it has finished. */
export function took(deployment: Deployment): string {
  if (!deployment.startedAt || !deployment.finishedAt) return '-';
  const ms = Date.parse(deployment.finishedAt) - Date.parse(deployment.startedAt);
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`;
}

/**
 * An environment's deployments, newest first, the current one marked. With `onCancel` (for those who may
 * deploy there), a deployment that is queued or awaiting approval has a Cancel button (`pave deployments
 * cancel`): it never runs.
 */
export function DeploymentHistory({
  deployments,
  currentId,
  onCancel,
}: {
  deployments: Deployment[];
  currentId: string | undefined;
  onCancel?: ((deployment: Deployment) => void) | undefined;
}) {
  if (deployments.length === 0) return <p className="muted">No deployments yet.</p>;
  return (
    <div className="table-scroll" role="region" aria-label="Deployment history, scrollable" tabIndex={0}>
      <table aria-label="Deployment history">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Kind</th>
            <th scope="col">Status</th>
            <th scope="col">Message</th>
            <th scope="col" className="wide-only">
              By
            </th>
            <th scope="col" className="wide-only">
              Created
            </th>
            <th scope="col" className="wide-only">
              Took
            </th>
          </tr>
        </thead>
        <tbody>
          {deployments.map((d) => (
            <tr key={d.id} aria-current={d.id === currentId ? 'true' : undefined}>
              <th scope="row" className="row-head">
                <a href={href(...deploymentRoute(d))} title={`Deployment #${d.id}: its journal`}>
                  {d.id}
                </a>
                {d.id === currentId && <span className="badge">current</span>}
              </th>
              <td>{describeKind(d)}</td>
              <td>
                <span className={`status-${d.status}`}>{d.status}</span>
                {d.rolledBack && <span className="muted"> (previous set restored)</span>}
                {d.reason && <div className="muted detail">{d.reason}</div>}
                {onCancel && (d.status === 'queued' || d.status === 'awaiting-approval') && (
                  <button
                    type="button"
                    className="small"
                    onClick={() => onCancel(d)}
                    title={`Cancel deployment #${d.id} before it starts`}
                  >
                    Cancel
                  </button>
                )}
              </td>
              <td>{d.message || <span className="muted">-</span>}</td>
              <td className="wide-only">{d.actor}</td>
              <td className="wide-only">
                <Time at={d.createdAt} />
              </td>
              <td className="wide-only">{took(d)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
