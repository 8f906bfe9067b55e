import type { Command } from 'commander';
import type { Environment } from '@pave/core';
import type { CliIo } from '../io.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';

type EnvOptions = ClientOptions & { app: string };

const environmentColumns: Column<Environment>[] = [
  { header: 'id', value: (env) => env.id },
  { header: 'type', value: (env) => env.type },
  { header: 'created by', value: (env) => env.createdBy },
  { header: 'created at', value: (env) => formatTime(env.createdAt) },
];

/** `pave envs create|list|get|delete`: the environments of one application. */
export function registerEnvsCommands(program: Command, io: CliIo): void {
  const envs = program
    .command('envs')
    .description("Create, list, show and delete an application's environments")
    .addHelpText(
      'after',
      examples('pave envs create dev --app shop --type development', 'pave envs list --app shop'),
    );

  addClientOptions(
    envs
      .command('create')
      .description('Create an environment of an application; ENV is a DNS label')
      .argument('<env>', 'environment id, e.g. dev')
      .requiredOption('--app <app>', 'the application it belongs to')
      .requiredOption('--type <type>', 'its environment type (see `pave env-types list`)'),
  )
    .addHelpText('after', examples('pave envs create dev --app shop --type development'))
    .action(async (env: string, options: EnvOptions & { type: string }) => {
      const { client, output } = await clientFor(options, io);
      const created = await client.createEnvironment(options.app, { id: env, type: options.type });
      output.show(
        created,
        (body) => `Created environment ${body.id} (type ${body.type}) in app ${body.appId}`,
      );
    });

  addClientOptions(
    envs
      .command('list')
      .description('List the environments of an application')
      .requiredOption('--app <app>', 'the application'),
  )
    .addHelpText('after', examples('pave envs list --app shop', 'pave envs list --app shop -o json'))
    .action(async (options: EnvOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(await client.listEnvironments(options.app), (body) =>
        output.table(
          body.items,
          environmentColumns,
          `No environments in app ${options.app} yet. ` +
            `Create one with \`pave envs create ENV --app ${options.app} --type TYPE\`.`,
        ),
      );
    });

  addClientOptions(
    envs
      .command('get')
      .description('Show one environment')
      .argument('<env>', 'environment id')
      .requiredOption('--app <app>', 'the application it belongs to'),
  )
    .addHelpText('after', examples('pave envs get dev --app shop'))
    .action(async (env: string, options: EnvOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(await client.getEnvironment(options.app, env), (body) =>
        output.details([
          ['app', body.appId],
          ['id', body.id],
          ['type', body.type],
          ['created by', body.createdBy],
          ['created at', formatTime(body.createdAt)],
        ]),
      );
    });

  addClientOptions(
    envs
      .command('delete')
      .description('Delete an environment')
      .argument('<env>', 'environment id')
      .requiredOption('--app <app>', 'the application it belongs to'),
  )
    .addHelpText('after', examples('pave envs delete dev --app shop'))
    .action(async (env: string, options: EnvOptions) => {
      const { client, output } = await clientFor(options, io);
      await client.deleteEnvironment(options.app, env);
      output.confirm(`Deleted environment ${env} of app ${options.app}`);
    });
}
