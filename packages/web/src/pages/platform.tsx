import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent, type Ref } from 'react';
import {
  APP_ROLES,
  allPages,
  ENV_TYPE_ROLES,
  ORG_ROLES,
  type EnvType,
  type LoginFailuresCleared,
  type PasswordChanged,
  type Permission,
  type RoleGrant,
  type RoleGrantBody,
  type UpdateEnvTypeBody,
  type User,
} from '@pave/core';
import type { Session } from '../session.ts';
import { href } from '../router.ts';
import {
  Command,
  ConfirmAction,
  ErrorMessage,
  FieldError,
  LoadStatus,
  MorePages,
  Section,
  fieldProblems,
  focusedElement,
  type FieldProblems,
  shellWord,
  Time,
  useAction,
  useLoad,
  usePages,
} from '../components/common.tsx';
import { SetPasswordDialog } from '../components/set-password-dialog.tsx';
import { TeamsTab } from './platform-teams.tsx';
import { PoliciesTab } from './platform-policies.tsx';
import { ProfilesTab } from './platform-profiles.tsx';
import { OrgWebhooksTab } from './platform-webhooks.tsx';
import { DefinitionsTab } from './platform-definitions.tsx';
import { TargetsTab } from './platform-targets.tsx';

/** The platform page's tabs, in order, each with the permission needed to see it. */
const TABS = [
  { id: 'definitions', label: 'Resource definitions', permission: 'definition.read' },
  { id: 'env-types', label: 'Environment types', permission: 'env-type.read' },
  { id: 'targets', label: 'Runtime targets', permission: 'target.read' },
  { id: 'policies', label: 'Policies', permission: 'policy.read' },
  { id: 'profiles', label: 'Workload profiles', permission: 'profile.read' },
  { id: 'webhooks', label: 'Org-wide webhooks', permission: 'webhook.manage-org' },
  { id: 'users', label: 'Users', permission: 'user.read' },
  { id: 'teams', label: 'Teams', permission: 'user.read' },
  { id: 'roles', label: 'Roles', permission: 'user.read' },
] as const satisfies ReadonlyArray<{ id: string; label: string; permission: Permission }>;

type TabId = (typeof TABS)[number]['id'];

/** Whether the user may read any of the platform page's tabs, so that the navigation links to it. */
export function mayOpenPlatform(session: Session): boolean {
  return TABS.some((tab) => session.can(tab.permission));
}

/**
 * What the platform team configures, one tab each (`#/platform/<tab>`): resource definitions, environment
 * types, runtime targets, policies, workload profiles, org-wide webhooks, users, teams and roles. Only the tabs the user may read are shown; an unknown or
 * hidden tab in the route shows the first one the user may read.
 */
export function PlatformPage({ session, tab }: { session: Session; tab?: string | undefined }) {
  const tabs = TABS.filter((t) => session.can(t.permission));
  const current = tabs.find((t) => t.id === tab) ?? tabs[0];
  const buttons = useRef(new Map<TabId, HTMLButtonElement>());

  if (!current) {
    return (
      <>
        <h1>Platform</h1>
        <p className="muted">Your roles do not let you see the platform configuration.</p>
      </>
    );
  }

  const select = (id: TabId) => {
    window.location.hash = href('platform', id);
    buttons.current.get(id)?.focus();
  };
  // Arrow keys, Home and End move between tabs, as the WAI-ARIA tabs pattern has it.
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = tabs.indexOf(current);
    const next =
      event.key === 'ArrowRight'
        ? tabs[(index + 1) % tabs.length]
        : event.key === 'ArrowLeft'
          ? tabs[(index - 1 + tabs.length) % tabs.length]
          : event.key === 'Home'
            ? tabs[0]
            : event.key === 'End'
              ? tabs[tabs.length - 1]
              : undefined;
    if (!next) return;
    event.preventDefault();
    select(next.id);
  };

  return (
    <>
      <h1>Platform</h1>
      <div role="tablist" aria-label="Platform settings" className="tabs tabs-wrap" onKeyDown={onKeyDown}>
        {tabs.map((t) => (
          <button
            key={t.id}
            ref={(element) => {
              if (element) buttons.current.set(t.id, element);
              else buttons.current.delete(t.id);
            }}
            id={`platform-tab-${t.id}`}
            role="tab"
            type="button"
            aria-selected={t.id === current.id}
            aria-controls="platform-panel"
            tabIndex={t.id === current.id ? 0 : -1}
            onClick={() => select(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="platform-panel" aria-labelledby={`platform-tab-${current.id}`}>
        {current.id === 'definitions' && <DefinitionsTab session={session} />}
        {current.id === 'env-types' && <EnvTypesTab session={session} />}
        {current.id === 'targets' && <TargetsTab session={session} />}
        {current.id === 'policies' && <PoliciesTab session={session} />}
        {current.id === 'profiles' && <ProfilesTab session={session} />}
        {current.id === 'webhooks' && <OrgWebhooksTab session={session} />}
        {current.id === 'users' && <UsersTab session={session} />}
        {current.id === 'teams' && <TeamsTab session={session} />}
        {current.id === 'roles' && <RolesTab session={session} />}
      </div>
    </>
  );
}

// Environment types

function EnvTypesTab({ session }: { session: Session }) {
  // keepDepth: creating or changing a type reloads as many pages as were shown.
  const envTypes = usePages((cursor) => session.client.listEnvTypes(cursor ? { cursor } : {}), [session], {
    keepDepth: true,
  });
  const mayWrite = session.can('env-type.write');
  const [editing, setEditing] = useState<EnvType | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  // The Edit button that opened the form, to give focus back to when the form closes.
  const opener = useRef<HTMLElement | null>(null);
  const closeEdit = () => {
    setEditing(null);
    opener.current?.focus();
  };
  const items = envTypes.items ?? [];
  return (
    <>
      <Section title="Environment types">
        <LoadStatus
          state={{ data: envTypes.items && { items: envTypes.items }, error: envTypes.error }}
          what="environment types"
          empty="No environment types."
        />
        {saved && (
          <p className="notice" role="status">
            {saved}
          </p>
        )}
        {items.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Description</th>
                <th scope="col">Restricted</th>
                <th scope="col">Approval</th>
                <th scope="col">Stability window</th>
                <th scope="col">Created by</th>
                <th scope="col">Created</th>
                {mayWrite && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {items.map((envType) => (
                <tr key={envType.id}>
                  <th scope="row" className="row-head">
                    {envType.id}
                  </th>
                  <td>{envType.description || <span className="muted">-</span>}</td>
                  <td>{envType.restricted ? 'yes: needs the deployer role' : 'no'}</td>
                  <td>{envType.requiresApproval ? 'required' : 'no'}</td>
                  <td>{describeStabilityWindow(envType.minReadySeconds)}</td>
                  <td>{envType.createdBy}</td>
                  <td>
                    <Time at={envType.createdAt} />
                  </td>
                  {mayWrite && (
                    <td>
                      <button
                        type="button"
                        aria-label={`Edit environment type ${envType.id}`}
                        aria-expanded={editing?.id === envType.id}
                        onClick={(event) => {
                          opener.current = event.currentTarget;
                          setSaved(null);
                          setEditing(envType);
                        }}
                      >
                        Edit
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <MorePages pages={envTypes} label="More environment types" />
        <Command>pave env-types list</Command>
      </Section>
      {mayWrite && editing && (
        <EditEnvType
          // Keyed: another type's form starts from that type's values.
          key={editing.id}
          session={session}
          envType={editing}
          onSaved={(updated) => {
            setSaved(`Saved environment type ${updated.id}.`);
            envTypes.reload();
            closeEdit();
          }}
          onCancel={closeEdit}
        />
      )}
      {mayWrite && <CreateEnvType session={session} onCreated={envTypes.reload} />}
    </>
  );
}

/** A stability window for people, as `pave env-types list` shows it: `30s`, `off`, or `5s (default)`. */
function describeStabilityWindow(seconds: number | null): string {
  if (seconds === null) return '5s (default)';
  return seconds === 0 ? 'off' : `${seconds}s`;
}

/** What both environment type forms set besides the id and whether it is restricted, as typed. */
interface EnvTypeSettings {
  description: string;
  requiresApproval: boolean;
  /** The stability window in whole seconds; empty for the server's default (5 seconds). */
  minReady: string;
  /** Whether the browser holds something in the window's field that is no number (`1e`): not sent. */
  minReadyInvalid: boolean;
}

/** An environment type's settings as its edit form starts with them. */
function settingsOf(envType: EnvType): EnvTypeSettings {
  return {
    description: envType.description,
    requiresApproval: envType.requiresApproval,
    minReady: envType.minReadySeconds === null ? '' : String(envType.minReadySeconds),
    minReadyInvalid: false,
  };
}

/** The stability window a form sends: null (the default) when empty, else the seconds typed. */
function minReadySecondsOf(settings: EnvTypeSettings): number | null {
  const text = settings.minReady.trim();
  return text === '' ? null : Number(text);
}

/** `--min-ready` of `pave env-types create|update` for a window: `30s`, or `default` for null. */
function minReadyFlag(seconds: number | null): string {
  return ` --min-ready ${seconds === null ? 'default' : `${seconds}s`}`;
}

/** The environment type fields a server problem can point at, named for people. */
const ENV_TYPE_FIELDS: Record<string, string> = {
  '/id': 'the environment type id',
  '/description': 'the description',
  '/requiresApproval': 'the approval setting',
  '/minReadySeconds': 'the stability window',
};

/**
 * The fields that creating and editing an environment type share: its description, its stability window and
 * whether deployments into its environments need approval. `idPrefix` keeps the ids of the two forms apart.
 */
function EnvTypeSettingsFields({
  idPrefix,
  settings,
  onChange,
  fields,
  firstRef,
}: {
  idPrefix: string;
  settings: EnvTypeSettings;
  onChange: (settings: EnvTypeSettings) => void;
  fields: FieldProblems;
  /** The description field, for a form that puts the focus there when it opens. */
  firstRef?: Ref<HTMLInputElement>;
}) {
  const set = (change: Partial<EnvTypeSettings>) => onChange({ ...settings, ...change });
  return (
    <>
      <div className="form-row">
        <div className="field">
          <label>
            Description (optional)
            <input
              ref={firstRef}
              value={settings.description}
              onChange={(event) => set({ description: event.target.value })}
              {...fields.describe('/description', `${idPrefix}-description-error`)}
            />
          </label>
          <FieldError id={`${idPrefix}-description-error`} messages={fields.at('/description')} />
        </div>
        <div className="field">
          <label>
            Stability window in seconds (optional)
            <input
              type="number"
              min={0}
              step={1}
              value={settings.minReady}
              onChange={(event) =>
                set({ minReady: event.target.value, minReadyInvalid: event.target.validity.badInput })
              }
              placeholder="5 (the default)"
              {...fields.describe(
                '/minReadySeconds',
                `${idPrefix}-min-ready-error`,
                `${idPrefix}-min-ready-hint`,
              )}
            />
          </label>
          <FieldError
            id={`${idPrefix}-min-ready-error`}
            messages={[
              ...(settings.minReadyInvalid
                ? ['The stability window must be a whole number of seconds, e.g. 30.']
                : []),
              ...fields.at('/minReadySeconds'),
            ]}
          />
          <span id={`${idPrefix}-min-ready-hint`} className="hint">
            How long a workload without a readiness probe must keep running before a deployment counts it as
            ready; 0 turns the wait off, empty means the default of 5 seconds.
          </span>
        </div>
      </div>
      <div className="field">
        <label className="checkbox">
          <input
            type="checkbox"
            checked={settings.requiresApproval}
            onChange={(event) => set({ requiresApproval: event.target.checked })}
            {...fields.describe('/requiresApproval', `${idPrefix}-approval-error`)}
          />
          Requires approval (deployments, rollbacks and promotions into its environments wait until someone
          else with the approver role on this type approves them)
        </label>
        <FieldError id={`${idPrefix}-approval-error`} messages={fields.at('/requiresApproval')} />
      </div>
    </>
  );
}

function CreateEnvType({ session, onCreated }: { session: Session; onCreated: () => void }) {
  const [id, setId] = useState('');
  const [settings, setSettings] = useState<EnvTypeSettings>({
    description: '',
    requiresApproval: false,
    minReady: '',
    minReadyInvalid: false,
  });
  const [restricted, setRestricted] = useState(false);
  const [created, setCreated] = useState<string | null>(null);
  const action = useAction();
  const description = settings.description.trim();
  const minReadySeconds = minReadySecondsOf(settings);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setCreated(null);
    if (settings.minReadyInvalid) return; // said under the field
    void action.run(async () => {
      const envType = await session.client.createEnvType({
        id: id.trim(),
        ...(description ? { description } : {}),
        restricted,
        ...(settings.requiresApproval ? { requiresApproval: true } : {}),
        ...(minReadySeconds !== null ? { minReadySeconds } : {}),
      });
      setCreated(envType.id);
      setId('');
      setSettings({ description: '', requiresApproval: false, minReady: '', minReadyInvalid: false });
      setRestricted(false);
      onCreated();
    });
  };

  const command =
    `pave env-types create ${shellWord(id.trim() || 'ID')}` +
    (description ? ` --description ${shellWord(description)}` : '') +
    (restricted ? ' --restricted' : '') +
    (settings.requiresApproval ? ' --requires-approval' : '') +
    (minReadySeconds !== null ? minReadyFlag(minReadySeconds) : '');
  const fields = fieldProblems(action.error, ENV_TYPE_FIELDS);

  return (
    <Section title="Create environment type">
      <form onSubmit={submit}>
        <div className="form-row">
          <div className="field">
            <label>
              Environment type id
              <input
                value={id}
                onChange={(event) => setId(event.target.value)}
                required
                placeholder="e.g. staging"
                autoComplete="off"
                {...fields.describe('/id', 'create-env-type-id-error')}
              />
            </label>
            <FieldError id="create-env-type-id-error" messages={fields.at('/id')} />
          </div>
        </div>
        <EnvTypeSettingsFields
          idPrefix="create-env-type"
          settings={settings}
          onChange={setSettings}
          fields={fields}
        />
        <label className="checkbox">
          <input
            type="checkbox"
            checked={restricted}
            onChange={(event) => setRestricted(event.target.checked)}
          />
          Restricted (deploying to, rolling back, changing values of and deleting its environments need the
          deployer role; this cannot be changed later)
        </label>
        <button type="submit" className="primary" disabled={action.busy}>
          Create environment type
        </button>
      </form>
      <ErrorMessage error={action.error} shownAtField={fields.shownAtField} />
      {created && (
        <p className="notice" role="status">
          Created environment type {created}.
        </p>
      )}
      <Command>{command}</Command>
    </Section>
  );
}

/** What an edit of `envType` changes: only the settings that differ from its current ones. */
function envTypeChanges(envType: EnvType, settings: EnvTypeSettings): UpdateEnvTypeBody {
  // Compared as typed: a stored description with spaces around it is not changed by saving something else.
  const description = settings.description;
  const minReadySeconds = settings.minReadyInvalid ? envType.minReadySeconds : minReadySecondsOf(settings);
  return {
    ...(description !== envType.description ? { description: description.trim() } : {}),
    ...(settings.requiresApproval !== envType.requiresApproval
      ? { requiresApproval: settings.requiresApproval }
      : {}),
    ...(minReadySeconds !== envType.minReadySeconds ? { minReadySeconds } : {}),
  };
}

/** `pave env-types update ID` with the flags of what changes. */
function envTypeUpdateCommand(id: string, changes: UpdateEnvTypeBody): string {
  return (
    `pave env-types update ${id}` +
    (changes.description !== undefined ? ` --description ${shellWord(changes.description)}` : '') +
    (changes.requiresApproval === undefined
      ? ''
      : changes.requiresApproval
        ? ' --requires-approval'
        : ' --no-requires-approval') +
    (changes.minReadySeconds !== undefined ? minReadyFlag(changes.minReadySeconds) : '')
  );
}

/**
 * Changes an environment type (`PATCH /env-types/{type}`): the form starts with its current settings and
 * sends only what was changed, as `pave env-types update` does with the flags given. Whether a type is
 * restricted cannot change.
 */
function EditEnvType({
  session,
  envType,
  onSaved,
  onCancel,
}: {
  session: Session;
  envType: EnvType;
  onSaved: (envType: EnvType) => void;
  onCancel: () => void;
}) {
  const [settings, setSettings] = useState(() => settingsOf(envType));
  const action = useAction();
  const changes = envTypeChanges(envType, settings);
  // The form opens with the focus in its first field.
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (settings.minReadyInvalid) return; // said under the field
    void action.run(async () => {
      if (Object.keys(changes).length === 0) {
        throw new Error(
          'Nothing to change: edit the description, the stability window or the approval first.',
        );
      }
      onSaved(await session.client.updateEnvType(envType.id, changes));
    });
  };
  const fields = fieldProblems(action.error, ENV_TYPE_FIELDS);

  return (
    <Section title={`Edit environment type ${envType.id}`}>
      <form onSubmit={submit}>
        <EnvTypeSettingsFields
          idPrefix="edit-env-type"
          settings={settings}
          onChange={setSettings}
          fields={fields}
          firstRef={first}
        />
        <p className="muted">
          {envType.restricted
            ? 'Restricted: changing its environments needs the deployer role on it.'
            : 'Not restricted.'}{' '}
          Whether a type is restricted cannot be changed.
        </p>
        <div className="button-row">
          <button type="submit" className="primary" disabled={action.busy}>
            {action.busy ? 'Saving…' : 'Save'}
          </button>
          <button type="button" onClick={onCancel} disabled={action.busy}>
            Cancel
          </button>
        </div>
      </form>
      <ErrorMessage error={action.error} shownAtField={fields.shownAtField} />
      <Command>{envTypeUpdateCommand(envType.id, changes)}</Command>
    </Section>
  );
}

// Users and service accounts

/**
 * Users and service accounts. Those who may manage users (`user.write`) get, on each but the signed-in user
 * (whom the server never deletes, and whose own password needs their current one: the tokens and password page
 * changes it), a Delete button and, on users (service accounts have no password), a "Set password…" button,
 * both of which ask first, and a "Clear failed logins" button (`pave users unlock`), which does not: it only
 * lets a user whose failed logins hold them back sign in again now.
 */
function UsersTab({ session }: { session: Session }) {
  // keepDepth: creating or deleting a user reloads as many pages as were shown.
  const users = usePages((cursor) => session.client.listUsers(cursor ? { cursor } : {}), [session], {
    keepDepth: true,
  });
  const mayWrite = session.can('user.write');
  const [deleting, setDeleting] = useState<User | null>(null);
  const [settingPassword, setSettingPassword] = useState<User | null>(null);
  // What the last deletion, password change or unlock did.
  const [done, setDone] = useState<string | null>(null);
  // The command of the last unlock, shown under what it did.
  const [unlocked, setUnlocked] = useState<string | null>(null);
  const unlocking = useAction();
  const unlock = (user: User) => {
    setDone(null);
    setUnlocked(null);
    void unlocking.run(async () => {
      setDone(unlockedSentence(await session.client.unlockUser(user.username)));
      setUnlocked(user.username);
    });
  };
  // The button that opened a dialog, to give focus back to when it is cancelled.
  const opener = useRef<HTMLElement | null>(null);
  const open = (user: User, dialog: (user: User) => void) => {
    setDone(null);
    setUnlocked(null);
    unlocking.clear();
    opener.current = focusedElement();
    dialog(user);
  };
  const items = users.items ?? [];
  return (
    <>
      <Section title="Users and service accounts">
        <ErrorMessage error={users.error} />
        {!users.items && !users.error && <p className="loading">Loading users…</p>}
        {done && (
          <p className="notice" role="status">
            {done}
          </p>
        )}
        {unlocked && <Command>{`pave users unlock ${unlocked}`}</Command>}
        <ErrorMessage error={unlocking.error} />
        {items.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Kind</th>
                <th scope="col">Password login</th>
                <th scope="col">Teams</th>
                <th scope="col">Created</th>
                {mayWrite && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {items.map((user) => (
                <tr key={user.id}>
                  <th scope="row" className="row-head">
                    {user.username}
                  </th>
                  <td>{user.kind === 'service' ? 'service account' : 'user'}</td>
                  <td>{user.hasPassword ? 'yes' : 'no'}</td>
                  <td>
                    {user.teams.length > 0 ? user.teams.join(', ') : <span className="muted">none</span>}
                  </td>
                  <td>
                    <Time at={user.createdAt} />
                  </td>
                  {mayWrite && (
                    <td>
                      {user.username === session.whoami.username ? (
                        <span className="muted">you</span>
                      ) : (
                        <div className="button-row">
                          {user.kind === 'user' && (
                            <button
                              type="button"
                              aria-label={`Set password of ${user.username}`}
                              onClick={() => open(user, setSettingPassword)}
                            >
                              Set password…
                            </button>
                          )}
                          {user.kind === 'user' && user.hasPassword && (
                            <button
                              type="button"
                              aria-label={`Clear failed logins of ${user.username}`}
                              disabled={unlocking.busy}
                              onClick={() => unlock(user)}
                            >
                              Clear failed logins
                            </button>
                          )}
                          <button
                            type="button"
                            className="danger"
                            aria-label={`Delete ${kindWord(user)} ${user.username}`}
                            onClick={() => open(user, setDeleting)}
                          >
                            Delete
                          </button>
                        </div>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <MorePages pages={users} label="More users" />
        <Command>pave users list</Command>
      </Section>
      {mayWrite && <CreateUser session={session} onCreated={users.reload} />}
      {deleting && (
        <DeleteUser
          session={session}
          user={deleting}
          onDone={() => {
            setDeleting(null);
            setDone(`Deleted ${kindWord(deleting)} ${deleting.username}; their tokens no longer work.`);
            users.reload();
          }}
          onCancel={() => {
            setDeleting(null);
            opener.current?.focus();
          }}
        />
      )}
      {settingPassword && (
        <SetPasswordDialog
          session={session}
          username={settingPassword.username}
          onDone={(changed) => {
            setSettingPassword(null);
            setDone(passwordSetSentence(changed));
            // Its "Password login" column now says yes.
            users.reload();
            opener.current?.focus();
          }}
          onCancel={() => {
            setSettingPassword(null);
            opener.current?.focus();
          }}
        />
      )}
    </>
  );
}

/** What the users tab says once an admin set a user's password: how many of their tokens were revoked. */
function passwordSetSentence({ username, tokensRevoked: count }: PasswordChanged): string {
  const tokens = `${count} ${count === 1 ? 'token' : 'tokens'} of theirs ${count === 1 ? 'was' : 'were'}`;
  return `Set the password of ${username}; ${tokens} revoked, so they sign in again with the new password.`;
}

/** What the users tab says once an admin cleared a user's failed logins, as `pave users unlock` says it. */
function unlockedSentence({ username, failuresCleared: count }: LoginFailuresCleared): string {
  return count === 0
    ? `${username} had no failed logins to clear; nothing was changed.`
    : `Cleared ${count} failed login${count === 1 ? '' : 's'} of ${username}; they can sign in again now.`;
}

function kindWord(user: User): string {
  return user.kind === 'service' ? 'service account' : 'user';
}

/** Asks before deleting a user or service account, then deletes it. */
function DeleteUser({
  session,
  user,
  onDone,
  onCancel,
}: {
  session: Session;
  user: User;
  onDone: () => void;
  onCancel: () => void;
}) {
  return (
    <ConfirmAction
      title={`Delete ${kindWord(user)}?`}
      confirmLabel={`Delete ${kindWord(user)}`}
      busyLabel="Deleting…"
      action={() => session.client.deleteUser(user.username)}
      onDone={onDone}
      onCancel={onCancel}
      command={`pave users delete ${user.username} --yes`}
    >
      <p>
        Delete <strong>{user.username}</strong>? Their tokens stop working at once, and their team memberships
        and roles are removed. This cannot be undone.
      </p>
    </ConfirmAction>
  );
}

function CreateUser({ session, onCreated }: { session: Session; onCreated: () => void }) {
  const [username, setUsername] = useState('');
  const [kind, setKind] = useState<User['kind']>('user');
  const [password, setPassword] = useState('');
  const [created, setCreated] = useState<User | null>(null);
  const action = useAction();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setCreated(null);
    void action.run(async () => {
      const user = await session.client.createUser({
        username: username.trim(),
        kind,
        ...(kind === 'user' && password ? { password } : {}),
      });
      setCreated(user);
      setUsername('');
      setPassword('');
      onCreated();
    });
  };

  // The password is never part of the command: the CLI reads it from a terminal or standard input.
  const command =
    `pave users create ${shellWord(username.trim() || 'NAME')}` +
    (kind === 'service' ? ' --service' : password ? ' --password-stdin' : '');
  // The fields shown that a server problem can point at, named for people.
  const fields = fieldProblems(action.error, {
    '/username': 'the username',
    ...(kind === 'user' ? { '/password': 'the password' } : {}),
  });

  return (
    <Section title="Create user or service account">
      <form onSubmit={submit}>
        <div className="form-row">
          <div className="field">
            <label>
              Username
              <input
                value={username}
                onChange={(event) => setUsername(event.target.value)}
                required
                placeholder="e.g. alice"
                autoComplete="off"
                {...fields.describe('/username', 'create-user-username-error')}
              />
            </label>
            <FieldError id="create-user-username-error" messages={fields.at('/username')} />
          </div>
          <label>
            Kind
            <select
              value={kind}
              onChange={(event) => {
                setKind(event.target.value as User['kind']);
                setPassword('');
              }}
            >
              <option value="user">User (a person)</option>
              <option value="service">Service account (tokens only)</option>
            </select>
          </label>
          {kind === 'user' && (
            <div className="field">
              <label>
                Password (optional)
                <input
                  type="password"
                  value={password}
                  onChange={(event) => setPassword(event.target.value)}
                  autoComplete="new-password"
                  minLength={12}
                  {...fields.describe('/password', 'create-user-password-error', 'create-user-password-hint')}
                />
              </label>
              <FieldError id="create-user-password-error" messages={fields.at('/password')} />
              <span id="create-user-password-hint" className="hint">
                At least 12 characters; without one the user cannot log in with a password.
              </span>
            </div>
          )}
        </div>
        <button type="submit" className="primary" disabled={action.busy}>
          Create user
        </button>
      </form>
      <ErrorMessage error={action.error} shownAtField={fields.shownAtField} />
      {created && (
        <p className="notice" role="status">
          Created {created.kind === 'service' ? 'service account' : 'user'} {created.username}.
        </p>
      )}
      <Command>{command}</Command>
    </Section>
  );
}

// Roles

type RoleName = RoleGrantBody['role'];

const isAppRole = (role: string) => (APP_ROLES as readonly string[]).includes(role);
const isEnvTypeRole = (role: string) => (ENV_TYPE_ROLES as readonly string[]).includes(role);

/** The body that grants or revokes a stored grant. */
function bodyOf(grant: RoleGrant): RoleGrantBody {
  return {
    role: grant.role as RoleName,
    ...(grant.subject.kind === 'team' ? { team: grant.subject.name } : { user: grant.subject.name }),
    ...(grant.scope.kind === 'app' ? { app: grant.scope.id } : {}),
    ...(grant.scope.kind === 'env-type' ? { envType: grant.scope.id } : {}),
  };
}

/** `pave roles grant|revoke …` for a body, with placeholders for what is missing. */
function roleCommand(verb: 'grant' | 'revoke', body: RoleGrantBody): string {
  const holder = body.team !== undefined ? `--team ${body.team || 'TEAM'}` : `--user ${body.user || 'USER'}`;
  const scope = isAppRole(body.role)
    ? ` --app ${body.app || 'APP'}`
    : isEnvTypeRole(body.role)
      ? ` --env-type ${body.envType || 'TYPE'}`
      : '';
  return `pave roles ${verb} ${body.role} ${holder}${scope}`;
}

/** A grant in words: `owner of app shop held by user alice`. */
function describeGrant(body: RoleGrantBody): string {
  const where = body.app ? ` on app ${body.app}` : body.envType ? ` on environment type ${body.envType}` : '';
  const holder = body.team ? `team ${body.team}` : `user ${body.user ?? ''}`;
  return `${body.role}${where} from ${holder}`;
}

function scopeText(grant: RoleGrant): string {
  if (grant.scope.kind === 'app') return `app ${grant.scope.id ?? ''}`;
  if (grant.scope.kind === 'env-type') return `environment type ${grant.scope.id ?? ''}`;
  return 'organisation';
}

function RolesTab({ session }: { session: Session }) {
  // keepDepth: a grant or revoke reloads as many pages as were shown.
  const roles = usePages((cursor) => session.client.listRoles(cursor ? { cursor } : {}), [session], {
    keepDepth: true,
  });
  const [revoking, setRevoking] = useState<RoleGrantBody | null>(null);
  // The button that opened the confirmation, to give focus back to when it is cancelled.
  const opener = useRef<HTMLElement | null>(null);
  const askToRevoke = (body: RoleGrantBody) => {
    setDone(null);
    opener.current = focusedElement();
    setRevoking(body);
  };
  const [done, setDone] = useState<string | null>(null);
  const mayWrite = session.can('user.write');
  const items = roles.items ?? [];

  return (
    <>
      <Section title="Role grants">
        <ErrorMessage error={roles.error} />
        {!roles.items && !roles.error && <p className="loading">Loading role grants…</p>}
        {done && (
          <p className="notice" role="status">
            {done}
          </p>
        )}
        {items.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col">Scope</th>
                <th scope="col">Held by</th>
                <th scope="col">Granted</th>
                {mayWrite && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {items.map((grant) => {
                const body = bodyOf(grant);
                return (
                  <tr
                    key={`${grant.role}|${grant.scope.kind}|${grant.scope.id}|${grant.subject.kind}|${grant.subject.name}`}
                  >
                    <th scope="row" className="row-head">
                      {grant.role}
                    </th>
                    <td>{scopeText(grant)}</td>
                    <td>
                      {grant.subject.kind} {grant.subject.name}
                    </td>
                    <td>
                      {grant.createdBy}, <Time at={grant.createdAt} />
                    </td>
                    {mayWrite && (
                      <td>
                        <button
                          type="button"
                          className="danger"
                          aria-label={`Revoke ${describeGrant(body)}`}
                          onClick={() => askToRevoke(body)}
                        >
                          Revoke
                        </button>
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        <MorePages pages={roles} label="More role grants" />
        <Command>pave roles list</Command>
      </Section>
      {mayWrite && (
        <GrantRole
          session={session}
          onGranted={(body) => {
            setDone(`Granted ${describeGrant(body).replace(' from ', ' to ')}.`);
            roles.reload();
          }}
          onRevoke={askToRevoke}
        />
      )}
      {revoking && (
        <RevokeRole
          session={session}
          body={revoking}
          onDone={() => {
            setDone(`Revoked ${describeGrant(revoking)}.`);
            setRevoking(null);
            roles.reload();
          }}
          onCancel={() => {
            setRevoking(null);
            opener.current?.focus();
          }}
        />
      )}
    </>
  );
}

/** The grant and revoke form: a role, who holds it, and where (an app, an environment type, or neither). */
function GrantRole({
  session,
  onGranted,
  onRevoke,
}: {
  session: Session;
  onGranted: (body: RoleGrantBody) => void;
  onRevoke: (body: RoleGrantBody) => void;
}) {
  const envTypes = useLoad(
    async () => ({
      items: await allPages((cursor) => session.client.listEnvTypes(cursor ? { cursor } : {})),
    }),
    [session],
  );
  const form = useRef<HTMLFormElement>(null);
  const [role, setRole] = useState<RoleName>('developer');
  const [holderKind, setHolderKind] = useState<'user' | 'team'>('user');
  const [holder, setHolder] = useState('');
  const [app, setApp] = useState('');
  const [envType, setEnvType] = useState('');
  const action = useAction();

  const types = envTypes.data?.items ?? [];
  const chosenEnvType = envType || types[0]?.id || '';
  const body: RoleGrantBody = {
    role,
    ...(holderKind === 'team' ? { team: holder.trim() } : { user: holder.trim() }),
    ...(isAppRole(role) ? { app: app.trim() } : {}),
    ...(isEnvTypeRole(role) ? { envType: chosenEnvType } : {}),
  };
  // The fields shown that a server problem can point at, named for people.
  const holderPath = holderKind === 'team' ? '/team' : '/user';
  const fields = fieldProblems(action.error, {
    '/role': 'the role',
    [holderPath]: holderKind === 'team' ? 'the team id' : 'the username',
    ...(isAppRole(role) ? { '/app': 'the app' } : {}),
    ...(isEnvTypeRole(role) ? { '/envType': 'the environment type' } : {}),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      await session.client.grantRole(body);
      onGranted(body);
    });
  };
  const revoke = () => {
    // The browser's own checks, as for submitting; then ask before revoking.
    if (form.current && !form.current.reportValidity()) return;
    onRevoke(body);
  };

  return (
    <Section title="Grant or revoke a role">
      <form ref={form} onSubmit={submit}>
        <div className="form-row">
          <div className="field">
            <label>
              Role
              <select
                value={role}
                onChange={(event) => setRole(event.target.value as RoleName)}
                {...fields.describe('/role', 'grant-role-role-error')}
              >
                <optgroup label="Organisation">
                  {ORG_ROLES.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </optgroup>
                <optgroup label="App">
                  {APP_ROLES.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </optgroup>
                <optgroup label="Environment type">
                  {ENV_TYPE_ROLES.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </optgroup>
              </select>
            </label>
            <FieldError id="grant-role-role-error" messages={fields.at('/role')} />
          </div>
          <label>
            Held by
            <select
              value={holderKind}
              onChange={(event) => setHolderKind(event.target.value as 'user' | 'team')}
            >
              <option value="user">User</option>
              <option value="team">Team</option>
            </select>
          </label>
          <div className="field">
            <label>
              {holderKind === 'team' ? 'Team id' : 'Username'}
              <input
                value={holder}
                onChange={(event) => setHolder(event.target.value)}
                required
                autoComplete="off"
                {...fields.describe(holderPath, 'grant-role-holder-error')}
              />
            </label>
            <FieldError id="grant-role-holder-error" messages={fields.at(holderPath)} />
          </div>
          {isAppRole(role) && (
            <div className="field">
              <label>
                App
                <input
                  value={app}
                  onChange={(event) => setApp(event.target.value)}
                  required
                  autoComplete="off"
                  {...fields.describe('/app', 'grant-role-app-error')}
                />
              </label>
              <FieldError id="grant-role-app-error" messages={fields.at('/app')} />
            </div>
          )}
          {isEnvTypeRole(role) && (
            <div className="field">
              <label>
                Environment type
                <select
                  value={chosenEnvType}
                  onChange={(event) => setEnvType(event.target.value)}
                  required
                  {...fields.describe('/envType', 'grant-role-env-type-error')}
                >
                  {types.map((t) => (
                    <option key={t.id} value={t.id}>
                      {t.id}
                    </option>
                  ))}
                </select>
              </label>
              <FieldError id="grant-role-env-type-error" messages={fields.at('/envType')} />
            </div>
          )}
        </div>
        <div className="button-row">
          <button type="submit" className="primary" disabled={action.busy}>
            Grant role
          </button>
          <button type="button" className="danger" onClick={revoke} disabled={action.busy}>
            Revoke role
          </button>
        </div>
      </form>
      <ErrorMessage error={action.error} shownAtField={fields.shownAtField} />
      {!action.error && <ErrorMessage error={envTypes.error} />}
      <Command>{roleCommand('grant', body)}</Command>
      <Command>{roleCommand('revoke', body)}</Command>
    </Section>
  );
}

/** Asks before revoking a role, then revokes it. */
function RevokeRole({
  session,
  body,
  onDone,
  onCancel,
}: {
  session: Session;
  body: RoleGrantBody;
  onDone: () => void;
  onCancel: () => void;
}) {
  return (
    <ConfirmAction
      title="Revoke role?"
      confirmLabel="Revoke role"
      busyLabel="Revoking…"
      action={() => session.client.revokeRole(body)}
      onDone={onDone}
      onCancel={onCancel}
      command={roleCommand('revoke', body)}
    >
      <p>
        Revoke <strong>{describeGrant(body)}</strong>? They lose what the role allows at once.
      </p>
    </ConfirmAction>
  );
}
