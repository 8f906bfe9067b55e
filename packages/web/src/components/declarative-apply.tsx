import { useEffect, useId, useState, type FormEvent } from 'react';
import { ApiError, type FieldProblem } from '@pave/core';
import type { DeclarationProblem, DeclarationsKind } from '@pave/core/declarations';
import { useTextOrFile } from './text-or-file.ts';
import { Command, ErrorMessage, Section, shellWord, useAction } from './common.tsx';
import { asSentence, problemSentence } from './problem-text.ts';

/**
 * What checking a declarations text found, as `pave <list> apply -f` checks its file (core's
 * `parsePoliciesFile`, `parseProfilesFile`): the items, or none and every problem.
 */
export interface DeclarationsCheck<Item> {
  /** The items in text order, defaults applied; empty while there are problems. */
  items: Item[];
  /** Every problem, at its line and column; nothing may be sent while there are any. */
  problems: DeclarationProblem[];
  /**
   * The 1-based line and column in the text of the value at `path` (a JSON pointer's parts, unescaped) inside
   * item `index`, or of the nearest value around it: where a server's problem with it is shown.
   */
  locate(index: number, path: readonly string[]): { line: number; column: number };
}

/** A problem as the form lists it: `Line 4, column 9: no-latest.rule: …`, as the CLI prints `file:4:9: …`. */
export function problemLine(
  problem: Pick<DeclarationProblem, 'line' | 'column' | 'path' | 'message'>,
): string {
  return `Line ${problem.line}, column ${problem.column}: ${problem.path}: ${problem.message}`;
}

/**
 * The lines for a server's problems with the items of a checked text: a problem at `/<list>/<index>/<field…>`
 * (`/policies/0/criteria/0/envType`) is said as a problem found before sending is, at the field's line and
 * column and with the path the CLI prints (`wrong-env.criteria[0].envType`); any other problem is said as a
 * sentence.
 */
export function itemProblemLines<Item>(
  problems: readonly FieldProblem[],
  { list, checked }: { list: string; checked: DeclarationsCheck<Item> },
): string[] {
  const pattern = new RegExp(`^/${list}/(\\d+)(?:/(.*))?$`);
  return problems.map((problem) => {
    const match = pattern.exec(problem.path);
    const index = Number(match?.[1]);
    const item: unknown = match ? checked.items[index] : undefined;
    if (!match || item === undefined) return problemSentence(problem);
    const parts = (match[2] ?? '')
      .split('/')
      .filter((part) => part !== '')
      .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
    const id = (item as { id?: unknown }).id;
    return problemLine({
      ...checked.locate(index, parts),
      path: `${typeof id === 'string' ? id : `[${index}]`}${pointerPath(parts)}`,
      message: problem.message,
    });
  });
}

// `criteria/0/envType` (a JSON pointer's parts) after an item's id, as the CLI prints it: `.criteria[0].envType`.
function pointerPath(parts: readonly string[]): string {
  return parts.map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`)).join('');
}

/** A declarative apply's plan, as the server answers `POST /<list>/apply` (policies, profiles, definitions, targets). */
export interface DeclarativePlan {
  applied: boolean;
  changes: Array<{ id: string; action: 'create' | 'update' | 'unchanged'; fields: string[] }>;
}

/**
 * The Apply YAML form of a declaratively applied list (resource definitions, runtime targets, policies,
 * workload profiles): a YAML text typed or read from a chosen file, the same file `pave <command> apply -f`
 * takes. `check` checks the text as the CLI
 * checks its file (YAML, schema, duplicate ids, and what each list checks offline: CEL rules, patches), and
 * each problem is shown with its line and column; nothing is sent while there are any. **Plan** sends the
 * checked items as a dry run and shows what would be created, updated or left unchanged; **Apply** then sends
 * the same items for real and calls `onApplied`. Editing the text drops the plan. The server's problems
 * (what only it knows, such as environment types) are shown at the line and column of the field they concern.
 * Items the text does not name are kept, as by the CLI.
 */
export function DeclarativeApply<Item>({
  noun,
  list,
  command = list,
  example,
  check,
  send,
  onApplied,
  holdsSecrets,
}: {
  /** One item, e.g. `policy`. */
  noun: string;
  /** The list, e.g. `policies`: the body's key and the first part of its problems' pointers. */
  list: string;
  /** The CLI command that applies such a file, e.g. `defs` (`pave defs apply -f`); `list` unless given. */
  command?: string;
  /** A short example text, shown as the textarea's placeholder. */
  example: string;
  /**
   * Checks a text (`file` labels its problems); should load the parser when first called, so that the
   * portal's first page does not wait for it. A stable function: a new one checks the text again.
   */
  check: (text: string, file: string) => Promise<DeclarationsCheck<Item>>;
  /** Sends the checked items (the server checks them again); with `dryRun` it only plans. */
  send: (items: Item[], dryRun: boolean) => Promise<DeclarativePlan>;
  /** Told once an apply changed something. */
  onApplied: (plan: DeclarativePlan) => void;
  /**
   * Whether items hold secrets (a definition's secret inputs): once they are applied, the text is cleared, so
   * that the page no longer holds them, and the notice says so.
   */
  holdsSecrets?: (items: Item[]) => boolean;
}) {
  const { source, unreadable, fileInput, chooseFile, type, clear } = useTextOrFile(() => {
    setDone(null);
    action.clear();
  });
  // The plan of the text it was made for: once the text changes it no longer says what Apply would do.
  const [planned, setPlanned] = useState<{ text: string; plan: DeclarativePlan } | null>(null);
  // The latest check and the text it was made for: only that text may be planned with its items.
  const [checked, setChecked] = useState<{ text: string; result: DeclarationsCheck<Item> } | null>(null);
  const [checkError, setCheckError] = useState<unknown>(null);
  const [step, setStep] = useState<'plan' | 'apply'>('plan');
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();
  const ids = useId();
  const problemsId = `${ids}-problems`;
  const serverProblemsId = `${ids}-server-problems`;

  const blank = source.text.trim() === '';
  const name = source.file ?? 'the text';
  useEffect(() => {
    if (blank) return;
    const text = source.text;
    let current = true;
    check(text, name).then(
      (result) => {
        if (!current) return;
        setChecked({ text, result });
        setCheckError(null);
      },
      (error: unknown) => {
        if (current) setCheckError(error);
      },
    );
    return () => {
      current = false;
    };
  }, [blank, source.text, name, check]);

  // The problems shown are those of the latest check, which may be of the text before the last keystroke.
  const problems = !blank && checked ? checked.result.problems : [];
  // The items of this very text, once it is checked and has no problem: what Plan and Apply send.
  const items =
    !blank && checked?.text === source.text && checked.result.problems.length === 0
      ? checked.result.items
      : null;
  const plan = planned?.text === source.text ? planned.plan : null;
  const changes = plan?.changes.filter((change) => change.action !== 'unchanged').length ?? 0;
  const fileArgument = source.file ?? `${command}.yaml`;
  const refused = action.error instanceof ApiError ? action.error : null;
  const invalid = problems.length > 0 || refused !== null;

  const planIt = (event: FormEvent) => {
    event.preventDefault();
    if (items === null || action.busy) return;
    const text = source.text;
    setStep('plan');
    setDone(null);
    setPlanned(null);
    void action.run(async () => {
      setPlanned({ text, plan: await send(items, true) });
    });
  };
  const applyIt = () => {
    if (!plan || items === null || changes === 0 || action.busy) return;
    setStep('apply');
    void action.run(async () => {
      const applied = await send(items, false);
      setPlanned(null);
      const secret = holdsSecrets?.(items) === true;
      if (secret) clear();
      setDone(`${appliedSentence(applied)}${secret ? ' The text was cleared: it held secrets.' : ''}`);
      onApplied(applied);
    });
  };

  return (
    <Section title="Apply YAML">
      <p className="muted">
        The YAML file <code>pave {command} apply -f</code> takes: a list of {list}, or one {noun} per YAML
        document. It is checked here as the CLI checks it. Those it names are created or updated; {list} it
        does not name are kept.
      </p>
      <form onSubmit={planIt} aria-label={`Apply ${list} from YAML`} noValidate>
        <YamlSourceFields
          input={{ source, fileInput, chooseFile, type }}
          rows={12}
          example={example}
          invalid={invalid}
          describedBy={problems.length > 0 ? problemsId : refused ? serverProblemsId : undefined}
        />
        <ErrorMessage error={unreadable} />
        <ErrorMessage error={blank ? null : checkError} />
        {problems.length > 0 && <CheckProblems id={problemsId} name={name} problems={problems} />}
        {refused && checked ? (
          <ServerProblems
            id={serverProblemsId}
            error={refused}
            name={name}
            lines={itemProblemLines(refused.problem.errors ?? [], { list, checked: checked.result })}
          />
        ) : (
          <ErrorMessage error={action.error} />
        )}
        {plan && <PlanTable plan={plan} noun={noun} list={list} name={name} />}
        {done && (
          <p className="notice" role="status">
            {done}
          </p>
        )}
        <PlanApplyButtons
          changes={plan ? changes : 0}
          noun="change"
          ready={items !== null}
          busy={action.busy ? step : null}
          onApply={applyIt}
        />
      </form>
      <Command>{`pave ${command} apply -f ${shellWord(fileArgument)}`}</Command>
    </Section>
  );
}

/**
 * The two ways a YAML file reaches an apply form: **YAML file** (a file input) or **Or its text** (a textarea
 * that shows a chosen file's text), as `useTextOrFile` keeps them.
 */
export function YamlSourceFields({
  input,
  rows,
  example,
  invalid,
  describedBy,
}: {
  input: Pick<ReturnType<typeof useTextOrFile>, 'source' | 'fileInput' | 'chooseFile' | 'type'>;
  rows: number;
  /** The textarea's placeholder. */
  example: string;
  invalid: boolean;
  /** The id of what describes the text's problems, while there are any. */
  describedBy: string | undefined;
}) {
  return (
    <>
      <label>
        YAML file
        <input
          ref={input.fileInput}
          type="file"
          name="file"
          accept=".yaml,.yml,application/yaml,text/yaml,text/plain"
          onChange={input.chooseFile}
        />
      </label>
      <label>
        Or its text
        <textarea
          name="yaml"
          value={input.source.text}
          onChange={input.type}
          rows={rows}
          spellCheck={false}
          autoComplete="off"
          placeholder={example}
          aria-invalid={invalid}
          aria-describedby={describedBy}
        />
      </label>
    </>
  );
}

/**
 * An apply form's buttons: **Plan** (the form's submit: a dry run), and once a plan shows `changes`,
 * **Apply N <noun>s**, which then is the primary one. `ready`: the text is checked and may be planned; `busy`:
 * which of the two runs.
 */
export function PlanApplyButtons({
  changes,
  noun,
  ready,
  busy,
  onApply,
}: {
  changes: number;
  noun: string;
  ready: boolean;
  busy: 'plan' | 'apply' | null;
  onApply: () => void;
}) {
  return (
    <div className="button-row">
      <button
        type="submit"
        className={changes > 0 ? undefined : 'primary'}
        disabled={!ready || busy !== null}
      >
        {busy === 'plan' ? 'Planning…' : 'Plan'}
      </button>
      {changes > 0 && (
        <button type="button" className="primary" onClick={onApply} disabled={busy !== null}>
          {busy === 'apply' ? 'Applying…' : `Apply ${plural(changes, noun)}`}
        </button>
      )}
    </div>
  );
}

/**
 * The `check` of DeclarativeApply for a kind of core's declarations files that has no checks of its own beyond
 * its schema (resource definitions, runtime targets): `kindOf` picks it from `@pave/core/declarations`, which
 * is loaded when first used, so that the portal's first page does not wait for it. A server's problem with a
 * field is located as the CLI locates it.
 */
export async function checkDeclarationsOf<Item extends { id: string }>(
  text: string,
  file: string,
  kindOf: (declarations: typeof import('@pave/core/declarations')) => DeclarationsKind<Item>,
): Promise<DeclarationsCheck<Item>> {
  const declarations = await import('@pave/core/declarations');
  const { items, problems } = declarations.parseDeclarationsFile(text, file, kindOf(declarations));
  return { items, problems, locate: (index, path) => declarations.locateDeclarationPath(text, index, path) };
}

/** `3 changes`, `1 template`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** The problems found in the text, each at its line and column; while there are any, nothing is sent. */
export function CheckProblems({
  id,
  name,
  problems,
}: {
  id: string;
  name: string;
  problems: readonly DeclarationProblem[];
}) {
  return (
    <div id={id} className="error" role="alert" aria-label={`Problems in ${name}`}>
      <p>
        {plural(problems.length, 'problem')} in {name}: nothing is sent until{' '}
        {problems.length === 1 ? 'it is' : 'they are'} fixed.
      </p>
      <ul>
        {problems.map((problem, i) => (
          <li key={i}>{problemLine(problem)}</li>
        ))}
      </ul>
    </div>
  );
}

/** The server's refusal of a plan or an apply: its detail, then each of its problems. */
function ServerProblems({
  id,
  error,
  name,
  lines,
}: {
  id: string;
  error: ApiError;
  name: string;
  lines: readonly string[];
}) {
  // "The request body is invalid" says less than naming what the server refused.
  const generic = error.status === 400 && /^the request \w+ is invalid$/.test(error.message);
  return (
    <div id={id} className="error" role="alert">
      <p>{generic ? `The server refused ${name}.` : asSentence(error.message)} Nothing was applied.</p>
      {lines.length > 0 && (
        <ul>
          {lines.map((line, i) => (
            <li key={i}>{line}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** What applying the text would do: each item it names created, updated (with the fields) or unchanged. */
function PlanTable({
  plan,
  noun,
  list,
  name,
}: {
  plan: DeclarativePlan;
  noun: string;
  list: string;
  name: string;
}) {
  const count = (action: DeclarativePlan['changes'][number]['action']) =>
    plan.changes.filter((change) => change.action === action).length;
  const summary =
    count('create') + count('update') === 0
      ? `No changes: every ${noun} in ${name} is applied already.`
      : `Plan: ${count('create')} to create, ${count('update')} to update, ${count('unchanged')} unchanged. ` +
        'Nothing is applied until you press Apply.';
  return (
    <div className="match-result">
      <p role="status">{summary}</p>
      <table aria-label="Plan">
        <thead>
          <tr>
            <th scope="col">{capitalized(noun)}</th>
            <th scope="col">Change</th>
            <th scope="col">Fields that change</th>
          </tr>
        </thead>
        <tbody>
          {plan.changes.map((change) => (
            <tr key={change.id}>
              <th scope="row" className="row-head">
                {change.id}
              </th>
              <td>{change.action}</td>
              <td>
                {change.fields.length > 0 ? (
                  change.fields.join(', ')
                ) : (
                  <span className="muted">{change.action === 'create' ? `new ${noun}` : '-'}</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">
        {capitalized(list)} not in {name} are kept.
      </p>
    </div>
  );
}

/** What an apply did, for the form's notice: `Applied 2 changes: created a; updated b.` */
function appliedSentence(plan: DeclarativePlan): string {
  const ids = (action: DeclarativePlan['changes'][number]['action']) =>
    plan.changes.filter((change) => change.action === action).map((change) => change.id);
  const parts = [
    ids('create').length > 0 && `created ${ids('create').join(', ')}`,
    ids('update').length > 0 && `updated ${ids('update').join(', ')}`,
  ].filter(Boolean);
  return `Applied ${plural(ids('create').length + ids('update').length, 'change')}: ${parts.join('; ')}.`;
}

function capitalized(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/**
 * Where a policy or a workload profile applies: its criteria one per line as `field=value` pairs (any one
 * matching is enough), or "everywhere" when it has none.
 */
export function Criteria({
  criteria,
}: {
  criteria: ReadonlyArray<{
    envType?: string | undefined;
    envId?: string | undefined;
    appId?: string | undefined;
  }>;
}) {
  if (criteria.length === 0) return <span className="muted">everywhere</span>;
  return (
    <ul className="plain-list">
      {criteria.map((criterion, index) => (
        <li key={index}>
          <code>{criterionText(criterion)}</code>
        </li>
      ))}
    </ul>
  );
}

/** One criterion as `field=value` pairs joined by `,`, as the CLI prints it; `(any)` when it sets none. */
export function criterionText(criterion: {
  envType?: string | undefined;
  envId?: string | undefined;
  appId?: string | undefined;
}): string {
  const fields = (['envType', 'envId', 'appId'] as const)
    .filter((field) => criterion[field] !== undefined)
    .map((field) => `${field}=${criterion[field]}`);
  return fields.length > 0 ? fields.join(',') : '(any)';
}
