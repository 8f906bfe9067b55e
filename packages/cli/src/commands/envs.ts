import type { Command } from 'commander';
import type { Environment, PaveClient } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { Colors } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import type { CommandOutput } from '../output/output.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import {
  addWaitOptions,
  giveUpAfterMs,
  queuedLine,
  timeoutSecondsOf,
  waitForDeployment,
} from './progress.ts';
import type { WaitOptions } from './progress.ts';

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
    addWaitOptions(
      envs
        .command('create')
        .description(
          'Create an environment of an application; ENV is a DNS label. With --from it starts with the ' +
            'current set of workloads of another environment (a clone deployment).',
        )
        .argument('<env>', 'environment id, e.g. dev')
        .requiredOption('--app <app>', 'the application it belongs to')
        .requiredOption('--type <type>', 'its environment type (see `pave env-types list`)')
        .option('--from <env>', "start it with this environment's current set of workloads"),
      'with --wait: stop waiting when the server has not answered for this long plus 30s (default 60s)',
    ),
  )
    .addHelpText(
      'after',
      examples(
        'pave envs create dev --app shop --type development',
        'pave envs create pr-42 --app shop --type development --from dev --wait',
      ),
    )
    .action(async (env: string, options: EnvOptions & WaitOptions & { type: string; from?: string }) => {
      if (options.wait && options.from === undefined) {
        throw new CliUsageError(
          '--wait follows the clone deployment of --from; without --from nothing is deployed',
        );
      }
      const timeoutSeconds = timeoutSecondsOf(options);
      const { client, output } = await clientFor(options, io);
      const created = await client.createEnvironment(options.app, {
        id: env,
        type: options.type,
        ...(options.from !== undefined ? { from: options.from } : {}),
      });
      output.show(
        created,
        (body) =>
          `Created environment ${body.id} (type ${body.type}) in app ${body.appId}` +
          (options.from !== undefined ? `, starting with the current set of ${options.from}` : ''),
      );
      if (options.wait) {
        await waitForClone(client, options.app, env, output, {
          timeoutMs: giveUpAfterMs(timeoutSeconds),
          colors: colorsFor(io.stdout, io.env),
        });
      }
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

// The server answers `envs create --from` with the environment and queues its clone deployment; that is
// the newest (and only) deployment of the new environment. With `-o json` the environment has been printed,
// so the wait prints nothing more.
async function waitForClone(
  client: PaveClient,
  app: string,
  env: string,
  output: CommandOutput,
  options: { timeoutMs: number; colors: Colors },
): Promise<void> {
  const { items } = await client.listDeployments(app, env);
  const newest = [...items].sort((a, b) => Number(b.id) - Number(a.id))[0];
  if (newest === undefined) {
    output.confirm(
      `Nothing to wait for: ${app}/${env} has no deployment (the source environment runs nothing)`,
    );
    return;
  }
  output.confirm(queuedLine(newest));
  await waitForDeployment(client, app, env, newest.id, output, { ...options, printResult: false });
}
