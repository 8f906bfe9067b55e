import type { Command } from 'commander';
import type { CreateRuleInput, Rule } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { Colors } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import { formatTable } from '../output/table.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { emptyPageLine, pageQuery, withMoreLine } from './paging.ts';

type CreateOptions = ClientOptions & { app: string; env: string; branch: string; workload?: string };

/** `pave rules create|list|delete`: automation rules that deploy pushed artifacts of a branch. */
export function registerRulesCommands(program: Command, io: CliIo): void {
  const rules = program
    .command('rules')
    .summary('Create, list and delete automation rules (deploy pushed artifacts of a branch)')
    .description(
      'A rule deploys every build artifact pushed for a matching branch (`pave artifacts push --branch`) ' +
        'to one environment, at once. It deploys with the roles of the person who created it, checked ' +
        'again at every push: when they may no longer deploy there, the rule is refused and the event ' +
        'stream (rule.triggered) says why.',
    )
    .addHelpText(
      'after',
      examples(
        'pave rules create --app shop --env dev --branch main',
        "pave rules create --app shop --env staging --branch 'release/*' --workload api",
        'pave rules list --app shop',
        'pave rules delete 3 --app shop',
      ),
    );

  addClientOptions(
    rules
      .command('create')
      .description(
        'Create a rule: artifacts of branches matching --branch (a glob: * within a path segment, ** across) ' +
          'are deployed to --env when pushed; you need to be allowed to deploy there yourself',
      )
      .requiredOption('--app <app>', 'the application')
      .requiredOption('--env <env>', 'the environment to deploy to')
      .requiredOption('--branch <glob>', "the branches whose artifacts it deploys, e.g. main or 'release/*'")
      .option('--workload <name>', 'only artifacts that contain this workload'),
  )
    .addHelpText(
      'after',
      examples(
        'pave rules create --app shop --env dev --branch main',
        "pave rules create --app shop --env staging --branch 'release/*' -o json",
      ),
    )
    .action(async (options: CreateOptions) => {
      if (options.branch.trim() === '' || /\s/.test(options.branch)) {
        throw new CliUsageError("--branch needs a branch glob without spaces, e.g. main or 'release/*'");
      }
      const body: CreateRuleInput = {
        env: options.env,
        branch: options.branch,
        ...(options.workload !== undefined ? { workload: options.workload } : {}),
      };
      const { client, output } = await clientFor(options, io);
      output.show(
        await client.createRule(options.app, body),
        (rule) =>
          `Created rule ${rule.id}: artifacts of ${rule.branch}${rule.workload ? ` with workload ${rule.workload}` : ''} ` +
          `are deployed to ${rule.app}/${rule.env}`,
      );
    });

  addClientOptions(
    rules
      .command('list')
      .description("List an app's rules, oldest first, a page at a time")
      .requiredOption('--app <app>', 'the application')
      .option('--limit <n>', 'at most this many (100 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave rules list --app shop',
        'pave rules list --app shop -o json',
        'pave rules list --app shop --limit 20',
      ),
    )
    .action(async (options: ClientOptions & { app: string; limit?: string; cursor?: string }) => {
      const query = pageQuery(options, 'rules');
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.listRules(options.app, query), (page) => {
        const table = renderRuleList(page.items, colors, options.app, options.cursor);
        return withMoreLine(table, page.nextCursor, {
          items: 'rules',
          command: `pave rules list --app ${options.app}`,
          limit: options.limit,
        });
      });
    });

  addClientOptions(
    rules
      .command('delete')
      .description('Delete a rule; artifacts pushed afterwards are no longer deployed by it')
      .argument('<id>', 'rule id (see `pave rules list`)')
      .requiredOption('--app <app>', 'the application'),
  )
    .addHelpText('after', examples('pave rules delete 3 --app shop'))
    .action(async (id: string, options: ClientOptions & { app: string }) => {
      if (!/^\d+$/.test(id)) throw new CliUsageError(`ID: "${id}" is not a rule id; use a number such as 3`);
      const { client, output } = await clientFor(options, io);
      await client.deleteRule(options.app, id);
      output.confirm(`Deleted rule ${id} of ${options.app}`);
    });
}

/**
 * Renders rules as an ID, ENV, BRANCH, WORKLOAD, CREATED BY, CREATED table; an empty page after `cursor` (its
 * `--cursor`) says there are no more rather than none at all.
 */
export function renderRuleList(items: readonly Rule[], colors: Colors, app: string, cursor?: string): string {
  const columns: Column<Rule>[] = [
    { header: 'id', value: (rule) => rule.id },
    { header: 'env', value: (rule) => rule.env },
    { header: 'branch', value: (rule) => rule.branch },
    { header: 'workload', value: (rule) => rule.workload ?? '(any)' },
    { header: 'created by', value: (rule) => rule.createdBy },
    { header: 'created', value: (rule) => formatTime(rule.createdAt) },
  ];
  return formatTable(items, columns, {
    empty: emptyPageLine(
      `No rules in ${app}. Create one with \`pave rules create --app ${app} --env dev --branch main\`.`,
      cursor,
      `rules in ${app}`,
    ),
    styleHeader: colors.bold,
  });
}
