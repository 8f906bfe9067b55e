import { useState, type FormEvent } from 'react';
import type { AuditVerification } from '@pave/core';
import type { Session } from '../session.ts';
import { href } from '../router.ts';
import {
  Command,
  ErrorMessage,
  MorePages,
  Section,
  Time,
  shellWord,
  usePages,
} from '../components/common.tsx';
import { describeAuditEntry } from '../components/audit-summary.ts';

/**
 * The audit log, newest first: the whole log (`#/audit`, for those who may read it all) or one app's
 * (`#/audit/<app>`), paged with "Older entries"; and, for those who may, a check of its hash chain.
 */
export function AuditPage({ session, app }: { session: Session; app?: string | undefined }) {
  return (
    <>
      <h1>{app ? `Audit log of ${app}` : 'Audit log'}</h1>
      {/* Keyed by app, so that changing the filter starts again from the newest entries. */}
      <AuditFilter key={`filter:${app ?? ''}`} app={app} />
      <AuditEntries key={`entries:${app ?? ''}`} session={session} app={app} />
      {session.can('audit.read-all') && <VerifyChain session={session} />}
    </>
  );
}

/** Filters the log by app, through the route so the filtered view can be linked to. */
function AuditFilter({ app }: { app: string | undefined }) {
  const [value, setValue] = useState(app ?? '');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const wanted = value.trim();
    window.location.hash = wanted ? href('audit', wanted) : href('audit');
  };
  return (
    <form onSubmit={submit} className="form-row" role="search" aria-label="Filter the audit log">
      <label>
        App
        <input
          name="app"
          value={value}
          placeholder="all apps"
          autoComplete="off"
          onChange={(event) => setValue(event.target.value)}
        />
      </label>
      <button type="submit">Filter</button>
      {app && (
        <button type="button" onClick={() => (window.location.hash = href('audit'))}>
          Show all apps
        </button>
      )}
    </form>
  );
}

/** A page of entries, then older pages appended on request. */
function AuditEntries({ session, app }: { session: Session; app: string | undefined }) {
  const pages = usePages(
    (cursor) => session.client.listAudit({ ...(app ? { app } : {}), ...(cursor ? { cursor } : {}) }),
    [session, app],
  );
  const { cursor } = pages;
  const entries = pages.items ?? [];
  const appFlag = app ? ` --app ${shellWord(app)}` : '';

  return (
    <Section
      title="Entries"
      actions={
        <button type="button" onClick={pages.reload}>
          Refresh
        </button>
      }
    >
      <ErrorMessage error={pages.error} />
      {!pages.items && !pages.error && <p className="loading">Loading the audit log…</p>}
      {pages.items && entries.length === 0 && <p className="muted">No entries.</p>}
      {entries.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Summary</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id}>
                <td>
                  <Time at={entry.at} />
                </td>
                <td>{entry.actor}</td>
                <td>
                  <code>{entry.action}</code>
                </td>
                <td>{entry.target}</td>
                <td>{describeAuditEntry(entry) || <span className="muted">-</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <MorePages pages={pages} label="Older entries" />
      <Command>{`pave audit${appFlag}`}</Command>
      {cursor && <Command>{`pave audit${appFlag} --cursor ${cursor}`}</Command>}
    </Section>
  );
}

/** Walks the hash chain of the whole log and says whether it is intact, or where it first breaks. */
function VerifyChain({ session }: { session: Session }) {
  const [result, setResult] = useState<AuditVerification | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const verify = async () => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await session.client.verifyAudit());
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Section title="Integrity">
      <p className="muted">
        Every entry is chained to the one before by its hash; verifying recomputes the chain to find entries
        changed, deleted or added outside Pave.
      </p>
      <button type="button" onClick={() => void verify()} disabled={busy}>
        Verify chain
      </button>
      <div role="status">
        {busy && <p className="muted">Verifying…</p>}
        {result?.ok && (
          <p className="state-ready">
            Intact: all {result.entries} entries match their hashes and link to the one before.
          </p>
        )}
        {result && !result.ok && (
          <div className="error">
            <p>
              <strong>Broken:</strong> {result.firstProblem?.message ?? 'the chain does not verify.'}
            </p>
            <p className="hint">
              Problem: {result.firstProblem?.problem ?? 'unknown'}; {result.entries} entries verified before
              it.
            </p>
          </div>
        )}
      </div>
      <ErrorMessage error={error} />
      <Command>pave audit verify</Command>
    </Section>
  );
}
