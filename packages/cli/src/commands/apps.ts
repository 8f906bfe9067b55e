import type { Command } from 'commander';
import type { App, AppDetail } from '@pave/core';
import { confirmOrRefuse } from '../confirm.ts';
import { withFieldOrigins } from '../field-origins.ts';
import type { CliIo } from '../io.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import { emptyPageLine, pageQuery, withMoreLine } from './paging.ts';
import type { ClientOptions } from './client-options.ts';

const appColumns: Column<App>[] = [
  { header: 'id', value: (app) => app.id },
  { header: 'name', value: (app) => app.name },
  { header: 'created by', value: (app) => app.createdBy },
  { header: 'created at', value: (app) => formatTime(app.createdAt) },
];

const environmentColumns: Column<AppDetail['environments'][number]>[] = [
  { header: 'environment', value: (env) => env.id },
  { header: 'type', value: (env) => env.type },
];

/** `pave apps create|list|get|delete`: manage applications. */
export function registerAppsCommands(program: Command, io: CliIo): void {
  const apps = program
    .command('apps')
    .description('Create, list, show and delete applications')
    .addHelpText('after', examples('pave apps create shop --name "Web shop"', 'pave apps list -o json'));

  addClientOptions(
    apps
      .command('create')
      .description('Create an application; APP is its id, a DNS label that cannot change later')
      .argument('<app>', 'application id, e.g. shop')
      .option('--name <name>', 'display name (default: the id)'),
  )
    .addHelpText('after', examples('pave apps create shop', 'pave apps create shop --name "Web shop"'))
    .action(async (app: string, options: ClientOptions & { name?: string }) => {
      const { client, output } = await clientFor(options, io);
      const created = await withFieldOrigins(
        { '/id': { name: '<app>', value: app }, '/name': { name: '--name', value: options.name } },
        () =>
          client.createApp({
            id: app,
            ...(options.name !== undefined ? { name: options.name } : {}),
          }),
      );
      output.show(
        created,
        (body) => `Created app ${body.id}` + (body.name !== body.id ? ` (${body.name})` : ''),
      );
    });

  addClientOptions(
    apps
      .command('list')
      .description('List applications, ordered by id, a page at a time')
      .option('--limit <n>', 'at most this many (100 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples('pave apps list', 'pave apps list --limit 20 -o json', 'pave apps list --cursor shop'),
    )
    .action(async (options: ClientOptions & { limit?: string; cursor?: string }) => {
      const query = pageQuery(options, 'apps');
      const { client, output } = await clientFor(options, io);
      output.show(await client.listApps(query), (page) => {
        const none = emptyPageLine(
          'No apps yet, or none you have a role on. Create one with `pave apps create NAME`.',
          options.cursor,
          'apps',
        );
        const table = output.table(page.items, appColumns, none);
        return withMoreLine(table, page.nextCursor, {
          items: 'apps',
          command: 'pave apps list',
          limit: options.limit,
        });
      });
    });

  addClientOptions(
    apps
      .command('get')
      .description('Show an application and its environments')
      .argument('<app>', 'application id'),
  )
    .addHelpText('after', examples('pave apps get shop', 'pave apps get shop -o json'))
    .action(async (app: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(await client.getApp(app), (body) =>
        [
          output.details([
            ['id', body.id],
            ['name', body.name],
            ['created by', body.createdBy],
            ['created at', formatTime(body.createdAt)],
          ]),
          '',
          output.table(
            body.environments,
            environmentColumns,
            `No environments yet. Create one with \`pave envs create ENV --app ${body.id} --type TYPE\`.`,
          ),
        ].join('\n'),
      );
    });

  addClientOptions(
    apps
      .command('delete')
      .description(
        'Delete an application; refused while it has environments unless --force. On a terminal it asks ' +
          'first (--yes does not); a script deletes without asking, as it must say --force for anything ' +
          'beyond the app itself.',
      )
      .argument('<app>', 'application id')
      .option(
        '--force',
        'also delete its environments, their workloads and resources (databases are dropped); it does not ' +
          'skip the question: --yes does',
      )
      .option('--yes', 'delete without asking on a terminal'),
  )
    .addHelpText(
      'after',
      examples(
        'pave apps delete shop',
        'pave apps delete shop --force',
        'pave apps delete shop --force --yes',
      ),
    )
    .action(async (app: string, options: ClientOptions & { force?: boolean; yes?: boolean }) => {
      const { client, output } = await clientFor(options, io);
      if (io.stdinIsTTY && options.yes !== true) {
        await confirmOrRefuse(io, {
          question: options.force
            ? `Delete app ${app} and all its environments, their workloads and resources (databases are dropped)?`
            : `Delete app ${app}?`,
          flag: '--yes',
          action: `delete app ${app}`,
          confirmed: false,
        });
      }
      await client.deleteApp(app, { force: options.force === true });
      output.confirm(`Deleted app ${app}`);
    });
}
