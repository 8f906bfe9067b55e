import { useEffect, useState, type ReactNode } from 'react';
import { ApiError, type DeploymentDetail } from '@pave/core';
import type { Session } from '../session.ts';
import { goTo, href, useArrivalNotice } from '../router.ts';
import { Command, ErrorMessage, Section, Time, shellWord, useLoad } from '../components/common.tsx';
import { deploymentRoute, describeKind, took } from '../components/deployment-history.tsx';
import { RollbackAction } from '../components/deployment-actions.tsx';
import { ApprovalPanel } from '../components/approval-panel.tsx';
import { accessTargetOf, useEnvTypes } from '../components/env-types.ts';

/** How often a deployment queued or running is fetched again, so its journal grows as it runs. */
const POLL_MS = 2000;
/** How often one awaiting approval is: that may take days. */
const APPROVAL_POLL_MS = 10_000;
/** The statuses after which a deployment changes no more. */
const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'rejected', 'expired', 'superseded']);

/**
 * One deployment (`#/apps/<app>/envs/<env>/deployments/<id>`), as `pave deployments get` shows it: what it
 * deploys (each workload with the build artifact it came from), who asked for it and when, how it ended and
 * why, and its journal, step by step, with what may be done with it (see DeploymentActions). A deployment
 * that has not ended is fetched again every two seconds (ten while it awaits approval) until it ends.
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
  // Loaded once; while what it loaded has not ended, again every few seconds (`pollMs` is among the
  // dependencies, so it is loaded once more when it ends). A deployment not found (never there, or its
  // environment deleted meanwhile) is not asked for again.
  const [pollMs, setPollMs] = useState<number | undefined>(undefined);
  const shown = useLoad(
    () => session.client.getDeployment(app, env, id),
    [session, app, env, id, pollMs],
    pollMs,
  );
  const deployment = shown.data;
  // What was done here, or on the page before (a rollback queued from there lands here).
  const arrivalNotice = useArrivalNotice();
  const [notice, setNotice] = useState(arrivalNotice);
  const gone = shown.error instanceof ApiError && shown.error.status === 404;
  useEffect(
    () =>
      setPollMs(
        deployment === undefined || FINAL.has(deployment.status) || gone
          ? undefined
          : deployment.status === 'awaiting-approval'
            ? APPROVAL_POLL_MS
            : POLL_MS,
      ),
    [deployment, gone],
  );

  return (
    <div className="deployment-page">
      <nav aria-label="Breadcrumbs" className="breadcrumbs">
        <a href={href('apps')}>Apps</a> / <a href={href('apps', app)}>{app}</a> /{' '}
        <a href={href('apps', app, 'envs', env)}>{env}</a> / <span aria-current="page">deployment {id}</span>
      </nav>
      <h1>
        Deployment #{id} of {app} / {env}
      </h1>
      {/* A poll that failed is said above what was loaded before, which may be out of date. */}
      <ErrorMessage error={shown.error} />
      {!deployment && !shown.error && <p className="loading">Loading the deployment…</p>}
      {notice && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}
      {deployment && (
        <DeploymentActions
          session={session}
          deployment={deployment}
          onChanged={(what) => {
            setNotice(what);
            shown.reload();
          }}
        />
      )}
      {deployment && <DeploymentView app={app} deployment={deployment} />}
      <Command>{`pave deployments get ${shellWord(id)} --app ${shellWord(app)} --env ${shellWord(env)}`}</Command>
    </div>
  );
}

/**
 * What can be done with a deployment, for those who may (the server decides regardless): roll back to it when
 * it succeeded and is not the one that runs (`pave rollback N`: its set and values again, as a new deployment,
 * whose page is then shown), cancel it while it is queued or awaits approval (`pave deployments cancel`), and
 * approve or reject it while it awaits approval, as on the environment's page.
 */
function DeploymentActions({
  session,
  deployment,
  onChanged,
}: {
  session: Session;
  deployment: DeploymentDetail;
  onChanged: (notice: string) => void;
}) {
  const { appId: app, envId: env, id } = deployment;
  const environment = useLoad(() => session.client.getEnvironment(app, env), [session, app, env]);
  const envTypes = useEnvTypes(session);
  const status = useLoad(() => session.client.getStatus(app, env), [session, app, env, deployment.status]);
  const [cancelError, setCancelError] = useState<unknown>(null);
  const target = accessTargetOf(app, environment.data?.type, envTypes.data);
  const current = status.data?.currentDeployment ?? null;
  const mayRollBack =
    target !== undefined &&
    session.can('deployment.rollback', target) &&
    status.data !== undefined &&
    deployment.status === 'succeeded' &&
    deployment.setId !== null &&
    deployment.id !== current?.id;
  const mayCancel =
    target !== undefined &&
    session.can('deployment.create', target) &&
    (deployment.status === 'queued' || deployment.status === 'awaiting-approval');
  const cancel = () => {
    setCancelError(null);
    session.client
      .cancelDeployment(app, env, id)
      .then(() => onChanged(`Deployment #${id} is cancelled; it will not run.`))
      .catch(setCancelError);
  };

  return (
    <>
      {deployment.status === 'awaiting-approval' && (
        <ApprovalPanel
          session={session}
          app={app}
          env={env}
          target={target}
          refreshKey={deployment.status}
          onDecided={(decided, verb) => onChanged(`Deployment #${decided.id} is ${verb}.`)}
        />
      )}
      {(mayRollBack || mayCancel) && (
        <div className="deployment-actions">
          {mayRollBack && (
            <RollbackAction
              session={session}
              app={app}
              env={env}
              deployments={[]}
              current={current}
              ready
              to={deployment}
              onQueued={(queued) =>
                goTo(`Rollback to #${id} queued as deployment #${queued.id}.`, ...deploymentRoute(queued))
              }
            />
          )}
          {mayCancel && (
            <div className="action">
              <button type="button" onClick={cancel} title={`Cancel deployment #${id} before it starts`}>
                Cancel deployment
              </button>
              <Command>{`pave deployments cancel ${id} --app ${app} --env ${env}`}</Command>
            </div>
          )}
        </div>
      )}
      <ErrorMessage error={cancelError} />
    </>
  );
}

function DeploymentView({ app, deployment: d }: { app: string; deployment: DeploymentDetail }) {
  // A deployment that may still start; one cancelled, rejected or expired before it did never will.
  const notStarted = d.status === 'queued' || d.status === 'awaiting-approval';
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
    ['Set', d.setId ?? <span className="muted">{notStarted ? 'made when the deployment starts' : '-'}</span>],
    [
      'Values',
      d.valuesVersion === null ? (
        <span className="muted">{notStarted ? 'pinned when the deployment starts' : '-'}</span>
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
  if (workloads === null) {
    const waiting = deployment.status === 'queued' || deployment.status === 'awaiting-approval';
    return <span className="muted">{waiting ? 'known when the deployment starts' : '-'}</span>;
  }
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
