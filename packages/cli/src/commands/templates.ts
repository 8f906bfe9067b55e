import type { Command } from 'commander';
import type { Template, TemplateApplied, TemplateRecord, TemplateSummary } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import { colorsFor } from '../output/colors.ts';
import type { TemplateSource } from '../template-source.ts';
import { formatTable } from '../output/table.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { emptyPageLine, pageQuery, withMoreLine } from './paging.ts';

type ApplyOptions = ClientOptions & { file: string; dryRun?: boolean };
type GetOptions = ClientOptions & { version?: string };

/** A template file failed local validation or the server refused it; the problems are printed already. */
export class TemplateFileError extends Error {
  override name = 'TemplateFileError';
}

/** `--version N`: a positive whole number, or a usage error. */
export function templateVersionOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/u.test(text)) {
    throw new CliUsageError(
      `--version: "${text}" is not a version; versions are 1, 2, 3, … (pave templates get ID)`,
    );
  }
  return Number(text);
}

function parameterLine(name: string, schema: Record<string, unknown>, required: boolean): string {
  const type = Array.isArray(schema.enum) ? schema.enum.join('|') : String(schema.type ?? 'any');
  const fallback =
    'default' in schema ? ` = ${JSON.stringify(schema.default)}` : required ? ' (required)' : '';
  const about = typeof schema.description === 'string' ? `  ${schema.description}` : '';
  return `  ${name}: ${type}${fallback}${about}`;
}

function renderTemplate(template: TemplateRecord): string {
  const required = new Set(template.parameters.required ?? []);
  const { setup } = template;
  return [
    `id:          ${template.id}`,
    `version:     ${template.version} (applied ${template.createdAt} by ${template.createdBy})`,
    `title:       ${template.title}`,
    ...(template.description
      ? [`description: ${template.description.trim().replace(/\n/g, '\n             ')}`]
      : []),
    ...(template.tags.length ? [`tags:        ${template.tags.join(', ')}`] : []),
    'parameters:',
    ...Object.entries(template.parameters.properties).map(([name, schema]) =>
      parameterLine(name, schema, required.has(name)),
    ),
    `files:       ${template.files.map((file) => file.path).join(', ')}`,
    `app:         ${setup.app}`,
    `envs:        ${setup.environments.map((env) => `${env.id} (${env.type}${env.from ? `, from ${env.from}` : ''})`).join(', ') || '-'}`,
    ...(setup.values.length
      ? [
          `values:      ${setup.values.map((v) => `${v.key}${v.secret ? ' (secret, asked for)' : ''}`).join(', ')}`,
        ]
      : []),
    ...(setup.prepare.length ? [`prepare:     ${setup.prepare.join(' && ')}`] : []),
    `deploys:     ${setup.deploy ?? 'nothing'}`,
  ].join('\n');
}

function appliedLine(applied: TemplateApplied): string {
  if (applied.action === 'unchanged')
    return `Template ${applied.id} is unchanged (version ${applied.version}).`;
  const what = applied.action === 'create' ? 'created' : 'updated';
  return applied.applied
    ? `Template ${applied.id} ${what}: version ${applied.version}.`
    : `Template ${applied.id} is valid; applying it would make version ${applied.version}. Dry run: nothing was applied.`;
}

/** A template the server refused: its id and the server's summary; its problems are printed. */
interface TemplateRefusal {
  id: string;
  message: string;
}

/**
 * Sends the templates of `source` one by one with `send`. The problems of one the server refuses are printed
 * on stderr at their local file:line:column (see localProblem), and the next is sent, or, with
 * `stopAtRefusal`, none. Resolves with the answers to those sent and the refusals; rejects with any other
 * error (one the server gives no problems with, or not reaching it).
 */
async function sendEach(
  source: TemplateSource,
  io: CliIo,
  stopAtRefusal: boolean,
  send: (template: Template) => Promise<TemplateApplied>,
): Promise<{ results: TemplateApplied[]; refused: TemplateRefusal[] }> {
  const { localProblem } = await import('../template-source.ts');
  const results: TemplateApplied[] = [];
  const refused: TemplateRefusal[] = [];
  for (const [index, template] of source.templates.entries()) {
    try {
      results.push(await send(template));
    } catch (error) {
      const problems = (error as { problem?: { errors?: Array<{ path: string; message: string }> } }).problem
        ?.errors;
      if ((error as Error).name !== 'ApiError' || !problems?.length) throw error;
      const origins = source.origins[index] ?? [];
      for (const problem of problems) {
        io.stderr.write(`${await localProblem(problem, template, origins, source.yaml, index)}\n`);
      }
      refused.push({ id: template.id, message: (error as Error).message });
      if (stopAtRefusal) break;
    }
  }
  return { results, refused };
}

/** `pave templates apply|list|get|delete`: the golden paths `pave init` generates projects from. */
export function registerTemplatesCommands(program: Command, io: CliIo): void {
  const templates = program
    .command('templates')
    .summary('Apply, list and show templates (golden paths for `pave init`)')
    .description(
      'Templates generate a project (files rendered from answers to their parameters) and set it up in Pave: ' +
        'an app, its environments and values, and a first deployment. `pave init TEMPLATE` uses them; ' +
        'see docs/templates.md.',
    )
    .addHelpText(
      'after',
      examples(
        'pave templates list',
        'pave templates get node-http',
        'pave templates apply -f ./my-template',
      ),
    );

  addClientOptions(
    templates
      .command('apply')
      .description(
        'Apply a template from a directory (template.yaml and files/) or a YAML file: checked, then stored as a ' +
          'new version when it changed (earlier versions stay)',
      )
      .requiredOption('-f, --file <path>', 'the template directory, or a YAML file with the files inline')
      .option(
        '--dry-run',
        'only check it (the server renders every file with sample answers); store nothing',
      ),
  )
    .addHelpText(
      'after',
      examples('pave templates apply -f ./templates/node-api', 'pave templates apply -f t.yaml --dry-run'),
    )
    .action(async (options: ApplyOptions) => {
      const { readTemplateSource } = await import('../template-source.ts');
      const { formatDeclarationProblem } = await import('../definitions-file.ts');
      const source = await readTemplateSource(options.file);
      if (source.problems.length) {
        for (const problem of source.problems) io.stderr.write(`${formatDeclarationProblem(problem)}\n`);
        throw new TemplateFileError(
          `${source.problems.length} problem${source.problems.length === 1 ? '' : 's'} in ${options.file}; nothing was applied`,
        );
      }
      const { client, output } = await clientFor(options, io);
      const send = (dryRun: boolean, stopAtRefusal: boolean) =>
        sendEach(source, io, stopAtRefusal, (template) => client.applyTemplate(template, { dryRun }));
      let results: TemplateApplied[] = [];
      // The server takes one template a request: with several, every one is checked before any is stored, so
      // that one refused stores none. One alone is checked by applying it.
      if (options.dryRun || source.templates.length > 1) {
        const checked = await send(true, false);
        if (checked.refused.length) {
          const [first] = checked.refused;
          const summary =
            checked.refused.length === 1 && first
              ? first.message
              : `${checked.refused.length} templates cannot be applied: ${checked.refused.map((r) => r.id).join(', ')}`;
          throw new TemplateFileError(`${summary}; nothing was applied`);
        }
        results = checked.results;
      }
      if (!options.dryRun) {
        const applied = await send(false, true);
        const [refused] = applied.refused;
        if (refused) {
          // The only template, or one someone else applied since the check: those before it stay applied.
          const before = applied.results.filter((a) => a.action !== 'unchanged').map((a) => a.id);
          throw new TemplateFileError(
            `${refused.message}; ${
              before.length === 0
                ? 'nothing was applied'
                : `template ${refused.id} was not applied; applied before it: ${before.join(', ')}`
            }`,
          );
        }
        results = applied.results;
      }
      output.show(results.length === 1 ? results[0] : { items: results }, () =>
        results.map(appliedLine).join('\n'),
      );
    });

  addClientOptions(
    templates
      .command('list')
      .description('List the templates at their latest versions, ordered by id, a page at a time')
      .option('--limit <n>', 'at most this many (100 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples('pave templates list', 'pave templates list -o json', 'pave templates list --cursor service'),
    )
    .action(async (options: ClientOptions & { limit?: string; cursor?: string }) => {
      const query = pageQuery(options, 'templates');
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.listTemplates(query), ({ items, nextCursor }) =>
        withMoreLine(
          formatTable<TemplateSummary>(
            items,
            [
              { header: 'id', value: (t) => t.id },
              { header: 'version', value: (t) => String(t.version) },
              { header: 'title', value: (t) => t.title },
              { header: 'tags', value: (t) => t.tags.join(',') || '-' },
              { header: 'parameters', value: (t) => Object.keys(t.parameters.properties).join(', ') || '-' },
            ],
            {
              empty: emptyPageLine(
                'No templates yet. Apply one with `pave templates apply -f DIR`.',
                options.cursor,
                'templates',
              ),
              styleHeader: colors.bold,
            },
          ),
          nextCursor,
          { items: 'templates', command: 'pave templates list', limit: options.limit },
        ),
      );
    });

  addClientOptions(
    templates
      .command('get')
      .description('Show a template: its parameters, files and what it sets up')
      .argument('<id>', 'template id (see `pave templates list`)')
      .option('--version <n>', 'this version instead of the latest'),
  )
    .addHelpText(
      'after',
      examples('pave templates get node-http', 'pave templates get node-http --version 1 -o json'),
    )
    .action(async (id: string, options: GetOptions) => {
      const version = templateVersionOf(options.version);
      const { client, output } = await clientFor(options, io);
      output.show(await client.getTemplate(id, version), renderTemplate);
    });

  addClientOptions(
    templates
      .command('delete')
      .description('Delete a template with every version')
      .argument('<id>', 'template id'),
  )
    .addHelpText('after', examples('pave templates delete node-api'))
    .action(async (id: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      await client.deleteTemplate(id);
      output.confirm(`Deleted template ${id}.`);
    });
}
