import type { Command } from 'commander';
import type { ProfileMatch, ProfilesPlan, WorkloadProfile, WorkloadProfileRecord } from '@pave/core';
import type { CliIo } from '../io.ts';
import { colorsFor } from '../output/colors.ts';
import { formatTable } from '../output/table.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { emptyPageLine, pageQuery, withMoreLine } from './paging.ts';

type ApplyOptions = ClientOptions & { file: string; dryRun?: boolean };
type MatchOptions = ClientOptions & { app: string; env: string };

/** A profiles file failed local validation; its problems are printed on stderr already. Exit code 1. */
export class ProfilesFileError extends Error {
  override name = 'ProfilesFileError';
}

async function loadProfiles(
  file: string,
  io: CliIo,
): Promise<{ profiles: WorkloadProfile[]; text: string; name: string }> {
  const name = file === '-' ? '<stdin>' : file;
  const { formatDeclarationProblem, readDeclarationsFile } = await import('../definitions-file.ts');
  const text = await readDeclarationsFile(file, 'profiles', () => io.readStdin());
  const { parseProfilesFile } = await import('@pave/core/declarations');
  const { profiles, problems } = parseProfilesFile(text, name);
  if (problems.length) {
    for (const problem of problems) io.stderr.write(`${formatDeclarationProblem(problem)}\n`);
    throw new ProfilesFileError(
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${name}; nothing was sent`,
    );
  }
  return { profiles, text, name };
}

function renderApplyPlan(plan: ProfilesPlan): string {
  return plan.changes
    .map(
      (change) =>
        `${change.action.padEnd(9)} ${change.id}${change.fields.length ? ` (${change.fields.join(', ')})` : ''}`,
    )
    .join('\n');
}

function criteriaText(criteria: WorkloadProfile['criteria']): string {
  return criteria.length
    ? criteria
        .map((criterion) =>
          Object.entries(criterion)
            .map(([key, value]) => `${key}=${value}`)
            .join(','),
        )
        .join(' | ')
    : 'everywhere';
}

function renderProfile(profile: WorkloadProfileRecord): string {
  const patches = profile.patches.map(
    (patch, index) =>
      `  ${index}: ${patch.target.kind}${patch.target.name ? `/${patch.target.name}` : ''}: ` +
      patch.ops.map((op) => `${op.op} ${op.path}`).join(', '),
  );
  const objects = (profile.objects ?? []).map(
    (object) => `  ${String(object.kind)} ${String((object.metadata as { name?: unknown }).name)}`,
  );
  return [
    `id:        ${profile.id}`,
    `applies:   ${criteriaText(profile.criteria)}`,
    ...(profile.description ? [`about:     ${profile.description}`] : []),
    `version:   ${profile.version}`,
    `updated:   ${profile.updatedAt} by ${profile.updatedBy}`,
    ...(patches.length ? ['patches:', ...patches] : []),
    ...(objects.length ? ['objects:', ...objects] : []),
  ].join('\n');
}

function renderMatch(match: ProfileMatch): string {
  if (match.matches.length === 0) {
    return `No profile applies to ${match.app}/${match.env} (type ${match.envType}).`;
  }
  return formatTable(match.matches, [
    { header: 'profile', value: (m) => m.id },
    { header: 'matched with', value: (m) => (m.criterion ? criteriaText([m.criterion]) : 'no criteria') },
    { header: 'specificity', value: (m) => String(m.specificity) },
  ]);
}

/** `pave profiles apply|list|get|delete|match`: workload profiles, which shape the Kubernetes manifests of workloads. */
export function registerProfilesCommands(program: Command, io: CliIo): void {
  const profiles = program
    .command('profiles')
    .summary('Apply, list and match workload profiles (patches and extra objects for Kubernetes manifests)')
    .description(
      'A workload profile shapes the Kubernetes manifests Pave renders for every workload of the ' +
        'environments it matches: RFC 6902 JSON Patches (a securityContext, replicas, annotations) and extra ' +
        'objects (a PodDisruptionBudget, a ServiceAccount). See docs/profiles.md.',
    )
    .addHelpText(
      'after',
      examples(
        'pave profiles apply -f profiles.yaml',
        'pave profiles match --app shop --env prod',
        'pave profiles list',
      ),
    );

  addClientOptions(
    profiles
      .command('apply')
      .description(
        'Apply the profiles in a YAML file declaratively (checked here first, then planned, then applied); ' +
          'profiles not in the file are kept',
      )
      .requiredOption('-f, --file <file>', 'the YAML file of profiles; - reads stdin')
      .option('--dry-run', 'only show what would change; apply nothing'),
  )
    .addHelpText(
      'after',
      examples('pave profiles apply -f profiles.yaml', 'pave profiles apply -f profiles.yaml --dry-run'),
    )
    .action(async (options: ApplyOptions) => {
      const { profiles: items, text, name } = await loadProfiles(options.file, io);
      const { client, output } = await clientFor(options, io);
      const { withFilePositions } = await import('../definitions-file.ts');
      const sent = { text, name, ids: items.map((profile) => profile.id) };
      const refused = (summary: string) => new ProfilesFileError(summary);
      const plan = await withFilePositions(sent, 'profiles', io, refused, () =>
        client.applyProfiles({ profiles: items, dryRun: true }),
      );
      const changes = plan.changes.filter((change) => change.action !== 'unchanged').length;
      if (changes === 0) {
        output.show(plan, () => 'No changes: every profile in the file is applied already.');
        return;
      }
      if (options.dryRun) {
        output.show(plan, (body) => `${renderApplyPlan(body)}\n\nDry run: nothing was applied.`);
        return;
      }
      output.confirm(renderApplyPlan(plan));
      const applied = await withFilePositions(sent, 'profiles', io, refused, () =>
        client.applyProfiles({ profiles: items }),
      );
      output.show(applied, () => `Applied ${changes} change${changes === 1 ? '' : 's'}.`);
    });

  addClientOptions(
    profiles
      .command('list')
      .description('List the workload profiles, ordered by id, a page at a time')
      .option('--limit <n>', 'at most this many (100 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples('pave profiles list', 'pave profiles list -o json', 'pave profiles list --cursor gpu'),
    )
    .action(async (options: ClientOptions & { limit?: string; cursor?: string }) => {
      const query = pageQuery(options, 'profiles');
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.listProfiles(query), ({ items, nextCursor }) =>
        withMoreLine(
          formatTable(
            items,
            [
              { header: 'id', value: (p) => p.id },
              { header: 'applies', value: (p) => criteriaText(p.criteria) },
              { header: 'patches', value: (p) => String(p.patches.length) },
              { header: 'objects', value: (p) => String((p.objects ?? []).length) },
              { header: 'version', value: (p) => String(p.version) },
            ],
            {
              empty: emptyPageLine(
                'No profiles yet. Apply some with `pave profiles apply -f profiles.yaml`.',
                options.cursor,
                'profiles',
              ),
              styleHeader: colors.bold,
            },
          ),
          nextCursor,
          { items: 'profiles', command: 'pave profiles list', limit: options.limit },
        ),
      );
    });

  addClientOptions(
    profiles
      .command('get')
      .description('Show one workload profile')
      .argument('<id>', 'profile id (see `pave profiles list`)'),
  )
    .addHelpText(
      'after',
      examples('pave profiles get prod-hardening', 'pave profiles get prod-hardening -o json'),
    )
    .action(async (id: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(await client.getProfile(id), renderProfile);
    });

  addClientOptions(
    profiles.command('delete').description('Delete a workload profile').argument('<id>', 'profile id'),
  )
    .addHelpText('after', examples('pave profiles delete prod-hardening'))
    .action(async (id: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      await client.deleteProfile(id);
      output.confirm(`Deleted profile ${id}.`);
    });

  addClientOptions(
    profiles
      .command('match')
      .description("Show which profiles apply to an app's environment, most specific first")
      .requiredOption('--app <app>', 'the app')
      .requiredOption('--env <env>', 'the environment'),
  )
    .addHelpText('after', examples('pave profiles match --app shop --env prod'))
    .action(async (options: MatchOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(await client.matchProfiles({ app: options.app, env: options.env }), renderMatch);
    });
}
