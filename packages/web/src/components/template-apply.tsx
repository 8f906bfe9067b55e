import { useEffect, useId, useState, type FormEvent } from 'react';
import { ApiError, type FieldProblem, type Template, type TemplateApplied } from '@pave/core';
import type { DeclarationProblem } from '@pave/core/declarations';
import type { Session } from '../session.ts';
import { useTextOrFile } from './text-or-file.ts';
import { Command, ErrorMessage, Section, shellWord, useAction } from './common.tsx';
import { CheckProblems, PlanApplyButtons, YamlSourceFields, problemLine } from './declarative-apply.tsx';
import { asSentence, problemSentence } from './problem-text.ts';

/** The form's placeholder: a small template as one YAML file, its files inline (docs/templates.md). */
const EXAMPLE = `id: hello-web
title: Hello web page
parameters:
  type: object
  properties:
    name: { type: string }
  required: [name]
files:
  - path: index.html
    content: <h1>Hello from {{ name }}</h1>
setup:
  environments: [{ id: dev, type: development }]
  deploy: dev`;

/** What checking a template file found: its templates, or none and every problem at its line and column. */
export interface TemplatesCheck {
  /** The templates in text order, defaults applied; empty while there are problems. */
  templates: Template[];
  /** Every problem, at its line and column; nothing may be sent while there are any. */
  problems: DeclarationProblem[];
  /** The 1-based line and column of `path` (a JSON pointer's parts) in template `index`, or the nearest value. */
  locate(index: number, path: readonly string[]): { line: number; column: number };
}

/**
 * Checks a template file's text as `pave templates apply -f` checks a YAML file before sending it, with core's
 * parser (loaded on first use, so that the portal's first page does not wait for it): YAML, the `Template`
 * schema, and ids that appear twice. `file` labels the problems.
 */
export async function checkTemplates(text: string, file: string): Promise<TemplatesCheck> {
  const { TEMPLATES, locateDeclarationPath, parseDeclarationsFile } = await import('@pave/core/declarations');
  const { items, problems } = parseDeclarationsFile(text, file, TEMPLATES);
  return {
    templates: items,
    problems,
    locate: (index, path) => locateDeclarationPath(text, index, path),
  };
}

/**
 * The server's problems with template `index` of a checked text, as `pave templates apply -f` prints them: a
 * JSON pointer into the template (`/setup/deploy`, `/files/0/content`) at the line and column of that value
 * in the text, `Line 12, column 11: /setup/deploy: must name …`; any other problem as a sentence.
 */
export function templateProblemLines(
  problems: readonly FieldProblem[],
  checked: TemplatesCheck,
  index: number,
): string[] {
  return problems.map((problem) => {
    if (!problem.path.startsWith('/')) return problemSentence(problem);
    const parts = problem.path
      .split('/')
      .slice(1)
      .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
    return problemLine({ ...checked.locate(index, parts), path: problem.path, message: problem.message });
  });
}

/** A refusal by the server of template `index` of the text, and the templates applied before it. */
interface Refusal {
  error: unknown;
  index: number;
  applied: TemplateApplied[];
}

/**
 * The Apply template form, for those who may write templates: the YAML file `pave templates apply -f` takes
 * (one template, or several as a list or one per YAML document, files inline), chosen or typed. It is checked
 * as the CLI checks it, each problem at its line and column, and nothing is sent while there are any. **Plan**
 * applies each template as a dry run and says what would happen (created as version 1, a new version, or
 * unchanged, as `--dry-run` says), or every template the server refuses, as the CLI lists them; **Apply**
 * then applies them for real, one after the other as the CLI does, and calls `onApplied`. Editing the text drops the plan. The server's problems (files that do not render,
 * a setup that does not add up) are shown at the line and column of the value they name.
 */
export function TemplateApply({
  session,
  onApplied,
}: {
  session: Session;
  /** Told once an apply stored something (a new template or version). */
  onApplied: () => void;
}) {
  const { source, unreadable, fileInput, chooseFile, type } = useTextOrFile(() => {
    setDone(null);
    setRefusals([]);
  });
  // The latest check and the text it was made for: only that text may be planned with its templates.
  const [checked, setChecked] = useState<{ text: string; result: TemplatesCheck } | null>(null);
  const [checkError, setCheckError] = useState<unknown>(null);
  // The plan of the text it was made for: once the text changes it no longer says what Apply would do.
  const [planned, setPlanned] = useState<{ text: string; plan: TemplateApplied[] } | null>(null);
  // Every template a plan's dry run refused, or the one an apply stopped at.
  const [refusals, setRefusals] = useState<Refusal[]>([]);
  const [step, setStep] = useState<'plan' | 'apply'>('plan');
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();
  const ids = useId();
  const problemsId = `${ids}-problems`;
  const refusalId = `${ids}-refusal`;

  const blank = source.text.trim() === '';
  const name = source.file ?? 'the text';
  useEffect(() => {
    if (blank) return;
    const text = source.text;
    let current = true;
    checkTemplates(text, name).then(
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
  }, [blank, source.text, name]);

  // The problems shown are those of the latest check, which may be of the text before the last keystroke.
  const problems = !blank && checked ? checked.result.problems : [];
  const current = !blank && checked?.text === source.text ? checked.result : null;
  // The templates of this very text, once it is checked and has no problem: what Plan and Apply send.
  const templates = current && current.problems.length === 0 ? current.templates : null;
  const plan = planned?.text === source.text ? planned.plan : null;
  const changes = plan?.filter((applied) => applied.action !== 'unchanged').length ?? 0;
  const fileArgument = source.file ?? 'template.yaml';

  /**
   * Applies the templates one after the other. A dry run only checks them, and checks them all, so that a plan
   * lists every refusal; a real apply stops at the first, those before it staying applied (as with the CLI).
   */
  const applyEach = async (dryRun: boolean): Promise<{ results: TemplateApplied[]; refusals: Refusal[] }> => {
    const results: TemplateApplied[] = [];
    const refused: Refusal[] = [];
    for (const [index, template] of (templates ?? []).entries()) {
      try {
        results.push(await session.client.applyTemplate(template, { dryRun }));
      } catch (error) {
        refused.push({ error, index, applied: dryRun ? [] : [...results] });
        if (!dryRun) break;
      }
    }
    return { results, refusals: refused };
  };
  const planIt = (event: FormEvent) => {
    event.preventDefault();
    if (templates === null || action.busy) return;
    const text = source.text;
    setStep('plan');
    setDone(null);
    setPlanned(null);
    setRefusals([]);
    void action.run(async () => {
      const { results, refusals: refused } = await applyEach(true);
      setRefusals(refused);
      if (refused.length === 0) setPlanned({ text, plan: results });
    });
  };
  const applyIt = () => {
    if (!plan || templates === null || changes === 0 || action.busy) return;
    setStep('apply');
    setRefusals([]);
    void action.run(async () => {
      const { results, refusals: refused } = await applyEach(false);
      setPlanned(null);
      setRefusals(refused);
      if (refused.length === 0) setDone(results.map(appliedSentence).join(' '));
      // Those before a refusal stay applied, as with the CLI: the list shows them.
      if (results.some((applied) => applied.action !== 'unchanged')) onApplied();
    });
  };

  // Each refusal's problems at their lines and columns (null for a failure that is not a refusal).
  const refusedLines = refusals.map((refusal) =>
    refusal.error instanceof ApiError && current
      ? templateProblemLines(refusal.error.problem.errors ?? [], current, refusal.index)
      : null,
  );
  const refusalIds = refusals.map((_, i) => `${refusalId}-${i}`).join(' ');

  return (
    <Section title="Apply template">
      <p className="muted">
        The YAML file <code>pave templates apply -f</code> takes, with the files inline: one template, or
        several as a list or one per YAML document (see docs/templates.md). It is checked here as the CLI
        checks it. A template is stored as version 1, or as a new version when it changed; earlier versions
        stay. A directory (template.yaml and files/) is applied with the CLI.
      </p>
      <form onSubmit={planIt} aria-label="Apply a template from YAML" noValidate>
        <YamlSourceFields
          input={{ source, fileInput, chooseFile, type }}
          rows={14}
          example={EXAMPLE}
          invalid={problems.length > 0 || refusedLines.some((lines) => lines !== null)}
          describedBy={
            problems.length > 0
              ? problemsId
              : refusedLines.some((lines) => lines !== null)
                ? refusalIds
                : undefined
          }
        />
        <ErrorMessage error={unreadable} />
        <ErrorMessage error={blank ? null : checkError} />
        {problems.length > 0 && <CheckProblems id={problemsId} name={name} problems={problems} />}
        {refusals.map((refusal, i) => (
          <RefusalMessage
            key={refusal.index}
            id={`${refusalId}-${i}`}
            refusal={refusal}
            template={templates?.[refusal.index]?.id ?? `[${refusal.index}]`}
            name={name}
            lines={refusedLines[i] ?? null}
          />
        ))}
        <ErrorMessage error={action.error} />
        {plan && <PlanTable plan={plan} name={name} />}
        {done && (
          <p className="notice" role="status">
            {done}
          </p>
        )}
        <PlanApplyButtons
          changes={plan ? changes : 0}
          noun="template"
          ready={templates !== null}
          busy={action.busy ? step : null}
          onApply={applyIt}
        />
      </form>
      <Command>{`pave templates apply -f ${shellWord(fileArgument)}`}</Command>
    </Section>
  );
}

/**
 * The server's refusal of a template: its detail, then each problem at its line and column; and which
 * templates before it were applied all the same (an apply stops at the first refusal, as the CLI's does).
 */
function RefusalMessage({
  id,
  refusal,
  template,
  name,
  lines,
}: {
  id: string;
  refusal: Refusal;
  /** The refused template's id. */
  template: string;
  /** What the text is called: its file's name, or "the text". */
  name: string;
  /** The refusal's problems, each at its line and column; null for a failure that is not a refusal. */
  lines: readonly string[] | null;
}) {
  if (lines === null) return <ErrorMessage error={refusal.error} />;
  const error = refusal.error as ApiError;
  // "The request body is invalid" says less than naming what the server refused.
  const generic = error.status === 400 && /^the request \w+ is invalid$/.test(error.message);
  const message = generic ? `The server refused template ${template} in ${name}.` : asSentence(error.message);
  const stored = refusal.applied.filter((applied) => applied.applied && applied.action !== 'unchanged');
  return (
    <div id={id} className="error" role="alert">
      <p>
        {message}{' '}
        {stored.length > 0
          ? `Template ${template} was not applied; applied before it: ${stored
              .map((applied) => `${applied.id} (version ${applied.version})`)
              .join(', ')}.`
          : 'Nothing was applied.'}
      </p>
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

/** What applying the text would do to each template: create it, store a new version, or nothing. */
function PlanTable({ plan, name }: { plan: readonly TemplateApplied[]; name: string }) {
  const count = (action: TemplateApplied['action']) =>
    plan.filter((applied) => applied.action === action).length;
  const summary =
    count('create') + count('update') === 0
      ? `No changes: every template in ${name} is applied already.`
      : `Plan: ${count('create')} to create, ${count('update')} new ${count('update') === 1 ? 'version' : 'versions'}, ` +
        `${count('unchanged')} unchanged. Nothing is applied until you press Apply.`;
  return (
    <div className="match-result">
      <p role="status">{summary}</p>
      <table aria-label="Plan">
        <thead>
          <tr>
            <th scope="col">Template</th>
            <th scope="col">Change</th>
            <th scope="col">Version</th>
          </tr>
        </thead>
        <tbody>
          {plan.map((applied) => (
            <tr key={applied.id}>
              <th scope="row" className="row-head">
                {applied.id}
              </th>
              <td>{CHANGE[applied.action]}</td>
              <td>
                {applied.action === 'unchanged'
                  ? `stays version ${applied.version}`
                  : `would be version ${applied.version}`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">Templates not in {name} are kept.</p>
    </div>
  );
}

const CHANGE: Record<TemplateApplied['action'], string> = {
  create: 'create',
  update: 'new version',
  unchanged: 'unchanged',
};

/** What applying a template did, as `pave templates apply` says it: `Template t created: version 1.` */
function appliedSentence(applied: TemplateApplied): string {
  if (applied.action === 'unchanged')
    return `Template ${applied.id} is unchanged (version ${applied.version}).`;
  return `Template ${applied.id} ${applied.action === 'create' ? 'created' : 'updated'}: version ${applied.version}.`;
}
