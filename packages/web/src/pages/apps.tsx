import { useState, type FormEvent } from 'react';
import { allPages, type App, type RoleGrant } from '@pave/core';
import type { Session } from '../session.ts';
import { href, useArrivalNotice } from '../router.ts';
import {
  Command,
  ErrorMessage,
  FieldError,
  MorePages,
  Section,
  fieldProblems,
  useLoad,
  usePages,
  shellWord,
} from '../components/common.tsx';
import { HealthBadge } from '../components/health-badge.tsx';
import { SyncStatus } from '../components/sync-status.tsx';

// The health of environments is live: a workload that starts crash-looping shows up without a reload.
const HEALTH_POLL_MS = 5000;

/**
 * The apps the user can see, searchable by id or name, each with its owners (when the user may read the app's
 * roles) and its environments with their health beside how their latest deployment went; and, for those who
 * may create apps, a form to create one.
 */
export function AppsPage({ session }: { session: Session }) {
  const apps = usePages((cursor) => session.client.listApps(cursor ? { cursor } : {}), [session]);
  const [search, setSearch] = useState('');
  // What was done on the page the user came from, e.g. "Deleted app shop.".
  const notice = useArrivalNotice();

  const needle = search.trim().toLowerCase();
  const shown = (apps.items ?? []).filter(
    (app) => !needle || app.id.toLowerCase().includes(needle) || app.name.toLowerCase().includes(needle),
  );

  return (
    <>
      <div className="page-head">
        <h1>Apps</h1>
        {session.can('app.create') ? (
          <a className="button" href={href('templates')}>
            New app from template
          </a>
        ) : (
          // The platform team writes templates without creating apps.
          session.can('template.write') && (
            <a className="button" href={href('templates')}>
              Templates
            </a>
          )
        )}
      </div>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <Section title="Apps you can see">
        <label>
          Search apps
          <input
            type="search"
            value={search}
            placeholder="id or name"
            onChange={(event) => setSearch(event.target.value)}
          />
        </label>
        <ErrorMessage error={apps.error} />
        {!apps.items && !apps.error && <p className="loading">Loading apps…</p>}
        {apps.items && apps.items.length === 0 && (
          <p className="muted">
            No apps yet, or none you have a role on (an app&apos;s owner can grant you one).
          </p>
        )}
        {apps.items && apps.items.length > 0 && shown.length === 0 && (
          <p className="muted">
            No app matches “{search.trim()}”{apps.cursor ? ' among the apps loaded' : ''}.
          </p>
        )}
        {shown.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">App</th>
                <th scope="col">Owners</th>
                <th scope="col">Environments</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((app) => (
                <AppRow key={app.id} session={session} app={app} />
              ))}
            </tbody>
          </table>
        )}
        <MorePages pages={apps} label="More apps" />
        <Command>pave apps list</Command>
      </Section>
      {session.can('app.create') && <CreateApp session={session} onCreated={apps.reload} />}
    </>
  );
}

/**
 * One app: its name, its owners if the user may read its roles, and its environments by type with, for those
 * whose status the user may read, their health (a degraded one with its reason) and their latest deployment's
 * result (a failed one with its reason as tooltip), so a failed first deployment does not read as "never
 * deployed".
 */
function AppRow({ session, app }: { session: Session; app: App }) {
  const detail = useLoad(() => session.client.getApp(app.id), [session, app.id]);
  const mayReadStatus = session.can('deployment.read', { app: app.id });
  // Only an app with environments has a health to poll: a page of apps without any sent a request per app
  // every few seconds (20 a second for 100 apps).
  const hasEnvironments = (detail.data?.environments.length ?? 0) > 0;
  const status = useLoad(
    () => (mayReadStatus && hasEnvironments ? session.client.getAppStatus(app.id) : Promise.resolve(null)),
    [session, app.id, mayReadStatus, hasEnvironments],
    HEALTH_POLL_MS,
  );
  const statusOf = (env: string) => status.data?.environments.find((e) => e.envId === env);
  const mayReadRoles = session.can('role.read', { app: app.id });
  const roles = useLoad(
    // Every grant on the app: the owners are among them, on whichever page.
    () =>
      mayReadRoles
        ? allPages((cursor) => session.client.listRoles({ app: app.id, ...(cursor ? { cursor } : {}) }))
        : Promise.resolve(null),
    [session, app.id, mayReadRoles],
  );
  const owners = roles.data?.filter((grant) => grant.role === 'owner') ?? [];

  return (
    <tr>
      <td>
        <a href={href('apps', app.id)}>{app.name}</a>
        {app.name !== app.id && (
          <>
            {' '}
            <code className="muted">{app.id}</code>
          </>
        )}
      </td>
      <td>
        {mayReadRoles && roles.data && (owners.length > 0 ? owners.map(holderName).join(', ') : 'none')}
        {mayReadRoles && <ErrorMessage error={roles.error} />}
      </td>
      <td>
        <ErrorMessage error={detail.error} />
        <ErrorMessage error={status.error} />
        {detail.data && detail.data.environments.length === 0 && <span className="muted">none yet</span>}
        {detail.data && detail.data.environments.length > 0 && (
          <ul className="plain-list inline-list">
            {detail.data.environments.map((env) => {
              const envStatus = statusOf(env.id);
              return (
                <li key={env.id}>
                  <a href={href('apps', app.id, 'envs', env.id)}>{env.id}</a>{' '}
                  <span className="tag">{env.type}</span>
                  {envStatus && (
                    <>
                      <HealthBadge health={envStatus.health} detail={envStatus.healthDetail} />
                      <SyncStatus latest={envStatus.latestDeployment} />
                      {envStatus.health === 'degraded' && envStatus.healthDetail && (
                        <span className="health-detail">{envStatus.healthDetail}</span>
                      )}
                    </>
                  )}
                </li>
              );
            })}
          </ul>
        )}
      </td>
    </tr>
  );
}

/** Who holds a grant, for people: a username, or `team <id>`. */
function holderName(grant: RoleGrant): string {
  return grant.subject.kind === 'team' ? `team ${grant.subject.name}` : grant.subject.name;
}

/** The create-app fields a server problem can point at, named for people. */
const FIELD_NAMES: Record<string, string> = { '/id': 'the app id', '/name': 'the display name' };

/** Creates an app; the creator becomes its owner. */
function CreateApp({ session, onCreated }: { session: Session; onCreated: () => void }) {
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<App | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setCreated(null);
    try {
      const app = await session.client.createApp({
        id: id.trim(),
        ...(name.trim() ? { name: name.trim() } : {}),
      });
      await session.refresh();
      setCreated(app);
      setId('');
      setName('');
      onCreated();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  // The server's problems with the id or name stand under those fields, as sentences.
  const fields = fieldProblems(error, FIELD_NAMES);

  return (
    <Section title="Create app">
      <form onSubmit={submit}>
        <div className="form-row">
          <div className="field">
            <label>
              App id
              <input
                name="id"
                value={id}
                onChange={(event) => setId(event.target.value)}
                required
                placeholder="e.g. shop"
                autoComplete="off"
                {...fields.describe('/id', 'create-app-id-error', 'create-app-id-hint')}
              />
            </label>
            <FieldError id="create-app-id-error" messages={fields.at('/id')} />
            <span id="create-app-id-hint" className="hint">
              A DNS label (lowercase letters, digits, hyphens); it cannot change later.
            </span>
          </div>
          <div className="field">
            <label>
              Display name (optional)
              <input
                name="name"
                value={name}
                onChange={(event) => setName(event.target.value)}
                {...fields.describe('/name', 'create-app-name-error')}
              />
            </label>
            <FieldError id="create-app-name-error" messages={fields.at('/name')} />
          </div>
        </div>
        <button type="submit" className="primary" disabled={busy}>
          Create app
        </button>
      </form>
      <ErrorMessage error={error} shownAtField={fields.shownAtField} />
      {created && (
        <p className="notice" role="status">
          Created app <a href={href('apps', created.id)}>{created.id}</a>; you are its owner.
        </p>
      )}
      <Command>
        {`pave apps create ${id.trim() ? shellWord(id.trim()) : 'ID'}${name.trim() ? ` --name ${shellWord(name.trim())}` : ''}`}
      </Command>
    </Section>
  );
}
