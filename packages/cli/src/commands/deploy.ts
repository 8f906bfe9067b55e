import { basename, dirname, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import type {
  CreateDeploymentBody,
  Deployment,
  DeploymentPlan,
  ScoreContainer,
  ScoreContainerFile,
  ScoreContainerFileListItem,
  ScoreProblem,
  ScoreWorkload,
  WorkloadSource,
} from '@pave/core';
import { CliUsageError } from '../errors.ts';
import { describeFileError } from '../file-errors.ts';
import { durationSeconds } from '../duration.ts';
import { fileArgumentName, readFileArgument, readFileBytes, refuseRepeatedStdin } from '../file-arguments.ts';
import { aliasApiFields, withFieldOrigins } from '../field-origins.ts';
import type { CliIo } from '../io.ts';
import { colorsFor } from '../output/colors.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { renderPlan } from './diff.ts';
import {
  addPolicyOverrideOptions,
  policyOverrideFields,
  policyOverrideOrigins,
  type PolicyOverrideOptions,
} from './policies.ts';
import {
  addWaitOptions,
  addWaitTimeoutOption,
  checkWaitTimeout,
  progressOn,
  reportQueuedDeployment,
  timeoutSecondsOf,
} from './progress.ts';
import type { WaitOptions } from './progress.ts';

type DeployOptions = ClientOptions &
  WaitOptions & {
    app: string;
    env: string;
    file?: string[];
    artifact?: string;
    image?: string;
    remove?: string[];
    message?: string;
    plan?: boolean;
    autoRollback: boolean;
    minReady?: string;
    recreateMissing?: boolean;
    manifests?: string[];
    commit?: string;
    commitTime?: string;
  } & PruneOptions &
  PolicyOverrideOptions;

/** The `--prune` and `--allow-data-loss` flags of commands that start a deployment. */
export interface PruneOptions {
  prune?: boolean;
  allowDataLoss?: boolean;
}

/** Score files failed local validation; their problems have been printed on stderr already. Exit code 1. */
export class ScoreFilesError extends Error {
  override name = 'ScoreFilesError';
}

/** `pave deploy`: deploy Score workloads to an environment (or remove some), or only plan it. */
export function registerDeployCommand(program: Command, io: CliIo): void {
  addClientOptions(
    addWaitTimeoutOption(
      addWaitOptions(
        addPolicyOverrideOptions(
          aliasApiFields(program.command('deploy'), {
            '/minReadySeconds': '--min-ready',
            '/timeoutSeconds': '--timeout',
          })
            .summary('Deploy Score workloads to an environment, or plan it with --plan')
            .description(
              'Deploy Score workloads to an environment: each file replaces the workload of the same name, the ' +
                "environment's other workloads stay. The files are validated here first, and files they mount " +
                'with `source` are sent along.',
            )
            .option(
              '-f, --file <files...>',
              'Score files, one per workload (repeat -f or list several); - reads one from stdin',
            )
            .option(
              '--manifests <dir>',
              "your own Kubernetes YAML (every *.yaml/*.yml in DIR) deployed with the Score file's workload; with several Score files give one --manifests per -f, in the same order (kubernetes targets only)",
              collect,
            )
            .option(
              '--artifact <id>',
              'deploy a build artifact CI pushed (`pave artifacts list`): its Score files and image, instead of -f',
            )
            .option(
              '--image <ref>',
              'the image of every container whose image is "." in the Score files, e.g. a tag CI just built',
            )
            .requiredOption('--app <app>', 'the application')
            .requiredOption('--env <env>', 'the environment to deploy to')
            .option('-m, --message <text>', 'why: shown in `pave deployments list` and the audit log')
            .option('--remove <workload>', 'remove this workload from the environment (repeatable)', collect)
            .option(
              '--prune',
              'delete the resources the new set no longer uses (stateful ones need --allow-data-loss)',
            )
            .option(
              '--allow-data-loss',
              'accept losing data: --prune may delete unused stateful resources (postgres, redis, volumes), and a stateful resource whose driver cannot change it in place is replaced (deleted and created again, empty)',
            )
            .option(
              '--min-ready <duration>',
              "how long a workload without a readiness probe must keep running to count as ready, e.g. 10s or 0s (default: the environment type's, else 5s)",
            )
            .option(
              '--recreate-missing',
              'create resources again that Pave recorded but that are gone (see `pave resources check`); ' +
                "without -f, --artifact or --remove it redeploys the environment's current set to do so (a " +
                'redeploy of an earlier set, so it needs the permission to roll back too)',
            )
            .option('--plan', 'only show what would change (and what each policy says); deploy nothing')
            .option(
              '--commit <sha>',
              'the commit the Score files were built from, recorded with the deployment (an artifact names its own)',
            )
            .option(
              '--commit-time <time>',
              'when that commit was made (RFC 3339, e.g. 2026-01-31T12:00:00Z): lead times start there (`pave insights`)',
            )
            .option(
              '--no-auto-rollback',
              'if the deployment fails, leave it as it is instead of restoring the previous set',
            ),
        ),
      ),
    ),
  )
    .addHelpText(
      'after',
      examples(
        'pave deploy -f score.yaml --app shop --env dev',
        'pave deploy -f web/score.yaml -f api/score.yaml --app shop --env dev -m "new checkout" --wait',
        'pave deploy -f score.yaml --app shop --env dev --plan',
        'envsubst < score.tpl.yaml | pave deploy -f - --app shop --env dev',
        'pave deploy -f api.score.yaml --manifests k8s/ --app shop --env dev',
        'pave deploy -f score.yaml --image registry.example.com/shop/web:1f2e3d --app shop --env dev',
        'pave deploy --artifact 42 --app shop --env staging --wait',
        'pave deploy -f score.yaml --app shop --env prod --commit "$(git rev-parse HEAD)" --commit-time "$(git show -s --format=%cI)"',
        'pave deploy --remove worker --app shop --env dev --wait --timeout 2m',
        'pave deploy --remove worker --app shop --env dev --prune --allow-data-loss --plan',
        'pave deploy --recreate-missing --app shop --env dev --wait',
      ),
    )
    .action(async (options: DeployOptions) => {
      policyOverrideFields(options); // --override-policy without --reason is refused before anything is read
      const files = options.file ?? [];
      if (options.artifact !== undefined) {
        await deployArtifact(options, options.artifact, files, io);
        return;
      }
      if (files.length === 0 && (options.remove ?? []).length === 0) {
        if (options.recreateMissing) {
          await redeployCurrentSet(options, io);
          return;
        }
        throw new CliUsageError(
          'nothing to deploy; give a Score file with -f FILE, or --remove WORKLOAD (or a build artifact with ' +
            "--artifact ID, or --recreate-missing alone to redeploy the environment's current set)",
        );
      }
      if (options.plan && options.wait) {
        throw new CliUsageError('--plan only shows what would change, so there is nothing to --wait for');
      }
      if (options.image !== undefined && files.length === 0) {
        throw new CliUsageError('--image sets the image of containers in the Score files; give them with -f');
      }
      if (options.image?.trim() === '') {
        throw new CliUsageError(
          '--image needs an image reference, e.g. registry.example.com/shop/web:1f2e3d',
        );
      }
      const manifestDirs = options.manifests ?? [];
      if (manifestDirs.length > 0 && manifestDirs.length !== files.length) {
        throw new CliUsageError(
          `--manifests is given ${plural(manifestDirs.length, 'time')} for ${plural(files.length, 'Score file')}; ` +
            'give one --manifests DIR per -f FILE, in the same order (the first directory goes with the first ' +
            'file), or deploy the workloads one at a time',
        );
      }
      const timeoutSeconds = timeoutSecondsOf(options);
      checkWaitTimeout(options);
      // Validate everything locally before the server is contacted (or even a token looked up).
      const readStdin = () => io.readStdin();
      const loaded = await loadScoreFiles(files, process.cwd(), { readStdin }, manifestDirs);
      const { problems } = loaded;
      if (problems.length > 0) {
        for (const problem of problems) io.stderr.write(`${problem}\n`);
        throw new ScoreFilesError(
          `${plural(problems.length, 'problem')} in the Score files; nothing was sent to the server`,
        );
      }
      let workloads = loaded.workloads;
      if (options.image !== undefined) {
        const built = setDotImages(workloads, options.image);
        if (built.replaced === 0) {
          throw new CliUsageError(
            `--image replaces the image "." and no container in ${files.join(', ')} has it; ` +
              'write `image: .` for the container that runs the image you built',
          );
        }
        workloads = built.workloads;
      }
      const body = {
        ...deploymentBody(workloads, options, timeoutSeconds),
        ...commitFields(options),
        ...(options.minReady !== undefined ? { minReadySeconds: minReadySecondsOf(options.minReady) } : {}),
        ...(options.recreateMissing ? { recreateMissing: true } : {}),
      };
      const { client, output } = await clientFor(options, io);
      // A placeholder naming a value the environment does not have fails here, at its file:line.
      const usesValues = workloads.some((w) =>
        Object.values(w.spec.resources ?? {}).some((resource) => resource.type === 'environment'),
      );
      if (usesValues) {
        const keys = await client
          .listValues(options.app, options.env)
          .then((list) => new Set(list.items.map((item) => item.key)))
          .catch(() => undefined); // the server checks again when it renders the deployment
        const missing = keys
          ? (await loadScoreFiles(files, process.cwd(), { environmentKeys: keys, readStdin })).problems
          : [];
        if (missing.length > 0) {
          for (const problem of missing) io.stderr.write(`${problem}\n`);
          const names = missing.length === 1 ? 'names a value' : 'name values';
          throw new ScoreFilesError(
            `${plural(missing.length, 'placeholder')} ${names} that ${options.app}/${options.env} does not ` +
              `have; nothing was deployed: set ${missing.length === 1 ? 'it' : 'them'} with \`pave values set ` +
              `KEY=… --app ${options.app} --env ${options.env}\` (or without --env for every environment)`,
          );
        }
      }
      const colors = colorsFor(io.stdout, io.env);
      const response = await withFieldOrigins(policyOverrideOrigins(options), () =>
        client.createDeployment(options.app, options.env, body),
      );
      if (options.plan) {
        output.show(response as DeploymentPlan, (plan) => renderPlan(plan, colors));
        return;
      }
      await reportQueuedDeployment(client, response as Deployment, output, {
        wait: options.wait,
        waitTimeout: options.waitTimeout,
        timeoutSeconds,
        colors,
        progress: progressOn(io.stderr, io.env, output.format),
        // Only a `route` resource gives a workload an address through Pave's proxy: without one in the files,
        // asking for the environment's routes would only make the user wait for the answer.
        showRoutes: workloads.some((w) =>
          Object.values(w.spec.resources ?? {}).some((resource) => resource.type === 'route'),
        ),
      });
    });
}

/**
 * `pave deploy --artifact ID`: deploys a build artifact's Score files and image. It says what to deploy on
 * its own, so -f, --image and --remove are refused with it.
 */
async function deployArtifact(options: DeployOptions, artifact: string, files: string[], io: CliIo) {
  if (files.length > 0) {
    throw new CliUsageError(
      '--artifact and -f/--file both say what to deploy; give one: --artifact ID deploys the Score files ' +
        'CI pushed, -f FILE deploys local ones',
    );
  }
  if (options.image !== undefined) {
    throw new CliUsageError('--image sets the image of -f files; an artifact carries the image CI pushed');
  }
  if ((options.manifests ?? []).length > 0) {
    throw new CliUsageError(
      '--manifests goes with the workloads of -f files; an artifact carries its own files',
    );
  }
  if ((options.remove ?? []).length > 0) {
    throw new CliUsageError(
      '--remove cannot be combined with --artifact; remove workloads in a deploy of its own',
    );
  }
  if (!/^\d+$/.test(artifact)) {
    throw new CliUsageError(
      `--artifact: "${artifact}" is not an artifact id; \`pave artifacts list\` shows them`,
    );
  }
  if (options.plan && options.wait) {
    throw new CliUsageError('--plan only shows what would change, so there is nothing to --wait for');
  }
  const timeoutSeconds = timeoutSecondsOf(options);
  checkWaitTimeout(options);
  const body: CreateDeploymentBody = {
    ...deploymentBody([], options, timeoutSeconds),
    artifact,
    ...commitFields(options),
    ...(options.minReady !== undefined ? { minReadySeconds: minReadySecondsOf(options.minReady) } : {}),
    ...(options.recreateMissing ? { recreateMissing: true } : {}),
  };
  const { client, output } = await clientFor(options, io);
  const colors = colorsFor(io.stdout, io.env);
  const response = await withFieldOrigins(policyOverrideOrigins(options), () =>
    client.createDeployment(options.app, options.env, body),
  );
  if (options.plan) {
    output.show(response as DeploymentPlan, (plan) => renderPlan(plan, colors));
    return;
  }
  await reportQueuedDeployment(client, response as Deployment, output, {
    wait: options.wait,
    waitTimeout: options.waitTimeout,
    timeoutSeconds,
    colors,
    progress: progressOn(io.stderr, io.env, output.format),
  });
}

/**
 * `pave deploy --recreate-missing` without -f, --artifact or --remove: redeploys the environment's current set
 * (its current deployment's, with the values it runs with, via `fromDeployment`) with the resources Pave
 * recorded but that are gone created again. CliUsageError, before anything is queued, when the environment has
 * no current deployment, and for flags that go with Score files or name a commit (the redeploy keeps its own).
 */
async function redeployCurrentSet(options: DeployOptions, io: CliIo) {
  const alone = "--recreate-missing without -f redeploys the environment's current set";
  if (options.image !== undefined) {
    throw new CliUsageError(
      `--image sets the image of containers in Score files; give them with -f (${alone})`,
    );
  }
  if ((options.manifests ?? []).length > 0) {
    throw new CliUsageError(`--manifests goes with the workload of a Score file; give it with -f (${alone})`);
  }
  if (options.commit !== undefined || options.commitTime !== undefined) {
    throw new CliUsageError(
      `${options.commit !== undefined ? '--commit' : '--commit-time'}: ${alone}, which keeps the commit it was ` +
        'deployed from; leave it out',
    );
  }
  if (options.plan && options.wait) {
    throw new CliUsageError('--plan only shows what would change, so there is nothing to --wait for');
  }
  const timeoutSeconds = timeoutSecondsOf(options);
  checkWaitTimeout(options);
  const minReady =
    options.minReady !== undefined ? { minReadySeconds: minReadySecondsOf(options.minReady) } : {};
  const { client, output } = await clientFor(options, io);
  const current = (await client.getStatus(options.app, options.env)).currentDeployment;
  if (!current) {
    throw new CliUsageError(
      `--recreate-missing: ${options.app}/${options.env} has no current deployment, so there is no set to ` +
        `redeploy; deploy its Score files with \`pave deploy -f score.yaml --recreate-missing --app ` +
        `${options.app} --env ${options.env}\``,
    );
  }
  const body: CreateDeploymentBody = {
    ...deploymentBody([], options, timeoutSeconds),
    fromDeployment: current.id,
    message: options.message ?? `recreate missing resources: redeploy of deployment ${current.id}`,
    recreateMissing: true,
    ...minReady,
  };
  const colors = colorsFor(io.stdout, io.env);
  const response = await withFieldOrigins(
    { ...policyOverrideOrigins(options), '/fromDeployment': { name: '--recreate-missing' } },
    () => client.createDeployment(options.app, options.env, body),
  );
  if (options.plan) {
    output.show(response as DeploymentPlan, (plan) => renderPlan(plan, colors));
    return;
  }
  const progress = progressOn(io.stderr, io.env, output.format);
  progress.line(
    `Redeploying the current set of ${options.app}/${options.env} (deployment ${current.id}) to create its ` +
      'missing resources again',
  );
  await reportQueuedDeployment(client, response as Deployment, output, {
    wait: options.wait,
    waitTimeout: options.waitTimeout,
    timeoutSeconds,
    colors,
    progress,
  });
}

// The image a Score container names to say "the image built for this deployment", as in score-compose.
const BUILT_IMAGE = '.';

/**
 * Sets `image` as the image of every container whose image is `.`, in every workload, as score-compose's
 * `--image` does; other containers keep theirs. Returns the new workloads (the given ones are not changed)
 * and how many containers got the image.
 */
export function setDotImages(
  workloads: readonly WorkloadSource[],
  image: string,
): { workloads: WorkloadSource[]; replaced: number } {
  let replaced = 0;
  const result = workloads.map((workload) => {
    const containers = Object.fromEntries(
      Object.entries(workload.spec.containers).map(([name, container]) => {
        if (container.image !== BUILT_IMAGE) return [name, container];
        replaced++;
        return [name, { ...container, image }];
      }),
    );
    return { ...workload, spec: { ...workload.spec, containers } };
  });
  return { workloads: result, replaced };
}

/** The body of POST /deployments for `pave deploy` with these workloads and flags. */
export function deploymentBody(
  workloads: WorkloadSource[],
  options: Pick<
    DeployOptions,
    'remove' | 'message' | 'plan' | 'autoRollback' | 'prune' | 'allowDataLoss' | 'overridePolicy' | 'reason'
  >,
  timeoutSeconds: number | undefined,
): CreateDeploymentBody {
  return {
    ...(workloads.length > 0 ? { workloads } : {}),
    ...(options.remove !== undefined && options.remove.length > 0 ? { remove: options.remove } : {}),
    ...(options.message !== undefined ? { message: options.message } : {}),
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    autoRollback: options.autoRollback,
    ...pruneFields(options),
    ...(options.plan ? { plan: true } : {}),
    ...policyOverrideFields(options),
  };
}

/**
 * `--commit` and `--commit-time` as body fields. An artifact names its own commit, so `--commit` is refused
 * with `--artifact`; `--commit-time` alone (without `--commit` or `--artifact`) has no commit to be the time of.
 */
export function commitFields(
  options: Pick<DeployOptions, 'commit' | 'commitTime' | 'artifact'>,
): Pick<CreateDeploymentBody, 'commit' | 'commitTime'> {
  if (options.commit !== undefined && options.artifact !== undefined) {
    throw new CliUsageError('--commit: an artifact names its own commit; leave --commit out with --artifact');
  }
  if (options.commitTime !== undefined) {
    if (options.commit === undefined && options.artifact === undefined) {
      throw new CliUsageError('--commit-time is the time of a commit: give --commit SHA too');
    }
    const valid =
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(options.commitTime) &&
      !Number.isNaN(Date.parse(options.commitTime));
    if (!valid) {
      throw new CliUsageError(
        `--commit-time: "${options.commitTime}" is not an RFC 3339 time; use e.g. 2026-01-31T12:00:00Z ` +
          "(`git show -s --format=%cI` prints a commit's)",
      );
    }
  }
  return {
    ...(options.commit !== undefined ? { commit: options.commit } : {}),
    ...(options.commitTime !== undefined ? { commitTime: options.commitTime } : {}),
  };
}

/** `--min-ready`: a duration in whole seconds; `0s` (or `0`) turns the stability window off. */
export function minReadySecondsOf(text: string): number {
  if (/^0[smhd]?$/.test(text.trim())) return 0;
  const seconds = durationSeconds(text, '--min-ready');
  if (seconds > 3600) throw new CliUsageError(`--min-ready: "${text}" is too long; use at most 1h`);
  return seconds;
}

/** The `prune` and `allowDataLoss` fields of a deployment body: only those that were set. */
export function pruneFields(options: PruneOptions): Pick<CreateDeploymentBody, 'prune' | 'allowDataLoss'> {
  return {
    ...(options.prune ? { prune: true } : {}),
    ...(options.allowDataLoss ? { allowDataLoss: true } : {}),
  };
}

/**
 * Reads and validates Score files for a deployment. Resolves with the workloads to send (each file's spec
 * with the files its containers mount by `source` inlined, see {@link inlineFileSources}; the absolute
 * directory of the Score file; its name in that directory, and its manifests' files relative to that
 * directory, so that the deployment set is the same however the paths were typed and wherever from) and
 * every problem found in any file, one line each, naming the files as given:
 * `file:line:column: path: message` from validation (a probe of a port the server's render could not map
 * included, see checkScoreProbePorts) and for a source that cannot be read, and `file: message` for two files
 * defining one workload. `manifestDirs[i]`, when given, is the `--manifests` directory of
 * `files[i]`: its Kubernetes manifests go with that workload (see readManifestsDir), and their problems are
 * listed too. Relative paths are resolved against `cwd`; `-` is read with `checks.readStdin` (as
 * `pave defs apply -f -` reads its file), named `<stdin>` and placed in `cwd`. Throws CliUsageError, naming
 * every one, when Score files cannot be read at all, and when `-` is given twice or without `readStdin`.
 */
export async function loadScoreFiles(
  files: readonly string[],
  cwd = process.cwd(),
  checks: { environmentKeys?: ReadonlySet<string>; readStdin?: () => Promise<string> } = {},
  manifestDirs: readonly string[] = [],
): Promise<{ workloads: WorkloadSource[]; problems: string[] }> {
  if (files.length === 0) return { workloads: [], problems: [] };
  const texts = await readScoreFiles(files, cwd, checks.readStdin ?? noStdin);
  const { parseScore, formatScoreProblem } = await import('../score.ts');
  const problems: string[] = [];
  const workloads: WorkloadSource[] = [];
  const seen = new Map<string, string>();
  for (const [index, { file, path, text }] of texts.entries()) {
    // `renderable`: also what the server's render would refuse after the deployment was queued.
    const parsed = parseScore(text, file, { ...checks, renderable: true });
    problems.push(...parsed.problems.map(formatScoreProblem));
    if (!parsed.workload) continue;
    const name = parsed.workload.metadata.name;
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      problems.push(`${file}: workload "${name}" is also defined by ${earlier}; deploy each workload once`);
      continue;
    }
    seen.set(name, file);
    const inlined = await inlineFileSources(parsed.workload, file, text, cwd);
    problems.push(...inlined.problems.map(formatScoreProblem));
    const dir = manifestDirs[index];
    // Loaded only for --manifests: checking manifests needs core's deployment schemas, and with them classic zod.
    const own =
      dir === undefined ? undefined : await (await import('../manifests-dir.ts')).readManifestsDir(dir, cwd);
    problems.push(...(own?.problems ?? []));
    const scoreDir = dirname(path);
    // Relative to the Score file's directory, not to `cwd`: `-f ./score.yaml` and `-f dev/orders/score.yaml`
    // (from the parent directory) are the same workload, and their sets must be the same set.
    const manifests = own?.manifests.map((entry) => ({
      ...entry,
      file: posixRelative(scoreDir, resolve(cwd, entry.file)),
    }));
    workloads.push({
      spec: inlined.spec,
      dir: scoreDir,
      file: basename(path),
      ...(manifests && manifests.length > 0 ? { manifests } : {}),
    });
  }
  return { workloads, problems };
}

// `to` relative to `from` with `/` between its parts on every OS, so that a set made on Windows is the same.
function posixRelative(from: string, to: string): string {
  return relative(from, to).split(sep).join('/');
}

// Reads every file before validating any, so that a mistyped path is reported plainly, with all the others.
// A Score file read from stdin (`-`) is named <stdin> and lives in `cwd`: its `source` paths start there.
async function readScoreFiles(
  files: readonly string[],
  cwd: string,
  readStdin: () => Promise<string>,
): Promise<{ file: string; path: string; text: string }[]> {
  refuseRepeatedStdin(files);
  const failures: string[] = [];
  const texts = await Promise.all(
    files.map(async (given) => {
      const file = fileArgumentName(given);
      const path = resolve(cwd, file);
      try {
        return { file, path, text: await readFileArgument(given, readStdin, path) };
      } catch (error) {
        failures.push(`${file}: ${describeFsError(error, file, path)}`);
        return { file, path, text: '' };
      }
    }),
  );
  if (failures.length === 1) throw new CliUsageError(`cannot read the Score file ${failures[0]}`);
  if (failures.length > 1) {
    throw new CliUsageError(
      `cannot read ${failures.length} Score files:\n${failures.map((line) => `  - ${line}`).join('\n')}`,
    );
  }
  return texts;
}

/**
 * Replaces each container file's `source` (a path relative to the Score file's directory, or absolute) by
 * the file's bytes: `content` when they are valid UTF-8 (kept byte for byte, a BOM included), `binaryContent`
 * (base64) otherwise; the file's other fields (mode, noExpand) stay. Both the map and the (deprecated) list
 * form of `files` are handled. `scoreFile` is the Score file's path as given, relative to `cwd`, and `text` its
 * text. Returns the new spec (the input is not changed) and one problem per source that cannot be read
 * (missing, or over FILE_SIZE_LIMIT_BYTES), at the `source` value; `pave validate` reports the same problems.
 */
export async function inlineFileSources(
  spec: ScoreWorkload,
  scoreFile: string,
  text: string,
  cwd = process.cwd(),
): Promise<{ spec: ScoreWorkload; problems: ScoreProblem[] }> {
  const { formatScorePath } = await import('../score.ts');
  const baseDir = dirname(resolve(cwd, scoreFile));
  const problems: ScoreProblem[] = [];

  async function inline<File extends ScoreContainerFile | ScoreContainerFileListItem>(
    file: File,
    path: (string | number)[],
  ): Promise<File> {
    if (file.source === undefined) return file;
    const { source, ...rest } = file;
    const sourcePath = resolve(baseDir, source);
    let bytes: Buffer;
    try {
      bytes = await readFileBytes(sourcePath);
    } catch (error) {
      // Loaded only now: finding the line parses the file again, which only a problem needs.
      const { locateDeclarationPath } = await import('@pave/core/declarations');
      const at = [...path, 'source'];
      problems.push({
        file: scoreFile,
        ...locateDeclarationPath(text, 0, at.map(String)),
        path: formatScorePath(at),
        message: `cannot read "${source}": ${describeFsError(error, source, sourcePath)}`,
      });
      return file;
    }
    const content = decodeUtf8(bytes);
    return (
      content !== undefined ? { ...rest, content } : { ...rest, binaryContent: bytes.toString('base64') }
    ) as File;
  }

  const containers: Record<string, ScoreContainer> = {};
  for (const [name, container] of Object.entries(spec.containers)) {
    const files = container.files;
    const base = ['containers', name, 'files'];
    if (files === undefined) {
      containers[name] = container;
    } else if (Array.isArray(files)) {
      const inlined: ScoreContainerFileListItem[] = [];
      for (const [index, file] of files.entries()) inlined.push(await inline(file, [...base, index]));
      containers[name] = { ...container, files: inlined };
    } else {
      const inlined: Record<string, ScoreContainerFile> = {};
      for (const [target, file] of Object.entries(files)) {
        inlined[target] = await inline(file, [...base, target]);
      }
      containers[name] = { ...container, files: inlined };
    }
  }
  return { spec: { ...spec, containers }, problems };
}

// For the commands that read Score files by name only.
async function noStdin(): Promise<string> {
  throw new CliUsageError(
    '-f -: this command reads Score files by name only; give the file, e.g. score.yaml',
  );
}

// The text of `bytes` if they are valid UTF-8, else undefined.
function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

// Why a file could not be read, in words, with the absolute path when `given` was relative.
function describeFsError(error: unknown, given: string, path: string): string {
  return `${describeFileError(error, path, 'read')}${given === path ? '' : ` (${path})`}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
