import type { Command } from 'commander';
import type { DeploymentPlan, ResourceChange, SetDiff, ValueChange, WorkloadChange } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { Colors } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import { formatTable } from '../output/table.ts';
import type { Column } from '../output/table.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { formatValueChange } from './values.ts';
import { renderPolicyVerdicts } from './policies.ts';

type DiffOptions = ClientOptions & { app: string; env: string; toEnv?: string };

/** `pave diff`: what differs between two deployments of an environment, or between two environments. */
export function registerDiffCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('diff')
      .summary('Show how two deployments (or two environments) differ')
      .description(
        'Show how the workloads and values of two deployments differ (default: the previous one against the ' +
          'current one), or those of two environments with --to-env; a secret shows only that it changed',
      )
      .argument('[from]', 'deployment id to compare from (default: the one before the current deployment)')
      .argument('[to]', 'deployment id to compare to (default: the current deployment)')
      .requiredOption('--app <app>', 'the application')
      .requiredOption('--env <env>', 'the environment')
      .option('--to-env <env>', "compare the environment's current set with this environment's current set"),
  )
    .addHelpText(
      'after',
      examples(
        'pave diff --app shop --env dev',
        'pave diff --app shop --env dev 12 17',
        'pave diff --app shop --env staging --to-env prod',
        'pave diff --app shop --env dev -o json',
      ),
    )
    .action(async (from: string | undefined, to: string | undefined, options: DiffOptions) => {
      const query = diffQuery(from, to, options.toEnv);
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.diff(options.app, options.env, query), (diff) => renderSetDiff(diff, colors));
    });
}

/** The query of GET /diff for `pave diff [FROM [TO]] [--to-env E]`; throws CliUsageError for bad arguments. */
export function diffQuery(
  from: string | undefined,
  to: string | undefined,
  toEnv: string | undefined,
): { from?: string; to?: string; toEnv?: string } {
  for (const [name, value] of [
    ['FROM', from],
    ['TO', to],
  ] as const) {
    if (value !== undefined && !/^\d+$/.test(value)) {
      throw new CliUsageError(`${name}: "${value}" is not a deployment id; use a number such as 17`);
    }
  }
  if (toEnv !== undefined && (from !== undefined || to !== undefined)) {
    throw new CliUsageError(
      '--to-env compares the current sets of two environments; leave out the deployment ids FROM and TO',
    );
  }
  return {
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    ...(toEnv !== undefined ? { toEnv } : {}),
  };
}

/**
 * Colours a unified diff for a terminal: file headers bold, hunk headers cyan, added lines green, removed
 * lines red. With colour off the text comes back unchanged.
 */
export function colorUnifiedDiff(unified: string, colors: Colors): string {
  return unified
    .split('\n')
    .map((line) => {
      if (line.startsWith('+++') || line.startsWith('---')) return colors.bold(line);
      if (line.startsWith('@@')) return colors.cyan(line);
      if (line.startsWith('+')) return colors.green(line);
      if (line.startsWith('-')) return colors.red(line);
      return line;
    })
    .join('\n');
}

/**
 * Renders a SetDiff for people: its unified diff, coloured, then the changes of values (a secret's by key
 * only), or one line saying there are no changes when neither differs.
 */
export function renderSetDiff(diff: SetDiff, colors: Colors): string {
  const unified = diff.unified.trimEnd();
  const parts: string[] = [];
  const manifests = renderManifestChanges(diff.changes, colors);
  if (manifests !== '') parts.push(manifests);
  if (unified !== '') parts.push(colorUnifiedDiff(unified, colors));
  if (diff.values.length > 0) parts.push(renderValueChanges(diff.values, colors));
  if (parts.length === 0) return `No changes between ${diff.from.label} and ${diff.to.label}`;
  return parts.join('\n\n');
}

/** Renders changes of values under a `Values:` heading, one per line (see {@link formatValueChange}). */
export function renderValueChanges(changes: readonly ValueChange[], colors: Colors): string {
  return [colors.bold('Values:'), ...changes.map((change) => `  ${formatValueChange(change, colors)}`)].join(
    '\n',
  );
}

/** Renders workload changes as a WORKLOAD, ACTION, FIELDS table, the action coloured by what it does. */
export function renderChanges(changes: readonly WorkloadChange[], colors: Colors): string {
  const columns: Column<WorkloadChange>[] = [
    { header: 'workload', value: (change) => change.workload },
    { header: 'action', value: (change) => colorAction(change.action, colors) },
    { header: 'fields', value: (change) => (change.fields.length > 0 ? change.fields.join(', ') : '-') },
  ];
  return formatTable(changes, columns, { empty: 'No workloads', styleHeader: colors.bold });
}

/**
 * Renders the workloads' own manifests (`--manifests`) that are added, removed or changed under a
 * `Manifests:` heading, one per line: `api: + ConfigMap/api-config (k8s/config.yaml#1)`, `-` for removed and
 * `~` for changed; an empty string when there are none.
 */
export function renderManifestChanges(changes: readonly WorkloadChange[], colors: Colors): string {
  const lines = changes.flatMap((change) =>
    (change.manifests ?? []).map((manifest) => {
      const line = `${manifest.manifest} (${manifest.source})`;
      const marked =
        manifest.action === 'add'
          ? colors.green(`+ ${line}`)
          : manifest.action === 'remove'
            ? colors.red(`- ${line}`)
            : colors.yellow(`~ ${line}`);
      return `  ${change.workload}: ${marked}`;
    }),
  );
  return lines.length === 0 ? '' : [colors.bold('Manifests:'), ...lines].join('\n');
}

/**
 * Renders resource changes as an ADDRESS, TYPE, ACTION, DEFINITION, REASON table, the action coloured by what
 * it does (a delete in red: with a stateful resource, its data goes too).
 */
export function renderResourceChanges(changes: readonly ResourceChange[], colors: Colors): string {
  const columns: Column<ResourceChange>[] = [
    { header: 'address', value: (change) => change.address },
    { header: 'type', value: (change) => change.type },
    { header: 'action', value: (change) => colorResourceAction(change.action, colors) },
    { header: 'definition', value: (change) => change.definitionId ?? '-' },
    { header: 'reason', value: (change) => change.reason },
  ];
  return formatTable(changes, columns, { empty: 'No resources', styleHeader: colors.bold });
}

/**
 * Renders what `pave deploy --plan` answers: the change per workload, then the change per resource (when the
 * set has any), the unified diff of the workloads and the changes of values, then a line saying nothing was
 * deployed.
 */
export function renderPlan(plan: DeploymentPlan, colors: Colors): string {
  // A server from before resources answers without the field.
  const resources = plan.resources ?? [];
  const changed =
    plan.diff.changes.some((change) => change.action !== 'keep') ||
    plan.diff.values.length > 0 ||
    resources.some((change) => change.action !== 'keep');
  const parts = [renderChanges(plan.diff.changes, colors)];
  const manifests = renderManifestChanges(plan.diff.changes, colors);
  if (manifests !== '') parts.push('', manifests);
  if (resources.length > 0) parts.push('', renderResourceChanges(resources, colors));
  const unified = plan.diff.unified.trimEnd();
  if (unified !== '') parts.push('', colorUnifiedDiff(unified, colors));
  if (plan.diff.values.length > 0) parts.push('', renderValueChanges(plan.diff.values, colors));
  if (plan.policies?.length) parts.push('', 'Policies:', renderPolicyVerdicts(plan.policies, colors));
  parts.push(
    '',
    changed
      ? `Plan only: nothing was deployed. Set ${plan.setId.slice(0, 12)} would be deployed ` +
          `(${plural(plan.workloads.length, 'workload')}).`
      : `No changes against ${plan.diff.from.label}. Nothing was deployed.`,
  );
  return parts.join('\n');
}

function colorResourceAction(action: ResourceChange['action'], colors: Colors): string {
  switch (action) {
    case 'create':
      return colors.green(action);
    case 'delete':
    case 'replace':
      return colors.red(action);
    case 'update':
      return colors.yellow(action);
    case 'keep':
      return colors.dim(action);
  }
}

function colorAction(action: WorkloadChange['action'], colors: Colors): string {
  switch (action) {
    case 'add':
      return colors.green(action);
    case 'remove':
      return colors.red(action);
    case 'update':
      return colors.yellow(action);
    case 'keep':
      return colors.dim(action);
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
