import type { Command } from 'commander';
import {
  HOST_PROBING_RUNTIMES,
  allPages,
  checkScoreProbePorts,
  type Resource,
  type ScoreProblem,
  type ScoreWorkload,
} from '@pave/core';
import { connect } from '../connection.ts';
import { CliUsageError } from '../errors.ts';
import { fileArgumentName, readFileArgument, refuseRepeatedStdin } from '../file-arguments.ts';
import { describeFileError } from '../file-errors.ts';
import type { CliIo } from '../io.ts';
import { dataText } from '../output/output.ts';
import { addClientOptions, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { inlineFileSources } from './deploy.ts';

/**
 * What `pave validate -o json` (or yaml) prints: one entry per file, in the order given. `problems` are
 * errors (the file is not valid); `warnings` are what may not run as meant, depending on where it runs.
 */
export interface ValidateReport {
  /** With --app and --env: the runtime target the environment runs on, and its runtime. */
  target?: { id: string; type: string };
  files: { file: string; valid: boolean; problems: ScoreProblem[]; warnings: ScoreProblem[] }[];
}

type ValidateOptions = ClientOptions & { file: string[]; app?: string; env?: string };

/** Score files were read but have problems; the problems are already printed. Exit code 1. */
export class ScoreFilesInvalidError extends Error {
  override name = 'ScoreFilesInvalidError';
}

/**
 * `pave validate -f FILE…`: checks Score files offline (YAML syntax, the Score v1b1 schema, placeholders,
 * resource params that form a cycle, which the server's planner refuses, and container files whose `source`
 * cannot be read) and prints every problem as
 * `file:line:column: json.path: message` on stderr; `-o json` prints a
 * {@link ValidateReport} on stdout instead. A container without `command` is a warning (the process runtime
 * cannot run it) or, with --app and --env naming an environment that runs on the process runtime, an
 * error; so is, with --app and --env naming an environment on the process or docker runtime, a readiness probe
 * of a port that is not a service port (those runtimes probe readiness from the host, at a service port's host
 * port); with --app and --env, a resource `pave deploy` would refuse there is an error too: one not provisioned
 * there yet whose type no definition provisions, or one provisioned there whose definition was deleted or whose
 * type changed (deploy keeps a provisioned resource on its stored definition, whichever matches now). Exits 1 when any file has errors, 2 when a file cannot be read;
 * warnings do not change the exit code.
 */
export function registerValidateCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('validate')
      .description(
        'Check Score files (apiVersion score.dev/v1b1): YAML, schema, placeholders, resource params cycles ' +
          'and files[].source offline; with --app and ' +
          '--env also what the runtime of that environment can run (commands, probe ports) and that its ' +
          'resource definitions provision every resource',
      )
      .requiredOption(
        '-f, --file <files...>',
        'Score files to check (repeat -f or list several; - reads stdin)',
      )
      .option('--app <app>', "with --env: check against that environment's runtime target and definitions")
      .option('--env <env>', "with --app: check against that environment's runtime target and definitions"),
  )
    .addHelpText(
      'after',
      examples(
        'pave validate -f score.yaml',
        'pave validate -f api/score.yaml -f worker/score.yaml',
        'pave validate -f services/*/score.yaml -o json',
        'pave validate -f score.yaml --app shop --env dev',
      ),
    )
    .action(async (options: ValidateOptions) => {
      if ((options.app === undefined) !== (options.env === undefined)) {
        throw new CliUsageError(
          `${options.app === undefined ? '--env' : '--app'} needs ${options.app === undefined ? '--app' : '--env'}: ` +
            "give both to check the files against that environment's runtime target, or neither to check " +
            'the files alone',
        );
      }
      const texts = await readScoreFiles(options.file, io);
      // Loaded here, not at the top, so that `pave --help` does not pay for the Score schema.
      const { formatScoreProblem, mappingKeyPositions, parseScore } = await import('../score.ts');
      const target =
        options.app !== undefined && options.env !== undefined
          ? await environmentTarget(options, options.app, options.env, io)
          : undefined;
      // Each workload once, as `pave deploy` of the same files requires.
      const seen = new Map<string, string>();
      const workloads: (ScoreWorkload | undefined)[] = [];
      const report: ValidateReport = {
        ...(target ? { target } : {}),
        files: texts.map(({ file, text }) => {
          // With Pave's own rules: what no deployment can render, whatever the runtime.
          const { problems, workload } = parseScore(text, file, { renderable: true });
          workloads.push(workload);
          const name = workload?.metadata.name;
          const earlier = name === undefined ? undefined : seen.get(name);
          if (name !== undefined && earlier !== undefined) {
            const at = mappingKeyPositions(text, 'metadata').get('name') ?? { line: 1, column: 1 };
            problems.push({
              file,
              ...at,
              path: 'metadata.name',
              message: `workload "${name}" is also defined by ${earlier}; deploy each workload once (rename one)`,
            });
          } else if (name !== undefined) {
            seen.set(name, file);
          }
          const onProcess =
            target?.type === 'process' && options.app !== undefined && options.env !== undefined
              ? { app: options.app, env: options.env, target: target.id }
              : undefined;
          const commandless = workload
            ? containersWithoutCommand(
                file,
                workload,
                () => mappingKeyPositions(text, 'containers'),
                onProcess,
              )
            : [];
          // Only the process runtime needs a command; without --app/--env the runtime is not known.
          const errors = [
            ...(onProcess ? commandless : []),
            ...(workload && target && options.app !== undefined && options.env !== undefined
              ? unprobeablePorts(file, workload, () => mappingKeyPositions(text, 'containers'), {
                  app: options.app,
                  env: options.env,
                  target,
                })
              : []),
          ];
          const warnings = target === undefined ? commandless : [];
          return {
            file,
            valid: problems.length + errors.length === 0,
            problems: [...problems, ...errors],
            warnings,
          };
        }),
      };
      // A container file's `source` that cannot be read, as `pave deploy` reads it (relative to the file).
      for (const [index, entry] of report.files.entries()) {
        const workload = workloads[index];
        if (!workload) continue;
        const { problems } = await inlineFileSources(workload, entry.file, texts[index]?.text ?? '');
        entry.problems.push(...problems);
        if (problems.length > 0) entry.valid = false;
      }
      if (options.app !== undefined && options.env !== undefined) {
        const environment = { app: options.app, env: options.env };
        const refused = await resourcesDeployRefuses(options, environment, texts, io, parseScore);
        for (const entry of report.files) {
          const found = refused.problems.filter((problem) => problem.file === entry.file);
          entry.problems.push(...found);
          entry.warnings.push(...refused.warnings.filter((warning) => warning.file === entry.file));
          if (found.length > 0) entry.valid = false;
        }
      }
      const invalid = report.files.filter((entry) => !entry.valid);
      const warnings = report.files.flatMap((entry) => entry.warnings);
      if (options.output !== 'table') {
        io.stdout.write(dataText(options.output, report));
      } else {
        for (const warning of warnings) io.stderr.write(`${formatScoreProblem(warning)}\n`);
        if (invalid.length === 0) {
          io.stdout.write(`${plural(report.files.length, 'file')} valid\n`);
        } else {
          for (const entry of invalid) {
            for (const problem of entry.problems) io.stderr.write(`${formatScoreProblem(problem)}\n`);
          }
        }
      }
      if (invalid.length > 0) {
        const count = invalid.reduce((sum, entry) => sum + entry.problems.length, 0);
        throw new ScoreFilesInvalidError(
          `${plural(count, 'problem')} in ${invalid.length} of ${plural(report.files.length, 'file')}`,
        );
      }
    });
}

/**
 * A problem at each resource of the files' workloads that `pave deploy` to `app`/`env` would refuse, checked
 * as deploy checks it. A resource already provisioned there stays on the definition stored with it, whichever
 * definition matches now (or none): it is refused only when it was provisioned with another type, or when its
 * definition was deleted. A resource not provisioned yet is refused when no definition matches it (the
 * server's match explainer is asked once per type, class and resource id). Types Pave resolves itself
 * (`environment`, `service-port`) need no definition. Seeing the environment's resources needs a role in the
 * app (a platform engineer may have none): without one, the resources are checked as new ones, with a warning
 * in each file that says so.
 */
async function resourcesDeployRefuses(
  options: ClientOptions,
  environment: { app: string; env: string },
  texts: { file: string; text: string }[],
  io: CliIo,
  parseScore: typeof import('../score.ts').parseScore,
): Promise<{ problems: ScoreProblem[]; warnings: ScoreProblem[] }> {
  const { mappingKeyPositions } = await import('../score.ts');
  const {
    BUILT_IN_RESOURCE_TYPES,
    DEFAULT_RESOURCE_CLASS,
    changedResourceTypeReason,
    deletedDefinitionReason,
  } = await import('@pave/core');
  const builtIn = new Set<string>(BUILT_IN_RESOURCE_TYPES);
  const { client } = await connect(options, io);
  const { app, env } = environment;
  // Whether a definition matches; null when the caller may not read definitions (a developer of the app).
  const answers = new Map<string, Promise<boolean | null>>();
  const matched = (type: string, resourceClass: string, id: string) => {
    const key = JSON.stringify([type, resourceClass, id]);
    let answer = answers.get(key);
    if (!answer) {
      answer = client.matchResourceDefinition({ ...environment, type, class: resourceClass, id }).then(
        (match) => match.winner !== null,
        (error: unknown) => {
          if (isRefused(error, 403)) return null;
          throw error;
        },
      );
      answers.set(key, answer);
    }
    return answer;
  };
  // Asked once, after environmentTarget has found the environment: a refusal then means no role in the app.
  let provisioned: Promise<Map<string, Resource> | undefined> | undefined;
  const provisionedAt = async (address: string) => {
    provisioned ??= allPages((cursor) => client.listResources(app, env, cursor ? { cursor } : {})).then(
      (items) => new Map(items.map((resource) => [resource.address, resource])),
      (error: unknown) => {
        if (isRefused(error, 403, 404)) return undefined;
        throw error;
      },
    );
    const resources = await provisioned;
    return resources ? { seen: true, resource: resources.get(address) } : { seen: false };
  };
  // Null, like `matched`, when the caller may not read definitions.
  let definitions: Promise<Set<string> | null> | undefined;
  const definitionExists = async (id: string) => {
    definitions ??= allPages((cursor) => client.listResourceDefinitions(cursor ? { cursor } : {})).then(
      (items) => new Set(items.map((d) => d.id)),
      (error: unknown) => {
        if (isRefused(error, 403)) return null;
        throw error;
      },
    );
    const ids = await definitions;
    return ids && ids.has(id);
  };
  const definitionsHidden = (at: { file: string; line: number; column: number }): ScoreProblem => ({
    ...at,
    path: 'resources',
    message:
      `warning: cannot tell whether resource definitions provision this file's resources in ${app}/${env} ` +
      '(reading definitions needs the definition.read permission, which platform engineers hold); ' +
      `\`pave deploy -f ${at.file} --app ${app} --env ${env} --plan\` checks them on the server`,
  });
  const problems: ScoreProblem[] = [];
  const warnings: ScoreProblem[] = [];
  for (const { file, text } of texts) {
    const { workload } = parseScore(text, file);
    if (!workload) continue;
    const positions = mappingKeyPositions(text, 'resources');
    let unseen: ScoreProblem | undefined;
    let unmatched: ScoreProblem | undefined;
    for (const [name, resource] of Object.entries(workload.resources ?? {})) {
      if (builtIn.has(resource.type)) continue;
      const at = { file, ...(positions.get(name) ?? { line: 1, column: 1 }), path: `resources.${name}.type` };
      const resourceClass = resource.class ?? DEFAULT_RESOURCE_CLASS;
      const id = resource.id ?? `${workload.metadata.name}.${name}`;
      const address = resource.id === undefined ? id : `shared.${resource.id}`;
      const { seen, resource: existing } = await provisionedAt(address);
      if (existing) {
        // Deploy keeps it on its stored definition without matching it again.
        if (existing.type !== resource.type) {
          problems.push({
            ...at,
            message:
              `${address} in ${app}/${env} ${changedResourceTypeReason(existing.type, resource.type)}; ` +
              '`pave deploy` refuses it until then',
          });
          continue;
        }
        const exists = await definitionExists(existing.definitionId);
        if (exists === null) {
          unmatched ??= definitionsHidden(at);
        } else if (!exists) {
          problems.push({
            ...at,
            message:
              `${address} in ${app}/${env}: ${deletedDefinitionReason(existing.definitionId)}; ` +
              '`pave deploy` refuses it until then',
          });
        }
        continue;
      }
      if (!seen) {
        unseen ??= {
          ...at,
          path: 'resources',
          message:
            `warning: cannot see which resources ${app}/${env} has provisioned (that needs a role in app ` +
            `"${app}"), so this file's resources were checked as new ones; \`pave deploy\` keeps a provisioned ` +
            'resource on the definition it was provisioned by, even when none matches it now, and refuses one ' +
            'whose definition was deleted: ask an owner of the app for a role (viewer is enough) to check them ' +
            'as deploy would',
        };
      }
      const found = await matched(resource.type, resourceClass, id);
      if (found === null) {
        unmatched ??= definitionsHidden(at);
      } else if (!found) {
        problems.push({
          ...at,
          message:
            `no resource definition provisions type "${resource.type}" (class "${resourceClass}") in ${app}/${env}, ` +
            `so \`pave deploy\` would refuse it; \`pave defs match --app ${app} --env ${env} --type ${resource.type}\` ` +
            'says why none matches (a platform engineer adds one)',
        });
      }
    }
    if (unseen) warnings.push(unseen);
    if (unmatched) warnings.push(unmatched);
  }
  return { problems, warnings };
}

/**
 * The runtime target a deployment of `app`/`env` would use now and its runtime type, as the environment tells
 * whoever may read it (the app's people), else as the targets tell whoever may read those (platform engineers,
 * who need no role in the app). Refused for a caller who may do neither, saying how to validate anyway.
 */
async function environmentTarget(
  options: ClientOptions,
  app: string,
  env: string,
  io: CliIo,
): Promise<{ id: string; type: string }> {
  const { client } = await connect(options, io);
  let unseen: unknown;
  try {
    // A server from before the environment named its target answers without it: asked the targets' way then.
    const { runtimeTarget } = await client.getEnvironment(app, env);
    if (runtimeTarget) return runtimeTarget;
  } catch (error) {
    if (!isRefused(error, 403, 404)) throw error;
    unseen = error;
  }
  try {
    const id = (await client.matchTarget({ app, env })).winner?.id ?? 'local';
    return { id, type: (await client.getTarget(id)).type };
  } catch (error) {
    if (!isRefused(error, 403)) throw error;
    // Not found for the app's people (or hidden from whoever holds no role in it): the server's words.
    if (isRefused(unseen, 404)) throw unseen;
    throw new CliUsageError(
      `--app ${app} --env ${env}: cannot tell which runtime target ${app}/${env} runs on: that needs a role in ` +
        `app "${app}" (ask an owner of the app; viewer is enough), or the target.read permission; validate the ` +
        'files alone without --app and --env',
    );
  }
}

/** Whether `error` is the API's answer with one of `statuses`. */
function isRefused(error: unknown, ...statuses: number[]): boolean {
  const status = (error as { status?: number }).status;
  return (error as Error).name === 'ApiError' && status !== undefined && statuses.includes(status);
}

/**
 * One problem for each container of `workload` without a `command`, at its key in `file` (`containerPositions()`,
 * by container name): the process runtime runs a container's command on the host and ignores its image, so it
 * cannot run such a container. The message says why and how to fix it in the words `pave deploy` uses when it
 * refuses one: as a warning, or, given the process runtime target `onProcess` an environment runs on, as an
 * error naming it.
 */
function containersWithoutCommand(
  file: string,
  workload: ScoreWorkload,
  containerPositions: () => Map<string, { line: number; column: number }>,
  onProcess?: { app: string; env: string; target: string },
): ScoreProblem[] {
  const commandless = Object.entries(workload.containers).filter(
    ([, container]) => !container.command?.length,
  );
  // Finding the lines parses the file again: only when there is something to point at.
  const positions = commandless.length > 0 ? containerPositions() : new Map<string, never>();
  return commandless.map(([name, container]) => {
    const { line, column } = positions.get(name) ?? { line: 1, column: 1 };
    return {
      file,
      line,
      column,
      path: `containers.${name}`,
      message: onProcess
        ? `${commandlessReason(name, workload.metadata.name, container.image)} ` +
          `(${onProcess.app}/${onProcess.env} runs on the process runtime target "${onProcess.target}")`
        : `warning: ${commandlessReason(name, workload.metadata.name, container.image)}; this matters ` +
          'where the environment runs on the process runtime (the `local` target of `pave up`): pass --app ' +
          "and --env to check against an environment's runtime target",
    };
  });
}

/**
 * One problem for each readiness probe of `workload` that the runtime of `where.target` cannot run: on the
 * process and docker runtimes (HOST_PROBING_RUNTIMES), which probe readiness from the host, one of a port that
 * is not a service port (checkScoreProbePorts, as the deployment's render refuses it there). At the container's
 * key in `file` (`containerPositions()`, by container name), naming the environment's target.
 */
function unprobeablePorts(
  file: string,
  workload: ScoreWorkload,
  containerPositions: () => Map<string, { line: number; column: number }>,
  where: { app: string; env: string; target: { id: string; type: string } },
): ScoreProblem[] {
  if (!HOST_PROBING_RUNTIMES.includes(where.target.type)) return [];
  const found = checkScoreProbePorts(workload, where.target.type);
  const positions = found.length > 0 ? containerPositions() : new Map<string, never>();
  return found.map((problem) => ({
    file,
    ...(positions.get(problem.path[1] ?? '') ?? { line: 1, column: 1 }),
    path: problem.path.join('.'),
    message:
      `${problem.message} (${where.app}/${where.env} runs on the ${where.target.type} runtime target ` +
      `"${where.target.id}")`,
  }));
}

// The reason `pave deploy` gives (the process runtime's check), naming the workload too.
function commandlessReason(container: string, workload: string, image: string): string {
  return (
    `container "${container}" of workload "${workload}" has no "command", and the process runtime runs ` +
    `commands on this host, not images ("${image}"): give it a "command" in the Score file, e.g. ` +
    `["node", "server.js"] (paths are relative to the Score file's directory), or deploy it to a docker or ` +
    'kubernetes target to run the image'
  );
}

// Reads every file before validating any, so that a typo in one path is reported alone and plainly.
async function readScoreFiles(files: string[], io: CliIo): Promise<{ file: string; text: string }[]> {
  refuseRepeatedStdin(files);
  const failures: string[] = [];
  const texts = await Promise.all(
    files.map(async (file) => {
      try {
        return { file, text: await readFileArgument(file, () => io.readStdin()) };
      } catch (error) {
        const directory = 'pass the Score file inside it, e.g. score.yaml';
        failures.push(`${fileArgumentName(file)}: ${describeFileError(error, file, 'read', { directory })}`);
        return { file, text: '' };
      }
    }),
  );
  if (failures.length === 1) throw new CliUsageError(`cannot read ${failures[0]}`);
  if (failures.length > 1) {
    throw new CliUsageError(
      `cannot read ${failures.length} files:\n${failures.map((line) => `  - ${line}`).join('\n')}`,
    );
  }
  return texts;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
