import type { Command } from 'commander';
import type { EnvType } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import { aliasApiFields, withFieldOrigins } from '../field-origins.ts';
import type { CliIo } from '../io.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { minReadySecondsOf } from './deploy.ts';
import { emptyPageLine, pageQuery, withMoreLine } from './paging.ts';

/** The server's stability window for a type that sets none, shown in place of null. */
const DEFAULT_MIN_READY = '5s (default)';

/** An environment type's stability window as the table shows it, e.g. `30s` or `5s (default)`. */
export function describeMinReady(type: Pick<EnvType, 'minReadySeconds'>): string {
  return type.minReadySeconds === null ? DEFAULT_MIN_READY : `${type.minReadySeconds}s`;
}

/**
 * `--min-ready` of `env-types create|update`: `default` is null (the server's default window), anything else a
 * duration of at most 1h in whole seconds, `0s` (or `0`) turning the window off. Throws CliUsageError otherwise.
 */
export function minReadySettingOf(text: string): number | null {
  return text.trim() === 'default' ? null : minReadySecondsOf(text);
}

const MIN_READY_HELP =
  'how long a workload without a readiness probe must keep running before a deployment to an environment ' +
  'of this type counts it as ready, e.g. 30s, 2m or 0s (off); `default` is 5s. `pave deploy --min-ready` ' +
  'overrides it per deployment';

const REQUIRES_APPROVAL_HELP =
  'deployments, rollbacks and promotions into its environments wait until someone else with the approver ' +
  'role on this type approves them (`pave approvals approve`)';

type UpdateOptions = ClientOptions & { description?: string; minReady?: string; requiresApproval?: boolean };

const envTypeColumns: Column<EnvType>[] = [
  { header: 'id', value: (type) => type.id },
  { header: 'description', value: (type) => type.description },
  { header: 'restricted', value: (type) => (type.restricted ? 'yes' : '-') },
  { header: 'approval', value: (type) => (type.requiresApproval ? 'required' : '-') },
  { header: 'min ready', value: describeMinReady },
  { header: 'created by', value: (type) => type.createdBy },
  { header: 'created at', value: (type) => formatTime(type.createdAt) },
];

/** `pave env-types list|get|create|update`: the kinds of environment (development, staging, production, ...). */
export function registerEnvTypesCommands(program: Command, io: CliIo): void {
  const envTypes = program
    .command('env-types')
    .description('List, show, create and change environment types, e.g. development, staging, production')
    .addHelpText(
      'after',
      examples(
        'pave env-types list',
        'pave env-types create staging --description "Pre-production"',
        'pave env-types update production --min-ready 30s',
        'pave env-types update production --requires-approval',
      ),
    );

  addClientOptions(
    envTypes
      .command('list')
      .description('List environment types, ordered by id, a page at a time')
      .option('--limit <n>', 'at most this many (100 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave env-types list',
        'pave env-types list -o json',
        'pave env-types list --cursor production',
      ),
    )
    .action(async (options: ClientOptions & { limit?: string; cursor?: string }) => {
      const query = pageQuery(options, 'environment types');
      const { client, output } = await clientFor(options, io);
      output.show(await client.listEnvTypes(query), (page) =>
        withMoreLine(
          output.table(
            page.items,
            envTypeColumns,
            emptyPageLine(
              'No environment types yet. Create one with `pave env-types create ID`.',
              options.cursor,
              'environment types',
            ),
          ),
          page.nextCursor,
          { items: 'environment types', command: 'pave env-types list', limit: options.limit },
        ),
      );
    });

  aliasApiFields(
    addClientOptions(
      envTypes
        .command('get')
        .description('Show one environment type')
        .argument('<id>', 'environment type id (see `pave env-types list`)'),
    ),
    { 'path.type': '<id>' },
  )
    .addHelpText('after', examples('pave env-types get production', 'pave env-types get production -o json'))
    .action(async (id: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(await client.getEnvType(id), (body) => output.table([body], envTypeColumns, ''));
    });

  addClientOptions(
    envTypes
      .command('create')
      .description('Create an environment type; ID is a DNS label')
      .argument('<id>', 'environment type id, e.g. staging')
      .option('--description <text>', 'what environments of this type are for')
      .option(
        '--restricted',
        'deploying to, rolling back, changing values of and deleting its environments also need the ' +
          'deployer role on this type (see `pave roles grant deployer`)',
      )
      .option('--requires-approval', REQUIRES_APPROVAL_HELP)
      .option('--min-ready <duration>', MIN_READY_HELP),
  )
    .addHelpText(
      'after',
      examples(
        'pave env-types create staging --description "Pre-production"',
        'pave env-types create production --restricted --min-ready 30s',
        'pave env-types create regulated --restricted --requires-approval',
        'pave env-types create sandbox --min-ready 0s',
      ),
    )
    .action(
      async (
        id: string,
        options: ClientOptions & {
          description?: string;
          restricted?: boolean;
          requiresApproval?: boolean;
          minReady?: string;
        },
      ) => {
        const minReadySeconds =
          options.minReady === undefined ? undefined : minReadySettingOf(options.minReady);
        const { client, output } = await clientFor(options, io);
        const created = await withFieldOrigins(
          {
            '/id': { name: '<id>', value: id },
            '/description': { name: '--description', value: options.description },
            '/restricted': { name: '--restricted' },
            '/requiresApproval': { name: '--requires-approval' },
            '/minReadySeconds': { name: '--min-ready', value: options.minReady },
          },
          () =>
            client.createEnvType({
              id,
              ...(options.description !== undefined ? { description: options.description } : {}),
              ...(options.restricted ? { restricted: true } : {}),
              ...(options.requiresApproval ? { requiresApproval: true } : {}),
              ...(minReadySeconds !== undefined ? { minReadySeconds } : {}),
            }),
        );
        output.show(created, (body) =>
          [
            body.restricted
              ? `Created environment type ${body.id}, restricted: changing its environments needs the deployer ` +
                `role on it as well (\`pave roles grant deployer --user USER --env-type ${body.id}\`)`
              : `Created environment type ${body.id}`,
            ...(body.requiresApproval ? [approvalLine(body.id)] : []),
          ].join('\n'),
        );
      },
    );

  aliasApiFields(
    addClientOptions(
      envTypes
        .command('update')
        .description('Change an environment type: only the flags given change')
        .argument('<id>', 'environment type id (see `pave env-types list`)')
        .option('--description <text>', 'what environments of this type are for')
        .option('--requires-approval', REQUIRES_APPROVAL_HELP)
        .option('--no-requires-approval', 'deployments into its environments run without approval')
        .option('--min-ready <duration>', MIN_READY_HELP),
    ),
    { 'path.type': '<id>', '/minReadySeconds': '--min-ready' },
  )
    .addHelpText(
      'after',
      examples(
        'pave env-types update production --min-ready 30s',
        'pave env-types update development --min-ready 0s',
        'pave env-types update production --min-ready default',
        'pave env-types update production --requires-approval',
        'pave env-types update production --no-requires-approval',
        'pave env-types update staging --description "Pre-production, reset nightly"',
      ),
    )
    .action(async (id: string, options: UpdateOptions) => {
      if (
        options.description === undefined &&
        options.minReady === undefined &&
        options.requiresApproval === undefined
      ) {
        throw new CliUsageError(
          'nothing to change: give --min-ready DURATION (or `default`), --description TEXT or ' +
            '--requires-approval / --no-requires-approval',
        );
      }
      const minReadySeconds =
        options.minReady === undefined ? undefined : minReadySettingOf(options.minReady);
      const { client, output } = await clientFor(options, io);
      const updated = await client.updateEnvType(id, {
        ...(options.description !== undefined ? { description: options.description } : {}),
        ...(minReadySeconds !== undefined ? { minReadySeconds } : {}),
        ...(options.requiresApproval !== undefined ? { requiresApproval: options.requiresApproval } : {}),
      });
      output.show(
        updated,
        (body) =>
          `Updated environment type ${body.id}: min ready ${describeMinReady(body)}` +
          (options.requiresApproval === undefined
            ? ''
            : `, approval ${body.requiresApproval ? 'required' : 'not required'}`),
      );
    });
}

function approvalLine(id: string): string {
  return (
    `Deployments into its environments wait for approval by someone else: grant it with ` +
    `\`pave roles grant approver --user USER --env-type ${id}\``
  );
}
