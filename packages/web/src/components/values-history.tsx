import { useRef, useState } from 'react';
import type { ValueChange, ValueKeyDiff, ValuesChanged, ValuesVersion } from '@pave/core';
import type { Session } from '../session.ts';
import { Command, ConfirmAction, ErrorMessage, Time, useLoad } from './common.tsx';

/** `+GREETING`, `~API_TOKEN (secret)`, `-OLD`: one version's changes, compactly. */
function describeChange(change: ValueChange): string {
  const sign = change.action === 'added' ? '+' : change.action === 'removed' ? '−' : '~';
  return `${sign}${change.key}${change.secret ? ' (secret)' : ''}`;
}

/**
 * The versions of an environment's values (who, when, why, which keys), a page at a time, and a comparison of
 * any two of those loaded, which the server makes: key names, plain values, and for secrets only whether they
 * changed. With `onRestored` (those who may write the values), each version but the newest has a "Restore
 * this version" button that asks first, then restores it as a new version (`pave values rollback`).
 */
export function ValuesHistory({
  session,
  versions,
  error,
  app,
  env,
  older = {},
  onRestored,
}: {
  session: Session;
  /** Newest first, as the API lists them; undefined while loading. */
  versions: readonly ValuesVersion[] | undefined;
  error: unknown;
  app: string;
  env: string;
  /** Older versions: `more` loads the next page (absent when every version is loaded). */
  older?: { more?: (() => void) | undefined; busy?: boolean; error?: unknown };
  /** Told of a version restored and what that changed; absent for those who may not write the values. */
  onRestored?: ((version: number, result: ValuesChanged) => void) | undefined;
}) {
  const [picked, setPicked] = useState<{ from: number; to: number } | null>(null);
  const [restoring, setRestoring] = useState<ValuesVersion | null>(null);
  // The button that opened the confirmation, to give focus back to when it is cancelled.
  const opener = useRef<HTMLElement | null>(null);
  const list = versions ?? [];
  const from = picked?.from ?? list[1]?.version ?? 0;
  const to = picked?.to ?? list[0]?.version ?? 0;
  const choose = (side: 'from' | 'to', value: string) => setPicked({ from, to, [side]: Number(value) });
  const comparable = list.length > 0 && from !== to;
  const diff = useLoad(
    () => (comparable ? session.client.valuesDiff(app, env, { from, to }) : Promise.resolve(undefined)),
    [app, env, from, to, comparable],
  );
  const options = [...list.map((v) => v.version), 0];

  return (
    <div className="values-history">
      <h3>History</h3>
      <ErrorMessage error={error} />
      {!versions && !error && <p className="muted">Loading…</p>}
      {versions && versions.length === 0 && <p className="muted">No versions yet: no value was ever set.</p>}
      {list.length > 0 && (
        <div className="table-scroll">
          <table aria-label="Versions">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Why</th>
                <th scope="col">Keys changed</th>
                {onRestored && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {list.map((v) => (
                <tr key={v.version}>
                  <th scope="row" className="row-head">
                    {v.version}
                  </th>
                  <td>
                    <Time at={v.createdAt} />
                  </td>
                  <td>{v.actor}</td>
                  <td>{v.reason}</td>
                  <td>
                    {v.changes.length === 0 ? (
                      <span className="muted">none</span>
                    ) : (
                      <code>{v.changes.map(describeChange).join(' ')}</code>
                    )}
                  </td>
                  {onRestored && (
                    <td>
                      {v.version === list[0]?.version ? (
                        <span className="muted">current</span>
                      ) : (
                        <button
                          type="button"
                          aria-label={`Restore version ${v.version}`}
                          onClick={(event) => {
                            opener.current = event.currentTarget;
                            setRestoring(v);
                          }}
                        >
                          Restore this version
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ErrorMessage error={older.error} />
      {older.more && (
        <p>
          <button type="button" onClick={older.more} disabled={older.busy}>
            More versions
          </button>
        </p>
      )}
      <Command>{`pave values history --app ${app} --env ${env}`}</Command>
      {restoring && onRestored && (
        <ConfirmAction
          title={`Restore version ${restoring.version} of the values?`}
          confirmLabel={`Restore version ${restoring.version}`}
          busyLabel="Restoring…"
          action={async () =>
            onRestored(restoring.version, await session.client.rollbackValues(app, env, restoring.version))
          }
          onDone={() => setRestoring(null)}
          onCancel={() => {
            setRestoring(null);
            opener.current?.focus();
          }}
          command={`pave values rollback ${restoring.version} --app ${app} --env ${env}`}
        >
          <p>
            The values of {app}/{env} become those of version <strong>{restoring.version}</strong> again (set
            by {restoring.actor}, <Time at={restoring.createdAt} />
            ), secrets included, saved as a new version; the versions since stay in the history. The workloads
            get them on the next deployment.
          </p>
        </ConfirmAction>
      )}
      {list.length > 0 && (
        <>
          <h3>Compare versions</h3>
          <div className="diff-pickers">
            <label>
              From version
              <select value={from} onChange={(e) => choose('from', e.target.value)}>
                {options.map((v) => (
                  <option key={v} value={v}>
                    {v === 0 ? 'before any value' : `version ${v}`}
                  </option>
                ))}
              </select>
            </label>
            <label>
              To version
              <select value={to} onChange={(e) => choose('to', e.target.value)}>
                {options.map((v) => (
                  <option key={v} value={v}>
                    {v === 0 ? 'before any value' : `version ${v}`}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <Command>{`pave values diff --app ${app} --env ${env} --from ${from} --to ${to}`}</Command>
          <ErrorMessage error={diff.error} />
          {from === to ? (
            <p className="muted">Pick two different versions.</p>
          ) : !diff.data || diff.data.from !== from || diff.data.to !== to ? (
            !diff.error && <p className="muted">Comparing…</p>
          ) : diff.data.keys.length === 0 ? (
            <p className="muted">Neither version holds a value.</p>
          ) : (
            <div className="table-scroll">
              <table aria-label="Key changes">
                <thead>
                  <tr>
                    <th scope="col">Key</th>
                    <th scope="col">Change</th>
                    <th scope="col">{versionName(from)}</th>
                    <th scope="col">{versionName(to)}</th>
                  </tr>
                </thead>
                <tbody>
                  {diff.data.keys.map((d) => (
                    <tr key={d.key} className={`value-${d.change}`}>
                      <th scope="row" className="row-head">
                        <code>{d.key}</code>
                      </th>
                      <td>
                        {d.change}
                        {d.secret ? ' (secret)' : ''}
                      </td>
                      <td>
                        <KeyValue diff={d} side="from" />
                      </td>
                      <td>
                        <KeyValue diff={d} side="to" />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </div>
  );
}

/** A column heading for one side of a comparison. */
const versionName = (version: number) => (version === 0 ? 'Before any value' : `In version ${version}`);

/** One side of a key's comparison: the plain value, "secret" for a secret, "-" where the key is absent. */
function KeyValue({ diff, side }: { diff: ValueKeyDiff; side: 'from' | 'to' }) {
  const absent = side === 'from' ? diff.change === 'added' : diff.change === 'removed';
  if (absent) return <span className="muted">-</span>;
  if (diff.secret) return <span className="badge">secret, hidden</span>;
  return <code className="value">{diff[side]}</code>;
}
