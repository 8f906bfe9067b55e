import type { Command } from 'commander';
import type { Resource, ResourceCheck } from '@pave/core';
import { CheckFailedError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { Colors } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import { formatDetails, formatTable, padEnd } from '../output/table.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { SECRET_MARK } from './defs.ts';
import { emptyPageLine, pageQuery, withMoreLine } from './paging.ts';

type ResourceOptions = ClientOptions & { app: string; env: string };

/** `pave resources list|get|check|move|graph`: the resources (databases, caches, routes, ...) of an environment. */
export function registerResourcesCommands(program: Command, io: CliIo): void {
  const resources = program
    .command('resources')
    .summary("List, show, check, move and graph an environment's resources")
    .description(
      "The resources of an environment (databases, caches, DNS names, routes, volumes) that its workloads' " +
        'Score files declare; deployments provision them through resource definitions (see `pave defs`).',
    )
    .addHelpText(
      'after',
      examples(
        'pave resources list --app shop --env dev',
        'pave resources check --app shop --env dev',
        'pave resources graph --app shop --env dev',
        'pave resources move --app shop --env dev api.db api.orders',
      ),
    );

  addClientOptions(
    resources
      .command('list')
      .description(
        'List the resources of an environment with their outputs, by address, a page at a time; secret ' +
          'outputs are named only',
      )
      .requiredOption('--app <app>', 'the application')
      .requiredOption('--env <env>', 'the environment')
      .option('--limit <n>', 'at most this many (100 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave resources list --app shop --env dev',
        'pave resources list --app shop --env dev -o json',
        'pave resources list --app shop --env dev --cursor api.db',
      ),
    )
    .action(async (options: ResourceOptions & { limit?: string; cursor?: string }) => {
      const query = pageQuery(options, 'resources');
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.listResources(options.app, options.env, query), (page) => {
        const table = renderResourceList(page.items, options.app, options.env, colors, options.cursor);
        return withMoreLine(table, page.nextCursor, {
          items: 'resources',
          command: `pave resources list --app ${options.app} --env ${options.env}`,
          limit: options.limit,
        });
      });
    });

  addClientOptions(
    resources
      .command('get')
      .description('Show one resource and its outputs; secret outputs are named only')
      .argument('<address>', 'WORKLOAD.NAME for a resource of one workload, shared.ID for a shared one')
      .requiredOption('--app <app>', 'the application')
      .requiredOption('--env <env>', 'the environment'),
  )
    .addHelpText(
      'after',
      examples(
        'pave resources get api.db --app shop --env dev',
        'pave resources get shared.main --app shop --env dev -o json',
      ),
    )
    .action(async (address: string, options: ResourceOptions) => {
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.getResource(options.app, options.env, address), (body) =>
        renderResource(body, colors),
      );
    });

  addClientOptions(
    resources
      .command('move')
      .summary('Re-point a resource at a new address, keeping its data')
      .description(
        'Re-point a resource at a new address, keeping it and its data: for a Score resource that was ' +
          'renamed (or moved to another workload), before deploying the renamed one',
      )
      .argument('<from>', 'its current address, e.g. api.db')
      .argument('<to>', 'its new address, e.g. api.orders')
      .requiredOption('--app <app>', 'the application')
      .requiredOption('--env <env>', 'the environment'),
  )
    .addHelpText('after', examples('pave resources move --app shop --env dev api.db api.orders'))
    .action(async (from: string, to: string, options: ResourceOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(
        await client.moveResource(options.app, options.env, { from, to }),
        (body) =>
          `Moved the ${body.type} resource ${from} of ${options.app}/${options.env} to ${body.address}; ` +
          'it keeps its data',
      );
    });

  addClientOptions(
    resources
      .command('check')
      .summary('Find resources that are gone or changed behind Pave’s back')
      .description(
        "Ask each resource's driver whether the resource still exists as Pave recorded it, changing nothing: " +
          '`ok`; `missing` (gone: `pave deploy --recreate-missing` creates it again, without its data); ' +
          '`drifted` (its outputs differ: their names are shown, never their values); `error` (the driver ' +
          'could not tell). Exits with code 3 when any resource is not ok.',
      )
      .requiredOption('--app <app>', 'the application')
      .requiredOption('--env <env>', 'the environment'),
  )
    .addHelpText(
      'after',
      examples(
        'pave resources check --app shop --env dev',
        'pave resources check --app shop --env dev -o json',
      ),
    )
    .action(async (options: ResourceOptions) => {
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      const body = await client.request<{ items: ResourceCheck[] }>(
        'GET',
        `/apps/${encodeURIComponent(options.app)}/envs/${encodeURIComponent(options.env)}/resources/check`,
      );
      output.show(body, (checked) => renderResourceChecks(checked.items, options.app, options.env, colors));
      const failing = body.items.filter((check) => check.status !== 'ok');
      if (failing.length > 0) {
        throw new CheckFailedError(
          `${failing.length} of ${body.items.length} resources of ${options.app}/${options.env} are not ok: ` +
            failing.map((check) => `${check.address} ${check.status}`).join(', '),
        );
      }
    });

  addClientOptions(
    resources
      .command('graph')
      .description(
        "Show the resource graph of an environment's current set: which workloads use which resources, and " +
          'what each resource depends on',
      )
      .requiredOption('--app <app>', 'the application')
      .requiredOption('--env <env>', 'the environment'),
  )
    .addHelpText(
      'after',
      examples(
        'pave resources graph --app shop --env dev',
        'pave resources graph --app shop --env dev -o json',
      ),
    )
    .action(async (options: ResourceOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(
        await client.resourceGraph(options.app, options.env),
        (graph) =>
          graph.text.trimEnd() ||
          `No resources in ${options.app}/${options.env}: its current set declares none.`,
      );
    });
}

/**
 * A resource's outputs in one line, sorted by name: plain ones as `name=value`, secret ones as
 * `name=(secret)` (the API never returns their values), joined by `, `; `-` when there are none.
 */
export function formatOutputs(resource: Pick<Resource, 'values' | 'secrets'>): string {
  const outputs = outputEntries(resource).map(([name, value]) => `${name}=${value}`);
  return outputs.length > 0 ? outputs.join(', ') : '-';
}

/**
 * Renders resources as an ADDRESS, TYPE, CLASS, DEFINITION, DRIVER, OUTPUTS table; an empty page after `cursor`
 * (its `--cursor`) says there are no more rather than none at all.
 */
export function renderResourceList(
  items: readonly Resource[],
  app: string,
  env: string,
  colors: Colors,
  cursor?: string,
): string {
  const columns: Column<Resource>[] = [
    { header: 'address', value: (resource) => resource.address },
    { header: 'type', value: (resource) => resource.type },
    { header: 'class', value: (resource) => resource.class },
    { header: 'definition', value: (resource) => resource.definitionId },
    { header: 'driver', value: (resource) => resource.driver },
    { header: 'outputs', value: formatOutputs },
  ];
  return formatTable(items, columns, {
    empty: emptyPageLine(
      `No resources in ${app}/${env} yet. A deployment provisions those its Score files declare ` +
        '(see `pave defs list` for how).',
      cursor,
      `resources in ${app}/${env}`,
    ),
    styleHeader: colors.bold,
  });
}

/** Renders what `pave resources check` found as an ADDRESS, TYPE, STATUS, DETAIL table. */
export function renderResourceChecks(
  items: readonly ResourceCheck[],
  app: string,
  env: string,
  colors: Colors,
): string {
  const columns: Column<ResourceCheck>[] = [
    { header: 'address', value: (check) => check.address },
    { header: 'type', value: (check) => check.type },
    {
      header: 'status',
      value: (check) => (check.status === 'ok' ? colors.green(check.status) : colors.red(check.status)),
    },
    { header: 'detail', value: (check) => check.detail || '-' },
  ];
  return formatTable(items, columns, {
    empty: `No resources in ${app}/${env} to check yet.`,
    styleHeader: colors.bold,
  });
}

/** Renders one resource: its fields as aligned lines, then its outputs one per line, secrets named only. */
export function renderResource(resource: Resource, colors: Colors): string {
  const details = formatDetails(
    [
      ['address', resource.address],
      ['app', resource.appId],
      ['env', resource.envId],
      ['type', resource.type],
      ['class', resource.class],
      ['resource id', resource.resId],
      ['definition', resource.definitionId],
      ['driver', resource.driver],
      ['driver id', resource.driverId],
      ['created at', formatTime(resource.createdAt)],
      ['updated at', formatTime(resource.updatedAt)],
    ],
    { styleHeader: colors.bold },
  );
  const outputs = outputEntries(resource);
  if (outputs.length === 0) return `${details}\n\n${colors.bold('Outputs:')} none`;
  const width = Math.max(...outputs.map(([name]) => name.length));
  const lines = outputs.map(([name, value]) => `  ${padEnd(name, width)}  ${value}`.trimEnd());
  return `${details}\n\n${colors.bold('Outputs:')}\n${lines.join('\n')}`;
}

function outputEntries(resource: Pick<Resource, 'values' | 'secrets'>): [string, string][] {
  return [
    ...Object.entries(resource.values),
    ...resource.secrets.map((name): [string, string] => [name, SECRET_MARK]),
  ].sort(([a], [b]) => a.localeCompare(b));
}
