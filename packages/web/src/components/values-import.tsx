import { useId, useMemo, useRef, useState, type ChangeEvent, type FormEvent } from 'react';
import { useTextOrFile } from './text-or-file.ts';
import {
  parseDotenv,
  type DotenvProblem,
  type ValueEntry,
  type ValueList,
  type ValuesChanged,
} from '@pave/core';
import type { Session } from '../session.ts';
import { Command, ErrorMessage, FieldError, fieldProblems, shellWord, useAction } from './common.tsx';

/** How the server names the dotenv text in its problems (too many keys, too big). */
const IMPORT_FIELDS = { '/dotenv': 'the file' } as const;

/** What the import would do to one key of the file, against the values shown now. */
export type ImportChange = 'added' | 'changed' | 'unchanged' | 'not-compared';

/** One key of a dotenv file as the import would set it. */
export interface ImportPreviewRow {
  key: string;
  change: ImportChange;
  /** The value it has now (a secret's value is null), if the environment has the key. */
  now: ValueEntry | undefined;
  /** The value the file gives it. */
  value: string;
  /** Whether it is a secret after the import. */
  secret: boolean;
}

/**
 * What importing `entries` would do against `current` (an environment's effective values, secrets masked), by
 * the server's rules: with `secret` every key becomes a secret; without, a key that is a secret now stays one
 * and a new key is plain text. A plain value is compared with the file's; a secret now is `not-compared`, as
 * the portal never reads a secret's value (the server compares it, and a value set again makes no version).
 */
export function previewImport(
  entries: ReadonlyArray<{ key: string; value: string }>,
  current: ValueList,
  secret: boolean,
): ImportPreviewRow[] {
  const byKey = new Map(current.items.map((item) => [item.key, item]));
  return entries.map(({ key, value }) => {
    const now = byKey.get(key);
    const secretAfter = secret || now?.secret === true;
    const change: ImportChange = !now
      ? 'added'
      : now.secret
        ? 'not-compared'
        : secretAfter || now.value !== value
          ? 'changed'
          : 'unchanged';
    return { key, change, now, value, secret: secretAfter };
  });
}

/**
 * "Import from a .env file" (`pave values import`), for those who may write an environment's values: a
 * disclosure that opens the ImportValuesForm. Closing it, or importing, drops the form and what it held.
 */
export function ValuesImport({
  session,
  app,
  env,
  current,
  onImported,
  onStart,
}: {
  session: Session;
  app: string;
  env: string;
  /** The environment's effective values shown now (secrets masked); undefined while they load. */
  current: ValueList | undefined;
  /** Told what was imported (a phrase for the panel's notice) and what that changed. */
  onImported: (what: string, result: ValuesChanged) => void;
  /** Told when an import is sent, before its answer. */
  onStart: () => void;
}) {
  const [open, setOpen] = useState(false);
  const formId = `${useId()}-import`;
  const disclosure = useRef<HTMLButtonElement>(null);
  // Closed, the form's buttons are gone: the focus goes back to the button that opened it.
  const close = () => {
    setOpen(false);
    disclosure.current?.focus();
  };
  return (
    <div className="values-import">
      <button
        ref={disclosure}
        type="button"
        aria-expanded={open}
        aria-controls={open ? formId : undefined}
        onClick={() => setOpen(!open)}
      >
        Import from a .env file
      </button>
      {open && (
        <ImportValuesForm
          id={formId}
          session={session}
          app={app}
          env={env}
          current={current}
          onImported={(what, result) => {
            close();
            onImported(what, result);
          }}
          onStart={onStart}
          onCancel={close}
        />
      )}
    </div>
  );
}

/**
 * Takes a dotenv file, or its text pasted, and the CLI's one option, `--secret` (every imported key secret;
 * without it a secret stays one and a new key is plain text). Before anything is sent, core's parser (the
 * CLI's and the server's) reads the text: its problems, each with its line, block the import; otherwise a
 * preview lists each key as added, changed or unchanged against the values shown now, plain values beside it
 * and secrets by key only. Importing sends the text once, as the CLI does (`POST …/values/import`), which sets
 * the file's keys and removes none; the server's refusals show in the form. Neither the pasted text nor the
 * file's is bound to the page's HTML.
 */
function ImportValuesForm({
  id,
  session,
  app,
  env,
  current,
  onImported,
  onStart,
  onCancel,
}: {
  id: string;
  session: Session;
  app: string;
  env: string;
  current: ValueList | undefined;
  onImported: (what: string, result: ValuesChanged) => void;
  onStart: () => void;
  onCancel: () => void;
}) {
  const { source, unreadable, fileInput, chooseFile: readFile, type: paste } = useTextOrFile();
  const [secret, setSecret] = useState(false);
  const action = useAction();
  // Not controlled: the text is never put back into the page's HTML.
  const textInput = useRef<HTMLTextAreaElement>(null);
  const ids = useId();
  const sourceErrorId = `${ids}-source-error`;

  // A file of secrets must not have its text quoted back in messages, as the CLI and the server do.
  const parsed = useMemo(() => parseDotenv(source.text, { quoteText: !secret }), [source.text, secret]);
  const rows = useMemo(
    () => (current ? previewImport(parsed.entries, current, secret) : []),
    [parsed, current, secret],
  );
  const ready = current !== undefined && parsed.problems.length === 0 && parsed.entries.length > 0;
  const fields = fieldProblems(action.error, IMPORT_FIELDS);
  // How the text is named in sentences: a file by its name, else "the pasted text".
  const name = source.file ?? 'the pasted text';
  const subject = source.file ?? 'The pasted text';
  const command =
    `pave values import ${source.file !== null ? shellWord(source.file) : 'FILE'}` +
    `${secret ? ' --secret' : ''} --app ${app} --env ${env}`;

  const chooseFile = (event: ChangeEvent<HTMLInputElement>) => {
    if (textInput.current) textInput.current.value = '';
    readFile(event);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!ready || action.busy) return;
    onStart();
    const what = `Imported ${plural(parsed.entries.length, 'key')} from ${name}${secret ? ' as secrets' : ''}`;
    void action.run(async () => {
      const result = await session.client.importValues(app, env, {
        dotenv: source.text,
        ...(secret ? { secret: true } : {}),
      });
      onImported(what, result);
    });
  };

  return (
    <form id={id} className="values-import-form" aria-label="Import values" onSubmit={submit} noValidate>
      <h3>Import from a .env file</h3>
      <p className="hint muted">
        <code>KEY=value</code> lines, <code>#</code> comments and quoted values, as{' '}
        <code>pave values import</code> reads them. The file&apos;s keys are set for {app}/{env}; values not
        in it stay as they are.
      </p>
      <div className="field">
        <label htmlFor={`${ids}-file`}>.env file</label>
        <input
          id={`${ids}-file`}
          ref={fileInput}
          type="file"
          name="file"
          accept=".env,text/plain"
          onChange={chooseFile}
          {...fields.describe('/dotenv', sourceErrorId)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${ids}-text`}>Or paste its text</label>
        {/* Uncontrolled: what is pasted (secrets, maybe) never becomes the page's HTML. */}
        <textarea
          id={`${ids}-text`}
          ref={textInput}
          name="dotenv"
          defaultValue=""
          rows={6}
          spellCheck={false}
          autoComplete="off"
          placeholder={'GREETING=hello\nLOG_LEVEL=debug'}
          onChange={paste}
          {...fields.describe('/dotenv', sourceErrorId)}
        />
        <FieldError id={sourceErrorId} messages={fields.at('/dotenv')} />
      </div>
      <ErrorMessage error={unreadable} />
      <label className="checkbox">
        <input
          type="checkbox"
          name="secret"
          checked={secret}
          onChange={(event) => setSecret(event.target.checked)}
        />
        Mark every imported key secret
      </label>
      <p className="hint muted">
        Without it, a key that is a secret now stays one and a new key is plain text.
      </p>
      {parsed.problems.length > 0 ? (
        <DotenvProblems name={name} problems={parsed.problems} />
      ) : source.text.trim() === '' && source.file === null ? null : parsed.entries.length === 0 ? (
        <p className="muted">{subject} sets no key: there is nothing to import.</p>
      ) : !current ? (
        <p className="muted">Loading the values to compare with…</p>
      ) : (
        <ImportPreview subject={subject} rows={rows} others={current.items.length - countShown(rows)} />
      )}
      <ErrorMessage error={action.error} shownAtField={fields.shownAtField} />
      <div className="button-row">
        <button type="submit" className="primary" disabled={!ready || action.busy}>
          {action.busy ? 'Importing…' : ready ? `Import ${plural(parsed.entries.length, 'key')}` : 'Import'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <Command>{command}</Command>
    </form>
  );
}

/** The parser's problems with the text, each with its line; while there are any, nothing is sent. */
function DotenvProblems({ name, problems }: { name: string; problems: readonly DotenvProblem[] }) {
  return (
    <div className="error" role="alert" aria-label={`Problems in ${name}`}>
      <p>
        {plural(problems.length, 'problem')} in {name}: nothing is sent until{' '}
        {problems.length === 1 ? 'it is' : 'they are'} fixed.
      </p>
      <ul>
        {problems.map((problem, i) => (
          <li key={i}>
            line {problem.line}: {problem.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** What the import would do to each key of the file, and how many values it leaves alone. */
function ImportPreview({
  subject,
  rows,
  others,
}: {
  /** What sets the keys, to start a sentence: the file's name, or "The pasted text". */
  subject: string;
  rows: readonly ImportPreviewRow[];
  /** The values shown now that the file does not name: the import leaves them as they are. */
  others: number;
}) {
  const count = (change: ImportChange) => rows.filter((row) => row.change === change).length;
  const parts = [
    count('added') > 0 && `${count('added')} added`,
    count('changed') > 0 && `${count('changed')} changed`,
    count('unchanged') > 0 && `${count('unchanged')} unchanged`,
    count('not-compared') > 0 && `${plural(count('not-compared'), 'secret')} set again`,
  ].filter(Boolean);
  return (
    <div className="import-preview">
      <p>
        {subject} sets {plural(rows.length, 'key')}: {parts.join(', ')}.
        {others > 0 && ` ${othersLeft(others)}`}
      </p>
      <div className="table-scroll">
        <table aria-label="Import preview">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Change</th>
              <th scope="col">Now</th>
              <th scope="col">After the import</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.key} className={`value-${row.change}`}>
                <th scope="row" className="row-head">
                  <code>{row.key}</code>
                </th>
                <td>{changeText(row)}</td>
                <td>
                  {!row.now ? (
                    <span className="muted">-</span>
                  ) : (
                    <>
                      {row.now.secret ? (
                        <span className="badge">secret, hidden</span>
                      ) : (
                        <code className="value">{row.now.value}</code>
                      )}
                      {row.now.source === 'app' && <span className="muted"> (app default)</span>}
                    </>
                  )}
                </td>
                <td>
                  {row.secret ? (
                    <span className="badge">secret, hidden</span>
                  ) : (
                    <code className="value">{row.value}</code>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {count('not-compared') > 0 && (
        <p className="hint muted">
          The portal does not read secrets&apos; values, so it cannot tell whether a secret&apos;s value
          changes; the server compares them, and a secret set to the value it has is no change.
        </p>
      )}
    </div>
  );
}

function changeText(row: ImportPreviewRow): string {
  switch (row.change) {
    case 'added':
      return row.secret ? 'added (secret)' : 'added';
    case 'changed':
      return row.now?.secret === false && row.secret ? 'changed (becomes a secret)' : 'changed';
    case 'unchanged':
      return 'unchanged';
    case 'not-compared':
      return 'set again (secret, not compared)';
  }
}

/** What becomes of the `count` values shown now that the file does not name. */
function othersLeft(count: number): string {
  const [stay, is] = count === 1 ? ['stays', 'it is'] : ['stay', 'they are'];
  return `${plural(count, 'other value')} shown above ${stay} as ${is}: an import removes nothing.`;
}

/** How many of the values shown now the file names. */
function countShown(rows: readonly ImportPreviewRow[]): number {
  return rows.filter((row) => row.now !== undefined).length;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
