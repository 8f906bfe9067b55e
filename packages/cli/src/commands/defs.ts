import type { Command } from 'commander';
import type { DefinitionsPlan, MatchCriterion, MatchExplanation, ResourceDefinition } from '@pave/core';
import { confirmOrRefuse } from '../confirm.ts';
import type { CliIo } from '../io.ts';
import type { Colors } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import { formatDetails, formatTable, padEnd } from '../output/table.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { emptyPageLine, pageQuery, withMoreLine } from './paging.ts';

type ApplyOptions = ClientOptions & { file: string; dryRun?: boolean; yes?: boolean };
type MatchOptions = ClientOptions & { app: string; env: string; type: string; class?: string; id?: string };

/** What a secret driver input shows instead of its value (the API never returns it). */
export const SECRET_MARK = '(secret)';

/** A definitions file failed local validation; its problems are printed on stderr already. Exit code 1. */
export class DefinitionsFileError extends Error {
  override name = 'DefinitionsFileError';
}

type DefinitionChange = DefinitionsPlan['changes'][number];
type MatchCandidate = MatchExplanation['candidates'][number];

/** `pave defs apply|list|get|delete|match`: the resource definitions that say how resources are provisioned. */
export function registerDefsCommands(program: Command, io: CliIo): void {
  const defs = program
    .command('defs')
    .summary('Apply, list and explain resource definitions')
    .description(
      'Resource definitions say which driver provisions a resource type (postgres, redis, dns, ...) and with ' +
        'which inputs; criteria (envType, envId, appId, resId, class) choose where each applies, and the most ' +
        'specific matching criterion wins.',
    )
    .addHelpText(
      'after',
      examples(
        'pave defs apply -f defs.yaml',
        'pave defs list',
        'pave defs match --app shop --env dev --type postgres',
      ),
    );

  addClientOptions(
    defs
      .command('apply')
      .summary('Apply the resource definitions in a YAML file: shows the plan, then applies it')
      .description(
        'Apply the resource definitions in a YAML file declaratively: new ids are created, changed ones ' +
          'updated, the rest left as they are (definitions not in the file are kept). The file holds a YAML ' +
          'list of definitions or one definition per YAML document; it is validated here first. The plan is ' +
          'shown first; on a terminal pave asks before applying it (--yes does not ask), a script applies it.',
      )
      .requiredOption('-f, --file <file>', 'the YAML file of definitions; - reads stdin')
      .option('--dry-run', 'only show what would change; apply nothing')
      .option('--yes', 'apply without asking on a terminal (a script is never asked)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave defs apply -f defs.yaml',
        'pave defs apply -f defs.yaml --dry-run',
        'pave defs apply -f - --yes < defs.yaml',
      ),
    )
    .action(async (options: ApplyOptions) => {
      const name = options.file === '-' ? '<stdin>' : options.file;
      const { formatDefinitionProblem, readDeclarationsFile, withFilePositions } =
        await import('../definitions-file.ts');
      const { parseDefinitionsFile } = await import('@pave/core/declarations');
      const text = await readDeclarationsFile(options.file, 'definitions', () => io.readStdin());
      const { definitions, problems } = parseDefinitionsFile(text, name);
      if (problems.length > 0) {
        for (const problem of problems) io.stderr.write(`${formatDefinitionProblem(problem)}\n`);
        throw new DefinitionsFileError(
          `${plural(problems.length, 'problem')} in ${name}; nothing was sent to the server`,
        );
      }
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      const sent = { text, name, ids: definitions.map((definition) => definition.id) };
      const refused = (summary: string) => new DefinitionsFileError(summary);
      const plan = await withFilePositions(sent, 'definitions', io, refused, () =>
        client.applyResourceDefinitions({ definitions, dryRun: true }),
      );
      const changes = countChanges(plan);
      if (changes === 0) {
        output.show(
          plan,
          () =>
            `No changes: ${definitions.length === 1 ? 'the definition' : `all ${definitions.length} definitions`} ` +
            `in ${name} ${definitions.length === 1 ? 'is' : 'are'} applied already.`,
        );
        return;
      }
      if (options.dryRun) {
        output.show(
          plan,
          (body) =>
            `${renderDefinitionsPlan(body, colors)}\n\n` +
            `Dry run: nothing was applied; ${plural(changes, 'change')} would be made.`,
        );
        return;
      }
      output.confirm(renderDefinitionsPlan(plan, colors));
      // Applying is declarative and deletes nothing, so a script (or `-f -`, which takes stdin) applies
      // without a question; a person at a terminal confirms the plan just shown.
      if (io.stdinIsTTY && options.file !== '-') {
        await confirmOrRefuse(io, {
          question: `Apply ${plural(changes, 'change')} to the resource definitions?`,
          flag: '--yes',
          action: 'apply resource definitions',
          confirmed: options.yes === true,
        });
      }
      const applied = await withFilePositions(sent, 'definitions', io, refused, () =>
        client.applyResourceDefinitions({ definitions }),
      );
      output.show(applied, (body) => `Applied ${plural(countChanges(body), 'change')}.`);
    });

  addClientOptions(
    defs
      .command('list')
      .description(
        'List the resource definitions, built-in defaults included, ordered by id, a page at a time',
      )
      .option('--limit <n>', 'at most this many (100 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples('pave defs list', 'pave defs list -o json', 'pave defs list --cursor default-postgres'),
    )
    .action(async (options: ClientOptions & { limit?: string; cursor?: string }) => {
      const query = pageQuery(options, 'definitions');
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.listResourceDefinitions(query), (page) =>
        withMoreLine(renderDefinitionList(page.items, colors, options.cursor), page.nextCursor, {
          items: 'definitions',
          command: 'pave defs list',
          limit: options.limit,
        }),
      );
    });

  addClientOptions(
    defs
      .command('get')
      .description('Show one resource definition; secret inputs are named, never shown')
      .argument('<id>', 'definition id (see `pave defs list`)'),
  )
    .addHelpText('after', examples('pave defs get shop-postgres', 'pave defs get shop-postgres -o json'))
    .action(async (id: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.getResourceDefinition(id), (body) => renderDefinition(body, colors));
    });

  addClientOptions(
    defs
      .command('delete')
      .description(
        'Delete a resource definition; refused for built-in ones, and while resources use it unless --force ' +
          '(they keep running and are deleted with the inputs stored with them; deploying them needs a ' +
          'definition again)',
      )
      .argument('<id>', 'definition id')
      .option(
        '--force',
        'delete it even while resources use it (not the --yes of other commands: this one asks nothing)',
      ),
  )
    .addHelpText(
      'after',
      examples('pave defs delete shop-postgres', 'pave defs delete shop-postgres --force'),
    )
    .action(async (id: string, options: ClientOptions & { force?: boolean }) => {
      const { client, output } = await clientFor(options, io);
      await client.deleteResourceDefinition(id, { force: options.force === true });
      output.confirm(`Deleted resource definition ${id}`);
    });

  addClientOptions(
    defs
      .command('match')
      .description(
        'Explain which definition provisions a resource of a type in an environment, and why every other ' +
          'definition does not',
      )
      .requiredOption('--app <app>', 'the application')
      .requiredOption('--env <env>', 'the environment')
      .requiredOption('--type <type>', 'the resource type, e.g. postgres')
      .option('--class <class>', 'the Score resource class (default: default)')
      .option('--id <id>', 'the resource id: a shared resource id, or WORKLOAD.NAME'),
  )
    .addHelpText(
      'after',
      examples(
        'pave defs match --app shop --env dev --type postgres',
        'pave defs match --app shop --env prod --type postgres --class large --id api.db',
      ),
    )
    .action(async (options: MatchOptions) => {
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      const explanation = await client.matchResourceDefinition({
        app: options.app,
        env: options.env,
        type: options.type,
        ...(options.class !== undefined ? { class: options.class } : {}),
        ...(options.id !== undefined ? { id: options.id } : {}),
      });
      output.show(explanation, (body) => renderMatchExplanation(body, colors));
    });
}

/**
 * A definition's criteria in one cell: a criterion's fields as `field=value` joined by `,`, criteria joined
 * by `; `, e.g. `envType=staging; appId=shop,class=large`. An empty criterion (it matches everything of the
 * type) is `(any)`; no criteria at all is `-`.
 */
export function formatCriteria(criteria: readonly MatchCriterion[]): string {
  if (criteria.length === 0) return '-';
  return criteria.map(formatCriterion).join('; ');
}

/** One criterion as `field=value` pairs joined by `,` in a fixed order, or `(any)` when it sets nothing. */
export function formatCriterion(criterion: MatchCriterion): string {
  const fields = (['envType', 'envId', 'appId', 'resId', 'class'] as const)
    .filter((field) => criterion[field] !== undefined)
    .map((field) => `${field}=${criterion[field]}`);
  return fields.length > 0 ? fields.join(',') : '(any)';
}

/**
 * Renders definitions as an ID, TYPE, DRIVER, CRITERIA, BUILT-IN table; an empty page after `cursor` (its
 * `--cursor`) says there are no more rather than none at all.
 */
export function renderDefinitionList(
  items: readonly ResourceDefinition[],
  colors: Colors,
  cursor?: string,
): string {
  const columns: Column<ResourceDefinition>[] = [
    { header: 'id', value: (def) => def.id },
    { header: 'type', value: (def) => def.type },
    { header: 'driver', value: (def) => def.driver },
    { header: 'criteria', value: (def) => formatCriteria(def.criteria) },
    { header: 'built-in', value: (def) => (def.builtIn ? 'yes' : '-') },
  ];
  return formatTable(items, columns, {
    empty: emptyPageLine(
      'No resource definitions yet. Add some with `pave defs apply -f defs.yaml`.',
      cursor,
      'resource definitions',
    ),
    styleHeader: colors.bold,
  });
}

/**
 * Renders one definition for people: its fields as aligned lines, then its driver inputs one per line, a
 * secret input by name with `(secret)` in place of its value.
 */
export function renderDefinition(def: ResourceDefinition, colors: Colors): string {
  const details = formatDetails(
    [
      ['id', def.id],
      ['type', def.type],
      ['driver', def.driver],
      ['criteria', formatCriteria(def.criteria)],
      ['built-in', def.builtIn ? 'yes: a default Pave ships; it cannot be changed or deleted' : 'no'],
      ['updated by', def.updatedBy],
      // A default Pave ships was never updated by anyone (its time is the epoch).
      ['updated at', def.builtIn ? '- (ships with Pave)' : formatTime(def.updatedAt)],
    ],
    { styleHeader: colors.bold },
  );
  const inputs = [
    ...Object.entries(def.driverInputs.values).map(([key, value]) => [key, showInput(value)] as const),
    ...def.driverInputs.secrets.map((key) => [key, SECRET_MARK] as const),
  ].sort(([a], [b]) => a.localeCompare(b));
  if (inputs.length === 0) return `${details}\n\n${colors.bold('Driver inputs:')} none`;
  const width = Math.max(...inputs.map(([key]) => key.length));
  const lines = inputs.map(([key, value]) => `  ${padEnd(key, width)}  ${value}`.trimEnd());
  return `${details}\n\n${colors.bold('Driver inputs:')}\n${lines.join('\n')}`;
}

/** Renders the changes of applying definitions as an ID, ACTION, FIELDS table, actions coloured. */
export function renderDefinitionsPlan(plan: DefinitionsPlan, colors: Colors): string {
  const columns: Column<DefinitionChange>[] = [
    { header: 'id', value: (change) => change.id },
    { header: 'action', value: (change) => colorDefinitionAction(change.action, colors) },
    { header: 'fields', value: (change) => (change.fields.length > 0 ? change.fields.join(', ') : '-') },
  ];
  return formatTable(plan.changes, columns, { empty: 'No definitions', styleHeader: colors.bold });
}

/**
 * Renders a match explanation: one line naming the winner and the criterion it won with (or saying that no
 * definition matches, and what that means), then an ID, OUTCOME, SPECIFICITY, REASON table of every
 * candidate.
 */
export function renderMatchExplanation(explanation: MatchExplanation, colors: Colors): string {
  const { query, winner } = explanation;
  const subject =
    `${query.type} resource ${query.resId ? `${query.resId} ` : ''}(class ${query.class}) in ${query.appId}/${query.envId} ` +
    `(environment type ${query.envType})`;
  let headline: string;
  if (winner === null) {
    headline =
      `No definition provisions the ${subject}: a deployment that uses it is refused. ` +
      'Add one with `pave defs apply -f defs.yaml`.';
  } else {
    const builtIn = explanation.candidates.find((candidate) => candidate.id === winner.id)?.builtIn === true;
    const how = builtIn
      ? 'as the built-in default (no other definition matches)'
      : winner.criterion === null
        ? `with no criteria (specificity ${winner.specificity})`
        : `with criterion ${formatCriterion(winner.criterion)} (specificity ${winner.specificity})`;
    headline = `${colors.green(winner.id)} provisions the ${subject}, ${how}.`;
  }
  return `${headline}\n\n${renderCandidates(explanation, colors, 'No resource definitions at all.')}`;
}

/**
 * The candidates of a match explanation (definitions or runtime targets) as a table: id, outcome, specificity
 * and the reason; `empty` when there are none at all.
 */
export function renderCandidates(explanation: MatchExplanation, colors: Colors, empty: string): string {
  const columns: Column<MatchCandidate>[] = [
    { header: 'id', value: (candidate) => candidate.id },
    { header: 'outcome', value: (candidate) => colorOutcome(candidate.outcome, colors) },
    {
      header: 'specificity',
      value: (candidate) =>
        candidate.specificity === null ? '-' : candidate.builtIn ? 'built-in' : String(candidate.specificity),
    },
    { header: 'reason', value: (candidate) => candidate.reason },
  ];
  return formatTable(explanation.candidates, columns, { empty, styleHeader: colors.bold });
}

/** How many changes of a definitions (or targets) plan change something. */
export function countChanges(plan: DefinitionsPlan): number {
  return plan.changes.filter((change) => change.action !== 'unchanged').length;
}

function colorDefinitionAction(action: DefinitionChange['action'], colors: Colors): string {
  switch (action) {
    case 'create':
      return colors.green(action);
    case 'update':
      return colors.yellow(action);
    case 'unchanged':
      return colors.dim(action);
  }
}

function colorOutcome(outcome: MatchCandidate['outcome'], colors: Colors): string {
  switch (outcome) {
    case 'won':
      return colors.green(outcome);
    case 'lost':
      return colors.yellow(outcome);
    case 'no-match':
    case 'other-type':
      return colors.dim(outcome);
  }
}

// A driver input's value in one line: strings as they are, anything else as JSON.
function showInput(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
