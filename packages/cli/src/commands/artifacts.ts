import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Artifact, ArtifactScoreFile, PushArtifactInput, PushedArtifact } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { Colors } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import { formatDetails, formatTable } from '../output/table.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { importYaml } from '../output/output.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { emptyPageLine, pageQuery, withMoreLine } from './paging.ts';
import { ScoreFilesError, loadScoreFiles } from './deploy.ts';

type PushOptions = ClientOptions & {
  app: string;
  file: string[];
  image?: string;
  workload?: string;
  commit: string;
  branch?: string;
  commitTime?: string;
};

/** `pave artifacts push|list`: build artifacts CI registers, which rules and `pave deploy --artifact` deploy. */
export function registerArtifactsCommands(program: Command, io: CliIo): void {
  const artifacts = program
    .command('artifacts')
    .summary('Push and list build artifacts (what CI built, for rules and `pave deploy --artifact`)')
    .description(
      "A build artifact is what CI built from one commit: the app's Score files and the image it pushed. " +
        'Pushing one runs the rules of the app (`pave rules`): each rule whose branch matches deploys it ' +
        'to its environment at once. `pave deploy --artifact ID` deploys one by hand.',
    )
    .addHelpText(
      'after',
      examples(
        'pave artifacts push --app shop -f score.yaml --image registry.example.com/shop/web:1f2e3d --commit 1f2e3d4 --branch main',
        'pave artifacts list --app shop',
      ),
    );

  addClientOptions(
    artifacts
      .command('push')
      .description(
        'Register a build artifact: the Score files (validated here first, then by the server), the image ' +
          'CI built for the containers whose image is "." and the commit; prints the deployments the ' +
          "app's rules queued for it",
      )
      .requiredOption('--app <app>', 'the application')
      .requiredOption('-f, --file <files...>', 'Score files, one per workload (repeat -f or list several)')
      .option('--image <ref>', 'the image CI built: it replaces the image "." of the workload\'s containers')
      .option('--workload <name>', 'the workload the image is for (needed with several workloads)')
      .requiredOption('--commit <sha>', 'the commit the artifact was built from')
      .option('--branch <name>', 'the branch CI built; rules deploy the artifacts of matching branches')
      .option(
        '--commit-time <time>',
        'when the commit was made (RFC 3339), e.g. from `git log -1 --format=%cI`',
      ),
  )
    .addHelpText(
      'after',
      examples(
        'pave artifacts push --app shop -f score.yaml --commit "$GITHUB_SHA" --branch "$GITHUB_REF_NAME"',
        'pave artifacts push --app shop -f web.score.yaml -f api.score.yaml --image ghcr.io/acme/api:1f2e3d --workload api --commit 1f2e3d4 -o json',
      ),
    )
    .action(async (options: PushOptions) => {
      if (options.commit.trim() === '' || /\s/.test(options.commit)) {
        throw new CliUsageError('--commit needs a commit id without spaces, e.g. a git SHA');
      }
      if (options.workload !== undefined && options.image === undefined) {
        throw new CliUsageError('--workload says which workload --image is for; give --image too');
      }
      if (options.commitTime !== undefined && Number.isNaN(Date.parse(options.commitTime))) {
        throw new CliUsageError(
          `--commit-time: "${options.commitTime}" is not an RFC 3339 time, e.g. 2026-01-31T12:00:00Z`,
        );
      }
      const scoreFiles = await artifactScoreFiles(options.file, io);
      const body: PushArtifactInput = {
        scoreFiles,
        commit: options.commit,
        ...(options.image !== undefined ? { image: options.image } : {}),
        ...(options.workload !== undefined ? { workload: options.workload } : {}),
        ...(options.branch !== undefined ? { branch: options.branch } : {}),
        ...(options.commitTime !== undefined ? { commitTime: options.commitTime } : {}),
      };
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.pushArtifact(options.app, body), (pushed) => renderPushed(pushed, colors));
    });

  addClientOptions(
    artifacts
      .command('list')
      .description("List an app's build artifacts, newest first, a page at a time")
      .requiredOption('--app <app>', 'the application')
      .option('--limit <n>', 'at most this many (50 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave artifacts list --app shop',
        'pave artifacts list --app shop --limit 20 -o json',
        'pave artifacts list --app shop --cursor 120',
      ),
    )
    .action(async (options: ClientOptions & { app: string; limit?: string; cursor?: string }) => {
      const query = pageQuery(options, 'artifacts');
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.listArtifacts(options.app, query), (page) => {
        const table = renderArtifactList(page.items, colors, options.app, options.cursor);
        return withMoreLine(table, page.nextCursor, {
          items: 'artifacts',
          command: `pave artifacts list --app ${options.app}`,
          limit: options.limit,
        });
      });
    });

  addClientOptions(
    artifacts
      .command('get')
      .description('Show one build artifact of an app: its commit, branch, image and workloads')
      .argument('<id>', 'the artifact (see `pave artifacts list`)')
      .requiredOption('--app <app>', 'the application'),
  )
    .addHelpText(
      'after',
      examples('pave artifacts get 42 --app shop', 'pave artifacts get 42 --app shop -o json'),
    )
    .action(async (id: string, options: ClientOptions & { app: string }) => {
      const { client, output } = await clientFor(options, io);
      const colors = colorsFor(io.stdout, io.env);
      output.show(await client.getArtifact(options.app, id), (artifact) => renderArtifact(artifact, colors));
    });
}

/** One artifact as `LABEL  value` lines, and how to deploy it. */
export function renderArtifact(artifact: Artifact, colors: Colors): string {
  const details = formatDetails(
    [
      ['id', artifact.id],
      ['app', artifact.app],
      ['commit', artifact.commit],
      ['branch', artifact.branch ?? '-'],
      ['commit time', artifact.commitTime ? formatTime(artifact.commitTime) : '-'],
      ['image', artifact.image ?? '-'],
      ['workloads', artifact.workloads.join(', ')],
      ['pushed', formatTime(artifact.createdAt)],
      ['by', artifact.createdBy],
    ],
    { styleHeader: colors.bold },
  );
  return `${details}\n\nDeploy it: pave deploy --artifact ${artifact.id} --app ${artifact.app} --env ENV`;
}

/**
 * The Score files of a push, validated here as `pave deploy` validates them (problems printed on stderr at
 * file:line:column; ScoreFilesError then). Each is sent as its text, or, when it mounts files by `source`,
 * as YAML of its spec with those files inlined (the server cannot read them).
 */
async function artifactScoreFiles(files: string[], io: CliIo): Promise<ArtifactScoreFile[]> {
  const loaded = await loadScoreFiles(files);
  if (loaded.problems.length > 0) {
    for (const problem of loaded.problems) io.stderr.write(`${problem}\n`);
    throw new ScoreFilesError(
      `${loaded.problems.length} problem${loaded.problems.length === 1 ? '' : 's'} in the Score files; nothing was pushed`,
    );
  }
  const { parseScore } = await import('../score.ts');
  const { stringify } = await importYaml();
  return Promise.all(
    loaded.workloads.map(async (workload) => {
      // Named as loadScoreFiles names it, relative to `dir`: deploying the artifact then gives the same set as
      // `pave deploy -f` of the same files, however either was typed.
      const file = workload.file ?? '';
      const text = await readFile(resolve(workload.dir, file), 'utf8');
      const asWritten = parseScore(text, file).workload;
      const inlined = JSON.stringify(asWritten) !== JSON.stringify(workload.spec);
      return { file, dir: workload.dir, content: inlined ? stringify(workload.spec) : text };
    }),
  );
}

/** Renders a pushed artifact: its id and commit, then one line per rule it triggered. */
export function renderPushed(pushed: PushedArtifact, colors: Colors): string {
  const head = `Pushed artifact ${colors.bold(pushed.id)} of ${pushed.app} (commit ${pushed.commit.slice(0, 12)}${
    pushed.branch ? ` on ${pushed.branch}` : ''
  }; workloads ${pushed.workloads.join(', ')})`;
  if (pushed.triggered.length === 0) return `${head}\nNo rule matched it.`;
  const lines = pushed.triggered.map((outcome) => {
    const { ruleId, deploymentId, env } = outcome;
    if (deploymentId === null) {
      return `  rule ${ruleId}: ${colors.red('refused')} to deploy to ${pushed.app}/${env}: ${outcome.refused ?? ''}`;
    }
    return outcome.awaitsApproval
      ? `  rule ${ruleId}: deployment ${deploymentId} to ${pushed.app}/${env} awaits approval by someone else ` +
          `(\`pave approvals get ${deploymentId}\`)`
      : `  rule ${ruleId}: queued deployment ${deploymentId} to ${pushed.app}/${env}` +
          ` (\`pave deployments get ${deploymentId} --app ${pushed.app} --env ${env}\`)`;
  });
  return `${head}\nRules:\n${lines.join('\n')}`;
}

/**
 * Renders artifacts as an ID, COMMIT (12 characters), BRANCH, WORKLOADS, IMAGE, PUSHED, BY table; an empty
 * page after `cursor` (its `--cursor`) says there are no more rather than none at all.
 */
export function renderArtifactList(
  items: readonly Artifact[],
  colors: Colors,
  app: string,
  cursor?: string,
): string {
  const columns: Column<Artifact>[] = [
    { header: 'id', value: (artifact) => artifact.id },
    { header: 'commit', value: (artifact) => artifact.commit.slice(0, 12) },
    { header: 'branch', value: (artifact) => artifact.branch ?? '-' },
    { header: 'workloads', value: (artifact) => artifact.workloads.join(',') },
    { header: 'image', value: (artifact) => artifact.image ?? '-' },
    { header: 'pushed', value: (artifact) => formatTime(artifact.createdAt) },
    { header: 'by', value: (artifact) => artifact.createdBy },
  ];
  return formatTable(items, columns, {
    empty: emptyPageLine(
      `No artifacts of ${app} yet. CI pushes them with \`pave artifacts push --app ${app} -f score.yaml --commit SHA\`.`,
      cursor,
      `artifacts of ${app}`,
    ),
    styleHeader: colors.bold,
  });
}
