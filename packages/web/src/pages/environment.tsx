import { useMemo, useState } from 'react';
import { allPages, type AccessTarget, type Deployment } from '@pave/core';
import type { Session } from '../session.ts';
import { href } from '../router.ts';
import { Command, ErrorMessage, Section, Time, useLoad, usePages } from '../components/common.tsx';
import { WorkloadStatusTable } from '../components/workload-status.tsx';
import { DeploymentHistory } from '../components/deployment-history.tsx';
import { DeploymentDiff } from '../components/deployment-diff.tsx';
import { PromoteAction, RollbackAction } from '../components/deployment-actions.tsx';
import { ResourceGraphView } from '../components/resource-graph.tsx';
import { ResourceDetails } from '../components/resource-details.tsx';
import { ValuesPanel } from '../components/values-panel.tsx';
import { LogsView } from '../components/logs-view.tsx';
import { ApprovalPanel } from '../components/approval-panel.tsx';

/** How often the workloads' live status is fetched. */
const STATUS_POLL_MS = 2000;
/** How many deployments a page of the history holds: the newest at first, each "Show older" appends one more. */
const HISTORY_PAGE = 50;

/**
 * One environment of an app: its workloads' live status, deployment history with a diff between any two
 * deployments, rollback and promote (each shows its plan first), the resource graph (a resource's details
 * on click), values (secrets masked; set, unset, history and comparison of versions) and live logs.
 * Controls the user may not use are hidden; the server decides regardless.
 */
export function EnvironmentPage({ session, app, env }: { session: Session; app: string; env: string }) {
  // Keyed: moving to another environment starts afresh (choices, notices, the log stream).
  return <EnvironmentView key={`${app}/${env}`} session={session} app={app} env={env} />;
}

function EnvironmentView({ session, app, env }: { session: Session; app: string; env: string }) {
  const environment = useLoad(() => session.client.getEnvironment(app, env), [app, env]);
  const appDetail = useLoad(() => session.client.getApp(app), [app]);
  const envTypes = useLoad(
    async () => ({
      items: await allPages((cursor) => session.client.listEnvTypes(cursor ? { cursor } : {})),
    }),
    [],
  );
  const status = useLoad(() => session.client.getStatus(app, env), [app, env], STATUS_POLL_MS);
  const current = status.data?.currentDeployment ?? null;
  const pending = status.data?.pendingDeployment ?? null;
  // The history is fetched again whenever the status shows a deployment asked for (awaiting approval too),
  // queued, progressing or finished.
  const latest = status.data?.latestDeployment ?? null;
  const deploymentKey = status.data
    ? `${current?.id}|${pending?.id}|${pending?.status}|${latest?.id}|${latest?.status}`
    : 'loading';
  const [notice, setNotice] = useState<string | null>(null);
  // Refreshed with the status, keeping the older deployments the user paged to (the view is keyed by app/env).
  const history = usePages(
    (cursor) =>
      session.client.listDeployments(app, env, { limit: HISTORY_PAGE, ...(cursor ? { cursor } : {}) }),
    [app, env, deploymentKey],
    { keepDepth: true },
  );
  const graph = useLoad(() => session.client.resourceGraph(app, env), [app, env, current?.id]);

  const envType = environment.data?.type ?? appDetail.data?.environments.find((e) => e.id === env)?.type;
  const typeInfo = envTypes.data?.items.find((t) => t.id === envType);
  // Until the type (and whether it is restricted) is known, actions that depend on it stay hidden.
  const target: AccessTarget | undefined =
    envType && envTypes.data ? { app, envType, restricted: typeInfo?.restricted ?? false } : undefined;
  const canRollback = target !== undefined && session.can('deployment.rollback', target);
  const canPromote = target !== undefined && session.can('deployment.create', target);
  const canWriteValues = target !== undefined && session.can('values.write', target);
  const sources = (appDetail.data?.environments ?? []).map((e) => e.id).filter((id) => id !== env);
  // The environment to promote from: the one picked, else the first; the CLI hint below names it too.
  const [pickedSource, pickSource] = useState('');
  const promoteSource = sources.includes(pickedSource) ? pickedSource : (sources[0] ?? '');
  // Stable while the set of workloads is, so that the (memoized) logs view does not re-render on every poll.
  const workloadList = (status.data?.workloads ?? []).map((w) => w.workload).join(' ');
  const workloadNames = useMemo(() => workloadList.split(' ').filter(Boolean), [workloadList]);
  const deployments = history.items ?? [];

  const [cancelError, setCancelError] = useState<unknown>(null);
  const cancel = (deployment: Deployment) => {
    setCancelError(null);
    session.client
      .cancelDeployment(app, env, deployment.id)
      .then(() => {
        setNotice(`Deployment #${deployment.id} is cancelled; it will not run.`);
        history.reload();
        status.reload();
      })
      .catch(setCancelError);
  };
  const queued = (what: string) => (deployment: Deployment) => {
    setNotice(`${what} queued as deployment #${deployment.id}.`);
    history.reload();
    status.reload();
  };

  if (environment.error && !environment.data) {
    return (
      <>
        <Breadcrumbs app={app} env={env} />
        <h1>
          {app} / {env}
        </h1>
        <ErrorMessage error={environment.error} />
      </>
    );
  }

  return (
    <div className="environment-page">
      <Breadcrumbs app={app} env={env} />
      <div className="page-head">
        <h1>
          {app} / {env}
        </h1>
        {envType && (
          <span className="badge" title={typeInfo?.description}>
            {envType}
            {typeInfo?.restricted ? ' · restricted' : ''}
          </span>
        )}
        {environment.data?.expiresAt && (
          <span className="muted">
            expires <Time at={environment.data.expiresAt} />
          </span>
        )}
      </div>
      {/* Without the environment types, the actions that depend on them stay hidden: say why. */}
      {!envTypes.data && <ErrorMessage error={envTypes.error} />}

      <Section title="Workloads">
        <ErrorMessage error={status.error} />
        {status.data ? (
          <WorkloadStatusTable status={status.data} />
        ) : (
          !status.error && <p className="muted">Loading…</p>
        )}
        <Command>{`pave status --app ${app} --env ${env}`}</Command>
      </Section>

      {session.can('deployment.read', { app }) && (
        <ApprovalPanel
          session={session}
          app={app}
          env={env}
          target={target}
          refreshKey={`${deploymentKey}|${notice ?? ''}`}
          onDecided={(deployment, verb) => {
            setNotice(`Deployment #${deployment.id} is ${verb}.`);
            history.reload();
            status.reload();
          }}
        />
      )}

      <Section
        title="Deployments"
        actions={
          (canRollback || canPromote) && (
            <div className="deployment-actions">
              {canRollback && (
                <RollbackAction
                  session={session}
                  app={app}
                  env={env}
                  deployments={deployments}
                  current={current}
                  ready={Boolean(history.items && status.data)}
                  onQueued={queued('Rollback')}
                />
              )}
              {canPromote && (
                <PromoteAction
                  session={session}
                  app={app}
                  env={env}
                  sources={sources}
                  source={promoteSource}
                  onSourceChange={pickSource}
                  onQueued={queued('Promotion')}
                />
              )}
            </div>
          )
        }
      >
        {notice && (
          <p role="status" className="notice">
            {notice}
          </p>
        )}
        <ErrorMessage error={history.error} />
        <ErrorMessage error={cancelError} />
        {history.items ? (
          <DeploymentHistory
            deployments={deployments}
            currentId={current?.id}
            onCancel={canPromote ? cancel : undefined}
          />
        ) : (
          !history.error && <p className="muted">Loading…</p>
        )}
        <ErrorMessage error={history.moreError} />
        {history.cursor && (
          <button type="button" onClick={() => void history.more()} disabled={history.busy}>
            Show older deployments
          </button>
        )}
        <Command>{`pave deployments list --app ${app} --env ${env}`}</Command>
        {canRollback && <Command>{`pave rollback --app ${app} --env ${env}`}</Command>}
        {canPromote && sources.length > 0 && (
          <Command>{`pave promote --app ${app} --from ${promoteSource} --to ${env}`}</Command>
        )}
      </Section>

      {session.can('deployment.read', { app }) && (
        <Section title="Compare deployments">
          <DeploymentDiff session={session} app={app} env={env} deployments={deployments} />
        </Section>
      )}

      {session.can('resource.read', { app }) && (
        <Section title="Resource graph">
          <ErrorMessage error={graph.error} />
          {graph.data ? (
            <ResourceGraphView
              graph={graph.data}
              workloads={workloadNames}
              details={(node) => <ResourceDetails session={session} app={app} env={env} node={node} />}
            />
          ) : (
            !graph.error && <p className="muted">Loading…</p>
          )}
          <Command>{`pave resources graph --app ${app} --env ${env}`}</Command>
        </Section>
      )}

      {session.can('values.read', { app }) && (
        <Section title="Values">
          <ValuesPanel session={session} app={app} env={env} canWrite={canWriteValues} />
        </Section>
      )}

      {session.can('logs.read', { app }) && (
        <Section title="Logs">
          <LogsView session={session} app={app} env={env} workloads={workloadNames} />
        </Section>
      )}
    </div>
  );
}

function Breadcrumbs({ app, env }: { app: string; env: string }) {
  return (
    <nav aria-label="Breadcrumbs" className="breadcrumbs">
      <a href={href('apps')}>Apps</a> / <a href={href('apps', app)}>{app}</a> /{' '}
      <span aria-current="page">{env}</span>
    </nav>
  );
}
