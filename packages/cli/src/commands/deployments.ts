import type { Command } from 'commander';
import type { Deployment, DeploymentDetail, JournalEntry } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import { emptyPageLine, pageQuery, withMoreLine } from './paging.ts';
import type { CliIo } from '../io.ts';
import type { Colors } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import { formatDetails, formatTable } from '../output/table.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { colorStatus, deploymentDuration } from './progress.ts';

type DeploymentsOptions = ClientOptions & { app: string; env: string };

const MESSAGE_WIDTH = 50;

/** `pave deployments list|get`: an environment's deployment history and one deployment's journal. */
export function registerDeploymentsCommands(program: Command, io: CliIo): void {
  const deployments = program
    .command('deployments')
    .description("List an environment's deployments, or show one with its journal and why it failed")
    .addHelpText(
      'after',
      examples('pave deployments list --app shop --env dev', 'pave deployments get 17 --app shop --env dev'),
    );

  addClientOptions(
    deployments
      .command('list')
      .description('List the deployments of an environment, newest first')
      .requiredOption('--app <app>', 'the application')
      .requiredOption('--env <env>', 'the environment')
      .option('--limit <n>', 'at most this many (at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave deployments list --app shop --env dev',
        'pave deployments list --app shop --env dev --limit 5 -o json',
        'pave deployments list --app shop --env dev --cursor 1042',
      ),
    )
    .action(async (options: DeploymentsOptions & { limit?: string; cursor?: string }) => {
      const query = pageQuery(options, 'deployments');
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.listDeployments(options.app, options.env, query), (page) => {
        const list = renderDeploymentList(page.items, colors, options.app, options.env, options.cursor);
        return withMoreLine(list, page.nextCursor, {
          items: 'deployments',
          command: `pave deployments list --app ${options.app} --env ${options.env}`,
          limit: options.limit,
        });
      });
    });

  addClientOptions(
    deployments
      .command('get')
      .description('Show one deployment: what it deployed, its journal step by step, and why it failed')
      .argument('<id>', 'deployment id, e.g. 17')
      .requiredOption('--app <app>', 'the application')
      .requiredOption('--env <env>', 'the environment'),
  )
    .addHelpText(
      'after',
      examples(
        'pave deployments get 17 --app shop --env dev',
        'pave deployments get 17 --app shop --env dev -o json',
      ),
    )
    .action(async (id: string, options: DeploymentsOptions) => {
      if (!/^\d+$/.test(id))
        throw new CliUsageError(`ID: "${id}" is not a deployment id; use a number such as 17`);
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.getDeployment(options.app, options.env, id), (detail) =>
        renderDeploymentDetail(detail, colors),
      );
    });

  addClientOptions(
    deployments
      .command('cancel')
      .description(
        'Cancel a queued deployment before it starts, or withdraw one awaiting approval (a running one cannot be cancelled)',
      )
      .argument('<id>', 'deployment id, e.g. 17')
      .requiredOption('--app <app>', 'the application')
      .requiredOption('--env <env>', 'the environment'),
  )
    .addHelpText('after', examples('pave deployments cancel 17 --app shop --env dev'))
    .action(async (id: string, options: DeploymentsOptions) => {
      if (!/^\d+$/.test(id))
        throw new CliUsageError(`ID: "${id}" is not a deployment id; use a number such as 17`);
      const { client, output } = await clientFor(options, io);
      output.show(
        await client.cancelDeployment(options.app, options.env, id),
        (detail) =>
          `Deployment ${detail.id} of ${detail.appId}/${detail.envId} is cancelled; it will not run.`,
      );
    });
}

/**
 * Renders the deployments of `app`/`env` as a table: ID, KIND, STATUS, SET, VALUES (the values version it runs
 * with), COMMIT (only when one of them deployed a build artifact), ACTOR, MESSAGE, CREATED, DURATION. An empty
 * page after `cursor` (its `--cursor`) says there are no more rather than none at all.
 */
export function renderDeploymentList(
  items: readonly Deployment[],
  colors: Colors,
  app: string,
  env: string,
  cursor?: string,
): string {
  const columns: Column<Deployment>[] = [
    { header: 'id', value: (deployment) => deployment.id },
    { header: 'kind', value: (deployment) => describeKind(deployment) },
    { header: 'status', value: (deployment) => describeStatus(deployment, colors) },
    { header: 'set', value: (deployment) => deployment.setId?.slice(0, 12) ?? '-' },
    { header: 'values', value: (deployment) => describeValuesVersion(deployment.valuesVersion) },
    // The commit column appears once something deployed a build artifact (`pave deploy --artifact`, a rule).
    ...(items.some((deployment) => deployment.commit)
      ? [{ header: 'commit', value: (deployment: Deployment) => deployment.commit?.slice(0, 12) ?? '-' }]
      : []),
    { header: 'actor', value: (deployment) => deployment.actor },
    { header: 'message', value: (deployment) => truncate(deployment.message, MESSAGE_WIDTH) || '-' },
    { header: 'created', value: (deployment) => formatTime(deployment.createdAt) },
    { header: 'duration', value: (deployment) => deploymentDuration(deployment) ?? '-' },
  ];
  return formatTable(items, columns, {
    empty: emptyPageLine(
      `No deployments in ${app}/${env} yet. Deploy with \`pave deploy -f score.yaml --app ${app} --env ${env}\`.`,
      cursor,
      `deployments in ${app}/${env}`,
    ),
    styleHeader: colors.bold,
  });
}

/**
 * The workloads of a deployment's set, each with the build artifact it came from when any came from one
 * (`api (artifact 3), worker`): a set is built up by many deployments, so they may differ from the
 * deployment's own artifact.
 */
function describeWorkloads({ workloads, workloadArtifacts }: DeploymentDetail): string {
  if (workloads === null) return '-';
  if (workloads.length === 0) return '(none)';
  // Own properties only: a workload may be called `constructor`.
  const artifactOf = (name: string) =>
    workloadArtifacts && Object.hasOwn(workloadArtifacts, name) ? workloadArtifacts[name] : null;
  if (!workloads.some(artifactOf)) return workloads.join(', ');
  return workloads
    .map((name) => (artifactOf(name) ? `${name} (artifact ${artifactOf(name)})` : name))
    .join(', ');
}

/** Renders one deployment for people: its fields, then its journal as a table. */
export function renderDeploymentDetail(detail: DeploymentDetail, colors: Colors): string {
  const fields: [string, string][] = [
    ['id', detail.id],
    ['environment', `${detail.appId}/${detail.envId}`],
    ['kind', describeKind(detail)],
    ['status', describeStatus(detail, colors)],
  ];
  if (detail.status === 'failed') {
    // Not rolled back says little alone: the journal's last rollback step says what was undone instead.
    const undone = detail.journal.filter((entry) => entry.step === 'rollback').at(-1)?.message;
    fields.push([
      'rolled back',
      detail.rolledBack
        ? 'yes: the previous successful set was restored'
        : `no${undone ? `: ${undone}` : ''}`,
    ]);
  }
  fields.push(
    ['set', detail.setId ?? '- (made when the deployment starts)'],
    [
      'values',
      detail.valuesVersion === null
        ? detail.status === 'queued'
          ? '- (pinned when the deployment starts)'
          : '-'
        : `version ${detail.valuesVersion}`,
    ],
    ['workloads', describeWorkloads(detail)],
  );
  if (detail.artifactId !== null) {
    fields.push(['artifact', detail.artifactId], ['commit', detail.commit ?? '-']);
  }
  fields.push(
    ['actor', detail.actor],
    ['message', detail.message || '-'],
    ['created', formatTime(detail.createdAt)],
    ['started', formatTime(detail.startedAt)],
    ['finished', formatTime(detail.finishedAt)],
    ['duration', deploymentDuration(detail) ?? '-'],
  );
  const columns: Column<JournalEntry>[] = [
    { header: 'time', value: (entry) => formatTime(entry.at) },
    { header: 'step', value: (entry) => entry.step },
    { header: 'workload', value: (entry) => entry.workload ?? '-' },
    { header: 'status', value: (entry) => colorStatus(entry.status, colors) },
    { header: 'message', value: (entry) => firstLine(entry.message) },
  ];
  const journal = formatTable(detail.journal, columns, {
    empty: 'No journal entries yet (the deployment has not started).',
    styleHeader: colors.bold,
  });
  const text = `${formatDetails(fields, { styleHeader: colors.bold })}\n\n${journal}`;
  if (detail.reason === null) return text;
  // The reason may hold the failed workload's last log lines: shown whole, after the journal.
  const [first = '', ...rest] = detail.reason.split(/\r?\n/);
  return [
    text,
    '',
    `${colors.red(colors.bold('Reason:'))} ${first}`,
    ...rest.map((line) => `  ${line}`),
  ].join('\n');
}

// A multi-line journal message (a failure with log lines) shows its first line in the table; the reason
// below the table has the rest.
function firstLine(text: string): string {
  const [first = ''] = text.split(/\r?\n/, 1);
  return first === text ? text : `${first} …`;
}

function describeKind(deployment: Deployment): string {
  const { deploymentId, envId } = deployment.source;
  if (deployment.kind === 'rollback' && deploymentId !== undefined) return `rollback to ${deploymentId}`;
  // Queued by Pave at start: the current set of that deployment again, its workloads having stopped.
  if (deployment.kind === 'restart' && deploymentId !== undefined) return `restart of ${deploymentId}`;
  if ((deployment.kind === 'promote' || deployment.kind === 'clone') && envId !== undefined) {
    return `${deployment.kind} from ${envId}`;
  }
  return deployment.kind;
}

function describeValuesVersion(version: number | null): string {
  return version === null ? '-' : `v${version}`;
}

function describeStatus(deployment: Deployment, colors: Colors): string {
  const status = colorStatus(deployment.status, colors);
  return deployment.rolledBack ? `${status} (rolled back)` : status;
}

// One line of at most `width` characters; an ellipsis shows where the message went on.
function truncate(text: string, width: number): string {
  const [first = ''] = text.split(/\r?\n/, 1);
  const cut = first.length > width ? first.slice(0, width - 1) : first;
  return cut === text ? text : `${cut.trimEnd()}…`;
}
