import type { Command } from 'commander';
import type { Deployment, EnvironmentStatus } from '@pave/core';
import type { CliIo } from '../io.ts';
import type { Colors } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import { formatTable } from '../output/table.ts';
import type { Column } from '../output/table.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { colorStatus } from './progress.ts';

type StatusOptions = ClientOptions & { app: string; env: string };
type WorkloadStatus = EnvironmentStatus['workloads'][number];

/** `pave status`: what runs in an environment right now. */
export function registerStatusCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('status')
      .summary('Show what runs in an environment now')
      .description(
        "Show an environment's workloads as they run now: state, restarts, host ports, URLs and the " +
          'deployment each came from',
      )
      .requiredOption('--app <app>', 'the application')
      .requiredOption('--env <env>', 'the environment'),
  )
    .addHelpText(
      'after',
      examples('pave status --app shop --env dev', 'pave status --app shop --env dev -o json'),
    )
    .action(async (options: StatusOptions) => {
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.getStatus(options.app, options.env), (status) => renderStatus(status, colors));
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
    { header: 'restarts', value: (workload) => String(workload.restarts) },
    {
      header: 'ports',
      value: (workload) => workload.ports.map((port) => `${port.name}:${port.hostPort}`).join(', ') || '-',
    },
    { header: 'urls', value: (workload) => workload.urls.join(' ') || '-' },
    { header: 'deployment', value: (workload) => workload.deploymentId },
  ];
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

function statusHeader(status: EnvironmentStatus, colors: Colors): string {
  const where = `${status.appId}/${status.envId}`;
  const current = status.currentDeployment;
  const parts = [
    current ? `${where}: current deployment ${describe(current, colors)}` : `${where}: nothing deployed yet`,
  ];
  const pending = status.pendingDeployment;
  if (pending && pending.id !== current?.id) parts.push(`pending deployment ${describe(pending, colors)}`);
  return parts.join('; ');
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
