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
      ? 'Correct the marked fields.'
      : asSentence(error instanceof Error ? error.message : String(error));
  // A problem that only repeats the detail adds nothing: a lone one, or a refusal's reason after the
  // permission it names.
  const extra = problems
    .filter((p) => !repeats(detail, p.message))
    .map((p) => problemSentence(p))
    .filter((sentence) => sentence !== detail);
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

/**
 * Whether a problem's message is a name and then only what the detail already says, as a refusal's is: the
 * detail "you may not do this: R" with the problem "app.delete: R".
 */
function repeats(detail: string, message: string): boolean {
  const match = /^[\w.-]+: (.+?)\.?$/s.exec(message.trim());
  return match !== null && detail.toLowerCase().includes(match[1]!.toLowerCase());
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

/** A failed request's problems with the fields of the form that sent it, each to show under its field. */
export interface FieldProblems {
  /** The problems with the field at `path` (a JSON pointer into the request body, e.g. `/id`), as sentences. */
  at(path: string): string[];
  /** Whether a problem stands under its field; ErrorMessage's `shownAtField`. */
  shownAtField(problem: FieldProblem): boolean;
  /**
   * The attributes of the input at `path`: `aria-invalid` while it has problems, and `aria-describedby` naming
   * its FieldError (`errorId`, while it has problems) and then its hints.
   */
  describe(
    path: string,
    errorId: string,
    ...hintIds: string[]
  ): { 'aria-invalid': boolean; 'aria-describedby': string | undefined };
}

/**
 * Sorts a failed request's problems (see `problemsOf`) by the form field they point at. `fields` maps each
 * field's path in the request body (`/id`) to its name for people (`the app id`), which the field's sentences
 * start with; a problem with any other path is left to the form's ErrorMessage.
 */
export function fieldProblems(error: unknown, fields: Readonly<Record<string, string>>): FieldProblems {
  const shownAtField = (problem: FieldProblem) => Object.hasOwn(fields, problem.path);
  const problems = problemsOf(error).filter(shownAtField);
  const at = (path: string) =>
    problems.filter((p) => p.path === path).map((p) => problemSentence(p, fields[path]));
  return {
    at,
    shownAtField,
    describe(path, errorId, ...hintIds) {
      const invalid = at(path).length > 0;
      const ids = [...(invalid ? [errorId] : []), ...hintIds];
      return { 'aria-invalid': invalid, 'aria-describedby': ids.length > 0 ? ids.join(' ') : undefined };
    },
  };
}

/**
 * Runs a form's action: `busy` while it runs, and its failure kept for ErrorMessage (null while it runs and
 * after it succeeds, or once `clear`ed).
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  /** Forgets the last error: a check in the page refused the next attempt before anything was sent. */
  const clear = () => setError(null);
  return { busy, error, run, clear };
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
 * Loads the first page of a cursor-paged list like `useLoad`, then appends further pages on `more()`;
 * `cursor` is the last loaded page's nextCursor. `reload()` (and a change of `deps`) starts again from the first
 * page. With `keepDepth`, for deps that only refresh the same list, it loads again as many pages as were shown
 * (or asked for), so that a refresh keeps the older entries the user paged to, fresh and without a gap.
 */
export function usePages<T>(
  load: (cursor?: string) => Promise<ListPage<T>>,
  deps: unknown[],
  { keepDepth = false }: { keepDepth?: boolean } = {},
) {
  // How many pages a load from the top fetches: 1, or with keepDepth as many as the user has asked for.
  const depth = useRef(1);
  const first = useLoad(async () => {
    let page = await load();
    const items = [...page.items];
    for (let pages = 1; pages < depth.current && page.nextCursor; pages++) {
      page = await load(page.nextCursor);
      items.push(...page.items);
    }
    return { items, nextCursor: page.nextCursor };
  }, deps);
  const [further, setFurther] = useState<
    { after: ListPage<T>; items: T[]; cursor: string | null } | undefined
  >(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  // The first page that further pages continue: a page that arrives after a reload replaced it is dropped.
  const firstPage = useRef(first.data);
  firstPage.current = first.data;

  // Pages loaded after an older first page (other deps or a reload) are not shown with a new one.
  const loaded = first.data && further?.after === first.data ? further : undefined;
  const cursor = loaded ? loaded.cursor : (first.data?.nextCursor ?? null);
  const more = async () => {
    const continues = first.data;
    if (!cursor || !continues) return;
    // Counted at once: a reload that starts meanwhile loads this page too.
    if (keepDepth) depth.current += 1;
    setBusy(true);
    setError(null);
    try {
      const page = await load(cursor);
      if (firstPage.current !== continues) return;
      setFurther((previous) => ({
        after: continues,
        items: [...(previous?.after === continues ? previous.items : []), ...page.items],
        cursor: page.nextCursor,
      }));
    } catch (e) {
      if (keepDepth) depth.current -= 1;
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const reload = () => {
    setError(null);
    first.reload();
  };
  const items = first.data ? [...first.data.items, ...(loaded?.items ?? [])] : undefined;
  return { items, error: first.error, moreError: error, cursor, busy, more, reload };
}

/**
 * The foot of a list that `usePages` loads: why the last `more()` failed, and while there are further pages a
 * button named `label` ("More teams") that loads the next one, disabled while a page is loading.
 */
export function MorePages({
  pages,
  label,
}: {
  pages: { cursor: string | null; busy: boolean; moreError: unknown; more: () => Promise<void> };
  label: string;
}) {
  return (
    <>
      <ErrorMessage error={pages.moreError} />
      {pages.cursor && (
        <p>
          <button type="button" onClick={() => void pages.more()} disabled={pages.busy}>
            {label}
          </button>
        </p>
      )}
    </>
  );
}

/** A titled section of a page. */
export function Section({
  title,
  children,
  actions,
  className,
}: {
  title: string;
  children: ReactNode;
  actions?: ReactNode;
  /** A class for the section, e.g. `danger-zone` for actions that cannot be undone. */
  className?: string;
}) {
  return (
    <section aria-label={title} className={className}>
      <div className="section-head">
        <h2>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

/**
 * The HTML element that has the keyboard focus, or null if none has it (or it is not HTML, an SVG's say):
 * what a dialog's opener keeps, to give the focus back to when the dialog closes.
 */
export function focusedElement(): HTMLElement | null {
  return document.activeElement instanceof HTMLElement ? document.activeElement : null;
}

/** A confirmation dialog showing what an action will do before it runs. */
export function Confirm({
  title,
  children,
  confirmLabel,
  confirmDisabled = false,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  /** Whether the confirm button is disabled (until the user has typed what the dialog asks for, say). */
  confirmDisabled?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const dialog = useRef<HTMLDivElement>(null);
  // A modal dialog keeps the keyboard: Tab and Shift+Tab go round its controls, and Escape cancels wherever
  // the focus is (it could leave the dialog, after which Escape did nothing).
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        onCancel();
        return;
      }
      if (event.key !== 'Tab' || !dialog.current) return;
      const controls = [
        ...dialog.current.querySelectorAll<HTMLElement>(
          'button:not([disabled]), [href], input:not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"])',
        ),
      ];
      const first = controls[0];
      const last = controls.at(-1);
      if (!first || !last) return;
      const inside = dialog.current.contains(document.activeElement);
      if (event.shiftKey && (!inside || document.activeElement === first)) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (!inside || document.activeElement === last)) {
        event.preventDefault();
        first.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onCancel]);
  return (
    <div className="dialog-backdrop">
      <div ref={dialog} role="dialog" aria-modal="true" aria-label={title} className="dialog">
        <h3>{title}</h3>
        {children}
        <div className="dialog-actions">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="button" className="primary" onClick={onConfirm} disabled={confirmDisabled} autoFocus>
            {confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}

/**
 * The portal's confirm-then-act dialog (delete, revoke, remove, restore): a Confirm whose button runs
 * `action`, says `busyLabel` meanwhile, and calls `onDone` once it succeeded. A failure (a 403, a 409) shows
 * in the dialog as sentences, which stays open so the user reads why; the `pave` command that does the same
 * stands at its foot. With `typeToConfirm`, the button works only once the user has typed that text (an
 * app's id), as GitHub and Heroku ask before deleting what cannot be restored.
 */
export function ConfirmAction({
  title,
  confirmLabel,
  busyLabel,
  action,
  onDone,
  onCancel,
  command,
  typeToConfirm,
  shownAtField,
  children,
}: {
  title: string;
  confirmLabel: string;
  busyLabel: string;
  action: () => Promise<void>;
  onDone: () => void;
  onCancel: () => void;
  command: string;
  typeToConfirm?: string;
  /** Problems the dialog's own fields show (see ErrorMessage); the rest show above the command. */
  shownAtField?: (problem: FieldProblem) => boolean;
  /** What the action does; a function gets the last failure, for fields that show their own problems. */
  children: ReactNode | ((error: unknown) => ReactNode);
}) {
  const { busy, error, run } = useAction();
  const [typed, setTyped] = useState('');
  const ready = typeToConfirm === undefined || typed.trim() === typeToConfirm;
  const confirm = () => {
    if (busy || !ready) return;
    void run(async () => {
      await action();
      onDone();
    });
  };
  return (
    <Confirm
      title={title}
      confirmLabel={busy ? busyLabel : confirmLabel}
      confirmDisabled={!ready}
      onConfirm={confirm}
      onCancel={onCancel}
    >
      {typeof children === 'function' ? children(error) : children}
      {typeToConfirm !== undefined && (
        <label>
          <span>
            Type <strong>{typeToConfirm}</strong> to confirm
          </span>
          <input
            name="confirm"
            value={typed}
            onChange={(event) => setTyped(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter') confirm();
            }}
            autoComplete="off"
            spellCheck={false}
            autoFocus
          />
        </label>
      )}
      <ErrorMessage error={error} shownAtField={shownAtField} />
      <Command>{command}</Command>
    </Confirm>
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
