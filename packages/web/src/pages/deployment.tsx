import { useEffect, useState, type ReactNode } from 'react';
import type { DeploymentDetail } from '@pave/core';
import type { Session } from '../session.ts';
import { href } from '../router.ts';
import { Command, ErrorMessage, Section, Time, useLoad } from '../components/common.tsx';
import { describeKind, took } from '../components/deployment-history.tsx';

/** How often a deployment that has not finished is fetched again, so its journal grows as it runs. */
const POLL_MS = 2000;
/** The statuses after which a deployment changes no more. */
const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'rejected', 'expired', 'superseded']);

/**
 * One deployment (`#/apps/<app>/envs/<env>/deployments/<id>`), as `pave deployments get` shows it: what it
 * deploys (each workload with the build artifact it came from), who asked for it and when, how it ended and
 * why, and its journal, step by step. A deployment still queued or running is fetched again every two seconds
 * until it ends.
 */
export function DeploymentPage({
  session,
  app,
  env,
  id,
}: {
  session: Session;
  app: string;
  env: string;
  id: string;
}) {
  // Loaded once; while what it loaded is queued or running, again every POLL_MS (`running` is among the
  // dependencies, so it is loaded once more when it ends, and a deployment not found is asked for once).
  const [running, setRunning] = useState(false);
  const shown = useLoad(
    () => session.client.getDeployment(app, env, id),
    [session, app, env, id, running],
    running ? POLL_MS : undefined,
  );
  const deployment = shown.data;
  useEffect(() => setRunning(deployment !== undefined && !FINAL.has(deployment.status)), [deployment]);
  const error = deployment ? undefined : shown.error;

  return (
    <div className="deployment-page">
      <nav aria-label="Breadcrumbs" className="breadcrumbs">
        <a href={href('apps')}>Apps</a> / <a href={href('apps', app)}>{app}</a> /{' '}
        <a href={href('apps', app, 'envs', env)}>{env}</a> / <span aria-current="page">deployment {id}</span>
      </nav>
      <h1>
        Deployment #{id} of {app} / {env}
      </h1>
      <ErrorMessage error={error} />
      {!deployment && !error && <p className="loading">Loading the deployment…</p>}
      {deployment && <DeploymentView app={app} deployment={deployment} />}
      <Command>{`pave deployments get ${id} --app ${app} --env ${env}`}</Command>
    </div>
  );
}

function DeploymentView({ app, deployment: d }: { app: string; deployment: DeploymentDetail }) {
  const fields: [string, ReactNode][] = [
    ['Kind', describeKind(d)],
    [
      'Status',
      <>
        <span className={`status-${d.status}`}>{d.status}</span>
        {d.status === 'failed' && (
          <span className="muted">
            {d.rolledBack ? ' (the previous successful set was restored)' : ' (not rolled back)'}
          </span>
        )}
      </>,
    ],
    ['Set', d.setId ?? <span className="muted">made when the deployment starts</span>],
    [
      'Values',
      d.valuesVersion === null ? (
        <span className="muted">{d.status === 'queued' ? 'pinned when the deployment starts' : '-'}</span>
      ) : (
        `version ${d.valuesVersion}`
      ),
    ],
    ['Workloads', <Workloads key="workloads" app={app} deployment={d} />],
  ];
  if (d.artifactId !== null) {
    fields.push(
      ['Artifact', <a href={href('apps', app, 'delivery')}>artifact {d.artifactId}</a>],
      ['Commit', d.commit ?? '-'],
    );
  }
  fields.push(
    ['By', d.actor],
    ['Message', d.message || <span className="muted">-</span>],
    ['Created', <Time at={d.createdAt} />],
    ['Started', <Time at={d.startedAt} />],
    ['Finished', <Time at={d.finishedAt} />],
    ['Took', took(d)],
  );
  for (const override of d.policyOverrides ?? []) {
    fields.push(['Policy overridden', `${override.id}, by ${override.by}: ${override.reason}`]);
  }

  return (
    <>
      <dl className="deployment-fields">
        {fields.map(([name, value], index) => (
          <div key={`${index}-${name}`}>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {d.reason && (
        <div className="error" role="alert">
          <strong>Why it failed:</strong>
          <pre>{d.reason}</pre>
        </div>
      )}
      <Section title="Journal">
        {d.journal.length === 0 ? (
          <p className="muted">No journal entries yet (the deployment has not started).</p>
        ) : (
          <div className="table-scroll" role="region" aria-label="Journal, scrollable" tabIndex={0}>
            <table aria-label="Journal">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Step</th>
                  <th scope="col">Workload</th>
                  <th scope="col">Status</th>
                  <th scope="col">Message</th>
                </tr>
              </thead>
              <tbody>
                {d.journal.map((entry) => (
                  <tr key={entry.id}>
                    <td>
                      <Time at={entry.at} />
                    </td>
                    <td>{entry.step}</td>
                    <td>{entry.workload ?? <span className="muted">-</span>}</td>
                    <td>
                      <span className={`journal-${entry.status}`}>{entry.status}</span>
                    </td>
                    <td className="journal-message">{entry.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </>
  );
}

/** The set's workloads, each with the build artifact it came from, if any (a set is built by many deployments). */
function Workloads({ app, deployment }: { app: string; deployment: DeploymentDetail }) {
  const { workloads, workloadArtifacts } = deployment;
  if (workloads === null) return <span className="muted">known when the deployment starts</span>;
  if (workloads.length === 0) return <span className="muted">none</span>;
  // Own properties only: a workload may be called `constructor`.
  const artifactOf = (name: string) =>
    workloadArtifacts && Object.hasOwn(workloadArtifacts, name) ? workloadArtifacts[name] : null;
  return (
    <ul className="plain-list">
      {workloads.map((name) => {
        const artifact = artifactOf(name);
        return (
          <li key={name}>
            {name}
            {artifact ? (
              <>
                {' '}
                <span className="muted">
                  from <a href={href('apps', app, 'delivery')}>artifact {artifact}</a>
                </span>
              </>
            ) : (
              <span className="muted"> deployed without an artifact</span>
            )}
          </li>
        );
      })}
    </ul>
  );
}
