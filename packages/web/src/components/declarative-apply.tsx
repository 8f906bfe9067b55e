import { useId, useMemo, useState, type FormEvent } from 'react';
import { useTextOrFile } from './text-or-file.ts';
import { LineCounter, isNode, parseAllDocuments, type Document } from 'yaml';
import { ApiError, isEmptyYamlNode, type FieldProblem } from '@pave/core';
import { Command, ErrorMessage, Section, shellWord, useAction } from './common.tsx';
import { asSentence, problemSentence } from './problem-text.ts';

/** One problem with a declarations text, found before anything is sent. */
export interface DeclarationsProblem {
  /** 1-based line and column in the text. */
  line: number;
  column: number;
  message: string;
}

/** What {@link parseDeclarations} makes of a text. */
export interface DeclarationsText {
  /** The items in text order, as the YAML gives them (the server checks them); empty while there are problems. */
  items: unknown[];
  /** The YAML problems, by position; nothing may be sent while there are any. */
  problems: DeclarationsProblem[];
  /**
   * The line of the value at `path` (the parts of a JSON pointer) inside item `index`, or of the nearest value
   * around it that the text has (a missing key's item, say); undefined for an item the text does not have.
   */
  lineOf(index: number, path: readonly string[]): number | undefined;
}

/**
 * Reads a declarations text as `pave policies apply -f` and `pave profiles apply -f` read their file: one YAML
 * list of items, or one item per YAML document (`---`; a document may hold a list too). Only the YAML is
 * checked here, each syntax error with its line and column; what the items say is the server's to check.
 * A text without any item is a problem too (`noun` and `list`, e.g. `policy` and `policies`, name them). Never
 * throws.
 */
export function parseDeclarations(
  text: string,
  { noun, list }: { noun: string; list: string },
): DeclarationsText {
  const lineCounter = new LineCounter();
  const none = (problems: DeclarationsProblem[]): DeclarationsText => ({
    items: [],
    problems,
    lineOf: () => undefined,
  });
  let documents: Document.Parsed[];
  try {
    documents = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  } catch (error) {
    // The parser recurses once per level of nesting and overflows the stack on very deep texts.
    if (error instanceof RangeError) {
      return none([{ line: 1, column: 1, message: 'the YAML nests too deeply to read' }]);
    }
    return none([{ line: 1, column: 1, message: `the YAML cannot be read: ${String(error)}` }]);
  }
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const problems: DeclarationsProblem[] = [];
  const located: Array<{ value: unknown; document: Document.Parsed; prefix: number[] }> = [];
  for (const document of documents) {
    const reported = new Set<number>();
    for (const error of document.errors) {
      // The parser often reports one mistake twice at the same place; the first message is the clearer one.
      if (reported.has(error.pos[0])) continue;
      reported.add(error.pos[0]);
      problems.push({ ...at(error.pos[0]), message: `YAML syntax error: ${error.message}` });
    }
    if (document.errors.length > 0) continue;
    if (isEmptyYamlNode(document.contents ?? undefined)) continue; // an empty document, e.g. after a last `---`
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: 100 });
    } catch (error) {
      problems.push({ ...at(document.range[0]), message: `YAML error: ${(error as Error).message}` });
      continue;
    }
    if (Array.isArray(value))
      value.forEach((item, index) => located.push({ value: item, document, prefix: [index] }));
    else located.push({ value, document, prefix: [] });
  }
  if (problems.length === 0 && located.length === 0) {
    problems.push({
      line: 1,
      column: 1,
      message: `no ${list}: write a YAML list of ${list}, or one ${noun} per YAML document`,
    });
  }
  if (problems.length > 0) return none(problems.sort((a, b) => a.line - b.line || a.column - b.column));
  return {
    items: located.map((item) => item.value),
    problems: [],
    lineOf(index, path) {
      const item = located[index];
      if (!item) return undefined;
      const parts: unknown[] = [
        ...item.prefix,
        ...path.map((part) => (/^\d+$/.test(part) ? Number(part) : part)),
      ];
      for (; parts.length >= item.prefix.length; parts.pop()) {
        const node: unknown = item.document.getIn(parts, true);
        if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
      }
      return undefined;
    },
  };
}

/** A problem's message that reads as a sentence's predicate once its field is put before it. */
const VERB_FIRST = /^(must|is|are|should|cannot|can't|has|was|does|needs|may)\b/;

/** `criteria/0/envType` (a JSON pointer's parts) as people read a path: `criteria[0].envType`. */
function pathText(parts: readonly string[]): string {
  return parts.map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

/**
 * The sentences for a server's problems with the items of a declarations text: a problem at
 * `/<list>/<index>/<field…>` (`/policies/0/rule`) names the item by its id (by its position when it has none),
 * its line in the text and the field (`Policy a (line 4): rule: column 3 of the expression: …`); any other
 * problem is said as it is.
 */
export function itemProblemSentences(
  problems: readonly FieldProblem[],
  { list, noun, parsed }: { list: string; noun: string; parsed: DeclarationsText },
): string[] {
  const pattern = new RegExp(`^/${list}/(\\d+)(?:/(.*))?$`);
  return problems.map((problem) => {
    const match = pattern.exec(problem.path);
    if (!match) return problemSentence(problem);
    const index = Number(match[1]);
    const parts = (match[2] ?? '')
      .split('/')
      .filter((part) => part !== '')
      .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
    const item = parsed.items[index];
    const id =
      item !== null && typeof item === 'object' && typeof (item as { id?: unknown }).id === 'string'
        ? (item as { id: string }).id
        : undefined;
    const subject = id !== undefined ? `${noun} ${id}` : `the ${noun} at position ${index + 1}`;
    const line = parsed.lineOf(index, parts);
    const field = parts.length > 0 ? pathText(parts) : undefined;
    // "message is required", but "rule: column 3 of the expression: …".
    const what = !field
      ? problem.message
      : VERB_FIRST.test(problem.message)
        ? `${field} ${problem.message}`
        : `${field}: ${problem.message}`;
    return asSentence(`${subject}${line !== undefined ? ` (line ${line})` : ''}: ${what}`);
  });
}

/** A declarative apply's plan, as the server answers `POST /policies/apply` and `POST /profiles/apply`. */
export interface DeclarativePlan {
  applied: boolean;
  changes: Array<{ id: string; action: 'create' | 'update' | 'unchanged'; fields: string[] }>;
}

/**
 * The Apply YAML form of a declaratively applied list (policies, workload profiles): a YAML text typed or
 * read from a chosen file, the same file `pave <list> apply -f` takes. Its YAML is read here first, each
 * syntax error shown with its line, and nothing is sent while there are any. **Plan** sends the items as a dry
 * run and shows what would be created, updated or left unchanged; **Apply** then sends the same items for
 * real and calls `onApplied`. Editing the text drops the plan. The server's problems are sentences naming the
 * item (`/policies/0/rule` -> policy no-latest, its rule, its line). Items the text does not name are kept,
 * as by the CLI.
 */
export function DeclarativeApply({
  noun,
  list,
  example,
  send,
  onApplied,
}: {
  /** One item, e.g. `policy`. */
  noun: string;
  /** The list, e.g. `policies`: the CLI command, the body's key and the first part of its problems' pointers. */
  list: string;
  /** A short example text, shown as the textarea's placeholder. */
  example: string;
  /** Sends the items (the server checks them); with `dryRun` it only plans. */
  send: (items: unknown[], dryRun: boolean) => Promise<DeclarativePlan>;
  /** Told once an apply changed something. */
  onApplied: (plan: DeclarativePlan) => void;
}) {
  const { source, unreadable, fileInput, chooseFile, type } = useTextOrFile(() => {
    setDone(null);
    action.clear();
  });
  // The plan of the text it was made for: once the text changes it no longer says what Apply would do.
  const [planned, setPlanned] = useState<{ text: string; plan: DeclarativePlan } | null>(null);
  const [step, setStep] = useState<'plan' | 'apply'>('plan');
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();
  const ids = useId();
  const problemsId = `${ids}-problems`;
  const serverProblemsId = `${ids}-server-problems`;

  const parsed = useMemo(() => parseDeclarations(source.text, { noun, list }), [source.text, noun, list]);
  const blank = source.text.trim() === '';
  const plan = planned?.text === source.text ? planned.plan : null;
  const changes = plan?.changes.filter((change) => change.action !== 'unchanged').length ?? 0;
  const name = source.file ?? 'the text';
  const fileArgument = source.file ?? `${list}.yaml`;
  const refused = action.error instanceof ApiError ? action.error : null;
  const invalid = (!blank && parsed.problems.length > 0) || refused !== null;

  const planIt = (event: FormEvent) => {
    event.preventDefault();
    if (blank || parsed.problems.length > 0 || action.busy) return;
    const text = source.text;
    setStep('plan');
    setDone(null);
    setPlanned(null);
    void action.run(async () => {
      setPlanned({ text, plan: await send(parsed.items, true) });
    });
  };
  const applyIt = () => {
    if (!plan || changes === 0 || action.busy) return;
    setStep('apply');
    void action.run(async () => {
      const applied = await send(parsed.items, false);
      setPlanned(null);
      setDone(appliedSentence(applied));
      onApplied(applied);
    });
  };

  return (
    <Section title="Apply YAML">
      <p className="muted">
        The YAML file <code>pave {list} apply -f</code> takes: a list of {list}, or one {noun} per YAML
        document. Those it names are created or updated; {list} it does not name are kept.
      </p>
      <form onSubmit={planIt} aria-label={`Apply ${list} from YAML`} noValidate>
        <label>
          YAML file
          <input
            ref={fileInput}
            type="file"
            name="file"
            accept=".yaml,.yml,application/yaml,text/yaml,text/plain"
            onChange={chooseFile}
          />
        </label>
        <label>
          Or its text
          <textarea
            name="yaml"
            value={source.text}
            onChange={type}
            rows={12}
            spellCheck={false}
            autoComplete="off"
            placeholder={example}
            aria-invalid={invalid}
            aria-describedby={
              !blank && parsed.problems.length > 0 ? problemsId : refused ? serverProblemsId : undefined
            }
          />
        </label>
        <ErrorMessage error={unreadable} />
        {!blank && parsed.problems.length > 0 && (
          <YamlProblems id={problemsId} name={name} problems={parsed.problems} />
        )}
        {refused ? (
          <ServerProblems
            id={serverProblemsId}
            error={refused}
            name={name}
            sentences={itemProblemSentences(refused.problem.errors ?? [], { list, noun, parsed })}
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
        <div className="button-row">
          <button
            type="submit"
            className={plan && changes > 0 ? undefined : 'primary'}
            disabled={blank || parsed.problems.length > 0 || action.busy}
          >
            {action.busy && step === 'plan' ? 'Planning…' : 'Plan'}
          </button>
          {plan && changes > 0 && (
            <button type="button" className="primary" onClick={applyIt} disabled={action.busy}>
              {action.busy && step === 'apply' ? 'Applying…' : `Apply ${plural(changes, 'change')}`}
            </button>
          )}
        </div>
      </form>
      <Command>{`pave ${list} apply -f ${shellWord(fileArgument)}`}</Command>
    </Section>
  );
}

/** The YAML problems of the text, each with its line; while there are any, nothing is sent. */
function YamlProblems({
  id,
  name,
  problems,
}: {
  id: string;
  name: string;
  problems: readonly DeclarationsProblem[];
}) {
  return (
    <div id={id} className="error" role="alert" aria-label={`Problems in ${name}`}>
      <p>
        {plural(problems.length, 'problem')} in {name}: nothing is sent until{' '}
        {problems.length === 1 ? 'it is' : 'they are'} fixed.
      </p>
      <ul>
        {problems.map((problem, i) => (
          <li key={i}>
            Line {problem.line}, column {problem.column}: {problem.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The server's refusal of a plan or an apply: its detail, then each problem as a sentence. */
function ServerProblems({
  id,
  error,
  name,
  sentences,
}: {
  id: string;
  error: ApiError;
  name: string;
  sentences: readonly string[];
}) {
  // "The request body is invalid" says less than naming what the server refused.
  const generic = error.status === 400 && /^the request \w+ is invalid$/.test(error.message);
  return (
    <div id={id} className="error" role="alert">
      <p>{generic ? `The server refused ${name}.` : asSentence(error.message)} Nothing was applied.</p>
      {sentences.length > 0 && (
        <ul>
          {sentences.map((sentence, i) => (
            <li key={i}>{sentence}</li>
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

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
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
