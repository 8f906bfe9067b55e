import type { Command } from 'commander';
import type { MatchExplanation, RuntimeTargetView } from '@pave/core';
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
import {
  DefinitionsFileError,
  countChanges,
  formatCriteria,
  formatCriterion,
  renderCandidates,
  renderDefinitionsPlan,
} from './defs.ts';

type ApplyOptions = ClientOptions & { file: string; dryRun?: boolean; yes?: boolean };
type MatchOptions = ClientOptions & { app: string; env: string };

/** `pave targets apply|list|get|delete|match`: the runtime targets environments run their workloads on. */
export function registerTargetsCommands(program: Command, io: CliIo): void {
  const targets = program
    .command('targets')
    .summary('Apply, list and explain runtime targets')
    .description(
      'Runtime targets say where workloads run: as local processes, on a Docker engine or on a Kubernetes ' +
        'cluster. Criteria (envType, envId, appId) choose which environments run on each target, and the ' +
        'most specific matching criterion wins; an environment no target matches runs on the built-in ' +
        '`local` process target.',
    )
    .addHelpText(
      'after',
      examples(
        'pave targets apply -f targets.yaml',
        'pave targets list',
        'pave targets match --app shop --env staging',
      ),
    );

  addClientOptions(
    targets
      .command('apply')
      .summary('Apply the runtime targets in a YAML file: shows the plan, then applies it')
      .description(
        'Apply the runtime targets in a YAML file declaratively: new ids are created, changed ones updated, ' +
          'the rest left as they are (targets not in the file are kept). The file holds a YAML list of ' +
          'targets or one target per YAML document; it is validated here first. The plan is shown first; ' +
          'on a terminal pave asks before applying it (--yes does not ask), a script applies it.',
      )
      .requiredOption('-f, --file <file>', 'the YAML file of targets; - reads stdin')
      .option('--dry-run', 'only show what would change; apply nothing')
      .option('--yes', 'apply without asking on a terminal (a script is never asked)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave targets apply -f targets.yaml',
        'pave targets apply -f targets.yaml --dry-run',
        'pave targets apply -f - --yes < targets.yaml',
      ),
    )
    .action(async (options: ApplyOptions) => {
      const name = options.file === '-' ? '<stdin>' : options.file;
      const { readDeclarationsFile, formatDeclarationProblem, withFilePositions } =
        await import('../definitions-file.ts');
      const { parseTargetsFile } = await import('@pave/core/declarations');
      const text = await readDeclarationsFile(options.file, 'targets', io.readStdin);
      const { targets: specs, problems } = parseTargetsFile(text, name);
      if (problems.length > 0) {
        for (const problem of problems) io.stderr.write(`${formatDeclarationProblem(problem)}\n`);
        throw new DefinitionsFileError(
          `${plural(problems.length, 'problem')} in ${name}; nothing was sent to the server`,
        );
      }
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      const sent = { text, name, ids: specs.map((spec) => spec.id) };
      const refused = (summary: string) => new DefinitionsFileError(summary);
      const plan = await withFilePositions(sent, 'targets', io, refused, () =>
        client.applyTargets({ targets: specs, dryRun: true }),
      );
      const changes = countChanges(plan);
      if (changes === 0) {
        output.show(
          plan,
          () =>
            `No changes: ${specs.length === 1 ? 'the target' : `all ${specs.length} targets`} in ${name} ` +
            `${specs.length === 1 ? 'is' : 'are'} applied already.`,
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
      // As with `pave defs apply`: applying deletes nothing, so a script (or `-f -`, which takes stdin) applies
      // without a question; a person at a terminal confirms the plan just shown.
      if (io.stdinIsTTY && options.file !== '-') {
        await confirmOrRefuse(io, {
          question: `Apply ${plural(changes, 'change')} to the runtime targets?`,
          flag: '--yes',
          action: 'apply runtime targets',
          confirmed: options.yes === true,
        });
      }
      const applied = await withFilePositions(sent, 'targets', io, refused, () =>
        client.applyTargets({ targets: specs }),
      );
      output.show(applied, (body) => `Applied ${plural(countChanges(body), 'change')}.`);
    });

  addClientOptions(
    targets
      .command('list')
      .description('List the runtime targets, the built-in one included, ordered by id, a page at a time')
      .option('--limit <n>', 'at most this many (100 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples('pave targets list', 'pave targets list -o json', 'pave targets list --cursor local'),
    )
    .action(async (options: ClientOptions & { limit?: string; cursor?: string }) => {
      const query = pageQuery(options, 'targets');
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.listTargets(query), (page) =>
        withMoreLine(renderTargetList(page.items, colors, options.cursor), page.nextCursor, {
          items: 'targets',
          command: 'pave targets list',
          limit: options.limit,
        }),
      );
    });

  addClientOptions(
    targets
      .command('get')
      .description('Show one runtime target')
      .argument('<id>', 'target id (see `pave targets list`)'),
  )
    .addHelpText('after', examples('pave targets get staging-docker', 'pave targets get local -o json'))
    .action(async (id: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.getTarget(id), (body) => renderTarget(body, colors));
    });

  addClientOptions(
    targets
      .command('delete')
      .description(
        'Delete a runtime target; refused while an environment runs on it, and for the built-in one',
      )
      .argument('<id>', 'target id'),
  )
    .addHelpText('after', examples('pave targets delete staging-docker'))
    .action(async (id: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      await client.deleteTarget(id);
      output.confirm(`Deleted runtime target ${id}`);
    });

  addClientOptions(
    targets
      .command('match')
      .description('Explain which runtime target an environment runs on, and why every other target does not')
      .requiredOption('--app <app>', 'the application')
      .requiredOption('--env <env>', 'the environment'),
  )
    .addHelpText(
      'after',
      examples(
        'pave targets match --app shop --env staging',
        'pave targets match --app shop --env dev -o json',
      ),
    )
    .action(async (options: MatchOptions) => {
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      const explanation = await client.matchTarget({ app: options.app, env: options.env });
      output.show(explanation, (body) => renderTargetMatch(body, colors));
    });
}

/**
 * A target's config in one cell: `key=value` pairs in key order joined by `,` (strings as they are, other
 * values as JSON), e.g. `host=10.0.0.5,port=2376`; `-` when it has none.
 */
export function formatTargetConfig(config: Readonly<Record<string, unknown>>): string {
  const entries = Object.entries(config).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return '-';
  return entries.map(([key, value]) => `${key}=${showValue(value)}`).join(',');
}

/**
 * Renders runtime targets as an ID, TYPE, CRITERIA, CONFIG, BUILT-IN table; an empty page after `cursor` (its
 * `--cursor`) says there are no more rather than none at all.
 */
export function renderTargetList(
  items: readonly RuntimeTargetView[],
  colors: Colors,
  cursor?: string,
): string {
  const columns: Column<RuntimeTargetView>[] = [
    { header: 'id', value: (target) => target.id },
    { header: 'type', value: (target) => target.type },
    { header: 'criteria', value: (target) => formatCriteria(target.criteria) },
    { header: 'config', value: (target) => formatTargetConfig(target.config) },
    { header: 'built-in', value: (target) => (target.builtIn ? 'yes' : '-') },
  ];
  return formatTable(items, columns, {
    empty: emptyPageLine(
      'No runtime targets. Add some with `pave targets apply -f targets.yaml`.',
      cursor,
      'runtime targets',
    ),
    styleHeader: colors.bold,
  });
}

/** Renders one runtime target for people: its fields as aligned lines, then its config one key per line. */
export function renderTarget(target: RuntimeTargetView, colors: Colors): string {
  const details = formatDetails(
    [
      ['id', target.id],
      ['type', target.type],
      ['criteria', formatCriteria(target.criteria)],
      ['built-in', target.builtIn ? 'yes: a default Pave ships; it cannot be changed or deleted' : 'no'],
      ['updated by', target.updatedBy],
      // A default Pave ships was never updated by anyone (its time is the epoch).
      ['updated at', target.builtIn ? '- (ships with Pave)' : formatTime(target.updatedAt)],
    ],
    { styleHeader: colors.bold },
  );
  const entries = Object.entries(target.config).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return `${details}\n\n${colors.bold('Config:')} none`;
  const width = Math.max(...entries.map(([key]) => key.length));
  const lines = entries.map(([key, value]) => `  ${padEnd(key, width)}  ${showValue(value)}`.trimEnd());
  return `${details}\n\n${colors.bold('Config:')}\n${lines.join('\n')}`;
}

/**
 * Renders which target an environment runs on: one line naming the winner and the criterion it won with
 * (or that the built-in default won because nothing else matches), then an ID, OUTCOME, SPECIFICITY, REASON
 * table of every target, as `pave defs match` does for definitions.
 */
export function renderTargetMatch(explanation: MatchExplanation, colors: Colors): string {
  const { query, winner } = explanation;
  const subject = `${query.appId}/${query.envId} (environment type ${query.envType})`;
  let headline: string;
  if (winner === null) {
    headline =
      `No runtime target matches ${subject}: it runs on the built-in local target. ` +
      'Add one with `pave targets apply -f targets.yaml`.';
  } else {
    const builtIn = explanation.candidates.find((candidate) => candidate.id === winner.id)?.builtIn === true;
    const how = builtIn
      ? 'as the built-in default (no other target matches)'
      : winner.criterion === null
        ? `with no criteria (specificity ${winner.specificity})`
        : `with criterion ${formatCriterion(winner.criterion)} (specificity ${winner.specificity})`;
    headline = `${colors.green(winner.id)} runs ${subject}, ${how}.`;
  }
  return `${headline}\n\n${renderCandidates(explanation, colors, 'No runtime targets at all.')}`;
}

function showValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
