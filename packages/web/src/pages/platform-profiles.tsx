import { useRef, useState, type FormEvent } from 'react';
import type { ProfileMatch, WorkloadProfile, WorkloadProfileRecord } from '@pave/core';
import type { Session } from '../session.ts';
import {
  Command,
  ConfirmAction,
  ErrorMessage,
  LoadStatus,
  MorePages,
  Section,
  Time,
  focusedElement,
  shellWord,
  useAction,
  usePages,
} from '../components/common.tsx';
import {
  Criteria,
  DeclarativeApply,
  criterionText,
  type DeclarationsCheck,
} from '../components/declarative-apply.tsx';

/** The Apply YAML form's placeholder: the example of docs/profiles.md. */
const EXAMPLE = `- id: prod-hardening
  criteria: [{ envType: production }]
  patches:
    - target: { kind: Deployment }
      ops:
        - { op: add, path: /spec/replicas, value: 3 }`;

/**
 * Checks an Apply YAML text as `pave profiles apply -f` checks its file, with core's parser (loaded when
 * first used): YAML, schema, duplicate ids, and every patch against the objects Pave renders.
 */
export async function checkProfiles(text: string, file: string): Promise<DeclarationsCheck<WorkloadProfile>> {
  const { locateDeclarationPath, parseProfilesFile } = await import('@pave/core/declarations');
  const { profiles, problems } = parseProfilesFile(text, file);
  return {
    items: profiles,
    problems,
    locate: (index, path) => locateDeclarationPath(text, index, path),
  };
}

/**
 * The Workload profiles tab: every profile (`pave profiles list`) with where it applies, its version, its
 * patches and its extra objects, and which profiles apply to an app's environment (`pave profiles match`).
 * Those who may write profiles (`profile.write`) also delete one, after confirming, and apply a YAML file of
 * them with a plan first (`pave profiles apply -f`).
 */
export function ProfilesTab({ session }: { session: Session }) {
  // keepDepth: applying or deleting reloads as many pages as were shown.
  const profiles = usePages((cursor) => session.client.listProfiles(cursor ? { cursor } : {}), [session], {
    keepDepth: true,
  });
  const mayWrite = session.can('profile.write');
  const [deleting, setDeleting] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  // The button that opened the confirmation, to give focus back to when it is cancelled.
  const opener = useRef<HTMLElement | null>(null);
  const items = profiles.items ?? [];

  return (
    <>
      <Section title="Workload profiles">
        <p className="muted">
          Patches and extra objects for the Kubernetes manifests Pave renders for every workload of the
          environments a profile applies to.
        </p>
        <LoadStatus
          state={{ data: profiles.items && { items: profiles.items }, error: profiles.error }}
          what="workload profiles"
          empty="No workload profiles yet."
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
                <th scope="col">Id</th>
                <th scope="col">Applies</th>
                <th scope="col">Patches</th>
                <th scope="col">Extra objects</th>
                <th scope="col">Version</th>
                <th scope="col">Updated</th>
                {mayWrite && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {items.map((profile) => (
                <tr key={profile.id}>
                  <th scope="row" className="row-head">
                    {profile.id}
                    {profile.description && <div className="hint">{profile.description}</div>}
                  </th>
                  <td>
                    <Criteria criteria={profile.criteria} />
                  </td>
                  <td>
                    <Patches profile={profile} />
                  </td>
                  <td>
                    <ExtraObjects profile={profile} />
                  </td>
                  <td>{profile.version}</td>
                  <td>
                    {profile.updatedBy}, <Time at={profile.updatedAt} />
                  </td>
                  {mayWrite && (
                    <td>
                      <button
                        type="button"
                        className="danger"
                        aria-label={`Delete profile ${profile.id}`}
                        onClick={() => {
                          setDone(null);
                          opener.current = focusedElement();
                          setDeleting(profile.id);
                        }}
                      >
                        Delete
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <MorePages pages={profiles} label="More profiles" />
        <Command>pave profiles list</Command>
      </Section>
      <ProfileMatchExplainer session={session} />
      {mayWrite && (
        <DeclarativeApply
          noun="profile"
          list="profiles"
          example={EXAMPLE}
          check={checkProfiles}
          send={(items, dryRun) =>
            session.client.applyProfiles({ profiles: items, ...(dryRun ? { dryRun } : {}) })
          }
          onApplied={() => {
            setDone(null);
            profiles.reload();
          }}
        />
      )}
      {deleting && (
        <ConfirmAction
          title="Delete profile?"
          confirmLabel="Delete profile"
          busyLabel="Deleting…"
          action={() => session.client.deleteProfile(deleting)}
          onDone={() => {
            setDeleting(null);
            setDone(`Deleted profile ${deleting}.`);
            profiles.reload();
          }}
          onCancel={() => {
            setDeleting(null);
            opener.current?.focus();
          }}
          command={`pave profiles delete ${deleting}`}
        >
          <p>
            Delete profile <strong>{deleting}</strong>? Workloads are rendered without its patches and objects
            from their next deployment on.
          </p>
        </ConfirmAction>
      )}
    </>
  );
}

/** A profile's patches: each target (`Deployment`, `Deployment/api`) with its number of operations. */
function Patches({ profile }: { profile: WorkloadProfileRecord }) {
  if (profile.patches.length === 0) return <span className="muted">none</span>;
  return (
    <ul className="plain-list">
      {profile.patches.map((patch, index) => (
        <li key={index}>
          <code>
            {patch.target.kind}
            {patch.target.name ? `/${patch.target.name}` : ''}
          </code>
          : {patch.ops.length} {patch.ops.length === 1 ? 'operation' : 'operations'}
        </li>
      ))}
    </ul>
  );
}

/** A profile's extra objects, each as `Kind/name`. */
function ExtraObjects({ profile }: { profile: WorkloadProfileRecord }) {
  const objects = profile.objects ?? [];
  if (objects.length === 0) return <span className="muted">none</span>;
  return (
    <ul className="plain-list">
      {objects.map((object, index) => (
        <li key={index}>
          <code>
            {String(object.kind)}/{String((object.metadata as { name?: unknown } | undefined)?.name)}
          </code>
        </li>
      ))}
    </ul>
  );
}

/** Which profiles apply to an app's environment, most specific first (`pave profiles match`). */
function ProfileMatchExplainer({ session }: { session: Session }) {
  const [app, setApp] = useState('');
  const [env, setEnv] = useState('');
  const [result, setResult] = useState<ProfileMatch | null>(null);
  const action = useAction();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setResult(null);
    void action.run(async () => {
      setResult(await session.client.matchProfiles({ app: app.trim(), env: env.trim() }));
    });
  };

  return (
    <Section title="Explain which profiles apply">
      <p className="muted">
        The profiles whose criteria match an environment, most specific first: their patches are applied in
        that order.
      </p>
      <form onSubmit={submit}>
        <div className="form-row">
          <label>
            App
            <input value={app} onChange={(event) => setApp(event.target.value)} required autoComplete="off" />
          </label>
          <label>
            Environment
            <input value={env} onChange={(event) => setEnv(event.target.value)} required autoComplete="off" />
          </label>
        </div>
        <button type="submit" className="primary" disabled={action.busy}>
          Explain match
        </button>
      </form>
      <ErrorMessage error={action.error} />
      {result && <MatchedProfiles match={result} />}
      <Command>{`pave profiles match --app ${shellWord(app.trim() || 'APP')} --env ${shellWord(env.trim() || 'ENV')}`}</Command>
    </Section>
  );
}

function MatchedProfiles({ match }: { match: ProfileMatch }) {
  const where = `${match.app}/${match.env} (type ${match.envType})`;
  if (match.matches.length === 0) {
    return (
      <div className="match-result">
        <p role="status">No profile applies to {where}: its workloads are rendered as they are.</p>
      </div>
    );
  }
  return (
    <div className="match-result">
      <p role="status">
        {match.matches.length === 1 ? '1 profile applies' : `${match.matches.length} profiles apply`} to{' '}
        {where}, most specific first.
      </p>
      <table aria-label="Matching profiles">
        <thead>
          <tr>
            <th scope="col">Profile</th>
            <th scope="col">Matched with</th>
            <th scope="col">Specificity</th>
          </tr>
        </thead>
        <tbody>
          {match.matches.map((matched) => (
            <tr key={matched.id}>
              <th scope="row" className="row-head">
                {matched.id}
              </th>
              <td>
                {matched.criterion ? (
                  <code>{criterionText(matched.criterion)}</code>
                ) : (
                  <span className="muted">no criteria: applies everywhere</span>
                )}
              </td>
              <td>{matched.specificity}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
