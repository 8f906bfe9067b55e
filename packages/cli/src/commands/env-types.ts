import type { Command } from 'commander';
import type { EnvType } from '@pave/core';
import type { CliIo } from '../io.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';

const envTypeColumns: Column<EnvType>[] = [
  { header: 'id', value: (type) => type.id },
  { header: 'description', value: (type) => type.description },
  { header: 'restricted', value: (type) => (type.restricted ? 'yes' : '-') },
  { header: 'created by', value: (type) => type.createdBy },
  { header: 'created at', value: (type) => formatTime(type.createdAt) },
];

/** `pave env-types list|create`: the kinds of environment (development, staging, production, ...). */
export function registerEnvTypesCommands(program: Command, io: CliIo): void {
  const envTypes = program
    .command('env-types')
    .description('List and create environment types, e.g. development, staging, production')
    .addHelpText(
      'after',
      examples('pave env-types list', 'pave env-types create staging --description "Pre-production"'),
    );

  addClientOptions(envTypes.command('list').description('List environment types'))
    .addHelpText('after', examples('pave env-types list', 'pave env-types list -o json'))
    .action(async (options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(await client.listEnvTypes(), (body) =>
        output.table(
          body.items,
          envTypeColumns,
          'No environment types yet. Create one with `pave env-types create ID`.',
        ),
      );
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
      ),
  )
    .addHelpText(
      'after',
      examples(
        'pave env-types create staging --description "Pre-production"',
        'pave env-types create production --restricted',
      ),
    )
    .action(async (id: string, options: ClientOptions & { description?: string; restricted?: boolean }) => {
      const { client, output } = await clientFor(options, io);
      const created = await client.createEnvType({
        id,
        ...(options.description !== undefined ? { description: options.description } : {}),
        ...(options.restricted ? { restricted: true } : {}),
      });
      output.show(created, (body) =>
        body.restricted
          ? `Created environment type ${body.id}, restricted: changing its environments needs the deployer ` +
            `role on it as well (\`pave roles grant deployer --user USER --env-type ${body.id}\`)`
          : `Created environment type ${body.id}`,
      );
    });
}
