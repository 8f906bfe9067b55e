import { execFile, spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { chmod, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type {
  ApiError,
  Deployment,
  InstantiateTemplateBody,
  PaveClient,
  RenderedTemplate,
  TemplateAnswers,
  TemplateParameters,
  TemplateRecord,
} from '@pave/core';
import { makeDirectories, whyUnmade } from '../directories.ts';
import { CliUsageError } from '../errors.ts';
import { aliasApiFields } from '../field-origins.ts';
import { describeFileError } from '../file-errors.ts';
import type { CliIo } from '../io.ts';
import { colorsFor } from '../output/colors.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { templateVersionOf } from './templates.ts';

type InitOptions = ClientOptions & {
  set?: string[];
  version?: string;
  deploy: boolean;
  dryRun?: boolean;
  force?: boolean;
};

/** `pave init` stopped after it had written files: the message says what exists and how to finish or undo it. */
export class InitIncompleteError extends Error {
  override name = 'InitIncompleteError';
}

/** Git's identity when the user has none configured, so the first commit can be made anyway. */
const FALLBACK_AUTHOR = ['-c', 'user.name=Pave', '-c', 'user.email=pave@localhost'];

/**
 * A `--set` value as the parameter's JSON Schema type wants it: integers and numbers from their digits, booleans
 * from true/false, arrays and objects from JSON. Text that does not convert stays text, so the server's check
 * names the parameter and the rule it breaks (`port: must be integer (type)`).
 */
export function coerceAnswer(text: string, schema: Record<string, unknown> | undefined): unknown {
  const types = Array.isArray(schema?.type) ? (schema.type as unknown[]) : [schema?.type];
  if (
    (types.includes('integer') || types.includes('number')) &&
    /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/u.test(text)
  ) {
    return Number(text);
  }
  if (types.includes('boolean') && (text === 'true' || text === 'false')) return text === 'true';
  if (types.includes('array') || types.includes('object')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * Splits `--set key=value` flags into answers to the template's parameters (coerced, see {@link coerceAnswer})
 * and the values of its secret values. CliUsageError for a flag without `=`, or a key that is neither.
 */
export function parseSetFlags(
  flags: readonly string[],
  parameters: TemplateParameters,
  secretKeys: readonly string[],
): { answers: TemplateAnswers; secrets: Record<string, string> } {
  const answers: TemplateAnswers = {};
  const secrets: Record<string, string> = {};
  for (const flag of flags) {
    const at = flag.indexOf('=');
    if (at <= 0) throw new CliUsageError(`--set "${flag}": write --set key=value, e.g. --set port=8080`);
    const key = flag.slice(0, at);
    const value = flag.slice(at + 1);
    if (Object.hasOwn(parameters.properties, key))
      answers[key] = coerceAnswer(value, parameters.properties[key]);
    else if (secretKeys.includes(key)) secrets[key] = value;
    else {
      const known = [...Object.keys(parameters.properties), ...secretKeys];
      throw new CliUsageError(
        `--set ${key}: the template has no such parameter or secret value; it has ${known.join(', ') || 'none'}`,
      );
    }
  }
  return { answers, secrets };
}

/** A directory as people should type it: `./orders`, `../x` or an absolute path. */
export function shownDir(dir: string, cwd = process.cwd()): string {
  const path = relative(cwd, dir);
  if (path === '') return '.';
  return path.startsWith('..') || isAbsolute(path) ? dir : `./${path}`;
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/u.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The `pave deploy` command that deploys the generated Score files. */
function deployCommand(rendered: RenderedTemplate, env: string): string {
  const files = rendered.setup.score.map((file) => `-f ${shellQuote(file)}`).join(' ');
  return `pave deploy ${files} --app ${rendered.setup.app} --env ${env} --wait`;
}

/**
 * What `pave init` does about git in the project's directory: `create` a repository there with a first commit;
 * nothing when the directory is `inside` the work tree of the repository at `root` (pave init commits only into
 * a repository it created), or when `git` is not installed.
 */
export type ProjectRepository = { kind: 'create' } | { kind: 'inside'; root: string } | { kind: 'no-git' };

/** What `--dry-run` shows: the files to write, the commands to run and the API calls to make. */
export interface InitPlan {
  template: { id: string; version: number };
  dir: string;
  files: string[];
  commands: string[];
  /** Why no git command is listed (the directory is inside a repository, or git is missing); absent when listed. */
  git?: string;
  calls: string[];
}

/**
 * The plan of `pave init` for a rendered template into `dir`, deploying `deployEnv` (null: nothing), with git
 * as `repository` says.
 */
export function initPlan(
  rendered: RenderedTemplate,
  dir: string,
  deployEnv: string | null,
  repository: ProjectRepository = { kind: 'create' },
): InitPlan {
  const { setup } = rendered;
  const where = `?version=${rendered.version}`;
  const envs = setup.environments.filter((env) => env.from === undefined).map((env) => env.id);
  const values = setup.values.map((v) => `${v.key}${v.secret ? ' (secret)' : ''}`);
  const calls = [
    `POST /api/v1/templates/${rendered.id}/instantiate${where}: create app ${setup.app}` +
      (envs.length ? `, environments ${envs.join(', ')}` : '') +
      (values.length ? `, values ${values.join(', ')}` : ''),
  ];
  if (deployEnv) {
    calls.push(
      `POST /api/v1/apps/${setup.app}/envs/${deployEnv}/deployments: deploy ${setup.score.join(', ')}, then wait`,
    );
  }
  for (const env of setup.environments.filter((e) => e.from !== undefined)) {
    calls.push(`POST /api/v1/apps/${setup.app}/envs: create ${env.id} (${env.type}) from ${env.from}`);
  }
  return {
    template: { id: rendered.id, version: rendered.version },
    dir,
    files: rendered.files.map((file) => file.path),
    commands: [
      ...(repository.kind === 'create'
        ? ['git init', 'git add -A', `git commit -m "${commitMessage(rendered)}"`]
        : []),
      ...setup.prepare.filter(() => deployEnv !== null),
    ],
    ...(repository.kind === 'create' ? {} : { git: noRepositoryReason(dir, repository, 'would not') }),
    calls,
  };
}

/** Why `pave init` makes no repository in `dir` (`verb`: "not" when it did not, "would not" in a dry run). */
function noRepositoryReason(
  dir: string,
  repository: Exclude<ProjectRepository, { kind: 'create' }>,
  verb: 'not' | 'would not',
): string {
  const dryRun = verb === 'would not';
  return repository.kind === 'inside'
    ? `${dir} is inside the git repository at ${repository.root}: ` +
        `${dryRun ? 'would not create one' : 'not creating one'}; commit it there yourself`
    : `git is not installed: the files ${dryRun ? 'would not be' : 'are not'} committed; install git to ` +
        'make the project a repository, or commit it yourself';
}

function renderInitPlan(plan: InitPlan): string {
  return [
    `Would write ${plan.files.length} files to ${plan.dir} (template ${plan.template.id} version ${plan.template.version}):`,
    ...plan.files.map((file) => `  ${file}`),
    ...(plan.commands.length
      ? [`Would run in ${plan.dir}:`, ...plan.commands.map((command) => `  ${command}`)]
      : []),
    ...(plan.git ? [plan.git] : []),
    'Would call:',
    ...plan.calls.map((call) => `  ${call}`),
    'Dry run: nothing was written or created.',
  ].join('\n');
}

function commitMessage(rendered: RenderedTemplate): string {
  return `Generated from template ${rendered.id} version ${rendered.version} by pave init`;
}

/** Whether `dir` is missing or empty. */
async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw new CliUsageError(
      `cannot use ${dir}: ${describeFileError(error, dir, 'create-directory')}; give a directory you may write to`,
    );
  }
}

const WRITABLE_DIR = 'give pave init a directory you may write to';

/**
 * Writes the rendered files under `dir` (created as needed); a usage error saying why and what to do when one
 * cannot be written.
 */
async function writeFiles(rendered: RenderedTemplate, dir: string): Promise<void> {
  for (const file of rendered.files) {
    const path = join(dir, file.path);
    const bytes =
      file.binaryContent !== undefined ? Buffer.from(file.binaryContent, 'base64') : (file.content ?? '');
    try {
      makeDirectories(dirname(path));
    } catch (error) {
      throw new CliUsageError(
        `cannot create ${dirname(path)}: ${whyUnmade(error, dirname(path))}; ${WRITABLE_DIR}`,
      );
    }
    try {
      await writeFile(path, bytes);
      if (file.executable) await chmod(path, 0o755);
    } catch (error) {
      throw new CliUsageError(
        `cannot write ${path}: ${describeFileError(error, path, 'write')}; ${WRITABLE_DIR}`,
      );
    }
  }
}

function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise) => {
    execFile(command, args, { cwd, env, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
      resolvePromise({ code, output: `${stdout}${stderr}`.trim() || (error?.message ?? '') });
    });
  });
}

// Variables that point git at another repository than the one its working directory is in.
const GIT_LOCATION = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_COMMON_DIR'];

/** The environment for git in `pave init`: the caller's, without variables that would aim git elsewhere. */
function gitEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !GIT_LOCATION.includes(key)));
}

/** `dir`, or the nearest of its parents that exists: where git can be asked about it before it is made. */
function nearestExisting(dir: string): string {
  let at = dir;
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  return at;
}

/**
 * What `pave init` will do about git for a project in `dir` (which need not exist yet): make a repository
 * there, unless `dir` is inside the work tree of an existing one (its root is given) or git is not installed.
 * Like `cargo new`, it nests no repository in another one, except where that one ignores `dir`.
 */
async function projectRepository(dir: string, env: NodeJS.ProcessEnv): Promise<ProjectRepository> {
  const at = nearestExisting(dir);
  const top = await run('git', ['rev-parse', '--show-toplevel'], at, gitEnv(env));
  if (top.code === 127) return { kind: 'no-git' };
  if (top.code !== 0 || !top.output) return { kind: 'create' };
  // The trailing slash asks about `dir` as a directory, as `generated/` in a .gitignore names one.
  const ignored = await run('git', ['check-ignore', '-q', '--', `${dir}/`], at, gitEnv(env));
  return ignored.code === 0 ? { kind: 'create' } : { kind: 'inside', root: top.output };
}

/**
 * Makes `dir` a git repository with a first commit of everything in it. A user with no git identity gets
 * Pave's. Commits only into the repository it has just created: resolves with why not when `git init` made
 * none at `dir`, or when a step failed; undefined when committed.
 */
async function commitFirst(
  dir: string,
  message: string,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const clean = gitEnv(env);
  const init = await run('git', ['init', '-q'], dir, clean);
  if (init.code !== 0) return `git init failed: ${init.output}`;
  const top = await run('git', ['rev-parse', '--show-toplevel'], dir, clean);
  if (top.code !== 0 || !top.output || realpathSync(top.output) !== realpathSync(dir)) {
    return `git init made no repository at ${dir} (${top.output})`;
  }
  const add = await run('git', ['add', '-A', '--', '.'], dir, clean);
  if (add.code !== 0) return `git add failed: ${add.output}`;
  const identity = await run('git', ['config', 'user.email'], dir, clean);
  const author = identity.code === 0 && identity.output ? [] : FALLBACK_AUTHOR;
  const commit = await run('git', [...author, 'commit', '-q', '-m', message], dir, clean);
  return commit.code === 0 ? undefined : `git commit failed: ${commit.output}`;
}

/** Runs one `prepare` command with `sh -c` in `dir`, its output on stderr; rejects when it fails. */
function runPrepare(command: string, dir: string, io: CliIo): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('sh', ['-c', command], { cwd: dir, env: io.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => io.stderr.write(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => io.stderr.write(chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0
        ? resolvePromise()
        : reject(new Error(`\`${command}\` exited with ${signal ?? `code ${code}`}`)),
    );
  });
}

/** What `pave init` has done so far, for the message of a failure half-way. */
class InitProgress {
  private readonly done: string[] = [];
  appCreated = false;
  constructor(
    private readonly dir: string,
    private readonly createdDir: boolean,
    private readonly app: string,
  ) {}

  record(step: string): void {
    this.done.push(step);
  }

  /** The error for `step` failing with `error`: what exists, and the commands that finish or undo it. */
  failure(step: string, error: unknown, finish: string): InitIncompleteError {
    const reason = error instanceof Error ? error.message : String(error);
    const undo = [
      ...(this.appCreated ? [`pave apps delete ${this.app} --force`] : []),
      this.createdDir ? `rm -rf ${shellQuote(this.dir)}` : `remove the generated files from ${this.dir}`,
    ].join(' && ');
    return new InitIncompleteError(
      `${this.done.join('; ')}; ${step} failed: ${reason}\n` +
        `  finish with \`${finish}\`,\n  or undo with \`${undo}\``,
    );
  }
}

/**
 * Asks for what is missing when a person is at the terminal: each parameter not given with --set (its default
 * offered) and each secret value. Loaded only then, so scripts never load the prompt library.
 */
async function askMissing(
  template: TemplateRecord,
  answers: TemplateAnswers,
  secrets: Record<string, string>,
  io: CliIo,
): Promise<void> {
  const { askTemplateAnswers } = await import('../init-prompts.ts');
  await askTemplateAnswers(template, answers, secrets, io);
}

/** `pave init TEMPLATE [DIR]`: generate a project from a template, set it up in Pave and deploy it. */
export function registerInitCommand(program: Command, io: CliIo): void {
  addClientOptions(
    aliasApiFields(program.command('init'), { 'path.id': '<template>' })
      .summary('Generate a project from a template, create its app and deploy it')
      .description(
        'Generate a project from a template (a golden path, see `pave templates list`): the server checks the ' +
          'answers, and that you may create the app and its environments, before anything is written; then ' +
          'the files are written to DIR (default ./NAME) and committed to a new git repository there (none ' +
          'when DIR is inside a repository already), the app, its environments and values are created (you ' +
          "own the app), the template's prepare commands run in DIR, and its environment is deployed; the URL " +
          'is printed. Missing answers are asked for when stdin is a terminal.',
      )
      .argument('<template>', 'the template id, e.g. node-http')
      .argument('[dir]', 'where to generate the project (default ./NAME); its name is the default of `name`')
      .option('--set <key=value>', 'answer a parameter, or give a secret value (repeatable)', collect)
      .option('--version <n>', 'use this version of the template (default: the latest)')
      .option('--no-deploy', 'create the app and its environments, deploy nothing (prepare is not run)')
      .option('--dry-run', 'list the files, commands and API calls; write and create nothing')
      .option('--force', 'write into DIR even if it is not empty (files of the same name are replaced)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave init node-http orders',
        'pave init node-http orders --set port=9090 --dry-run',
        'pave init static-site site --set title="Our docs" --no-deploy',
        'pave init node-http orders --version 1',
      ),
    )
    .action(async (templateId: string, dirArg: string | undefined, options: InitOptions) => {
      const version = templateVersionOf(options.version);
      const { client, output } = await clientFor(options, io);
      const template = await client.getTemplate(templateId, version);
      const secretKeys = template.setup.values.filter((value) => value.secret).map((value) => value.key);
      const { answers, secrets } = parseSetFlags(options.set ?? [], template.parameters, secretKeys);
      const nameFromDir =
        dirArg !== undefined && Object.hasOwn(template.parameters.properties, 'name') && !('name' in answers);
      if (nameFromDir) answers.name = basename(resolve(dirArg));
      if (io.stdinIsTTY && output.format === 'table') await askMissing(template, answers, secrets, io);
      // A refusal of an answer or secret value names what gave it: `--set "port=abc"`, `[dir] "Bad_Dir"`.
      const naming = {
        set: options.set ?? [],
        ...(nameFromDir ? { dir: dirArg } : {}),
      };
      // The server checks the answers (naming each parameter and rule) before anything is written.
      const rendered = await client
        .renderTemplate(template.id, { answers }, template.version)
        .catch((error: unknown) => {
          throw namingAnswers(error, naming);
        });
      const missing = secretKeys.filter((key) => !secrets[key]);
      if (missing.length) {
        throw new CliUsageError(
          `${missing.map((key) => `${key}: is required (a secret value of the template)`).join('; ')}; give ` +
            `${missing.map((key) => `--set ${key}=…`).join(' ')} (stored as a secret value of the app)`,
        );
      }
      const dir = resolve(dirArg ?? String(rendered.answers.name ?? rendered.setup.app));
      const shown = shownDir(dir);
      const createdDir = await isEmptyDir(dir);
      if (!createdDir && !options.force) {
        throw new CliUsageError(
          `${shown} is not empty; choose another directory, or pass --force to write into it ` +
            '(files of the template replace files of the same name)',
        );
      }
      // Everything the server checks when it creates the app, asked before a file is written.
      await refuseUnlessInstantiable(client, rendered, { answers, secrets }).catch((error: unknown) => {
        throw namingAnswers(error, naming);
      });
      const deployEnv = options.deploy ? rendered.setup.deploy : null;
      const gitEnvironment = io.env as NodeJS.ProcessEnv;
      const repository = await projectRepository(dir, gitEnvironment);
      if (options.dryRun) {
        output.show(initPlan(rendered, shown, deployEnv, repository), renderInitPlan);
        return;
      }

      await writeFiles(rendered, dir);
      const app = rendered.setup.app;
      const progress = new InitProgress(shown, createdDir, app);
      progress.record(`files written to ${shown}`);
      let notCommitted: string | undefined;
      if (repository.kind === 'create') {
        notCommitted = await commitFirst(dir, commitMessage(rendered), gitEnvironment);
        if (notCommitted) io.stderr.write(`pave: warning: the files are not committed (${notCommitted})\n`);
        else progress.record('committed');
      } else {
        notCommitted = noRepositoryReason(shown, repository, 'not');
        if (repository.kind === 'inside') output.confirm(notCommitted);
        else io.stderr.write(`pave: warning: ${notCommitted}\n`);
      }
      output.confirm(
        `Wrote ${rendered.files.length} files to ${shown}${notCommitted ? '' : ' and committed them'} ` +
          `(template ${rendered.id} version ${rendered.version})`,
      );

      const again = `pave init ${template.id} ${shellQuote(shown)} --version ${rendered.version} --force`;
      let instance;
      try {
        instance = await client.instantiateTemplate(template.id, { answers, secrets }, rendered.version);
      } catch (error) {
        throw progress.failure(
          `creating the app ${app}`,
          error,
          `${again} ${setFlags(options, secretKeys)}`.trim(),
        );
      }
      progress.appCreated = true;
      const envs = instance.environments.map((env) => env.id);
      progress.record(`the app ${app} exists${envs.length ? ` with ${envs.join(', ')}` : ''}`);
      output.confirm(
        `Created app ${app}${envs.length ? ` with environment${envs.length === 1 ? '' : 's'} ${envs.join(', ')}` : ''}` +
          (instance.values.length ? ` and values ${instance.values.map((v) => v.key).join(', ')}` : ''),
      );

      const urls: string[] = [];
      let deployment: Deployment | undefined;
      if (deployEnv) {
        // Environments cloned from the deployed one are created last: a failure before leaves them to do too.
        const createPending = (from: number) =>
          instance.pendingEnvironments
            .slice(from)
            .map(
              (env) =>
                `pave envs create ${env.id} --app ${app} --type ${env.type} --from ${env.from}` +
                (env.ttl ? ` --ttl ${env.ttl}` : ''),
            );
        const thenPending = createPending(0)
          .map((command) => ` && ${command}`)
          .join('');
        const finish = `cd ${shellQuote(shown)} && ${deployCommand(rendered, deployEnv)}${thenPending}`;
        for (const command of rendered.setup.prepare) {
          output.confirm(`Running ${command}`);
          try {
            await runPrepare(command, dir, io);
          } catch (error) {
            throw progress.failure(
              `\`${command}\``,
              error,
              `cd ${shellQuote(shown)} && ${command} && ${deployCommand(rendered, deployEnv)}${thenPending}`,
            );
          }
        }
        try {
          deployment = await deploy(client, rendered, dir, deployEnv, io, output);
          urls.push(...(await routeUrls(client, app, deployEnv)));
        } catch (error) {
          throw progress.failure(`deploying ${deployEnv}`, error, finish);
        }
        progress.record(`${deployEnv} is deployed`);
        for (const [index, env] of instance.pendingEnvironments.entries()) {
          try {
            await client.createEnvironment(app, {
              id: env.id,
              type: env.type,
              from: env.from,
              ...(env.ttl ? { ttlSeconds: ttlSeconds(env.ttl) } : {}),
            });
          } catch (error) {
            throw progress.failure(
              `creating ${env.id} from ${env.from}`,
              error,
              createPending(index).join(' && '),
            );
          }
          output.confirm(`Created environment ${env.id} from ${env.from}`);
        }
      }
      const summary = {
        template: { id: rendered.id, version: rendered.version },
        dir,
        files: rendered.files.map((file) => file.path),
        committed: !notCommitted,
        ...(repository.kind === 'inside' ? { repository: repository.root } : {}),
        app,
        environments: [...envs, ...(deployEnv ? instance.pendingEnvironments.map((env) => env.id) : [])],
        deployment: deployment ? { env: deployEnv, id: deployment.id } : null,
        urls,
      };
      output.show(summary, (body) =>
        [
          ...body.urls.map((url) => `Your app is served at ${url}`),
          nextStep(rendered, shown, deployEnv),
        ].join('\n'),
      );
    });
}

/** What to do next: deploy again after a change, or (nothing deployed) prepare and deploy. */
function nextStep(rendered: RenderedTemplate, shown: string, deployed: string | null): string {
  const env = deployed ?? rendered.setup.deploy ?? rendered.setup.environments[0]?.id;
  if (!env) return `Next: cd ${shellQuote(shown)}`;
  const deployIt = deployCommand(rendered, env);
  if (deployed) return `Next: cd ${shellQuote(shown)}, change it, and deploy again with \`${deployIt}\``;
  const steps = [`cd ${shellQuote(shown)}`, ...rendered.setup.prepare, deployIt].join(' && ');
  return `Next: deploy it with \`${steps}\``;
}

/**
 * Asks the server for a dry run of the instantiation (before a file is written, in pave init's dry run too),
 * which runs every check the real one does: the answers, the secret values, that the app id is free, that
 * the caller may create apps and environments of each restricted type of the template. Refused, the server
 * would otherwise refuse the app only after the files were written and committed.
 */
async function refuseUnlessInstantiable(
  client: PaveClient,
  rendered: RenderedTemplate,
  body: InstantiateTemplateBody,
): Promise<void> {
  const app = rendered.setup.app;
  let plan: { app?: unknown };
  try {
    plan = await client.planTemplateInstance(rendered.id, body, rendered.version);
  } catch (error) {
    const { status, problem } = error as Partial<ApiError>;
    if ((error as Error).name !== 'ApiError' || !problem) throw error;
    if (status === 409) {
      throw new CliUsageError(
        `app ${app} already exists; choose another name (--set name=…), or delete it first ` +
          `(\`pave apps delete ${app} --force\`)`,
      );
    }
    if (status !== 403) throw error;
    const reason = (problem.detail || problem.title).replace(/^you may not do this: /u, '');
    const problems = problem.errors ?? [];
    // The route's own permission: the caller may create no app at all.
    if (problems.some((e) => e.path === 'permission' && e.message.startsWith('app.create:'))) {
      throw new Error(
        `pave init makes the app ${app}, and you may not create apps: ${reason}; ask an admin for such a ` +
          'role (`pave auth can-i app.create` tells you when you may)',
        { cause: error },
      );
    }
    // What the template sets up: the server says which of its environments, and how to be allowed.
    throw new Error(
      [`pave init makes the app ${app}, and you may not: ${reason}`, ...problems.map((e) => e.message)].join(
        '; ',
      ),
      { cause: error },
    );
  }
  // A server from before the dry run ignores the flag and instantiates: it answers the app it made, not its id.
  if (typeof plan.app !== 'string') {
    throw new Error(
      `the server is older than this pave and created the app ${app} while asked only to check it; no file ` +
        `was written: upgrade the server, or delete the app (\`pave apps delete ${app} --force\`) and run ` +
        "pave init with a pave of the server's version",
    );
  }
}

/**
 * `error` with the answers and secret values its field errors name (`/answers/port`, `/secrets/API_KEY`)
 * replaced by what gave them on the command line: the `--set` flag typed (`--set "port=abc"`; a secret's value
 * is never shown), `[dir]` for a name made from the directory, else the `--set KEY=…` that would give it.
 * Anything else is returned as it is.
 */
export function namingAnswers(error: unknown, from: { set: readonly string[]; dir?: string }): unknown {
  // By name, not instanceof: the bundle may hold a copy of @pave/core of its own.
  if (!(error instanceof Error) || error.name !== 'ApiError') return error;
  const apiError = error as ApiError;
  const fields = apiError.problem.errors ?? [];
  const renamed = fields.map((field) => {
    const match = /^\/(answers|secrets)\/([^/]+)(\/.*)?$/u.exec(field.path);
    if (!match) return field;
    const [, kind, pointerKey = '', rest] = match;
    const key = pointerKey.replace(/~1/gu, '/').replace(/~0/gu, '~');
    // The last --set of a key is the one parseSetFlags kept.
    const typed = [...from.set].reverse().find((flag) => flag.slice(0, flag.indexOf('=')) === key);
    let shown = `--set ${key}=…`;
    let message = field.message;
    if (kind === 'answers' && typed !== undefined) shown = `--set ${JSON.stringify(typed)}`;
    else if (kind === 'answers' && key === 'name' && from.dir !== undefined) {
      shown = `[dir] ${JSON.stringify(from.dir)}`;
      message +=
        "; the directory's name is the app's name: choose another directory, or keep this one and pass " +
        '--set name=…';
    }
    return { ...field, path: rest ? `${shown} at ${rest}` : shown, message };
  });
  // A new error of the same class rather than a change: `problem` is read-only.
  const ApiErrorClass = apiError.constructor as typeof ApiError;
  return new ApiErrorClass(apiError.status, { ...apiError.problem, errors: renamed });
}

/** The --set flags to give again, secret values left for the user to fill in (they are never printed). */
function setFlags(options: InitOptions, secretKeys: readonly string[]): string {
  return (options.set ?? [])
    .map((flag) => {
      const key = flag.slice(0, flag.indexOf('='));
      return secretKeys.includes(key) ? `--set ${key}=…` : `--set ${shellQuote(flag)}`;
    })
    .join(' ');
}

function ttlSeconds(ttl: string): number {
  const factor = { m: 60, h: 3600, d: 86_400, w: 604_800 }[ttl.slice(-1)] ?? 1;
  return Number(ttl.slice(0, -1)) * factor;
}

/** Deploys the generated Score files to `env` the way `pave deploy --wait` does; resolves when it succeeded. */
async function deploy(
  client: PaveClient,
  rendered: RenderedTemplate,
  dir: string,
  env: string,
  io: CliIo,
  output: Awaited<ReturnType<typeof clientFor>>['output'],
): Promise<Deployment> {
  const { loadScoreFiles, deploymentBody } = await import('./deploy.ts');
  const { queuedLine, giveUpAfterMs, progressOn, waitForDeployment } = await import('./progress.ts');
  const loaded = await loadScoreFiles(rendered.setup.score, dir);
  if (loaded.problems.length)
    throw new Error(`the generated Score files have problems:\n  ${loaded.problems.join('\n  ')}`);
  const body = deploymentBody(
    loaded.workloads,
    { autoRollback: true, message: `pave init from template ${rendered.id} version ${rendered.version}` },
    undefined,
  );
  const deployment = (await client.createDeployment(rendered.setup.app, env, body)) as Deployment;
  const progress = progressOn(io.stderr, io.env, output.format);
  progress.line(queuedLine(deployment));
  await waitForDeployment(client, rendered.setup.app, env, deployment.id, output, {
    timeoutMs: giveUpAfterMs(undefined),
    colors: colorsFor(io.stdout, io.env),
    progress,
    printResult: false,
  });
  return deployment;
}

/** The URLs of the environment's routes, as `pave status` shows them. */
async function routeUrls(client: PaveClient, app: string, env: string): Promise<string[]> {
  const status = await client.getStatus(app, env).catch(() => undefined);
  return (status?.workloads ?? []).flatMap((workload) => workload.routes ?? []);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
