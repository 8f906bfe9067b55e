import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError, ConnectionError, type FieldProblem } from '@pave/core';
import { asSentence, problemSentence } from './problem-text.ts';

/** The `pave` command that does the same as an action, so people learn the CLI from the portal. */
export function Command({ children }: { children: string }) {
  return (
    <p className="command">
      <span className="command-label">CLI:</span> <code>{children}</code>
    </p>
  );
}

/** The problems of an API error (none for other errors). */
export function problemsOf(error: unknown): FieldProblem[] {
  return error instanceof ApiError ? (error.problem.errors ?? []) : [];
}

/**
 * An error for people, as sentences: the server's problem detail and its field problems. Problems that
 * `shownAtField` accepts are left out: the form shows them next to their fields.
 */
export function ErrorMessage({
  error,
  shownAtField,
}: {
  error: unknown;
  shownAtField?: (problem: FieldProblem) => boolean;
}) {
  if (!error) return null;
  const all = problemsOf(error);
  const problems = all.filter((p) => !shownAtField?.(p));
  // "The request body is invalid" says nothing once every problem stands next to its field.
  const generic =
    error instanceof ApiError && error.status === 400 && /^the request \w+ is invalid$/.test(error.message);
  const detail =
    generic && all.length > 0 && problems.length === 0
      ? 'Correct the fields marked below.'
      : asSentence(error instanceof Error ? error.message : String(error));
  // A lone problem that only repeats the detail adds nothing.
  const extra = problems.map((p) => problemSentence(p)).filter((sentence) => sentence !== detail);
  return (
    <div className="error" role="alert">
      <p>{detail}</p>
      {extra.length > 0 && (
        <ul>
          {extra.map((sentence, i) => (
            <li key={i}>{sentence}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A problem shown under the form field that caused it; the field names it with `aria-describedby`. */
export function FieldError({ id, messages }: { id: string; messages: readonly string[] }) {
  if (messages.length === 0) return null;
  return (
    <span id={id} className="field-error" role="alert">
      {messages.join(' ')}
    </span>
  );
}

/** How long a one-shot load waits before each new try after a failure that may pass (see `mayPass`). */
const RETRY_DELAYS_MS = [1000, 2000, 4000];

/** Whether trying again may help: the server was unreachable, overloaded or failed, not refused the request. */
function mayPass(error: unknown): boolean {
  if (error instanceof ConnectionError) return true;
  return error instanceof ApiError && (error.status >= 500 || error.status === 429);
}

/**
 * Loads data with `load`, reloading when `deps` change or `reload()` is called; polls every `pollMs` if set.
 * A load without `pollMs` that fails in a way that may pass (see `mayPass`) is tried again after each of
 * RETRY_DELAYS_MS; its error shows meanwhile, and the last one stays.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], pollMs?: number) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    let live = true;
    let retry: number | undefined;
    const run = (failures: number) =>
      load()
        .then((value) => {
          if (!live) return;
          setData(value);
          setError(undefined);
        })
        .catch((e: unknown) => {
          if (!live) return;
          setError(e);
          const delay = RETRY_DELAYS_MS[failures];
          if (!pollMs && delay !== undefined && mayPass(e)) {
            retry = window.setTimeout(() => void run(failures + 1), delay);
          }
        });
    void run(0);
    const timer = pollMs ? window.setInterval(() => void run(0), pollMs) : undefined;
    return () => {
      live = false;
      if (timer) window.clearInterval(timer);
      if (retry) window.clearTimeout(retry);
    };
  }, [...deps, tick]);
  return { data, error, reload };
}

/** A page of a list the API pages with cursors. */
export interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Loads the first page of a cursor-paged list like `useLoad`, then appends further pages on `more()`.
 * `reload()` starts again from the first page; `cursor` is the last loaded page's nextCursor.
 */
export function usePages<T>(load: (cursor?: string) => Promise<ListPage<T>>, deps: unknown[]) {
  const first = useLoad(() => load(), deps);
  const [further, setFurther] = useState<{ items: T[]; cursor: string | null } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  // A new first page (other deps or a reload) drops the pages loaded after the old one.
  useEffect(() => setFurther(undefined), [first.data]);

  // The first page that further pages continue: a page that arrives after a reload replaced it is dropped.
  const firstPage = useRef(first.data);
  firstPage.current = first.data;

  const cursor = further ? further.cursor : (first.data?.nextCursor ?? null);
  const more = async () => {
    if (!cursor) return;
    const continues = first.data;
    setBusy(true);
    setError(null);
    try {
      const page = await load(cursor);
      if (firstPage.current !== continues) return;
      setFurther((loaded) => ({ items: [...(loaded?.items ?? []), ...page.items], cursor: page.nextCursor }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const reload = () => {
    setError(null);
    first.reload();
  };
  const items = first.data ? [...first.data.items, ...(further?.items ?? [])] : undefined;
  return { items, error: first.error, moreError: error, cursor, busy, more, reload };
}

/** A titled section of a page. */
export function Section({
  title,
  children,
  actions,
}: {
  title: string;
  children: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <section aria-label={title}>
      <div className="section-head">
        <h2>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

/** A confirmation dialog showing what an action will do before it runs. */
export function Confirm({
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <div
      className="dialog-backdrop"
      onKeyDown={(event) => {
        if (event.key === 'Escape') onCancel();
      }}
    >
      <div role="dialog" aria-modal="true" aria-label={title} className="dialog">
        <h3>{title}</h3>
        {children}
        <div className="dialog-actions">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="button" className="primary" onClick={onConfirm} autoFocus>
            {confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}

/** A time for people, in the browser's zone. */
export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span>-</span>;
  return <time dateTime={at}>{new Date(at).toLocaleString()}</time>;
}

/** Quotes a value for a POSIX shell when it needs it, so a command shown in the portal can be pasted as is. */
export function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** What a list shows while it loads, when it failed, and when it is empty; nothing once it has items. */
export function LoadStatus({
  state,
  what,
  empty,
}: {
  state: { data?: { items: readonly unknown[] } | undefined; error: unknown };
  what: string;
  empty: string;
}) {
  return (
    <>
      <ErrorMessage error={state.error} />
      {!state.data && !state.error && <p className="loading">Loading {what}…</p>}
      {state.data && state.data.items.length === 0 && <p className="muted">{empty}</p>}
    </>
  );
}
