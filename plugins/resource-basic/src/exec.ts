import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import {
  directoryAccessProblem,
  grantToWorkload,
  isolatedCommand,
  searchablePath,
  type IsolatedCommand,
  type Isolation,
} from '@pave/plugin-api';
import type {
  CheckFailure,
  DriverContext,
  ResourceDiff,
  ResourceDriver,
  ResourceInputs,
  ResourceOutputs,
  ResourceScope,
} from '@pave/plugin-api';
import { NOT_STARTED, runCommand, type CommandResult } from './command.ts';
import { describeValue, scopeId } from './names.ts';
import { assertNoFailures, changedKeys, isRecord, isScalar } from './values.ts';

/** The actions the exec driver asks its command to perform. */
export type ExecAction = 'create' | 'update' | 'delete' | 'read';

/** Configuration of the exec driver (Pave's configuration, not a resource definition's). */
export interface ExecDriverConfig {
  /**
   * Variables of the control plane's environment passed on to commands (besides `driverInputs.env` and the
   * `PAVE_*` variables); default DEFAULT_INHERITED_ENV. The server gives DEFAULT_INHERITED_ENV and the names
   * of `pave up --driver-env` (e.g. `KUBECONFIG`, `AWS_PROFILE`). Nothing else of the control plane's
   * environment, which may hold its own secrets, reaches a command.
   */
  inheritEnv?: string[];
  /**
   * Between SIGTERM and SIGKILL when a command is stopped (timeout, the deployment stopped); default 5 000 ms.
   * For tests and embedding: `pave up` leaves it unset and no setting changes it.
   */
  killGraceMs?: number;
  /**
   * How commands are isolated, as the process runtime's workloads are (see `isolatedCommand`); default none.
   * Isolated, a command may write only its `cwd` (default: a fresh empty directory, removed after the run).
   */
  isolation?: Isolation;
}

/** What the exec driver takes from its surroundings (replaceable in tests). */
export interface ExecDriverDeps {
  /** Where inherited variables come from; default `process.env`. */
  hostEnv?: NodeJS.ProcessEnv;
}

/** The control plane's variables a command gets unless ExecDriverConfig.inheritEnv says otherwise. */
export const DEFAULT_INHERITED_ENV: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
];

/** How long a command may run when `driverInputs.timeoutSeconds` is not set. */
export const DEFAULT_EXEC_TIMEOUT_SECONDS = 300;

/** The longest `timeoutSeconds` the driver takes: a day (a timer cannot wait much more than 24 days). */
const MAX_EXEC_TIMEOUT_SECONDS = 86_400;

/** Lines of stderr quoted in an ExecCommandError. */
const STDERR_TAIL_LINES = 20;
/** A quoted stderr line is cut at this length (after masking). */
const MAX_QUOTED_LINE = 2_000;

/** The `driverInputs` keys that configure the driver; the rest are passed to the command as `inputs`. */
const DRIVER_KEYS = ['command', 'cwd', 'env', 'timeoutSeconds'];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The JSON object an exec command reads on stdin. */
export interface ExecRequest {
  action: ExecAction;
  /** The id create returned; null for create and for the compensating delete after a failed create. */
  id: string | null;
  scope: ResourceScope;
  params: Record<string, unknown>;
  /** `driverInputs` without `command`, `cwd`, `env` and `timeoutSeconds`. */
  inputs: Record<string, unknown>;
  /** `driverSecrets`, decrypted. */
  secrets: Record<string, unknown>;
  /** Update only: the inputs the resource was last created or updated with; null otherwise. */
  previous: {
    inputs: Record<string, unknown>;
    secrets: Record<string, unknown>;
    params: Record<string, unknown>;
  } | null;
  /** Create only, when cloning an environment with its data: the outputs of the resource to copy from. */
  cloneFrom?: ResourceOutputs;
}

/**
 * A command run by the exec driver failed. The message names the action, the resource, the exit code (or
 * why there is none) and quotes the last 20 lines of stderr with the definition's secrets masked as `***`;
 * it never quotes stdout, which may hold secrets.
 */
export class ExecCommandError extends Error {
  override name = 'ExecCommandError';
  constructor(
    message: string,
    readonly action: ExecAction,
    /** The exit code; null when the command was killed or never started. */
    readonly exitCode: number | null,
    /** The last lines of stderr, secrets masked. */
    readonly stderrTail: string[],
    /** False when the command never started, so it cannot have changed anything. */
    readonly started: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

interface ExecSettings {
  argv: string[];
  cwd?: string;
  timeoutSeconds: number;
  env: Record<string, string>;
  inputs: Record<string, unknown>;
}

/**
 * The escape hatch: provisions resources by running a program of the platform team's (a Terraform wrapper,
 * Helm, a cloud CLI, a shell script) once per action. The driver keeps no state; the command does.
 *
 * Resource definition (`driverInputs.values`):
 * - `command` (required): argv array, run without a shell, e.g. `["/opt/pave/bucket.sh"]`;
 * - `cwd`: absolute working directory (default: the control plane's);
 * - `timeoutSeconds`: per run, default 300;
 * - `env`: extra environment variables (strings);
 * - anything else is passed to the command as `inputs`; `driverInputs.secrets` as `secrets`.
 *
 * Protocol, per run:
 * - stdin: one JSON object (ExecRequest): `{ action, id, scope, params, inputs, secrets, previous, cloneFrom }`
 *   with `action` one of `create`, `update`, `read`, `delete`; `id` is the resource's id (null on create);
 *   `previous` holds the old `{ inputs, secrets, params }` on update and is null otherwise; `cloneFrom`
 *   (create only) the outputs of a resource to copy data from.
 * - environment: the inherited variables (ExecDriverConfig.inheritEnv, under `pave up` the defaults and the
 *   names of `--driver-env`), `driverInputs.env`, and `PAVE_ACTION`, `PAVE_ID` (empty on create), `PAVE_APP`,
 *   `PAVE_ENV`, `PAVE_ENV_TYPE`, `PAVE_RESOURCE_TYPE`, `PAVE_RESOURCE_CLASS`, `PAVE_RESOURCE_ID` (Score's
 *   resource id) and `PAVE_RESOURCE_ADDRESS`.
 * - stdout, for create, update and read: one JSON object `{ "id"?: string, "values"?: {…}, "secrets"?: {…} }`
 *   whose values are strings, numbers or booleans (stringified into the outputs). `id` is used on create
 *   only (default: `exec-` and a hash of app, environment and address). For read, `null` means the resource
 *   is gone. For delete stdout is ignored (it may be empty).
 * - exit code 0 means success. A non-zero exit, a timeout, `ctx.signal` (the deployment stopped, or the time
 *   the control plane gives the work ran out: the error says which), or stdout that is not a JSON object
 *   rejects with ExecCommandError, quoting the exit code and the last 20 lines of stderr (secrets masked),
 *   never stdout. A stopped command's process group gets SIGTERM, then SIGKILL; when the command exits,
 *   whatever it left running in its process group is killed.
 *
 * Failure rules: the command must make `delete` idempotent (deleting a missing resource succeeds) and may
 * be asked to delete a resource that it only partly created: when `create` fails the driver runs the command
 * again with `action: "delete"`, `id: null` and `previous: null` to remove whatever was left, then rejects
 * with the create's error (saying so when that compensating delete failed too, as the resource may then
 * still exist). The compensating run is not tied to `ctx.signal`, so it also runs after the deployment stopped. An
 * update that fails should leave the resource as it was.
 *
 * `diff` reports a change (never a replacement) when `driverInputs`, `driverSecrets` or `params` differ;
 * the command decides what an update changes.
 */
export class ExecDriver implements ResourceDriver {
  readonly name = 'exec';
  private readonly inheritEnv: readonly string[];
  private readonly killGraceMs: number;
  private readonly hostEnv: NodeJS.ProcessEnv;
  private readonly isolation: Isolation | undefined;

  private constructor(config: ExecDriverConfig, deps: ExecDriverDeps) {
    this.inheritEnv = config.inheritEnv ?? DEFAULT_INHERITED_ENV;
    this.killGraceMs = config.killGraceMs ?? 5_000;
    this.hostEnv = deps.hostEnv ?? process.env;
    this.isolation = config.isolation?.level === 'none' ? undefined : config.isolation;
  }

  /** An exec driver; see ExecDriverConfig for what the control plane may pass on to commands. */
  static fromConfig(config: ExecDriverConfig = {}, deps: ExecDriverDeps = {}): ExecDriver {
    return new ExecDriver(config, deps);
  }

  /** Every problem with `command`, `cwd`, `timeoutSeconds` and `env` (properties named after those keys). */
  async check(inputs: ResourceInputs, _ctx: DriverContext): Promise<CheckFailure[]> {
    return settingsOf(inputs).failures;
  }

  /** A change (never a replacement) when driver inputs, secrets or params differ; secret values are not named. */
  async diff(
    _id: string,
    olds: ResourceInputs,
    news: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<ResourceDiff> {
    const changedProperties = [
      ...changedKeys('driverInputs', olds.driverInputs, news.driverInputs),
      ...changedKeys('driverSecrets', olds.driverSecrets, news.driverSecrets),
      ...changedKeys('params', olds.params, news.params),
    ];
    return { changes: changedProperties.length > 0, replace: false, changedProperties };
  }

  /**
   * Runs the command with action `create`. If that fails in any way after the command started, runs it with
   * action `delete` to remove what it left, then rejects with ExecCommandError.
   */
  async create(
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ id: string; outputs: ResourceOutputs }> {
    const settings = this.settings(inputs);
    try {
      // invoke refuses `null` for every action but read.
      const printed = (await this.invoke('create', null, inputs, null, settings, ctx.signal))!;
      return { id: printed.id ?? scopeId(this.name, inputs.scope), outputs: printed.outputs };
    } catch (error) {
      if (error instanceof ExecCommandError && !error.started) throw error;
      ctx.logger.warn('exec create failed; running the command with action delete to remove what it left', {
        address: inputs.scope.address,
      });
      try {
        await this.invoke('delete', null, inputs, null, settings, undefined);
      } catch (compensation) {
        const reason = compensation instanceof Error ? compensation.message : String(compensation);
        const message =
          `${(error as Error).message}\nThe compensating delete failed as well, so the resource may still exist ` +
          `and must be removed by hand:\n${reason}`;
        const failed = error instanceof ExecCommandError ? error : undefined;
        throw new ExecCommandError(
          message,
          'create',
          failed?.exitCode ?? null,
          failed?.stderrTail ?? [],
          true,
          {
            cause: compensation,
          },
        );
      }
      throw error;
    }
  }

  /** Runs the command with action `update` and the old inputs as `previous`; the new outputs are its stdout. */
  async update(
    id: string,
    olds: ResourceInputs,
    news: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    const settings = this.settings(news);
    const previous = {
      inputs: withoutDriverKeys(olds.driverInputs),
      secrets: olds.driverSecrets,
      params: olds.params,
    };
    const printed = (await this.invoke('update', id, news, previous, settings, ctx.signal))!;
    return { outputs: printed.outputs };
  }

  /** Runs the command with action `read`: its outputs, or null when it printed `null` (the resource is gone). */
  async read(
    id: string,
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs } | null> {
    const printed = await this.invoke('read', id, inputs, null, this.settings(inputs), ctx.signal);
    return printed === null ? null : { outputs: printed.outputs };
  }

  /** Runs the command with action `delete`; stdout is ignored. */
  async delete(id: string, inputs: ResourceInputs, ctx: DriverContext): Promise<void> {
    await this.invoke('delete', id, inputs, null, this.settings(inputs), ctx.signal);
  }

  private settings(inputs: ResourceInputs): ExecSettings {
    const { settings, failures } = settingsOf(inputs);
    assertNoFailures(this.name, failures);
    return settings!;
  }

  /** One run; resolves with what create/update/read printed (null when read printed `null`; null for delete). */
  private async invoke(
    action: ExecAction,
    id: string | null,
    inputs: ResourceInputs,
    previous: ExecRequest['previous'],
    settings: ExecSettings,
    signal: AbortSignal | undefined,
  ): Promise<{ id?: string; outputs: ResourceOutputs } | null> {
    const request: ExecRequest = {
      action,
      id,
      scope: inputs.scope,
      params: inputs.params,
      inputs: settings.inputs,
      secrets: inputs.driverSecrets,
      previous,
      cloneFrom: action === 'create' ? inputs.cloneFrom : undefined,
    };
    const mask = masker(secretValues(inputs, previous));
    const isolated = await this.isolate(settings);
    if ('problem' in isolated) {
      throw commandError(action, inputs.scope, settings.argv, isolated.problem, NOT_STARTED, mask);
    }
    let result: CommandResult;
    const started = Date.now();
    try {
      result = await runCommand({
        argv: [isolated.command.file, ...isolated.command.args],
        cwd: isolated.command.cwd,
        ...(isolated.command.uid !== undefined ? { uid: isolated.command.uid } : {}),
        ...(isolated.command.gid !== undefined ? { gid: isolated.command.gid } : {}),
        env: this.environment(action, id, inputs.scope, settings),
        stdin: JSON.stringify(request),
        timeoutMs: settings.timeoutSeconds * 1000,
        killGraceMs: this.killGraceMs,
        signal,
      });
    } finally {
      await isolated.cleanup();
    }
    const fail = (reason: string) => commandError(action, inputs.scope, settings.argv, reason, result, mask);
    const failure = failureReason(result, settings.timeoutSeconds, signal, Date.now() - started);
    if (failure) throw fail(failure);
    if (action === 'delete') return null;

    const parsed = parseStdout(result.stdout ?? '');
    if (typeof parsed === 'string') throw fail(parsed);
    if (parsed === null && action !== 'read') throw fail('printed null on stdout; expected a JSON object');
    return parsed;
  }

  /**
   * The command line of one run with the driver's isolation: the command may write only its `cwd`, or a
   * fresh directory of its own (removed by `cleanup`) when the definition gives none. A `problem` (the
   * workload user cannot reach `cwd` or the program) means the command was not started.
   */
  private async isolate(
    settings: ExecSettings,
  ): Promise<{ command: IsolatedCommand; cleanup: () => Promise<void> } | { problem: string }> {
    const isolation = this.isolation;
    if (!isolation) {
      const [file = '', ...args] = settings.argv;
      return { command: { file, args, cwd: settings.cwd ?? process.cwd() }, cleanup: async () => undefined };
    }
    const program = settings.argv[0] ?? '';
    if (settings.cwd) {
      const problem = directoryAccessProblem(isolation, settings.cwd);
      if (problem) return { problem: `could not be started: ${problem}` };
    }
    if (isolation.level === 'user' && isAbsolute(program)) {
      const problem = directoryAccessProblem(isolation, dirname(program));
      if (problem) return { problem: `could not be started: ${problem}` };
    }
    const scratch = settings.cwd ? null : await mkdtemp(join(tmpdir(), 'pave-exec-'));
    if (scratch) grantToWorkload(isolation, scratch, scratch);
    const cwd = settings.cwd ?? scratch!;
    const command = isolatedCommand(isolation, {
      argv: settings.argv,
      cwd,
      writable: [cwd],
      // The program itself, wherever it is: the sandbox shows it even in a directory it hides.
      readOnly: isAbsolute(program) ? [program] : [],
    });
    return {
      command,
      cleanup: async () => {
        if (scratch) await rm(scratch, { recursive: true, force: true });
      },
    };
  }

  private environment(
    action: ExecAction,
    id: string | null,
    scope: ResourceScope,
    settings: ExecSettings,
  ): Record<string, string> {
    const env: Record<string, string> = {};
    for (const name of this.inheritEnv) {
      const value = this.hostEnv[name];
      if (value === undefined) continue;
      // Run as the workload user, the command looks up its program only where that user may.
      env[name] = name === 'PATH' && this.isolation ? searchablePath(this.isolation, value) : value;
    }
    return {
      ...env,
      ...settings.env,
      PAVE_ACTION: action,
      PAVE_ID: id ?? '',
      PAVE_APP: scope.app,
      PAVE_ENV: scope.env,
      PAVE_ENV_TYPE: scope.envType,
      PAVE_RESOURCE_TYPE: scope.type,
      PAVE_RESOURCE_CLASS: scope.class,
      PAVE_RESOURCE_ID: scope.resId,
      PAVE_RESOURCE_ADDRESS: scope.address,
    };
  }
}

function withoutDriverKeys(driverInputs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(driverInputs).filter(([key]) => !DRIVER_KEYS.includes(key)));
}

function settingsOf(inputs: ResourceInputs): { settings?: ExecSettings; failures: CheckFailure[] } {
  const { command, cwd, env, timeoutSeconds } = inputs.driverInputs;
  const failures: CheckFailure[] = [];
  if (
    !Array.isArray(command) ||
    command.length === 0 ||
    !command.every((arg) => typeof arg === 'string') ||
    command[0] === ''
  ) {
    failures.push({
      property: 'command',
      reason:
        `must be a non-empty array of strings, the program and its arguments (run without a shell), ` +
        `e.g. ["/opt/pave/bucket.sh", "--region", "eu-west-1"]; got ${describeValue(command)}`,
    });
  }
  if (cwd !== undefined && (typeof cwd !== 'string' || !isAbsolute(cwd))) {
    failures.push({ property: 'cwd', reason: 'must be an absolute directory path' });
  }
  if (
    timeoutSeconds !== undefined &&
    (typeof timeoutSeconds !== 'number' ||
      !Number.isFinite(timeoutSeconds) ||
      timeoutSeconds <= 0 ||
      timeoutSeconds > MAX_EXEC_TIMEOUT_SECONDS)
  ) {
    failures.push({
      property: 'timeoutSeconds',
      reason:
        `must be a positive number of seconds, at most ${MAX_EXEC_TIMEOUT_SECONDS} (a day); ` +
        `default ${DEFAULT_EXEC_TIMEOUT_SECONDS}`,
    });
  }
  if (env !== undefined) {
    if (!isRecord(env)) {
      failures.push({ property: 'env', reason: `must be an object of strings, not ${describeValue(env)}` });
    } else {
      for (const [name, value] of Object.entries(env)) {
        if (!ENV_NAME.test(name)) {
          failures.push({
            property: `env.${name}`,
            reason: 'is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)',
          });
        } else if (typeof value !== 'string') {
          failures.push({ property: `env.${name}`, reason: `must be a string, not ${describeValue(value)}` });
        }
      }
    }
  }
  if (failures.length > 0) return { failures };
  return {
    failures,
    settings: {
      argv: command as string[],
      cwd: cwd as string | undefined,
      timeoutSeconds: (timeoutSeconds as number | undefined) ?? DEFAULT_EXEC_TIMEOUT_SECONDS,
      env: (env as Record<string, string> | undefined) ?? {},
      inputs: withoutDriverKeys(inputs.driverInputs),
    },
  };
}

/**
 * Why a run failed, before its stdout is looked at; undefined when it exited with 0. A run stopped by `signal`
 * (ctx.signal) says whether the time the control plane gives the work ran out (a TimeoutError: a deployment's
 * budget, see docs/architecture.md) or the deployment stopped; `elapsedMs` is how long it ran.
 */
function failureReason(
  result: CommandResult,
  timeoutSeconds: number,
  signal: AbortSignal | undefined,
  elapsedMs: number,
): string | undefined {
  if (result.spawnError) return `could not be started: ${result.spawnError.message}`;
  const timeUp = (signal?.reason as { name?: unknown } | undefined)?.name === 'TimeoutError';
  const budget = 'the time the control plane gives this work';
  const raise = "(a deployment's grows with the definition's timeoutSeconds)";
  if (!result.started && result.aborted) {
    return timeUp
      ? `was not started: ${budget} had run out ${raise}`
      : 'was not started: the deployment stopped (the control plane stopping or losing it)';
  }
  if (result.timedOut) return `timed out after ${timeoutSeconds} s and was killed`;
  if (result.aborted) {
    return timeUp
      ? `was stopped after ${Math.round(elapsedMs / 100) / 10} s: ${budget} ran out ${raise}`
      : 'was stopped: the deployment stopped (the control plane stopping or losing it)';
  }
  if (result.stdout === undefined) return 'printed more than 16 MiB on stdout and was killed';
  if (result.exitSignal) return `was killed by ${result.exitSignal}`;
  if (result.exitCode !== 0) return `exited with code ${result.exitCode}`;
  return undefined;
}

/** The outputs printed on stdout, null for `null`, or why stdout is not acceptable (never quoting it). */
function parseStdout(stdout: string): { id?: string; outputs: ResourceOutputs } | null | string {
  if (stdout.trim() === '') return 'printed nothing on stdout; expected one JSON object';
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    // The parser's message quotes stdout, which may hold secrets.
    return 'printed invalid JSON on stdout (stdout is not shown, it may hold secrets); expected one JSON object';
  }
  if (value === null) return null;
  if (!isRecord(value)) return `printed ${describeValue(value)} on stdout; expected a JSON object`;
  const { id, values = {}, secrets = {} } = value;
  if (id !== undefined && (typeof id !== 'string' || id === '')) {
    return `printed an "id" that is not a non-empty string (${describeValue(id)})`;
  }
  const outputs: ResourceOutputs = { values: {}, secrets: {} };
  for (const [section, record] of [
    ['values', values],
    ['secrets', secrets],
  ] as const) {
    if (!isRecord(record)) return `printed "${section}" as ${describeValue(record)}; expected an object`;
    for (const [key, output] of Object.entries(record)) {
      if (!isScalar(output)) {
        return `printed "${section}.${key}" as ${describeValue(output)}; outputs are strings, numbers or booleans`;
      }
      outputs[section][key] = String(output);
    }
  }
  return id === undefined ? { outputs } : { id, outputs };
}

/** The secret strings of a run, to mask in error messages: the definition's secrets, old and new. */
function secretValues(inputs: ResourceInputs, previous: ExecRequest['previous']): string[] {
  const values: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === 'string') values.push(value);
    else if (typeof value === 'number' || typeof value === 'boolean') values.push(String(value));
    else if (Array.isArray(value)) value.forEach(collect);
    else if (isRecord(value)) Object.values(value).forEach(collect);
  };
  collect(inputs.driverSecrets);
  collect(previous?.secrets);
  collect(inputs.cloneFrom?.secrets);
  return values;
}

/** Secrets shorter than this are masked only as they are: their encoded forms would mask ordinary text. */
const MIN_ENCODED_SECRET_LENGTH = 4;

/**
 * The forms a secret may take in a command's output: as it is, JSON-escaped (a command echoing its
 * stdin), URL-encoded (in a connection string or query), and base64 (standard and URL-safe, with and
 * without padding).
 */
export function secretForms(secret: string): string[] {
  const forms = [secret, JSON.stringify(secret).slice(1, -1)];
  if (secret.length >= MIN_ENCODED_SECRET_LENGTH) {
    const base64 = Buffer.from(secret, 'utf8').toString('base64');
    forms.push(
      encodeURIComponent(secret),
      encodeURIComponent(secret).replace(/%20/g, '+'),
      base64,
      base64.replace(/=+$/, ''),
      Buffer.from(secret, 'utf8').toString('base64url'),
    );
  }
  return forms;
}

/**
 * Replaces every occurrence of each secret, in each of its forms (secretForms), with `***`: longest first,
 * so no part of a longer one survives.
 */
function masker(secrets: string[]): (line: string) => string {
  const forms = secrets.flatMap(secretForms);
  const sorted = [...new Set(forms)].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  return (line) => sorted.reduce((masked, secret) => masked.split(secret).join('***'), line);
}

function commandError(
  action: ExecAction,
  scope: ResourceScope,
  argv: string[],
  reason: string,
  result: CommandResult,
  mask: (line: string) => string,
): ExecCommandError {
  const tail = result.stderrLines.slice(-STDERR_TAIL_LINES).map((line) => {
    const masked = mask(line);
    return masked.length > MAX_QUOTED_LINE ? `${masked.slice(0, MAX_QUOTED_LINE)}…` : masked;
  });
  const exit = result.exitCode === null ? 'none' : String(result.exitCode);
  const signal = result.exitSignal ? `, signal ${result.exitSignal}` : '';
  const stderr =
    tail.length > 0
      ? `last ${tail.length} line(s) of stderr:\n${tail.map((line) => `  | ${line}`).join('\n')}`
      : 'stderr was empty';
  // "exited with code 1" says it already.
  const status = /^exited with code /.test(reason) ? '' : ` (exit code ${exit}${signal})`;
  const message =
    `exec ${action} of ${scope.address} (app ${scope.app}, env ${scope.env}) failed: ` +
    `the command "${basename(argv[0] ?? '')}" ${reason}${status}; ${stderr}`;
  return new ExecCommandError(message, action, result.exitCode, tail, result.started);
}
