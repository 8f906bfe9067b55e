import type { Command } from 'commander';
import type { AppStatus, Deployment, EnvironmentStatus, HealthStatus } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { Colors } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import { formatTable } from '../output/table.ts';
import type { Column } from '../output/table.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { colorStatus } from './progress.ts';

type StatusOptions = ClientOptions & { app: string; env?: string; exitCode?: boolean; containers?: boolean };
type WorkloadStatus = EnvironmentStatus['workloads'][number];
type AppEnvironmentStatus = AppStatus['environments'][number];

/**
 * `pave status --exit-code` found something not healthy; what it found is printed already. Exit code 1, as
 * `git diff --exit-code` exits 1 when there are differences.
 */
export class NotHealthyError extends Error {
  override name = 'NotHealthyError';
}

/** `pave status`: what runs in an environment, or in every environment of an app, right now. */
export function registerStatusCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('status')
      .summary('Show what runs in an environment, or in every environment of an app, now')
      .description(
        "Show an environment's sync (how its latest deployment went) and health (how its workloads are " +
          'doing now), and its workloads as they run: state, health, restarts, host ports, URLs (routes ' +
          "through Pave's proxy first) and the deployment each came from. Without --env, one line per " +
          'environment of the app: type, health, current deployment and sync',
      )
      .requiredOption('--app <app>', 'the application')
      .option('--env <env>', 'the environment (default: every environment of the app you may read)')
      .option(
        '--exit-code',
        'exit 1 when the environment (or an environment of the app) is not healthy, 0 when all are',
      )
      .option(
        '--containers',
        "with --env, also one row per container: its state in the runtime's words, restarts, process id " +
          'and how it last ended (`-o json` always has them)',
      ),
  )
    .addHelpText(
      'after',
      examples(
        'pave status --app shop --env dev',
        'pave status --app shop --env dev --containers',
        'pave status --app shop',
        'pave status --app shop --exit-code -o json',
      ),
    )
    .action(async (options: StatusOptions) => {
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      if (options.containers && options.env === undefined) {
        throw new CliUsageError('--containers shows the containers of one environment: add --env <env>');
      }
      if (options.env !== undefined) {
        const status = await client.getStatus(options.app, options.env);
        output.show(status, (body) =>
          options.containers
            ? `${renderStatus(body, colors)}\n\n${renderContainers(body, colors)}`
            : renderStatus(body, colors),
        );
        if (options.exitCode && status.health !== 'healthy') {
          throw new NotHealthyError(
            `${status.appId}/${status.envId} is ${status.health ?? 'of unknown health'}` +
              (status.healthDetail ? `: ${status.healthDetail}` : ''),
          );
        }
        return;
      }
      const status = await client.getAppStatus(options.app);
      output.show(status, (body) => renderAppStatus(body, colors));
      if (options.exitCode && status.health !== 'healthy') {
        const unhealthy = status.environments
          .filter((env) => env.health !== 'healthy')
          .map(
            (env) =>
              `${env.envId} ${env.health ?? 'unknown'}${env.healthDetail ? ` (${env.healthDetail})` : ''}`,
          );
        throw new NotHealthyError(`${status.appId} is ${status.health}: ${unhealthy.join('; ')}`);
      }
    });
}

/**
 * Renders an environment's status for people: a line naming the current deployment (and any queued or
 * running one) with the values version it runs with, then one row per workload; or, when the runtime target
 * cannot be reached, why and what to do.
 */
export function renderStatus(status: EnvironmentStatus, colors: Colors): string {
  const columns: Column<WorkloadStatus>[] = [
    { header: 'workload', value: (workload) => workload.workload },
    { header: 'state', value: (workload) => colorState(workload.state, colors) },
  ];
  if (status.workloads.some((workload) => workload.health)) {
    columns.push({ header: 'health', value: (workload) => colorHealth(workload.health, colors) });
  }
  columns.push(
    { header: 'restarts', value: (workload) => String(workload.restarts) },
    {
      header: 'ports',
      value: (workload) => workload.ports.map((port) => `${port.name}:${port.hostPort}`).join(', ') || '-',
    },
    // Routes through Pave's proxy are the addresses to share; host ports follow.
    { header: 'urls', value: (workload) => [...(workload.routes ?? []), ...workload.urls].join(' ') || '-' },
    { header: 'deployment', value: (workload) => workload.deploymentId },
  );
  if (status.workloads.some((workload) => workload.detail)) {
    columns.push({ header: 'detail', value: (workload) => workload.detail ?? '' });
  }
  const where = `${status.appId}/${status.envId}`;
  if (!status.target.reachable) {
    return (
      `${statusHeader(status, colors)}\n\n` +
      colors.red(
        `Runtime target ${status.target.id} cannot be reached: ${status.target.detail ?? 'no answer'}.`,
      ) +
      `\nFix the target (\`pave targets apply\`), or move ${where} to another one and deploy again.`
    );
  }
  const table = formatTable(status.workloads, columns, {
    empty: `No workloads in ${where}. Deploy some with \`pave deploy -f score.yaml --app ${status.appId} --env ${status.envId}\`.`,
    styleHeader: colors.bold,
  });
  return `${statusHeader(status, colors)}\n\n${table}`;
}

/**
 * One row per container of an environment's workloads, as the runtime reports them: its state in the
 * runtime's words, restarts, process id (where there is one) and how it last ended.
 */
export function renderContainers(status: EnvironmentStatus, colors: Colors): string {
  const rows = status.workloads.flatMap((workload) =>
    (workload.containers ?? []).map((container) => ({ workload: workload.workload, ...container })),
  );
  const columns: Column<(typeof rows)[number]>[] = [
    { header: 'workload', value: (row) => row.workload },
    { header: 'container', value: (row) => row.name },
    { header: 'state', value: (row) => row.state },
    { header: 'restarts', value: (row) => String(row.restarts) },
    { header: 'pid', value: (row) => (row.pid === undefined ? '-' : String(row.pid)) },
    { header: 'last exit', value: (row) => row.lastExit ?? '-' },
  ];
  return formatTable(rows, columns, {
    empty: `No containers run in ${status.appId}/${status.envId}.`,
    styleHeader: colors.bold,
  });
}

function statusHeader(status: EnvironmentStatus, colors: Colors): string {
  const where = `${status.appId}/${status.envId}`;
  const current = status.currentDeployment;
  const parts = [
    current ? `${where}: current deployment ${describe(current, colors)}` : `${where}: nothing deployed yet`,
  ];
  const pending = status.pendingDeployment;
  if (pending && pending.id !== current?.id) parts.push(`pending deployment ${describe(pending, colors)}`);
  const header = parts.join('; ');
  // Servers before health was reported send neither; their status reads as it always did.
  if (status.health === undefined) return header;
  return `${header}\n${syncText(status, colors)}; ${healthText(status.health, status.healthDetail, colors)}`;
}

/** `sync: succeeded (deployment 17)`: how the latest deployment went, as Argo CD's sync status says. */
function syncText(status: Pick<EnvironmentStatus, 'latestDeployment'>, colors: Colors): string {
  const latest = status.latestDeployment;
  if (!latest) return `sync: ${colors.dim('none')} (nothing deployed yet)`;
  const rolledBack = latest.rolledBack ? ', rolled back' : '';
  return `sync: ${colorStatus(latest.status, colors)} (deployment ${latest.id}${rolledBack})`;
}

/** `health: degraded (api: crash-looping (5 restarts))`. */
function healthText(health: HealthStatus, detail: string | undefined, colors: Colors): string {
  return `health: ${colorHealth(health, colors)}${detail ? ` (${detail})` : ''}`;
}

/**
 * Renders the status of every environment of an app for people: its health, then one row per environment
 * with its type, health, current deployment, sync and why it is not healthy.
 */
export function renderAppStatus(status: AppStatus, colors: Colors): string {
  const columns: Column<AppEnvironmentStatus>[] = [
    { header: 'environment', value: (env) => env.envId },
    { header: 'type', value: (env) => (env.restricted ? `${env.type} (restricted)` : env.type) },
    { header: 'health', value: (env) => colorHealth(env.health, colors) },
    {
      header: 'current deployment',
      value: (env) =>
        env.currentDeployment
          ? `${env.currentDeployment.id} (${env.currentDeployment.kind}, ${colorStatus(env.currentDeployment.status, colors)})`
          : '-',
    },
    {
      header: 'sync',
      value: (env) => {
        const latest = env.latestDeployment;
        if (!latest) return '-';
        const which =
          latest.id === env.currentDeployment?.id
            ? ''
            : ` (${latest.id}${latest.rolledBack ? ', rolled back' : ''})`;
        return `${colorStatus(latest.status, colors)}${which}`;
      },
    },
    {
      header: 'ready',
      value: (env) =>
        env.target.reachable
          ? `${env.workloads.filter((w) => w.state === 'ready').length}/${env.workloads.length}`
          : '-',
    },
    {
      header: 'urls',
      // As an environment's own status lists them: its routes, then its workloads' host ports.
      value: (env) => env.workloads.flatMap((w) => [...(w.routes ?? []), ...w.urls]).join(' ') || '-',
    },
  ];
  if (status.environments.some((env) => env.healthDetail)) {
    columns.push({ header: 'detail', value: (env) => env.healthDetail ?? '' });
  }
  const table = formatTable(status.environments, columns, {
    empty: `No environments of ${status.appId} you may read. Create one with \`pave envs create dev --app ${status.appId} --type development\`.`,
    styleHeader: colors.bold,
  });
  return `${status.appId}: ${healthText(status.health, undefined, colors)}\n\n${table}`;
}

function describe(deployment: Deployment, colors: Colors): string {
  const rolledBack = deployment.rolledBack ? ', rolled back' : '';
  const values = deployment.valuesVersion !== null ? `, values v${deployment.valuesVersion}` : '';
  return `${deployment.id} (${deployment.kind}, ${colorStatus(deployment.status, colors)}${rolledBack}${values})`;
}

function colorState(state: WorkloadStatus['state'], colors: Colors): string {
  switch (state) {
    case 'ready':
      return colors.green(state);
    case 'running':
    case 'starting':
      return colors.yellow(state);
    case 'crash-looping':
      return colors.red(state);
    case 'stopped':
      return colors.dim(state);
  }
}

function colorHealth(health: HealthStatus | undefined, colors: Colors): string {
  switch (health) {
    case 'healthy':
      return colors.green(health);
    case 'progressing':
      return colors.yellow(health);
    case 'degraded':
      return colors.red(health);
    case 'unknown':
    case undefined:
      return colors.dim('unknown');
  }
}
