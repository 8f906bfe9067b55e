import { useRef, useState, type FormEvent, type ReactNode } from 'react';
import {
  allPages,
  type AppDetail,
  type EnvType,
  type Environment,
  type EnvironmentStatus,
  type FieldProblem,
} from '@pave/core';
import type { Session } from '../session.ts';
import { goTo, href } from '../router.ts';
import {
  Command,
  ConfirmAction,
  ErrorMessage,
  FieldError,
  LoadStatus,
  MorePages,
  Section,
  Time,
  fieldProblems,
  problemsOf,
  useLoad,
  usePages,
} from '../components/common.tsx';
import { WebhooksPanel } from '../components/webhooks-panel.tsx';
import { AppTabs } from '../components/app-tabs.tsx';
import { SyncStatus } from '../components/sync-status.tsx';
import { urlsOf } from '../components/workload-status.tsx';
import { durationSeconds, ttlProblem } from '../components/duration.ts';

/** How often the environments' status is fetched again while the page is open. */
const STATUS_POLL_MS = 5000;

/**
 * One app: its environments with their current deployment, live status, type and expiry; a form to create an
 * environment and a button to delete one; its webhooks with their recent deliveries; and, set apart in a
 * "Danger zone", deleting the app itself. Each is shown only to those who may.
 */
export function AppPage({ session, app }: { session: Session; app: string }) {
  const detail = useLoad(() => session.client.getApp(app), [session, app]);
  // A page at a time (an app with many preview environments has a long list); a reload after a change keeps
  // the pages shown.
  const envs = usePages(
    (cursor) => session.client.listEnvironments(app, cursor ? { cursor } : {}),
    [session, app],
    { keepDepth: true },
  );
  // The types are the choices of the new-environment form: all of them, page after page.
  const envTypes = useLoad(
    async () => ({
      items: await allPages((cursor) => session.client.listEnvTypes(cursor ? { cursor } : {})),
    }),
    [session],
  );
  const [deleting, setDeleting] = useState<Environment | null>(null);
  const [deleted, setDeleted] = useState<string | null>(null);
  // The button that opened the confirmation, to give focus back to when it is cancelled.
  const opener = useRef<HTMLElement | null>(null);

  const types = envTypes.data?.items ?? [];
  // Until the types are known, treat every type as restricted so nothing is offered that may be refused.
  const restricted = (type: string) => types.find((t) => t.id === type)?.restricted ?? !envTypes.data;
  const mayDelete = (env: Environment) =>
    session.can('env.delete', { app, envType: env.type, restricted: restricted(env.type) });
  // A restricted type, or a clone of a restricted environment, needs the deployer role on that type too.
  const mayCreateAs = (type: string) =>
    session.can('env.create', { app, envType: type, restricted: restricted(type) });
  const items = envs.items ?? [];
  const anyDeletable = items.some(mayDelete);
  // Deleting the app deletes its environments: those of a restricted type need env.delete there too.
  const mayDeleteApp =
    session.can('app.delete', { app }) &&
    (detail.data?.environments ?? []).every(
      (env) =>
        !restricted(env.type) || session.can('env.delete', { app, envType: env.type, restricted: true }),
    );
  const [deletingApp, setDeletingApp] = useState(false);
  const reload = () => {
    envs.reload();
    detail.reload();
  };

  // Without the app (not found, not allowed), its environments and webhooks fail alike: say why once.
  if (detail.error && !detail.data) {
    return (
      <>
        <p className="breadcrumbs">
          <a href={href('apps')}>← All apps</a>
        </p>
        <h1>{app}</h1>
        <ErrorMessage error={detail.error} />
      </>
    );
  }

  return (
    <>
      <p className="breadcrumbs">
        <a href={href('apps')}>← All apps</a>
      </p>
      <div className="page-head">
        <h1>
          {detail.data?.name ?? app}
          {detail.data && detail.data.name !== app && (
            <>
              {' '}
              <code className="muted">{app}</code>
            </>
          )}
        </h1>
        {session.can('audit.read', { app }) && <a href={href('audit', app)}>Audit log of {app}</a>}
      </div>
      <AppTabs app={app} current="environments" />
      <ErrorMessage error={detail.error} />
      <Command>{`pave apps get ${app}`}</Command>

      <Section title="Environments">
        <LoadStatus
          state={{ data: envs.items && { items: envs.items }, error: envs.error }}
          what="environments"
          empty="No environments yet."
        />
        {deleted && (
          <p className="notice" role="status">
            Deleted environment {deleted}.
          </p>
        )}
        {items.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">Environment</th>
                <th scope="col">Type</th>
                <th scope="col">Current deployment</th>
                <th scope="col">Workloads</th>
                <th scope="col">Expires</th>
                {anyDeletable && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {items.map((env) => (
                <EnvironmentRow
                  key={env.id}
                  session={session}
                  env={env}
                  restricted={restricted(env.type)}
                  actions={
                    !anyDeletable ? undefined : mayDelete(env) ? (
                      <button
                        type="button"
                        className="danger"
                        aria-label={`Delete environment ${env.id}`}
                        onClick={(event) => {
                          setDeleted(null);
                          opener.current = event.currentTarget;
                          setDeleting(env);
                        }}
                      >
                        Delete
                      </button>
                    ) : (
                      <span className="muted">-</span>
                    )
                  }
                />
              ))}
            </tbody>
          </table>
        )}
        <MorePages pages={envs} label="More environments" />
        <Command>{`pave envs list --app ${app}`}</Command>
        <Command>{`pave status --app ${app} --env ENV`}</Command>
      </Section>

      {session.can('env.create', { app }) && (
        <CreateEnvironment
          session={session}
          app={app}
          types={types.filter((t) => mayCreateAs(t.id))}
          typesError={envTypes.error}
          // Every environment, not only the pages shown: the app's detail lists them all.
          environments={(detail.data?.environments ?? []).filter((env) => mayCreateAs(env.type))}
          onCreated={reload}
        />
      )}

      <WebhooksPanel session={session} app={app} />

      {mayDeleteApp && detail.data && (
        <Section title="Danger zone" className="danger-zone">
          <div className="danger-zone-row">
            <div>
              <strong>Delete this app</strong>
              <p className="hint">
                Deletes {app} with its deployments, values, webhooks and role grants, and (when you say so)
                its environments with their workloads and resources. This cannot be undone.
              </p>
            </div>
            <button
              type="button"
              className="danger"
              onClick={(event) => {
                opener.current = event.currentTarget;
                setDeletingApp(true);
              }}
            >
              Delete app
            </button>
          </div>
          <Command>{`pave apps delete ${app}`}</Command>
        </Section>
      )}

      {deletingApp && detail.data && (
        <DeleteApp
          session={session}
          app={detail.data}
          onCancel={() => {
            setDeletingApp(false);
            opener.current?.focus();
          }}
        />
      )}

      {deleting && (
        <DeleteEnvironment
          session={session}
          env={deleting}
          onDone={() => {
            setDeleted(deleting.id);
            setDeleting(null);
            reload();
          }}
          onCancel={() => {
            setDeleting(null);
            opener.current?.focus();
          }}
        />
      )}
    </>
  );
}

/** One environment: its type, current (and pending) deployment, workloads' status and expiry. */
function EnvironmentRow({
  session,
  env,
  restricted,
  actions,
}: {
  session: Session;
  env: Environment;
  restricted: boolean;
  /** The actions cell; undefined when the table has no actions column. */
  actions?: ReactNode;
}) {
  const status = useLoad(
    () => session.client.getStatus(env.appId, env.id),
    [session, env.appId, env.id],
    STATUS_POLL_MS,
  );
  return (
    <tr>
      <th scope="row" className="row-head">
        <a href={href('apps', env.appId, 'envs', env.id)}>{env.id}</a>
      </th>
      <td>
        {env.type}
        {restricted && <span className="tag">restricted</span>}
      </td>
      <td>{status.data ? <DeploymentCell status={status.data} /> : <ErrorMessage error={status.error} />}</td>
      <td>{status.data && <WorkloadsCell status={status.data} />}</td>
      <td>{env.expiresAt ? <Time at={env.expiresAt} /> : <span className="muted">never</span>}</td>
      {actions !== undefined && <td>{actions}</td>}
    </tr>
  );
}

/**
 * The deployment that runs in an environment, by whom and when; the latest one when it failed after that (or
 * failed first, so the environment does not read as never deployed to); then any under way.
 */
function DeploymentCell({ status }: { status: EnvironmentStatus }) {
  const { currentDeployment: current, pendingDeployment: pending, latestDeployment: latest } = status;
  const failed =
    latest?.status === 'failed' && latest.id !== current?.id && latest.id !== pending?.id ? latest : null;
  return (
    <>
      {current ? (
        <div>
          #{current.id} {current.kind} <span className={`status-${current.status}`}>{current.status}</span>
          <br />
          <span className="hint">
            by {current.actor}, <Time at={current.finishedAt ?? current.startedAt ?? current.createdAt} />
          </span>
        </div>
      ) : (
        !failed && <span className="muted">nothing deployed yet</span>
      )}
      {failed && (
        <div>
          <SyncStatus latest={failed} />
        </div>
      )}
      {pending && (
        <div className="hint">
          #{pending.id} {pending.kind} {pending.status}
        </div>
      )}
    </>
  );
}

function WorkloadsCell({ status }: { status: EnvironmentStatus }) {
  if (status.workloads.length === 0) return <span className="muted">none running</span>;
  const ready = status.workloads.filter((w) => w.state === 'ready').length;
  return (
    <>
      <div>
        {ready} of {status.workloads.length} ready
      </div>
      <ul className="plain-list">
        {status.workloads.map((w) => (
          <li key={w.workload}>
            {w.workload}: <span className={`state-${w.state}`}>{w.state}</span>
            {w.restarts > 0 && <span className="hint"> ({w.restarts} restarts)</span>}
            {w.detail && <span className="hint"> — {w.detail}</span>}
            {urlsOf(w).map((url) => (
              <div key={url}>
                <a href={url} target="_blank" rel="noreferrer">
                  {url}
                </a>
              </div>
            ))}
          </li>
        ))}
      </ul>
    </>
  );
}

/** Asks before deleting an environment, saying what is lost, and deletes it. */
function DeleteEnvironment({
  session,
  env,
  onDone,
  onCancel,
}: {
  session: Session;
  env: Environment;
  onDone: () => void;
  onCancel: () => void;
}) {
  return (
    <ConfirmAction
      title={`Delete environment ${env.id}?`}
      confirmLabel="Delete environment"
      busyLabel="Deleting…"
      action={() => session.client.deleteEnvironment(env.appId, env.id)}
      onDone={onDone}
      onCancel={onCancel}
      command={`pave envs delete ${env.id} --app ${env.appId}`}
    >
      <p>
        This stops the workloads of <strong>{env.id}</strong> ({env.type}) and deletes its resources:
        databases are dropped and their data is lost. This cannot be undone.
      </p>
    </ConfirmAction>
  );
}

/** Whether a problem is the server's refusal to delete an app that still has environments without `force`. */
const atForce = (problem: FieldProblem) => problem.path === 'force';

/**
 * Asks before deleting an app, with its name typed to confirm (as GitHub asks before deleting a repository),
 * and deletes it; with its environments only when the box is ticked (`--force`), else the server refuses
 * while it has any and the box says why. Then goes back to the apps list, which says it is deleted.
 */
function DeleteApp({ session, app, onCancel }: { session: Session; app: AppDetail; onCancel: () => void }) {
  const [force, setForce] = useState(false);
  const environments = app.environments.map((env) => env.id);
  return (
    <ConfirmAction
      title={`Delete app ${app.id}?`}
      confirmLabel="Delete this app"
      busyLabel="Deleting…"
      action={() => session.client.deleteApp(app.id, { force })}
      onDone={() => goTo(`Deleted app ${app.id}.`, 'apps')}
      onCancel={onCancel}
      command={`pave apps delete ${app.id}${force ? ' --force' : ''}`}
      typeToConfirm={app.id}
      shownAtField={(problem) => environments.length > 0 && atForce(problem)}
    >
      {(error) => {
        const refused = problemsOf(error).some(atForce);
        return (
          <>
            <p>
              This deletes <strong>{app.name}</strong> ({app.id}) with its deployments, values, webhooks and
              role grants. This cannot be undone.
            </p>
            {environments.length > 0 && (
              <div className="field">
                <label className="checkbox">
                  <input
                    type="checkbox"
                    name="force"
                    checked={force}
                    onChange={(event) => setForce(event.target.checked)}
                    aria-invalid={refused}
                    aria-describedby={refused ? 'delete-app-force-error' : undefined}
                  />
                  Also delete its environments ({environments.join(', ')}), their workloads and resources:
                  databases are dropped
                </label>
                <FieldError
                  id="delete-app-force-error"
                  messages={
                    refused ? ['Tick this box to delete them with the app, or delete them first.'] : []
                  }
                />
              </div>
            )}
          </>
        );
      }}
    </ConfirmAction>
  );
}

/** The create-environment fields a server problem can point at, named for people. */
const FIELD_NAMES: Record<string, string> = {
  '/id': 'the environment id',
  '/type': 'the type',
  '/from': 'the environment to clone from',
  '/ttlSeconds': 'the time to live',
};

/** Creates an environment: fresh, cloned from another one (optionally with its data), and optionally ephemeral. */
function CreateEnvironment({
  session,
  app,
  types,
  typesError,
  environments,
  onCreated,
}: {
  session: Session;
  app: string;
  types: EnvType[];
  typesError: unknown;
  environments: AppDetail['environments'];
  onCreated: () => void;
}) {
  const [id, setId] = useState('');
  const [type, setType] = useState('');
  const [from, setFrom] = useState('');
  const [withData, setWithData] = useState(false);
  const [ttl, setTtl] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<{ id: string; cloned: boolean } | null>(null);

  const chosenType = type || types[0]?.id || '';
  const ttlSeconds = ttl.trim() ? durationSeconds(ttl) : undefined;
  const ttlInvalid = ttl.trim() !== '' && ttlSeconds === undefined;
  const ttlWrong = ttlProblem(ttl);
  const [ttlShown, setTtlShown] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setCreated(null);
    if (ttlInvalid) {
      // Said at the field, as the server's problems are.
      setTtlShown(true);
      return;
    }
    setBusy(true);
    try {
      const env = await session.client.createEnvironment(app, {
        id: id.trim(),
        type: chosenType,
        ...(from ? { from, ...(withData ? { withData: true } : {}) } : {}),
        ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
      });
      setCreated({ id: env.id, cloned: Boolean(from) });
      setId('');
      setFrom('');
      setWithData(false);
      setTtl('');
      onCreated();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  // The server's problems with the id or type stand under those fields, as sentences.
  const fields = fieldProblems(error, FIELD_NAMES);

  const command = [
    `pave envs create ${id.trim() || 'ENV'} --app ${app} --type ${chosenType || 'TYPE'}`,
    from && ` --from ${from}`,
    from && withData && ' --with-data',
    ttl.trim() && ` --ttl ${ttl.trim()}`,
  ]
    .filter(Boolean)
    .join('');

  return (
    <Section title="Create environment">
      <ErrorMessage error={typesError} />
      <form onSubmit={submit}>
        <div className="form-row">
          <div className="field">
            <label>
              Environment id
              <input
                name="id"
                value={id}
                onChange={(event) => setId(event.target.value)}
                required
                placeholder="e.g. dev"
                autoComplete="off"
                {...fields.describe('/id', 'create-env-id-error')}
              />
            </label>
            <FieldError id="create-env-id-error" messages={fields.at('/id')} />
          </div>
          <div className="field">
            <label>
              Type
              <select
                name="type"
                value={chosenType}
                onChange={(event) => setType(event.target.value)}
                required
                {...fields.describe('/type', 'create-env-type-error')}
              >
                {types.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.id}
                    {t.restricted ? ' (restricted)' : ''}
                  </option>
                ))}
              </select>
            </label>
            <FieldError id="create-env-type-error" messages={fields.at('/type')} />
          </div>
          <label>
            Clone from (optional)
            <select
              name="from"
              value={from}
              onChange={(event) => {
                setFrom(event.target.value);
                if (!event.target.value) setWithData(false);
              }}
            >
              <option value="">Nothing: start empty</option>
              {environments.map((env) => (
                <option key={env.id} value={env.id}>
                  {env.id}
                </option>
              ))}
            </select>
          </label>
          <FieldError id="create-env-from-error" messages={fields.at('/from')} />
          <div className="field">
            <label>
              Time to live (optional)
              <input
                name="ttl"
                value={ttl}
                onChange={(event) => {
                  setTtl(event.target.value);
                  setTtlShown(false);
                }}
                placeholder="e.g. 48h"
                autoComplete="off"
                aria-invalid={ttlInvalid}
                aria-describedby="create-env-ttl-hint create-env-ttl-error"
              />
            </label>
            <span id="create-env-ttl-hint" className="hint">
              Makes it ephemeral: deleted with its resources after this long (s, m, h or d).
            </span>
            <FieldError
              id="create-env-ttl-error"
              messages={[
                ...(ttlShown && ttlWrong ? [`The time to live ${ttlWrong}.`] : []),
                ...fields.at('/ttlSeconds'),
              ]}
            />
          </div>
        </div>
        <label className="checkbox">
          <input
            type="checkbox"
            name="withData"
            checked={withData}
            disabled={!from}
            onChange={(event) => setWithData(event.target.checked)}
          />
          With data (copy the source environment&apos;s databases)
        </label>
        <button type="submit" className="primary" disabled={busy || !chosenType}>
          Create environment
        </button>
      </form>
      <ErrorMessage error={error} shownAtField={fields.shownAtField} />
      {created && (
        <p className="notice" role="status">
          Created environment <a href={href('apps', app, 'envs', created.id)}>{created.id}</a>
          {created.cloned ? '; a clone deployment is queued.' : '.'}
        </p>
      )}
      <Command>{command}</Command>
    </Section>
  );
}
