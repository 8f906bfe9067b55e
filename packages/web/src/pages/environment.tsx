import { useMemo, useState, type FormEvent } from 'react';
import type { Deployment } from '@pave/core';
import type { Session } from '../session.ts';
import { href } from '../router.ts';
import {
  Command,
  ErrorMessage,
  FieldError,
  Section,
  Time,
  fieldProblems,
  useAction,
  useLoad,
  usePages,
} from '../components/common.tsx';
import { durationSeconds, ttlProblem } from '../components/duration.ts';
import { WorkloadStatusTable } from '../components/workload-status.tsx';
import { DeploymentHistory } from '../components/deployment-history.tsx';
import { DeploymentDiff } from '../components/deployment-diff.tsx';
import { PromoteAction, RollbackAction } from '../components/deployment-actions.tsx';
import { ResourceGraphView } from '../components/resource-graph.tsx';
import { ResourceDetails } from '../components/resource-details.tsx';
import { ValuesPanel } from '../components/values-panel.tsx';
import { LogsView } from '../components/logs-view.tsx';
import { ApprovalPanel } from '../components/approval-panel.tsx';
import { accessTargetOf, useEnvTypes } from '../components/env-types.ts';

/** How often the workloads' live status is fetched. */
const STATUS_POLL_MS = 2000;
/** How many deployments a page of the history holds: the newest at first, each "Show older" appends one more. */
const HISTORY_PAGE = 50;

/**
 * One environment of an app: its workloads' live status, deployment history with a diff between any two
 * deployments, rollback and promote (each shows its plan first), the resource graph (a resource's details
 * on click), values (secrets masked; set, unset, history, comparison and restoring of versions), live logs,
 * and for an ephemeral environment a form that extends its time to live.
 * Controls the user may not use are hidden; the server decides regardless.
 */
export function EnvironmentPage({ session, app, env }: { session: Session; app: string; env: string }) {
  // Keyed: moving to another environment starts afresh (choices, notices, the log stream).
  return <EnvironmentView key={`${app}/${env}`} session={session} app={app} env={env} />;
}

function EnvironmentView({ session, app, env }: { session: Session; app: string; env: string }) {
  const environment = useLoad(() => session.client.getEnvironment(app, env), [app, env]);
  const appDetail = useLoad(() => session.client.getApp(app), [app]);
  const envTypes = useEnvTypes(session);
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
  const target = accessTargetOf(app, envType, envTypes.data);
  const canRollback = target !== undefined && session.can('deployment.rollback', target);
  const canPromote = target !== undefined && session.can('deployment.create', target);
  const canWriteValues = target !== undefined && session.can('values.write', target);
  const canExtend = target !== undefined && session.can('env.update', target);
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
    setNotice(
      deployment.status === 'awaiting-approval'
        ? `${what} is deployment #${deployment.id}, which awaits approval: someone else must approve it before it runs.`
        : `${what} queued as deployment #${deployment.id}.`,
    );
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
      {canExtend && environment.data?.expiresAt && (
        <ExtendEnvironment session={session} app={app} env={env} onExtended={environment.reload} />
      )}
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
              details={(node) => (
                <ResourceDetails
                  session={session}
                  app={app}
                  env={env}
                  node={node}
                  target={target}
                  onMoved={graph.reload}
                />
              )}
            />
          ) : (
            !graph.error && <p className="muted">Loading…</p>
          )}
          <Command>{`pave resources graph --app ${app} --env ${env}`}</Command>
        </Section>
      )}

      {session.can('values.read', { app }) && (
        <Section title="Values">
          <ValuesPanel
            session={session}
            app={app}
            env={env}
            canWrite={canWriteValues}
            refreshKey={deploymentKey}
          />
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

/** How the extend form names its field in the server's problems. */
const EXTEND_FIELDS = { '/ttlSeconds': 'the time to live' };

/**
 * Sets when an ephemeral environment is deleted, as `pave envs extend --ttl` does: a time to live from now,
 * which may be sooner than before. A duration the form cannot read, and the server's problems with it, stand
 * under the field; the new expiry is said once set.
 */
function ExtendEnvironment({
  session,
  app,
  env,
  onExtended,
}: {
  session: Session;
  app: string;
  env: string;
  onExtended: () => void;
}) {
  const [ttl, setTtl] = useState('');
  const [checked, setChecked] = useState(false);
  const [extended, setExtended] = useState<{ expiresAt: string | null; ttl: string } | null>(null);
  const action = useAction();
  const wrong = ttl.trim() ? ttlProblem(ttl) : 'is needed, e.g. 30m, 12h or 90d';
  const fields = fieldProblems(action.error, EXTEND_FIELDS);
  const messages = [...(checked && wrong ? [`The time to live ${wrong}.`] : []), ...fields.at('/ttlSeconds')];

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setExtended(null);
    const ttlSeconds = durationSeconds(ttl);
    if (ttlSeconds === undefined) {
      setChecked(true);
      return;
    }
    void action.run(async () => {
      const body = await session.client.extendEnvironment(app, env, { ttlSeconds });
      setExtended({ expiresAt: body.expiresAt, ttl: ttl.trim() });
      setTtl('');
      onExtended();
    });
  };

  return (
    <form className="extend-form" aria-label="Extend time to live" onSubmit={submit} noValidate>
      <div className="form-row">
        <label>
          Keep it for
          <input
            name="ttl"
            value={ttl}
            onChange={(event) => {
              setTtl(event.target.value);
              setChecked(false);
            }}
            placeholder="e.g. 48h"
            autoComplete="off"
            aria-invalid={messages.length > 0}
            aria-describedby={`extend-ttl-hint${messages.length > 0 ? ' extend-ttl-error' : ''}`}
          />
        </label>
        <button type="submit" disabled={action.busy}>
          {action.busy ? 'Extending…' : 'Extend'}
        </button>
      </div>
      <FieldError id="extend-ttl-error" messages={messages} />
      <span id="extend-ttl-hint" className="hint">
        How long from now it is kept, in s, m, h or d (sooner than now set, too); then it and its resources
        are deleted.
      </span>
      <ErrorMessage error={action.error} shownAtField={fields.shownAtField} />
      {extended && (
        <p className="notice" role="status">
          {env} now expires <Time at={extended.expiresAt} /> ({extended.ttl} from now); it and its resources
          are deleted then.
        </p>
      )}
      <Command>{`pave envs extend ${env} --app ${app} --ttl ${ttl.trim() || 'DURATION'}`}</Command>
    </form>
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
