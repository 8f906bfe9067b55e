import { useRef, useState, type FormEvent } from 'react';
import type { MatchExplanation, RuntimeTargetSpec } from '@pave/core';
import type { Session } from '../session.ts';
import {
  Command,
  ConfirmAction,
  ErrorMessage,
  MorePages,
  Section,
  Time,
  focusedElement,
  shellWord,
  useAction,
  usePages,
} from '../components/common.tsx';
import {
  DeclarativeApply,
  checkDeclarationsOf,
  type DeclarationsCheck,
} from '../components/declarative-apply.tsx';
import { MatchCriteria, MatchResult } from '../components/matching.tsx';

/** The Apply YAML form's placeholder: a target of docs/runtimes.md. */
const EXAMPLE = `- id: podman
  type: docker
  config:
    socketPath: /run/podman/podman.sock
  criteria:
    - envType: staging`;

/**
 * Checks an Apply YAML text as `pave targets apply -f` checks its file, with core's parser (loaded when first
 * used): YAML, schema, duplicate ids. Which `config` keys a type takes only the server checks; its problems
 * are located as the CLI locates them.
 */
function checkTargets(text: string, file: string): Promise<DeclarationsCheck<RuntimeTargetSpec>> {
  return checkDeclarationsOf(text, file, (declarations) => declarations.TARGETS);
}

/**
 * The Runtime targets tab: every target (`pave targets list`) with its type, criteria and config, and which
 * one an environment runs on (`pave targets match`). Those who may write targets (`target.write`) also apply a
 * YAML file of them with a plan first (`pave targets apply -f`) and delete one but the built-in `local`, after
 * confirming; the server refuses one that environments run on, naming them.
 */
export function TargetsTab({ session }: { session: Session }) {
  // keepDepth: applying or deleting reloads as many pages as were shown.
  const targets = usePages((cursor) => session.client.listTargets(cursor ? { cursor } : {}), [session], {
    keepDepth: true,
  });
  const mayWrite = session.can('target.write');
  const [deleting, setDeleting] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  // The button that opened the confirmation, to give focus back to when it is cancelled.
  const opener = useRef<HTMLElement | null>(null);
  const items = targets.items ?? [];
  return (
    <>
      <Section title="Runtime targets">
        <ErrorMessage error={targets.error} />
        {!targets.items && !targets.error && <p className="loading">Loading runtime targets…</p>}
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
                <th scope="col">Type</th>
                <th scope="col">Criteria</th>
                <th scope="col">Config</th>
                <th scope="col">Updated</th>
                {mayWrite && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {items.map((target) => (
                <tr key={target.id}>
                  <th scope="row" className="row-head">
                    {target.id}
                    {target.builtIn && <span className="tag">built-in</span>}
                  </th>
                  <td>{target.type}</td>
                  <td>
                    <MatchCriteria criteria={target.criteria} />
                  </td>
                  <td>
                    {Object.keys(target.config).length > 0 ? (
                      <code className="summary-json">{JSON.stringify(target.config)}</code>
                    ) : (
                      <span className="muted">-</span>
                    )}
                  </td>
                  <td>
                    {target.builtIn ? (
                      <span className="muted">ships with Pave</span>
                    ) : (
                      <>
                        {target.updatedBy}, <Time at={target.updatedAt} />
                      </>
                    )}
                  </td>
                  {mayWrite && (
                    <td>
                      {!target.builtIn && (
                        <button
                          type="button"
                          className="danger"
                          aria-label={`Delete target ${target.id}`}
                          onClick={() => {
                            setDone(null);
                            opener.current = focusedElement();
                            setDeleting(target.id);
                          }}
                        >
                          Delete
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <MorePages pages={targets} label="More runtime targets" />
        <Command>pave targets list</Command>
      </Section>
      {mayWrite && (
        <DeclarativeApply
          noun="target"
          list="targets"
          example={EXAMPLE}
          check={checkTargets}
          send={(items, dryRun) =>
            session.client.applyTargets({ targets: items, ...(dryRun ? { dryRun } : {}) })
          }
          onApplied={() => {
            setDone(null);
            targets.reload();
          }}
        />
      )}
      <TargetMatch session={session} />
      {deleting && (
        <ConfirmAction
          title="Delete runtime target?"
          confirmLabel="Delete target"
          busyLabel="Deleting…"
          action={() => session.client.deleteTarget(deleting)}
          onDone={() => {
            setDeleting(null);
            setDone(`Deleted runtime target ${deleting}.`);
            targets.reload();
          }}
          onCancel={() => {
            setDeleting(null);
            opener.current?.focus();
          }}
          command={`pave targets delete ${deleting}`}
        >
          <p>
            Delete runtime target <strong>{deleting}</strong>? It is refused while environments run on it.
            Applying its YAML again brings it back.
          </p>
        </ConfirmAction>
      )}
    </>
  );
}

/** Explains which runtime target an app's environment runs on. */
function TargetMatch({ session }: { session: Session }) {
  const [app, setApp] = useState('');
  const [env, setEnv] = useState('');
  const [result, setResult] = useState<MatchExplanation | null>(null);
  const action = useAction();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setResult(null);
    void action.run(async () => {
      setResult(await session.client.matchTarget({ app: app.trim(), env: env.trim() }));
    });
  };

  return (
    <Section title="Explain a target match">
      <p className="muted">Which runtime target an environment runs on, and why every other one does not.</p>
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
      {result && <MatchResult explanation={result} noun="target" />}
      <Command>{`pave targets match --app ${shellWord(app.trim() || 'APP')} --env ${shellWord(env.trim() || 'ENV')}`}</Command>
    </Section>
  );
}
