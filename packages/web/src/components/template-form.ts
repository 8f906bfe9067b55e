import type { FieldProblem, TemplateRecord } from '@pave/core';
import type { ErrorSchema, RJSFSchema, UiSchema } from '@rjsf/utils';
import { shellWord } from './common.tsx';

/** What the "New app from template" form holds: the body of `POST /templates/{id}/instantiate`. */
export interface TemplateFormData {
  answers?: Record<string, unknown>;
  secrets?: Record<string, string>;
}

/** The keys of the values a template asks for at instantiation (`setup.values` with `secret: true`). */
export function secretKeys(template: TemplateRecord): string[] {
  return template.setup.values.filter((value) => value.secret === true).map((value) => value.key);
}

/**
 * The form's JSON Schema: the template's parameters under `answers` and its secret values under `secrets`, so
 * that form data is the instantiate body and the server's problem paths (`/answers/port`, `/secrets/API_KEY`)
 * name the form's own fields.
 */
export function templateFormSchema(template: TemplateRecord): RJSFSchema {
  // The parameters are a schema of their own. Nested, their `$schema` and `$id` would describe the wrong root,
  // and their definitions move to the root, where their references (`#/$defs/…`) point.
  const { $schema: _schema, $id: _id, $defs, definitions, ...parameters } = template.parameters as RJSFSchema;
  const properties: Record<string, RJSFSchema> = {
    answers: { ...parameters, type: 'object', title: 'Parameters' },
  };
  const secrets = template.setup.values.filter((value) => value.secret === true);
  if (secrets.length > 0) {
    properties.secrets = {
      type: 'object',
      title: 'Secret values',
      description: 'Sent with this request only and kept encrypted as values of the new app.',
      properties: Object.fromEntries(
        secrets.map((value) => [
          value.key,
          {
            type: 'string',
            title: value.key,
            minLength: 1,
            ...(value.description ? { description: value.description } : {}),
          },
        ]),
      ),
      required: secrets.map((value) => value.key),
    };
  }
  // rjsf fills in both objects, so each one's `required` is checked without marking the group as required.
  return {
    type: 'object',
    properties,
    ...($defs ? { $defs } : {}),
    ...(definitions ? { definitions } : {}),
  };
}

/** How the form shows its fields: secret values as password inputs, never filled in by the browser. */
export function templateFormUiSchema(template: TemplateRecord): UiSchema<TemplateFormData> {
  return {
    'ui:submitButtonOptions': { submitText: 'Create app', props: { className: 'primary' } },
    secrets: Object.fromEntries(
      secretKeys(template).map((key) => [
        key,
        { 'ui:widget': 'password', 'ui:autocomplete': 'new-password' },
      ]),
    ),
  };
}

/** The form field a server problem names (`/answers/port` -> `['answers', 'port']`), if the form has it. */
export function problemField(problem: FieldProblem, schema: RJSFSchema): [string, string] | undefined {
  const match = /^\/(answers|secrets)\/([^/]+)$/.exec(problem.path);
  if (!match) return undefined;
  const [, group, name] = match as unknown as [string, 'answers' | 'secrets', string];
  const field = decodeURIComponent(name).replaceAll('~1', '/').replaceAll('~0', '~');
  const properties = (schema.properties?.[group] as RJSFSchema | undefined)?.properties;
  return properties && field in properties ? [group, field] : undefined;
}

/**
 * The server's problems that name a field of the form, as rjsf's extra errors shown at those fields. The
 * server words them `port: must be integer (type)`; next to the field the name is left out.
 */
export function serverFieldErrors(problems: readonly FieldProblem[], schema: RJSFSchema): ErrorSchema {
  const errors: Record<string, Record<string, { __errors: string[] }>> = {};
  for (const problem of problems) {
    const at = problemField(problem, schema);
    if (!at) continue;
    const [group, field] = at;
    const message = problem.message.startsWith(`${field}: `)
      ? problem.message.slice(field.length + 2)
      : problem.message;
    const groupErrors = (errors[group] ??= {});
    (groupErrors[field] ??= { __errors: [] }).__errors.push(message);
  }
  return errors as ErrorSchema;
}

/**
 * The `pave init` command that makes the same app from the command line: DIR is the app's name, each answer
 * that differs from its default is a `--set`, and each secret value a `--set KEY=…` placeholder (never the
 * value itself).
 */
export function initCommand(template: TemplateRecord, app: string, data: TemplateFormData): string {
  const answers = data.answers ?? {};
  const dir = typeof answers.name === 'string' && answers.name ? answers.name : app;
  const words = ['pave', 'init', template.id, shellWord(dir)];
  const properties = template.parameters.properties;
  for (const [key, value] of Object.entries(answers)) {
    if (value === undefined || value === '' || (key === 'name' && value === dir)) continue;
    if (JSON.stringify(properties[key]?.default) === JSON.stringify(value)) continue;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    words.push('--set', shellWord(`${key}=${text}`));
  }
  for (const key of secretKeys(template)) words.push('--set', `${key}=…`);
  return words.join(' ');
}

/** The generated files of an instantiation (a base64 `.tar.gz`) as a Blob to download. */
export function archiveBlob(archive: string): Blob {
  const bytes = Uint8Array.from(atob(archive), (char) => char.charCodeAt(0));
  return new Blob([bytes], { type: 'application/gzip' });
}
