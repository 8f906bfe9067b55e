import { useId, useRef, useState, type FormEvent } from 'react';
import { VALUE_KEY_PATTERN, type FieldProblem, type ValuesChanged } from '@pave/core';
import type { Session } from '../session.ts';
import {
  Command,
  ConfirmAction,
  ErrorMessage,
  FieldError,
  problemsOf,
  useLoad,
  usePages,
} from './common.tsx';
import { asSentence } from './problem-text.ts';
import { ValuesTable } from './values-table.tsx';
import { ValuesHistory } from './values-history.tsx';
import { ValuesImport } from './values-import.tsx';
import { ValuesExport } from './values-export.tsx';

/**
 * An environment's values: the effective values (secrets masked) and their download as a dotenv file (secrets
 * left out), for those who may write them a form that sets one value, an "Unset" button per override and an import of a dotenv file, and the history of versions
 * with a comparison of any two (and, for those who may write, restoring one). A secret is typed into a masked
 * input that is never bound to the page's HTML and is cleared once saved; the portal never asks the server for
 * it back (`pave values list --reveal` does, for those with `values.reveal`, audited).
 */
export function ValuesPanel({
  session,
  app,
  env,
  canWrite,
  refreshKey = '',
}: {
  session: Session;
  app: string;
  env: string;
  /** Whether the user may set and unset values here (the server decides regardless). */
  canWrite: boolean;
  /** Reloads the values when it changes: a deployment that ran (a rollback restores its values). */
  refreshKey?: string;
}) {
  const values = useLoad(() => session.client.listValues(app, env), [app, env, refreshKey]);
  const version = values.data?.version ?? null;
  const history = usePages(
    (cursor) => session.client.valuesHistory(app, env, cursor ? { cursor } : {}),
    [app, env, version],
  );
  const [notice, setNotice] = useState<string | null>(null);

  const changed = (what: string) => (result: ValuesChanged) => {
    const saved = result.versions.find((v) => v.envId === env)?.version;
    setNotice(
      saved === undefined
        ? `${what}: nothing changed.`
        : `${what}: saved as version ${saved}. Values take effect on the next deployment.`,
    );
    values.reload();
  };

  // Unsetting asks first, as every removal in the portal does (the value, a secret maybe, is gone after it).
  const [toUnset, setToUnset] = useState<string | null>(null);

  return (
    <>
      {notice && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}
      <ErrorMessage error={values.error} />
      {values.data ? (
        <ValuesTable
          values={values.data}
          {...(canWrite
            ? {
                onUnset: (key: string) => {
                  setNotice(null);
                  setToUnset(key);
                },
              }
            : {})}
        />
      ) : (
        !values.error && <p className="muted">Loading…</p>
      )}
      {toUnset !== null && (
        <ConfirmAction
          title={`Unset ${toUnset} in ${app}/${env}?`}
          confirmLabel={`Unset ${toUnset}`}
          busyLabel="Unsetting…"
          action={async () => {
            changed(`Unset ${toUnset}`)(await session.client.patchValues(app, env, { unset: [toUnset] }));
          }}
          onDone={() => setToUnset(null)}
          onCancel={() => setToUnset(null)}
          command={`pave values unset ${toUnset} --app ${app} --env ${env}`}
        >
          <p>
            Removes {toUnset} from the values of {env}, as a new version (the app&apos;s default applies
            again, if it has one). It takes effect on the next deployment; restoring an earlier version brings
            it back.
          </p>
        </ConfirmAction>
      )}
      <button type="button" onClick={values.reload}>
        Refresh values
      </button>
      <Command>{`pave values list --app ${app} --env ${env}`}</Command>
      {values.data && values.data.items.length > 0 && (
        <ValuesExport values={values.data} app={app} env={env} />
      )}
      {canWrite && (
        <SetValueForm
          session={session}
          app={app}
          env={env}
          secretKeys={new Set(values.data?.items.filter((item) => item.secret).map((item) => item.key))}
          onSaved={(what, result) => changed(what)(result)}
          onStart={() => setNotice(null)}
        />
      )}
      {canWrite && <Command>{`pave values unset KEY --app ${app} --env ${env}`}</Command>}
      {canWrite && (
        <ValuesImport
          session={session}
          app={app}
          env={env}
          current={values.data}
          onImported={(what, result) => changed(what)(result)}
          onStart={() => setNotice(null)}
        />
      )}
      <ValuesHistory
        session={session}
        versions={history.items}
        error={history.error}
        app={app}
        env={env}
        older={{
          more: history.cursor ? () => void history.more() : undefined,
          busy: history.busy,
          error: history.moreError,
        }}
        onRestored={
          canWrite ? (restored, result) => changed(`Restored version ${restored}`)(result) : undefined
        }
      />
    </>
  );
}

/** Whether a problem of a PATCH …/values is about the key or the value of what the form sent. */
function fieldOf(problem: FieldProblem): 'key' | 'value' | undefined {
  if (!problem.path.startsWith('/set/')) return undefined;
  return problem.path.endsWith('/value') ? 'value' : 'key';
}

const KEY_RULE = 'use letters, digits and "_", not starting with a digit';

/**
 * Sets one value for the environment. The value input is uncontrolled, so what is typed lives only in the
 * input (never in an HTML attribute), and it is emptied after saving. Problems with the key or value show
 * next to that field; anything else above the form.
 */
function SetValueForm({
  session,
  app,
  env,
  secretKeys,
  onSaved,
  onStart,
}: {
  session: Session;
  app: string;
  env: string;
  /** The keys that are secrets here: a new value of one stays a secret, typed masked. */
  secretKeys: ReadonlySet<string>;
  onSaved: (what: string, result: ValuesChanged) => void;
  onStart: () => void;
}) {
  const [key, setKey] = useState('');
  const [ticked, setTicked] = useState(false);
  const alreadySecret = secretKeys.has(key.trim());
  const secret = ticked || alreadySecret;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [keyProblem, setKeyProblem] = useState<string | null>(null);
  const valueInput = useRef<HTMLInputElement>(null);
  const keyInput = useRef<HTMLInputElement>(null);
  const ids = useId();
  const keyErrorId = `${ids}-key-error`;
  const valueErrorId = `${ids}-value-error`;

  const problems = problemsOf(error);
  const keyMessages = [
    ...(keyProblem ? [keyProblem] : []),
    ...problems
      .filter((p) => fieldOf(p) === 'key')
      .map((p) => asSentence(`key "${key.trim()}" is not accepted: ${p.message}`)),
  ];
  const valueMessages = problems.filter((p) => fieldOf(p) === 'value').map((p) => asSentence(p.message));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const wanted = key.trim();
    setError(null);
    onStart();
    if (!VALUE_KEY_PATTERN.test(wanted)) {
      setKeyProblem(
        wanted
          ? asSentence(`"${wanted}" is not an environment variable name: ${KEY_RULE}`)
          : asSentence(`enter a key: ${KEY_RULE}`),
      );
      keyInput.current?.focus();
      return;
    }
    setKeyProblem(null);
    const value = valueInput.current?.value ?? '';
    setBusy(true);
    try {
      const result = await session.client.patchValues(app, env, {
        set: { [wanted]: { value, ...(secret ? { secret: true } : {}) } },
      });
      if (valueInput.current) valueInput.current.value = '';
      setKey('');
      setTicked(false);
      onSaved(`Set ${wanted}${secret ? ' (secret)' : ''}`, result);
    } catch (e) {
      setError(e);
    } finally {
      // A secret does not stay in the page, saved or not.
      if (secret && valueInput.current) valueInput.current.value = '';
      setBusy(false);
    }
  };

  const shownKey = VALUE_KEY_PATTERN.test(key.trim()) ? key.trim() : 'KEY';
  // The secret itself is never echoed: the CLI reads it from a dotenv file on stdin, out of shell history.
  return (
    <form
      className="values-form"
      onSubmit={(event) => void submit(event)}
      aria-label="Set a value"
      noValidate
    >
      <h3>Set a value</h3>
      <ErrorMessage error={error} shownAtField={(p) => fieldOf(p) !== undefined} />
      <div className="form-row">
        <div className="field">
          <label htmlFor={`${ids}-key`}>Key</label>
          <input
            id={`${ids}-key`}
            ref={keyInput}
            name="key"
            value={key}
            onChange={(event) => {
              setKey(event.target.value);
              setKeyProblem(null);
            }}
            placeholder="e.g. GREETING"
            autoComplete="off"
            spellCheck={false}
            aria-invalid={keyMessages.length > 0}
            aria-describedby={keyMessages.length > 0 ? keyErrorId : undefined}
          />
          <FieldError id={keyErrorId} messages={keyMessages} />
        </div>
        <div className="field">
          <label htmlFor={`${ids}-value`}>Value</label>
          <input
            id={`${ids}-value`}
            ref={valueInput}
            name="value"
            type={secret ? 'password' : 'text'}
            defaultValue=""
            autoComplete={secret ? 'new-password' : 'off'}
            spellCheck={false}
            aria-invalid={valueMessages.length > 0}
            aria-describedby={valueMessages.length > 0 ? valueErrorId : undefined}
          />
          <FieldError id={valueErrorId} messages={valueMessages} />
        </div>
        <label
          className="checkbox"
          title={alreadySecret ? `${key.trim()} is a secret: its new value stays one` : undefined}
        >
          <input
            type="checkbox"
            checked={secret}
            disabled={alreadySecret}
            onChange={(event) => setTicked(event.target.checked)}
          />
          Secret{alreadySecret ? ' (it is one)' : ''}
        </label>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save value'}
        </button>
      </div>
      <p className="hint muted">
        A secret is stored encrypted and not shown here again: the list only says it exists. Those allowed to
        reveal secrets can read it with <code>{`pave values list --app ${app} --env ${env} --reveal`}</code>{' '}
        (recorded in the audit log).
      </p>
      {secret ? (
        <Command>{`pave values import - --secret --app ${app} --env ${env} < secrets.env`}</Command>
      ) : (
        <Command>{`pave values set ${shownKey}=VALUE --app ${app} --env ${env}`}</Command>
      )}
    </form>
  );
}
