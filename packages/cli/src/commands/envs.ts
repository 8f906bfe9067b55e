import type { Command } from 'commander';
import type { Deployment, Environment, PaveClient } from '@pave/core';
import { confirmOrRefuse } from '../confirm.ts';
import { DURATION_FORMAT, durationSeconds } from '../duration.ts';
import { CliUsageError } from '../errors.ts';
import { aliasApiFields, withFieldOrigins } from '../field-origins.ts';
import type { CliIo } from '../io.ts';
import type { Colors } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import type { CommandOutput } from '../output/output.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { emptyPageLine, pageQuery, withMoreLine } from './paging.ts';
import {
  addWaitOptions,
  addWaitTimeoutOption,
  checkWaitTimeout,
  giveUpAfterMs,
  progressOn,
  queuedLine,
  timeoutSecondsOf,
  waitForDeployment,
  waitTimeoutMsOf,
} from './progress.ts';
import type { Progress, WaitOptions } from './progress.ts';

type EnvOptions = ClientOptions & { app: string };
type CreateOptions = EnvOptions &
  WaitOptions & { type: string; from?: string; withData?: boolean; ttl?: string };

const environmentColumns: Column<Environment>[] = [
  { header: 'id', value: (env) => env.id },
  { header: 'type', value: (env) => env.type },
  { header: 'created by', value: (env) => env.createdBy },
  { header: 'created at', value: (env) => formatTime(env.createdAt) },
  { header: 'expires', value: (env) => formatTime(env.expiresAt, 'never') },
];

/** `pave envs create|list|get|extend|delete`: the environments of one application. */
export function registerEnvsCommands(program: Command, io: CliIo): void {
  const envs = program
    .command('envs')
    .description("Create, list, show, extend and delete an application's environments")
    .addHelpText(
      'after',
      examples(
        'pave envs create dev --app shop --type development',
        'pave envs create pr-42 --app shop --type development --from dev --with-data --ttl 48h',
        'pave envs list --app shop',
      ),
    );

  addClientOptions(
    addWaitTimeoutOption(
      addWaitOptions(
        envs
          .command('create')
          .description(
            'Create an environment of an application; ENV is a DNS label. With --from it starts with the ' +
              'current set of workloads of another environment (a clone deployment) and with that ' +
              "environment's own values and secrets over the app's (its first values version; secrets stay " +
              'encrypted), which needs the right to reveal them there (deployer, for production); with --with-data ' +
              "also with a copy of that environment's data: postgres, mysql and redis resources and volumes " +
              'are copied; amqp resources start empty (queues and messages are not copied), which the clone ' +
              "deployment's journal says (printed with --wait, else see `pave deployments get`). With --ttl it " +
              'is ephemeral: it and its resources are deleted when the time is up (see `pave envs extend`).',
          )
          .argument('<env>', 'environment id, e.g. dev')
          .requiredOption('--app <app>', 'the application it belongs to')
          .requiredOption('--type <type>', 'its environment type (see `pave env-types list`)')
          .option(
            '--from <env>',
            "start it with this environment's current set of workloads and its own values",
          )
          .option(
            '--with-data',
            "with --from: copy the source's data too (postgres, mysql, redis, volumes); amqp resources " +
              "start empty, as the clone deployment's journal notes",
          )
          .option('--ttl <duration>', `delete it this long after it is created: ${DURATION_FORMAT}`),
        'with --wait: stop waiting when the server has not answered for this long plus 30s (default 60s)',
      ),
    ),
  )
    .addHelpText(
      'after',
      examples(
        'pave envs create dev --app shop --type development',
        'pave envs create pr-42 --app shop --type development --from dev --wait',
        'pave envs create prod-eu --app shop --type production --from prod --wait --wait-timeout 30m',
        'pave envs create pr-43 --app shop --type development --from staging --with-data --ttl 48h',
      ),
    )
    .action(async (env: string, options: CreateOptions) => {
      if (options.wait && options.from === undefined) {
        throw new CliUsageError(
          '--wait follows the clone deployment of --from; without --from nothing is deployed',
        );
      }
      if (options.timeout !== undefined && options.from === undefined) {
        throw new CliUsageError(
          '--timeout and --wait follow the clone deployment of --from; without --from nothing is deployed: ' +
            'leave --timeout out',
        );
      }
      if (options.timeout !== undefined && !options.wait) {
        // Without --wait nothing waits: the clone deployment gets the server's readiness timeout either way.
        throw new CliUsageError(
          '--timeout goes with --wait: it only applies while --wait follows the clone deployment; add --wait, ' +
            'or leave --timeout out',
        );
      }
      if (options.withData && options.from === undefined) {
        throw new CliUsageError('--with-data copies the data of the --from environment; add --from ENV');
      }
      // A clone into a type that needs approval waits for someone: --wait-timeout bounds that (exit 4).
      checkWaitTimeout(options);
      const waitTimeoutMs = waitTimeoutMsOf(options);
      const timeoutSeconds = timeoutSecondsOf(options);
      const ttlSeconds = options.ttl === undefined ? undefined : durationSeconds(options.ttl, '--ttl');
      const { client, output } = await clientFor(options, io);
      const created = await withFieldOrigins(
        {
          '/id': { name: '<env>', value: env },
          '/type': { name: '--type', value: options.type },
          '/from': { name: '--from', value: options.from },
          '/withData': { name: '--with-data' },
          '/ttlSeconds': { name: '--ttl', value: options.ttl },
        },
        () =>
          client.createEnvironment(options.app, {
            id: env,
            type: options.type,
            ...(options.from !== undefined ? { from: options.from } : {}),
            ...(options.withData ? { withData: true } : {}),
            ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
          }),
      );
      output.show(created, (body) => createdLine(body, options));
      if (options.wait) {
        await waitForClone(client, options.app, env, output, {
          timeoutMs: giveUpAfterMs(timeoutSeconds),
          colors: colorsFor(io.stdout, io.env),
          progress: progressOn(io.stderr, io.env, output.format),
          ...(waitTimeoutMs !== undefined ? { waitTimeoutMs } : {}),
        });
      } else if (options.from !== undefined && !output.forScripts) {
        // The clone's deployment: queued, or (into a type that needs it) awaiting someone's approval.
        const clone = await newestDeployment(client, options.app, env);
        if (clone) output.confirm(queuedLine(clone));
      }
    });

  addClientOptions(
    envs
      .command('list')
      .description('List the environments of an application, ordered by id, a page at a time')
      .requiredOption('--app <app>', 'the application')
      .option('--limit <n>', 'at most this many (100 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave envs list --app shop',
        'pave envs list --app shop --limit 20 -o json',
        'pave envs list --app shop --cursor pr-1234',
      ),
    )
    .action(async (options: EnvOptions & { limit?: string; cursor?: string }) => {
      const query = pageQuery(options, 'environments');
      const { client, output } = await clientFor(options, io);
      output.show(await client.listEnvironments(options.app, query), (page) => {
        const table = output.table(
          page.items,
          environmentColumns,
          emptyPageLine(
            `No environments in app ${options.app} yet. ` +
              `Create one with \`pave envs create ENV --app ${options.app} --type TYPE\`.`,
            options.cursor,
            `environments in app ${options.app}`,
          ),
        );
        return withMoreLine(table, page.nextCursor, {
          items: 'environments',
          command: `pave envs list --app ${options.app}`,
          limit: options.limit,
        });
      });
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
          // Absent from a server from before the environment named it.
          [
            'runtime target',
            body.runtimeTarget ? `${body.runtimeTarget.id} (${body.runtimeTarget.type})` : '-',
          ],
          ['created by', body.createdBy],
          ['created at', formatTime(body.createdAt)],
          ['expires', formatTime(body.expiresAt, 'never')],
        ]),
      );
    });

  addClientOptions(
    aliasApiFields(envs.command('extend'), { '/ttlSeconds': '--ttl' })
      .description(
        'Set when an ephemeral environment is deleted: --ttl from now (it may be sooner than before). ' +
          'Giving a time to live to an environment that never expires makes it ephemeral: asks first; ' +
          'without a terminal to ask on it needs --yes.',
      )
      .argument('<env>', 'environment id')
      .requiredOption('--app <app>', 'the application it belongs to')
      .requiredOption('--ttl <duration>', `how long from now it is kept: ${DURATION_FORMAT}`)
      .option('--yes', 'make an environment that never expires ephemeral without asking')
      .option('--force', 'the same as --yes (kept for scripts that pass it)'),
  )
    .addHelpText('after', examples('pave envs extend pr-42 --app shop --ttl 24h'))
    .action(async (env: string, options: EnvOptions & { ttl: string; yes?: boolean; force?: boolean }) => {
      const ttlSeconds = durationSeconds(options.ttl, '--ttl');
      const { client, output } = await clientFor(options, io);
      const current = await client.getEnvironment(options.app, env);
      if (current.expiresAt === null) {
        const ttl = options.ttl.trim();
        await confirmOrRefuse(io, {
          question:
            `Environment ${env} of ${options.app} never expires. Delete it and its resources in ${ttl} ` +
            '(databases are dropped)?',
          flag: '--yes',
          action: `make environment ${env} of app ${options.app}, which never expires, ephemeral`,
          confirmed: options.yes === true || options.force === true,
        });
      }
      output.show(
        await client.extendEnvironment(options.app, env, { ttlSeconds }),
        (body) =>
          `Environment ${body.id} of app ${body.appId} now expires at ` +
          `${formatTime(body.expiresAt, 'never')} (${options.ttl.trim()} from now); it and its resources ` +
          'are deleted then',
      );
    });

  addClientOptions(
    envs
      .command('delete')
      .summary('Delete an environment, its workloads and its resources (asks first)')
      .description(
        'Delete an environment: its workloads are stopped and its resources deleted (databases are ' +
          'dropped). Asks first; without a terminal to ask on it needs --yes.',
      )
      .argument('<env>', 'environment id')
      .requiredOption('--app <app>', 'the application it belongs to')
      .option('--yes', 'delete without asking')
      .option('--force', 'the same as --yes (kept for scripts that pass it)'),
  )
    .addHelpText(
      'after',
      examples('pave envs delete dev --app shop', 'pave envs delete pr-42 --app shop --yes'),
    )
    .action(async (env: string, options: EnvOptions & { yes?: boolean; force?: boolean }) => {
      const { client, output } = await clientFor(options, io);
      await confirmOrRefuse(io, {
        question:
          `Delete environment ${env} of ${options.app}, its workloads and its resources ` +
          '(databases are dropped)?',
        flag: '--yes',
        action: `delete environment ${env} of app ${options.app} and its resources`,
        confirmed: options.yes === true || options.force === true,
      });
      await client.deleteEnvironment(options.app, env);
      output.confirm(`Deleted environment ${env} of app ${options.app}, its workloads and its resources`);
    });
}

// What `pave envs create` says it did: the environment, where it started from, and when it expires.
function createdLine(env: Environment, options: Pick<CreateOptions, 'from' | 'withData'>): string {
  const from =
    options.from === undefined
      ? ''
      : `, starting with the current set of ${options.from}${options.withData ? ' and a copy of its data' : ''}`;
  const expires =
    env.expiresAt !== null ? `; it expires at ${formatTime(env.expiresAt)} and is deleted then` : '';
  return `Created environment ${env.id} (type ${env.type}) in app ${env.appId}${from}${expires}`;
}

// The server answers `envs create --from` with the environment and queues its clone deployment; that is
// the newest (and only) deployment of the new environment. With `-o json` the environment has been printed,
// so the wait prints nothing more.
async function waitForClone(
  client: PaveClient,
  app: string,
  env: string,
  output: CommandOutput,
  options: { timeoutMs: number; colors: Colors; progress: Progress; waitTimeoutMs?: number },
): Promise<void> {
  const newest = await newestDeployment(client, app, env);
  if (newest === undefined) {
    output.confirm(
      `Nothing to wait for: ${app}/${env} has no deployment (the source environment runs nothing)`,
    );
    return;
  }
  options.progress.line(queuedLine(newest));
  await waitForDeployment(client, app, env, newest.id, output, { ...options, printResult: false });
}

/** The newest deployment of `app`/`env`: a new environment's clone deployment, if it has one. */
async function newestDeployment(
  client: PaveClient,
  app: string,
  env: string,
): Promise<Deployment | undefined> {
  const { items } = await client.listDeployments(app, env);
  return [...items].sort((a, b) => Number(b.id) - Number(a.id))[0];
}
