import type { Deployment, EnvironmentStatus } from '@pave/core';
import { href } from '../router.ts';
import { Command } from './common.tsx';
import { deploymentRoute } from './deployment-history.tsx';
import { HealthBadge } from './health-badge.tsx';

const STATE_TEXT: Record<EnvironmentStatus['workloads'][number]['state'], string> = {
  starting: 'starting',
  running: 'running (not ready)',
  ready: 'ready',
  'crash-looping': 'crash-looping',
  stopped: 'stopped',
};

/**
 * The workloads of an environment as they run now: the deployment that runs (or the one under way), a newer
 * deployment that failed with why (a link to its page and the `pave deployments get` command that show its
 * journal), the
 * environment's health, then each workload's state, health, restarts, URLs (routes through Pave's proxy first)
 * and the deployment it came from; then their containers.
 */
export function WorkloadStatusTable({ status }: { status: EnvironmentStatus }) {
  const pending = status.pendingDeployment;
  const current = status.currentDeployment;
  // A failed deployment newer than what runs (or the only one) is said, with why: it is not "nothing deployed".
  const latest = status.latestDeployment;
  const failed = !pending && latest?.status === 'failed' && latest.id !== current?.id ? latest : null;
  return (
    <>
      <p role="status" className="deployment-state">
        {pending
          ? `Deployment #${pending.id} (${pending.kind}) is ${pending.status}…`
          : current
            ? `Running deployment #${current.id} (${current.kind}).`
            : failed
              ? `${failedText(failed)} — nothing runs here yet.`
              : 'Nothing deployed yet.'}
        {current && failed && ` ${failedText(failed)}.`}
        {status.health && (
          <>
            {' '}
            Health:{' '}
            {/* With nothing current, the failed deployment above says why better than "nothing deployed yet". */}
            <HealthBadge
              health={status.health}
              detail={status.healthDetail}
              showDetail={!failed || !!current}
            />
          </>
        )}
      </p>
      {failed && (
        <>
          <p>
            <a href={href(...deploymentRoute(failed))}>What deployment #{failed.id} did, step by step</a>
          </p>
          <Command>{`pave deployments get ${failed.id} --app ${status.appId} --env ${status.envId}`}</Command>
        </>
      )}
      {!status.target.reachable && (
        <div className="error" role="alert">
          Runtime target {status.target.id} cannot be reached: {status.target.detail ?? 'no answer'}. Fix the
          target, or move the environment to another one and deploy again.
        </div>
      )}
      {status.workloads.length === 0 ? (
        <p className="muted">No workloads run here.</p>
      ) : (
        <table aria-label="Workloads">
          <thead>
            <tr>
              <th scope="col">Workload</th>
              <th scope="col">State</th>
              <th scope="col">Health</th>
              <th scope="col">Restarts</th>
              <th scope="col">URLs</th>
              <th scope="col" className="wide-only">
                Deployment
              </th>
            </tr>
          </thead>
          <tbody>
            {status.workloads.map((w) => (
              <tr key={w.workload}>
                <th scope="row" className="row-head">
                  {w.workload}
                </th>
                <td>
                  <span className={`state state-${w.state}`}>{STATE_TEXT[w.state]}</span>
                  {w.detail && <div className="muted detail">{w.detail}</div>}
                </td>
                <td>
                  <HealthBadge health={w.health} detail={w.healthDetail} />
                </td>
                <td>{w.restarts}</td>
                <td>
                  {urlsOf(w).length === 0 ? (
                    <span className="muted">-</span>
                  ) : (
                    urlsOf(w).map((url) => (
                      <a key={url} href={url} target="_blank" rel="noreferrer" className="url">
                        {url.replace(/^https?:\/\//, '')}
                      </a>
                    ))
                  )}
                </td>
                <td className="wide-only">#{w.deploymentId}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ContainerTable status={status} />
    </>
  );
}

/**
 * The containers of the workloads, folded away under the workloads: each one's state in the runtime's words,
 * restarts, process id and how it last ended (why a crash-looping workload crashes).
 */
function ContainerTable({ status }: { status: EnvironmentStatus }) {
  const rows = status.workloads.flatMap((w) =>
    (w.containers ?? []).map((container) => ({ workload: w.workload, ...container })),
  );
  if (rows.length === 0) return null;
  return (
    <details className="containers">
      <summary>
        Containers ({rows.length}
        {rows.some((row) => row.lastExit) ? ', some have exited' : ''})
      </summary>
      <table aria-label="Containers">
        <thead>
          <tr>
            <th scope="col">Workload</th>
            <th scope="col">Container</th>
            <th scope="col">State</th>
            <th scope="col">Restarts</th>
            <th scope="col" className="wide-only">
              Process id
            </th>
            <th scope="col">Last exit</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={`${row.workload}/${row.name}`}>
              <td>{row.workload}</td>
              <th scope="row" className="row-head">
                {row.name}
              </th>
              <td>{row.state}</td>
              <td>{row.restarts}</td>
              <td className="wide-only">{row.pid ?? <span className="muted">-</span>}</td>
              <td>{row.lastExit ?? <span className="muted">-</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

/** `Deployment #3 failed (previous set restored): wait ready failed …`, without a final full stop. */
function failedText(deployment: Deployment): string {
  const restored = deployment.rolledBack ? ' (previous set restored)' : '';
  const reason = deployment.reason?.replace(/\.\s*$/, '');
  return `Deployment #${deployment.id} failed${restored}${reason ? `: ${reason}` : ''}`;
}

/**
 * A workload's addresses as links, as `pave status` lists them: routes through Pave's proxy first (the
 * addresses to share), then host ports. Only http(s) URLs: a workload's URL must never run script in the portal.
 */
export function urlsOf(workload: EnvironmentStatus['workloads'][number]): string[] {
  return [...(workload.routes ?? []), ...workload.urls].filter((url) => /^https?:\/\//i.test(url));
}
