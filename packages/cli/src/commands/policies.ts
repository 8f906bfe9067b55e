import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type {
  PoliciesPlan,
  Policy,
  PolicyOverride,
  PolicyRecord,
  PolicyVerdict,
  WorkloadSource,
} from '@pave/core';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { Colors } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import { formatTable } from '../output/table.ts';
import type { FieldOrigins } from '../field-origins.ts';
import { addClientOptions, addOutputOption, clientFor, examples, outputFor } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import type { OutputFormat } from '../output/output.ts';
import { emptyPageLine, pageQuery, withMoreLine } from './paging.ts';

type ApplyOptions = ClientOptions & { file: string; dryRun?: boolean };
type TestOptions = {
  file: string[];
  envType: string;
  app?: string;
  env?: string;
  at?: string;
  output: OutputFormat;
};

/** A policies file failed local validation; its problems are printed on stderr already. Exit code 1. */
export class PoliciesFileError extends Error {
  override name = 'PoliciesFileError';
}

/** `pave policies test` found denying policies; the verdicts are printed already. Exit code 1. */
export class PoliciesDenyError extends Error {
  override name = 'PoliciesDenyError';
}

/** The `--override-policy` and `--reason` flags of commands that start a deployment. */
export interface PolicyOverrideOptions {
  overridePolicy?: string[];
  reason?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Adds `--override-policy ID` (repeatable) and `--reason TEXT` to a command that starts a deployment. */
export function addPolicyOverrideOptions(command: Command): Command {
  return command
    .option(
      '--override-policy <id>',
      'let the deployment through this denying policy (org admins only; repeatable; needs --reason)',
      collect,
    )
    .option('--reason <text>', 'why the policies are overridden: recorded on the deployment and audited');
}

/** The `overridePolicies` field of a deployment body for the override flags; CliUsageError if misused. */
export function policyOverrideFields(options: PolicyOverrideOptions): {
  overridePolicies?: PolicyOverride[];
} {
  const ids = options.overridePolicy ?? [];
  if (ids.length === 0) {
    if (options.reason !== undefined) {
      throw new CliUsageError('--reason goes with --override-policy ID: say which policy to override');
    }
    return {};
  }
  const reason = options.reason?.trim();
  if (!reason) {
    throw new CliUsageError(
      '--override-policy needs --reason "…": why the policy is overridden (it is recorded and audited)',
    );
  }
  return { overridePolicies: ids.map((id) => ({ id, reason })) };
}

/**
 * Where the override flags went in a deployment body: the server's refusal of `/overridePolicies/N/id` (a
 * policy that does not exist) then names the `--override-policy` the user typed.
 */
export function policyOverrideOrigins(options: PolicyOverrideOptions): FieldOrigins {
  return Object.fromEntries(
    (options.overridePolicy ?? []).map((id, index) => [
      `/overridePolicies/${index}/id`,
      { name: '--override-policy', value: id },
    ]),
  );
}

function outcomeText(verdict: PolicyVerdict, colors: Colors): string {
  if (verdict.overridden) return colors.yellow('deny (overridden)');
  if (verdict.outcome === 'deny') return colors.red('deny');
  if (verdict.outcome === 'warn') return colors.yellow('warn');
  return colors.green('pass');
}

/** The verdicts as a table: policy, outcome, message, workload, container. */
export function renderPolicyVerdicts(verdicts: readonly PolicyVerdict[], colors: Colors): string {
  return formatTable(
    verdicts,
    [
      { header: 'policy', value: (v) => v.policy },
      { header: 'outcome', value: (v) => outcomeText(v, colors) },
      { header: 'message', value: (v) => v.message },
      { header: 'workload', value: (v) => v.workload ?? '-' },
      { header: 'container', value: (v) => v.container ?? '-' },
    ],
    { empty: 'No policy applies.', styleHeader: colors.bold },
  );
}

async function readText(file: string, noun: string, io: CliIo): Promise<string> {
  const { readDeclarationsFile } = await import('../definitions-file.ts');
  return readDeclarationsFile(file, noun, () => io.readStdin());
}

async function loadPolicies(file: string, io: CliIo): Promise<Policy[]> {
  return (await readPolicies(file, io)).policies;
}

// The policies of a file, with its text and the name messages give it (`<stdin>` for `-`).
async function readPolicies(
  file: string,
  io: CliIo,
): Promise<{ policies: Policy[]; text: string; name: string }> {
  const name = file === '-' ? '<stdin>' : file;
  const { formatDeclarationProblem } = await import('../definitions-file.ts');
  const text = await readText(file, 'policies', io);
  const { parsePoliciesFile } = await import('@pave/core/declarations');
  const { policies, problems } = parsePoliciesFile(text, name);
  if (problems.length) {
    for (const problem of problems) io.stderr.write(`${formatDeclarationProblem(problem)}\n`);
    throw new PoliciesFileError(
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${name}; nothing was sent or evaluated`,
    );
  }
  return { policies, text, name };
}

/**
 * Runs `request`, a call sending the policies of a file: the server's refusals of their fields are printed at
 * their places in the file (withFilePositions), a rule's at the rule's line, and PoliciesFileError is thrown.
 */
async function withPolicyPositions<T>(
  file: { text: string; name: string; policies: readonly Policy[] },
  io: CliIo,
  request: () => Promise<T>,
): Promise<T> {
  const { withFilePositions } = await import('../definitions-file.ts');
  const { locatePolicyField } = await import('@pave/core/declarations');
  return withFilePositions(
    { ...file, ids: file.policies.map((policy) => policy.id) },
    'policies',
    io,
    (summary) => new PoliciesFileError(summary),
    request,
    locatePolicyField,
  );
}

const SCORE_FILE = /^apiVersion:\s*["']?score\.dev\//mu;

function renderApplyPlan(plan: PoliciesPlan): string {
  return plan.changes
    .map(
      (change) =>
        `${change.action.padEnd(9)} ${change.id}${change.fields.length ? ` (${change.fields.join(', ')})` : ''}`,
    )
    .join('\n');
}

function renderPolicy(policy: PolicyRecord): string {
  const check =
    policy.rule !== undefined
      ? `rule (each ${policy.each ?? 'deployment'}): ${policy.rule}`
      : policy.promotionGate
        ? `promotion gate: succeeded in ${policy.promotionGate.from} within ${policy.promotionGate.within}`
        : `freeze: ${JSON.stringify(policy.freeze)}`;
  const where = (policy.criteria ?? []).length
    ? (policy.criteria ?? [])
        .map((c) =>
          Object.entries(c)
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
        )
        .join(' | ')
    : 'everywhere';
  return [
    `id:        ${policy.id}`,
    `severity:  ${policy.severity}`,
    `applies:   ${where}`,
    `check:     ${check}`,
    `message:   ${policy.message}`,
    ...(policy.description ? [`about:     ${policy.description}`] : []),
    `updated:   ${policy.updatedAt} by ${policy.updatedBy}`,
  ].join('\n');
}

/** `pave policies apply|list|get|delete|test`: policies every deployment, rollback and promotion is checked against. */
export function registerPoliciesCommands(program: Command, io: CliIo): void {
  const policies = program
    .command('policies')
    .summary('Apply, list and test policies (rules, promotion gates, freezes)')
    .description(
      'Policies are checked when every deployment, rollback and promotion is planned: CEL rules about the ' +
        'workloads and resources, promotion gates and deploy freezes. A deny refuses the deployment; a warn ' +
        'lets it through with a warning. See docs/policies.md.',
    )
    .addHelpText(
      'after',
      examples(
        'pave policies apply -f policies.yaml',
        'pave policies test -f policies.yaml -f score.yaml --env-type production',
        'pave policies list',
      ),
    );

  addClientOptions(
    policies
      .command('apply')
      .description(
        'Apply the policies in a YAML file declaratively (checked here first, then planned, then applied); ' +
          'policies not in the file are kept',
      )
      .requiredOption('-f, --file <file>', 'the YAML file of policies; - reads stdin')
      .option('--dry-run', 'only show what would change; apply nothing'),
  )
    .addHelpText(
      'after',
      examples('pave policies apply -f policies.yaml', 'pave policies apply -f policies.yaml --dry-run'),
    )
    .action(async (options: ApplyOptions) => {
      const file = await readPolicies(options.file, io);
      const items = file.policies;
      const { client, output } = await clientFor(options, io);
      const plan = await withPolicyPositions(file, io, () =>
        client.applyPolicies({ policies: items, dryRun: true }),
      );
      const changes = plan.changes.filter((change) => change.action !== 'unchanged').length;
      if (changes === 0) {
        output.show(plan, () => 'No changes: every policy in the file is applied already.');
        return;
      }
      if (options.dryRun) {
        output.show(plan, (body) => `${renderApplyPlan(body)}\n\nDry run: nothing was applied.`);
        return;
      }
      output.confirm(renderApplyPlan(plan));
      const applied = await client.applyPolicies({ policies: items });
      output.show(applied, () => `Applied ${changes} change${changes === 1 ? '' : 's'}.`);
    });

  addClientOptions(
    policies
      .command('list')
      .description('List the policies, ordered by id, a page at a time')
      .option('--limit <n>', 'at most this many (100 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples('pave policies list', 'pave policies list -o json', 'pave policies list --cursor no-latest'),
    )
    .action(async (options: ClientOptions & { limit?: string; cursor?: string }) => {
      const query = pageQuery(options, 'policies');
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      const page = await client.listPolicies(query);
      output.show(page, ({ items, nextCursor }) =>
        withMoreLine(
          formatTable(
            items,
            [
              { header: 'id', value: (p) => p.id },
              { header: 'severity', value: (p) => p.severity },
              {
                header: 'kind',
                value: (p) => (p.rule !== undefined ? 'rule' : p.promotionGate ? 'promotionGate' : 'freeze'),
              },
              { header: 'message', value: (p) => p.message },
            ],
            {
              empty: emptyPageLine(
                'No policies yet. Apply some with `pave policies apply -f policies.yaml`.',
                options.cursor,
                'policies',
              ),
              styleHeader: colors.bold,
            },
          ),
          nextCursor,
          { items: 'policies', command: 'pave policies list', limit: options.limit },
        ),
      );
    });

  addClientOptions(
    policies
      .command('get')
      .description('Show one policy')
      .argument('<id>', 'policy id (see `pave policies list`)'),
  )
    .addHelpText(
      'after',
      examples('pave policies get no-latest-images', 'pave policies get no-latest-images -o json'),
    )
    .action(async (id: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(await client.getPolicy(id), renderPolicy);
    });

  addClientOptions(policies.command('delete').description('Delete a policy').argument('<id>', 'policy id'))
    .addHelpText('after', examples('pave policies delete release-freeze'))
    .action(async (id: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      await client.deletePolicy(id);
      output.confirm(`Deleted policy ${id}.`);
    });

  addOutputOption(
    policies
      .command('test')
      .description(
        'Evaluate policies against Score files offline, without a server: exits 1 when a policy denies. ' +
          'Files whose first lines say `apiVersion: score.dev/...` are Score files, the others policy files. ' +
          'Promotion gates need the deployment history and pass here with a note.',
      )
      .requiredOption('-f, --file <files...>', 'policy files and Score files (repeat -f)', collect)
      .requiredOption('--env-type <type>', 'the environment type deployed to, e.g. production')
      .option('--app <app>', 'the app deployed (criteria on appId; default: app)')
      .option('--env <env>', 'the environment deployed to (criteria on envId; default: the env type)')
      .option('--at <time>', 'evaluate as at this RFC 3339 time (freezes), default now'),
  )
    .addHelpText(
      'after',
      examples(
        'pave policies test -f policies.yaml -f api/score.yaml --env-type production',
        'pave policies test -f policies.yaml -f score.yaml --env-type production --app shop --env prod -o json',
      ),
    )
    .action(async (options: TestOptions) => {
      const files = options.file.flat();
      const policyItems: Policy[] = [];
      const scoreFiles: string[] = [];
      for (const file of files) {
        const text = file === '-' ? undefined : await readFile(file, 'utf8').catch(() => undefined);
        if (text !== undefined && SCORE_FILE.test(text)) scoreFiles.push(file);
        else policyItems.push(...(await loadPolicies(file, io)));
      }
      const now = options.at === undefined ? new Date() : new Date(options.at);
      if (Number.isNaN(now.getTime()))
        throw new CliUsageError(`--at: "${options.at}" is not an RFC 3339 time`);
      const { loadScoreFiles, ScoreFilesError } = await import('./deploy.ts');
      const loaded = await loadScoreFiles(scoreFiles);
      if (loaded.problems.length) {
        for (const problem of loaded.problems) io.stderr.write(`${problem}\n`);
        throw new ScoreFilesError(
          `${loaded.problems.length} problem(s) in the Score files; nothing was evaluated`,
        );
      }
      const verdicts = await testPolicies(policyItems, loaded.workloads, {
        envType: options.envType,
        app: options.app,
        env: options.env,
        now,
      });
      const output = outputFor(options, io);
      output.show({ verdicts }, (body) => renderPolicyVerdicts(body.verdicts, colorsFor(io.stdout, io.env)));
      const denied = verdicts.filter((verdict) => verdict.outcome === 'deny');
      if (denied.length) {
        throw new PoliciesDenyError(
          `${denied.length} policy check${denied.length === 1 ? '' : 's'} deny: ${[...new Set(denied.map((d) => d.policy))].join(', ')}`,
        );
      }
    });
}

/**
 * Evaluates policies against workloads offline, as the server would for a deployment of them (gates aside):
 * the verdicts `pave policies test` prints.
 */
export async function testPolicies(
  policies: readonly Policy[],
  workloads: readonly WorkloadSource[],
  target: { envType: string; app?: string | undefined; env?: string | undefined; now?: Date },
): Promise<PolicyVerdict[]> {
  const { evaluatePolicies } = await import('@pave/core/policy-eval');
  return evaluatePolicies(policies, {
    app: target.app ?? 'app',
    environment: { id: target.env ?? target.envType, type: target.envType },
    deployment: { kind: 'deploy', actor: 'local', allowDataLoss: false, prune: false },
    workloads: workloads.map((source) => source.spec),
    valueKeys: [],
    now: target.now ?? new Date(),
  });
}
