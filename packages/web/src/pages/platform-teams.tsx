import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { Team } from '@pave/core';
import type { Session } from '../session.ts';
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
  focusedElement,
  shellWord,
  useAction,
  usePages,
} from '../components/common.tsx';

/** A change to a team that is asked about first: deleting it, or removing one of its members. */
type TeamRemoval = { kind: 'team'; team: string } | { kind: 'member'; team: string; username: string };

/**
 * The Teams tab: every team with its members, its SSO group and who created it. Those who may manage users
 * (`user.write`) also create, edit (the SSO group it follows) and delete teams and add and remove members;
 * deleting a team or removing a member is asked about first.
 */
export function TeamsTab({ session }: { session: Session }) {
  // keepDepth: a change reloads as many pages as were shown.
  const teams = usePages((cursor) => session.client.listTeams(cursor ? { cursor } : {}), [session], {
    keepDepth: true,
  });
  const mayWrite = session.can('user.write');
  const [removing, setRemoving] = useState<TeamRemoval | null>(null);
  const [editing, setEditing] = useState<Team | null>(null);
  const [done, setDone] = useState<string | null>(null);
  // The button that opened the confirmation, to give focus back to when it is cancelled.
  const opener = useRef<HTMLElement | null>(null);
  const askToRemove = (removal: TeamRemoval) => {
    setDone(null);
    opener.current = focusedElement();
    setRemoving(removal);
  };
  const changed = (notice: string) => {
    setDone(notice);
    teams.reload();
  };
  const items = teams.items ?? [];

  return (
    <>
      <Section title="Teams">
        <LoadStatus
          state={{ data: teams.items && { items: teams.items }, error: teams.error }}
          what="teams"
          empty="No teams yet."
        />
        {done && (
          <p className="notice" role="status">
            {done}
          </p>
        )}
        {items.length > 0 && (
          <table>
            <thead>
              <tr>
                <th scope="col">Team</th>
                <th scope="col">Members</th>
                <th scope="col">SSO group</th>
                <th scope="col">Created</th>
                {mayWrite && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {items.map((team) => (
                <tr key={team.id}>
                  <th scope="row" className="row-head">
                    {team.id}
                  </th>
                  <td>
                    <Members team={team} onRemove={mayWrite ? askToRemove : undefined} />
                  </td>
                  <td>{team.oidcGroup ?? <span className="muted">none: members are added by hand</span>}</td>
                  <td>
                    {team.createdBy}, <Time at={team.createdAt} />
                  </td>
                  {mayWrite && (
                    <td>
                      <div className="button-row">
                        <button
                          type="button"
                          aria-label={`Edit team ${team.id}`}
                          aria-expanded={editing?.id === team.id}
                          onClick={(event) => {
                            setDone(null);
                            opener.current = event.currentTarget;
                            setEditing(team);
                          }}
                        >
                          Edit
                        </button>
                        <button
                          type="button"
                          className="danger"
                          aria-label={`Delete team ${team.id}`}
                          onClick={() => askToRemove({ kind: 'team', team: team.id })}
                        >
                          Delete
                        </button>
                      </div>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <MorePages pages={teams} label="More teams" />
        <Command>pave teams list</Command>
      </Section>
      {mayWrite && editing && (
        <EditTeam
          // Keyed: another team's form starts from that team's SSO group.
          key={editing.id}
          session={session}
          team={editing}
          onSaved={(team) => {
            setEditing(null);
            changed(updatedNotice(team));
            opener.current?.focus();
          }}
          onCancel={() => {
            setEditing(null);
            opener.current?.focus();
          }}
        />
      )}
      {mayWrite && (
        <>
          <CreateTeam session={session} onCreated={(team) => changed(createdNotice(team))} />
          <AddTeamMember
            session={session}
            teams={items}
            onAdded={(team, username) => changed(`Added ${username} to team ${team}.`)}
          />
        </>
      )}
      {removing && (
        <ConfirmRemoval
          session={session}
          removal={removing}
          onDone={() => {
            setRemoving(null);
            changed(
              removing.kind === 'team'
                ? `Deleted team ${removing.team}.`
                : `Removed ${removing.username} from team ${removing.team}.`,
            );
          }}
          onCancel={() => {
            setRemoving(null);
            opener.current?.focus();
          }}
        />
      )}
    </>
  );
}

function createdNotice(team: Team): string {
  return team.oidcGroup
    ? `Created team ${team.id}; its members are those of SSO group ${team.oidcGroup}, from their next sign-in.`
    : `Created team ${team.id}; add its members below.`;
}

function updatedNotice(team: Team): string {
  return team.oidcGroup
    ? `Team ${team.id} now follows SSO group ${team.oidcGroup}: from each user's next SSO sign-in on, the ` +
        "group's members are its members."
    : `Team ${team.id} follows no SSO group; its members are managed by hand and stay as they are.`;
}

/** A team's members, each with a Remove button when `onRemove` is given; "none" when it has none. */
function Members({ team, onRemove }: { team: Team; onRemove: ((removal: TeamRemoval) => void) | undefined }) {
  if (team.members.length === 0) return <span className="muted">none</span>;
  if (!onRemove) return <>{team.members.join(', ')}</>;
  return (
    <ul className="plain-list">
      {team.members.map((username) => (
        <li key={username}>
          {username}
          <button
            type="button"
            className="small"
            aria-label={`Remove ${username} from team ${team.id}`}
            onClick={() => onRemove({ kind: 'member', team: team.id, username })}
          >
            Remove
          </button>
        </li>
      ))}
    </ul>
  );
}

/** The create-team fields a server problem can point at, named for people. */
const CREATE_TEAM_FIELDS: Record<string, string> = {
  '/id': 'the team id',
  '/oidcGroup': 'the SSO group',
};

function CreateTeam({ session, onCreated }: { session: Session; onCreated: (team: Team) => void }) {
  const [id, setId] = useState('');
  const [oidcGroup, setOidcGroup] = useState('');
  const action = useAction();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const team = await session.client.createTeam({
        id: id.trim(),
        ...(oidcGroup.trim() ? { oidcGroup: oidcGroup.trim() } : {}),
      });
      setId('');
      setOidcGroup('');
      onCreated(team);
    });
  };

  const command =
    `pave teams create ${shellWord(id.trim() || 'TEAM')}` +
    (oidcGroup.trim() ? ` --oidc-group ${shellWord(oidcGroup.trim())}` : '');
  const fields = fieldProblems(action.error, CREATE_TEAM_FIELDS);

  return (
    <Section title="Create team">
      <p className="muted">Roles granted to a team apply to each of its members.</p>
      <form onSubmit={submit}>
        <div className="form-row">
          <div className="field">
            <label>
              Team id
              <input
                value={id}
                onChange={(event) => setId(event.target.value)}
                required
                placeholder="e.g. web"
                autoComplete="off"
                {...fields.describe('/id', 'create-team-id-error', 'create-team-id-hint')}
              />
            </label>
            <FieldError id="create-team-id-error" messages={fields.at('/id')} />
            <span id="create-team-id-hint" className="hint">
              Lowercase letters, digits and dashes; it cannot be changed later.
            </span>
          </div>
          <div className="field">
            <label>
              SSO group (optional)
              <input
                value={oidcGroup}
                onChange={(event) => setOidcGroup(event.target.value)}
                autoComplete="off"
                {...fields.describe('/oidcGroup', 'create-team-sso-error', 'create-team-sso-hint')}
              />
            </label>
            <FieldError id="create-team-sso-error" messages={fields.at('/oidcGroup')} />
            <span id="create-team-sso-hint" className="hint">
              With one, each SSO sign-in makes the group&apos;s members the team&apos;s members.
            </span>
          </div>
        </div>
        <button type="submit" className="primary" disabled={action.busy}>
          Create team
        </button>
      </form>
      <ErrorMessage error={action.error} shownAtField={fields.shownAtField} />
      <Command>{command}</Command>
    </Section>
  );
}

/** The edit-team field a server problem can point at, named for people. */
const EDIT_TEAM_FIELDS: Record<string, string> = { '/oidcGroup': 'the SSO group' };

/**
 * Changes the SSO group a team follows (`PATCH /teams/{team}`), as `pave teams update` does: a group to
 * follow from each member's next SSO sign-in on, or none (empty), after which its members are managed by
 * hand. Its id cannot change.
 */
function EditTeam({
  session,
  team,
  onSaved,
  onCancel,
}: {
  session: Session;
  team: Team;
  onSaved: (team: Team) => void;
  onCancel: () => void;
}) {
  const [oidcGroup, setOidcGroup] = useState(team.oidcGroup ?? '');
  const action = useAction();
  // The form opens with the focus in its field.
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => field.current?.focus(), []);
  const group = oidcGroup.trim() || null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      if (group === team.oidcGroup) {
        throw new Error(
          group
            ? `Nothing to change: team ${team.id} already follows SSO group ${group}.`
            : `Nothing to change: team ${team.id} follows no SSO group already.`,
        );
      }
      onSaved(await session.client.updateTeam(team.id, { oidcGroup: group }));
    });
  };

  const command =
    `pave teams update ${team.id}` + (group ? ` --oidc-group ${shellWord(group)}` : ' --no-oidc-group');
  const fields = fieldProblems(action.error, EDIT_TEAM_FIELDS);

  return (
    <Section title={`Edit team ${team.id}`}>
      <form onSubmit={submit}>
        <div className="form-row">
          <div className="field">
            <label>
              SSO group
              <input
                ref={field}
                value={oidcGroup}
                onChange={(event) => setOidcGroup(event.target.value)}
                autoComplete="off"
                {...fields.describe('/oidcGroup', 'edit-team-sso-error', 'edit-team-sso-hint')}
              />
            </label>
            <FieldError id="edit-team-sso-error" messages={fields.at('/oidcGroup')} />
            <span id="edit-team-sso-hint" className="hint">
              With one, each SSO sign-in adds the user to the team if they are in the group and removes them
              if not. Empty: the team follows no group, and its members are managed by hand.
            </span>
          </div>
        </div>
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
      <Command>{command}</Command>
    </Section>
  );
}

/** The add-member fields a server problem can point at (the request names both in its path), for people. */
const ADD_MEMBER_FIELDS: Record<string, string> = {
  'path.team': 'the team',
  'path.username': 'the username',
};

/** Adds a user or service account to a team; the team field suggests the teams shown above. */
function AddTeamMember({
  session,
  teams,
  onAdded,
}: {
  session: Session;
  teams: readonly Team[];
  onAdded: (team: string, username: string) => void;
}) {
  const [team, setTeam] = useState('');
  const [username, setUsername] = useState('');
  const action = useAction();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => {
      const added = await session.client.addTeamMember(team.trim(), username.trim());
      setUsername('');
      onAdded(added.id, username.trim());
    });
  };

  const followsGroup = teams.find((t) => t.id === team.trim())?.oidcGroup;
  const fields = fieldProblems(action.error, ADD_MEMBER_FIELDS);

  return (
    <Section title="Add a team member">
      <form onSubmit={submit}>
        <div className="form-row">
          <div className="field">
            <label>
              Team
              <input
                value={team}
                onChange={(event) => setTeam(event.target.value)}
                required
                list="platform-team-ids"
                autoComplete="off"
                {...fields.describe(
                  'path.team',
                  'add-member-team-error',
                  ...(followsGroup ? ['add-member-team-hint'] : []),
                )}
              />
            </label>
            <FieldError id="add-member-team-error" messages={fields.at('path.team')} />
            {followsGroup && (
              <span id="add-member-team-hint" className="hint">
                This team follows SSO group {followsGroup}: a member added here leaves it at their next SSO
                sign-in unless they are in that group.
              </span>
            )}
          </div>
          <div className="field">
            <label>
              Username
              <input
                value={username}
                onChange={(event) => setUsername(event.target.value)}
                required
                placeholder="e.g. alice"
                autoComplete="off"
                {...fields.describe('path.username', 'add-member-username-error')}
              />
            </label>
            <FieldError id="add-member-username-error" messages={fields.at('path.username')} />
          </div>
        </div>
        <datalist id="platform-team-ids">
          {teams.map((t) => (
            <option key={t.id} value={t.id} />
          ))}
        </datalist>
        <button type="submit" className="primary" disabled={action.busy}>
          Add to team
        </button>
      </form>
      <ErrorMessage error={action.error} shownAtField={fields.shownAtField} />
      <Command>{`pave teams add ${shellWord(team.trim() || 'TEAM')} ${shellWord(username.trim() || 'USER')}`}</Command>
    </Section>
  );
}

/** Asks before deleting a team or removing a member from one, then does it. */
function ConfirmRemoval({
  session,
  removal,
  onDone,
  onCancel,
}: {
  session: Session;
  removal: TeamRemoval;
  onDone: () => void;
  onCancel: () => void;
}) {
  if (removal.kind === 'team') {
    return (
      <ConfirmAction
        title="Delete team?"
        confirmLabel="Delete team"
        busyLabel="Deleting…"
        action={() => session.client.deleteTeam(removal.team)}
        onDone={onDone}
        onCancel={onCancel}
        command={`pave teams delete ${removal.team}`}
      >
        <p>
          Delete team <strong>{removal.team}</strong>? The roles granted to it are revoked, so its members
          lose what the team gave them at once; they stay users.
        </p>
      </ConfirmAction>
    );
  }
  return (
    <ConfirmAction
      title="Remove team member?"
      confirmLabel="Remove member"
      busyLabel="Removing…"
      action={() => session.client.removeTeamMember(removal.team, removal.username)}
      onDone={onDone}
      onCancel={onCancel}
      command={`pave teams remove ${removal.team} ${removal.username}`}
    >
      <p>
        Remove <strong>{removal.username}</strong> from team <strong>{removal.team}</strong>? They lose the
        roles granted to the team at once.
      </p>
    </ConfirmAction>
  );
}
