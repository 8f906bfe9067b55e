import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { InputError } from '@pave/core';
import type { DriverContext, ResourceScope, ResourceStateBackend } from '@pave/plugin-api';
import { runCommand, type CommandResult } from '@pave/resource-basic';
import { copyModule, inspectModule } from './module.ts';
import { INSTALL_HINT, moduleFailures, type TerraformSettings } from './settings.ts';

/** What stands for an output's value in a logged line. */
const VALUE_LEFT_OUT = '(value not logged: `pave resources get` shows the outputs, secrets masked)';

/**
 * A filter for the stdout lines of one Terraform command that leaves out the values of the module's outputs:
 * the line to log in place of `line`, or undefined to log none. Terraform prints them at the end of an apply
 * (`Outputs:`, then `name = value` to the end, a list or map over several lines) and in plans (`Changes to
 * Outputs:`, then indented `+ name = value` lines), before Pave has the outputs: an output named `password`
 * that the module did not mark sensitive is a secret of a `postgres` resource all the same, which only the
 * control plane knows. Each output keeps a line with its name.
 */
function outputValuesLeftOut(): (line: string) => string | undefined {
  let section: 'outputs' | 'changes' | undefined;
  return (line) => {
    if (section === 'changes' && !/^\s/.test(line)) section = undefined;
    if (section === undefined) {
      if (line.trim() === 'Outputs:') section = 'outputs';
      else if (line.trim() === 'Changes to Outputs:') section = 'changes';
      return line;
    }
    const output = section === 'outputs' ? /^([\w-]+) = / : /^(\s+[-+~]\s+[\w-]+)\s*= /;
    const named = output.exec(line);
    return named ? `${named[1]} = ${VALUE_LEFT_OUT}` : undefined;
  };
}

/** Lines of Terraform's output quoted in a TerraformError. */
const TAIL_LINES = 20;
/** A quoted line is cut at this length (after masking). */
const MAX_QUOTED_LINE = 2_000;
/** What Terraform prints when it could not take the state lock: the run changed nothing. */
const LOCK_FAILURE = 'Error acquiring the state lock';
/** Terraform gives up waiting for the state lock this long before the driver's own timeout stops it. */
const LOCK_MARGIN_SECONDS = 10;
/** Captured stdout beyond this size stops Terraform (a plan's JSON is large, but not this large). */
const MAX_CAPTURED_BYTES = 64 * 1024 * 1024;

/** The files the driver adds to the module's directory (named so that they sort after the module's own). */
const GENERATED_FILES = {
  backend: 'pave_backend.tf',
  sensitive: 'pave_sensitive_override.tf',
  variables: 'pave.auto.tfvars.json',
} as const;

/**
 * A Terraform run failed. The message names the command, the resource and why, and quotes the last 20 lines
 * Terraform printed (every secret masked as `***`, Terraform's `on <file> line <n>` pointing at the module's
 * own files).
 */
export class TerraformError extends Error {
  override name = 'TerraformError';
  constructor(
    message: string,
    /** The Terraform command that failed (`apply`, `destroy`…). */
    readonly command: string,
    /** The last lines Terraform printed, masked. */
    readonly tail: string[],
    /** False when the command cannot have changed anything: it never started, or never got the state lock. */
    readonly changedAnything: boolean,
  ) {
    super(message);
  }
}

/** How one Terraform command should run. */
interface RunOptions {
  /** Keep stdout for parsing instead of logging it (it may hold sensitive values). */
  capture?: boolean;
  /** Stop it when the deployment stops (default true; a compensating destroy runs to the end). */
  stopOnAbort?: boolean;
}

/** What a workspace takes from the driver: where it runs Terraform and with what. */
export interface WorkspaceOptions {
  settings: TerraformSettings;
  scope: ResourceScope;
  backend: ResourceStateBackend;
  ctx: DriverContext;
  /** The control plane's variables passed on to Terraform (PATH, HOME, cloud credentials…). */
  inheritedEnv: Record<string, string>;
  killGraceMs: number;
  /** Secret strings to mask besides the definition's secrets and the state credential. */
  secrets: string[];
}

/**
 * One private working directory for the Terraform runs of one driver call:
 *
 * ```
 * <ctx.scratchDir>/terraform-XXXXXX/      mode 0700, removed by close()
 *   terraformrc                           an empty CLI configuration (TF_CLI_CONFIG_FILE)
 *   pave.tfplan                           diff's saved plan
 *   module/                               the root module: a copy of the definition's module, plus
 *     pave_backend.tf                       terraform { backend "http" {} } (configured by TF_HTTP_* variables)
 *     pave_sensitive_override.tf            marks the variables given as secrets sensitive
 *     pave.auto.tfvars.json                 variables and secrets (mode 0600)
 * ```
 */
export class TerraformWorkspace {
  private readonly moduleDir: string;
  private readonly env: Record<string, string>;
  private readonly secrets = new Set<string>();
  private deadline: number;

  private constructor(
    readonly dir: string,
    private readonly options: WorkspaceOptions,
  ) {
    this.moduleDir = join(dir, 'module');
    this.deadline = Date.now() + options.settings.timeoutSeconds * 1000;
    const { backend } = options;
    this.env = {
      ...options.inheritedEnv,
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      CHECKPOINT_DISABLE: '1',
      TF_CLI_CONFIG_FILE: join(dir, 'terraformrc'),
      TF_HTTP_ADDRESS: backend.address,
      TF_HTTP_LOCK_ADDRESS: backend.lockAddress,
      TF_HTTP_UNLOCK_ADDRESS: backend.unlockAddress,
      TF_HTTP_LOCK_METHOD: 'LOCK',
      TF_HTTP_UNLOCK_METHOD: 'UNLOCK',
      TF_HTTP_USERNAME: backend.username,
      TF_HTTP_PASSWORD: backend.password,
    };
    this.addSecrets([backend.password, ...options.secrets, ...secretStrings(options.settings.secrets)]);
  }

  /**
   * Creates the working directory and writes the root module into it (fetching a `git::` module with
   * `terraform init -from-module`). Rejects with InputError when the module cannot be used; the directory is
   * removed then.
   */
  static async open(options: WorkspaceOptions): Promise<TerraformWorkspace> {
    await mkdir(options.ctx.scratchDir, { recursive: true });
    const dir = await mkdtemp(join(options.ctx.scratchDir, 'terraform-'));
    await chmod(dir, 0o700);
    const workspace = new TerraformWorkspace(dir, options);
    try {
      await workspace.writeRootModule();
      return workspace;
    } catch (error) {
      await workspace.close();
      throw error;
    }
  }

  /** Removes the working directory and everything in it (plans, variables, Terraform's caches). */
  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Masks these strings (e.g. sensitive output values) in every line logged or quoted from now on. */
  addSecrets(values: string[]): void {
    for (const value of values) if (value.length > 0) this.secrets.add(value);
  }

  /** Gives the following runs the definition's whole timeout again (for a compensating destroy). */
  restartClock(): void {
    this.deadline = Date.now() + this.options.settings.timeoutSeconds * 1000;
  }

  /** `-lock-timeout` for commands that write state: wait for a concurrent run's lock, almost until the timeout. */
  lockTimeoutFlag(): string {
    const seconds = Math.floor((this.deadline - Date.now()) / 1000) - LOCK_MARGIN_SECONDS;
    return `-lock-timeout=${Math.max(1, seconds)}s`;
  }

  /** `terraform init`: configures the http backend and the providers. */
  async init(): Promise<void> {
    await this.run('init', ['init', '-input=false', '-no-color']);
  }

  /** The addresses of the resources in the stored state (none when there is no state). */
  async stateResources(): Promise<string[]> {
    const { stdout } = await this.run('state list', ['state', 'list', '-no-color'], { capture: true });
    return stdout.split('\n').filter((line) => line.trim() !== '');
  }

  /** `terraform output -json`: name -> { value, sensitive }. */
  async outputs(): Promise<Record<string, { value: unknown; sensitive: boolean }>> {
    const { stdout } = await this.run('output', ['output', '-json', '-no-color'], { capture: true });
    const parsed: unknown = JSON.parse(stdout.trim() === '' ? '{}' : stdout);
    return parsed as Record<string, { value: unknown; sensitive: boolean }>;
  }

  /** Where diff saves its plan. */
  get planFile(): string {
    return join(this.dir, 'pave.tfplan');
  }

  /**
   * Runs one Terraform command in the module directory, logging each line it prints (masked) at info level,
   * except captured stdout. Resolves with its captured stdout; rejects with TerraformError when it could not be
   * run, was stopped, or exited with another code than 0. A stopped command's process group gets SIGTERM
   * (Terraform then stops and releases its state lock if it can), then SIGKILL after the grace period; once it
   * exits, anything it left running in its group (a provisioner's children) is killed.
   */
  async run(command: string, args: string[], options: RunOptions = {}): Promise<{ stdout: string }> {
    const { ctx, settings } = this.options;
    const tail: string[] = [];
    const capture = options.capture ?? false;
    const withoutOutputValues = outputValuesLeftOut();
    const signal = options.stopOnAbort === false ? undefined : ctx.signal;
    const started = Date.now();
    const result = await runCommand({
      argv: [settings.binary, ...args],
      cwd: this.moduleDir,
      env: this.env,
      timeoutMs: Math.max(1_000, this.deadline - Date.now()),
      killGraceMs: this.options.killGraceMs,
      signal,
      captureStdout: capture,
      maxStdoutBytes: MAX_CAPTURED_BYTES,
      onLine: (line, stream) => {
        if ((capture && stream === 'stdout') || line.trim() === '') return;
        const shown = stream === 'stdout' ? withoutOutputValues(line) : line;
        if (shown === undefined) return;
        const masked = this.masked(shown);
        ctx.logger.info(masked, { terraform: command, stream });
        tail.push(masked);
        if (tail.length > TAIL_LINES) tail.shift();
      },
    });
    const reason = failureReason(result, settings.timeoutSeconds, signal, Date.now() - started);
    if (reason === undefined) return { stdout: result.stdout ?? '' };
    throw this.error(command, reason, tail, result);
  }

  private error(command: string, reason: string, rawTail: string[], result: CommandResult): TerraformError {
    const { scope, settings } = this.options;
    const tail = rawTail.map((line) => {
      const located = this.locate(line);
      return located.length > MAX_QUOTED_LINE ? `${located.slice(0, MAX_QUOTED_LINE)}…` : located;
    });
    const notFound = (result.spawnError as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    const quoted =
      tail.length > 0
        ? `; last ${tail.length} line(s) of its output:\n${tail.map((line) => `  | ${line}`).join('\n')}`
        : '';
    const hint = notFound ? `; ${INSTALL_HINT}` : '';
    const message =
      `terraform ${command} of ${scope.address} (app ${scope.app}, env ${scope.env}) failed: ` +
      `${settings.binary} ${reason}${hint}${quoted}`;
    const lockFailure = rawTail.some((line) => line.includes(LOCK_FAILURE));
    return new TerraformError(message, command, tail, result.started && !lockFailure);
  }

  /** Terraform's `on main.tf line 3` pointing at the definition's module rather than the copy. */
  private locate(line: string): string {
    const { source } = this.options.settings;
    if (source.kind !== 'local') return line;
    return line.replace(/\bon (\S+) line (\d+)/g, (match, file: string, lineNo: string) =>
      isAbsolute(file) || file.startsWith('pave_') ? match : `on ${join(source.path, file)} line ${lineNo}`,
    );
  }

  /** `line` with every secret of the run masked as `***`. */
  masked(line: string): string {
    let masked = line;
    const forms = [...this.secrets].flatMap((secret) => [
      secret,
      JSON.stringify(secret).slice(1, -1),
      encodeURIComponent(secret),
    ]);
    for (const form of [...new Set(forms)].sort((a, b) => b.length - a.length)) {
      masked = masked.split(form).join('***');
    }
    return masked;
  }

  private async writeRootModule(): Promise<void> {
    const { settings } = this.options;
    await writeFile(join(this.dir, 'terraformrc'), '', { mode: 0o600 });
    await mkdir(this.moduleDir, { mode: 0o700 });
    if (settings.source.kind === 'local') {
      await copyModule(settings.source.path, this.moduleDir);
    } else {
      await this.run('init -from-module', [
        'init',
        `-from-module=${settings.source.address}`,
        '-backend=false',
        '-input=false',
        '-no-color',
      ]);
    }
    const inspection = await inspectModule(this.moduleDir);
    const failures = moduleFailures(inspection, 'source', settings.variables, settings.secrets);
    if (failures.length > 0) {
      throw new InputError(
        `the terraform module ${describeSource(settings)} cannot be used: ${failures.map((f) => `${f.property}: ${f.reason}`).join('; ')}`,
        failures.map((f) => ({ path: f.property, message: f.reason })),
      );
    }
    await writeFile(join(this.moduleDir, GENERATED_FILES.backend), 'terraform {\n  backend "http" {}\n}\n');
    const secretNames = Object.keys(settings.secrets);
    // An override of a variable the module does not declare is an error; undeclared ones are refused above,
    // except in modules written in JSON, whose declarations the driver does not read.
    if (secretNames.length > 0 && 'declaredVariables' in inspection && inspection.declaredVariables) {
      const blocks = secretNames.map((name) => `variable "${name}" {\n  sensitive = true\n}\n`);
      await writeFile(join(this.moduleDir, GENERATED_FILES.sensitive), blocks.join('\n'));
    }
    await writeFile(
      join(this.moduleDir, GENERATED_FILES.variables),
      JSON.stringify({ ...settings.variables, ...settings.secrets }, null, 2),
      { mode: 0o600 },
    );
  }
}

function describeSource(settings: TerraformSettings): string {
  return settings.source.kind === 'local' ? settings.source.path : settings.source.address;
}

/**
 * Why a run failed; undefined when it exited with 0. A run stopped by `signal` (ctx.signal) says whether the
 * time the control plane gives the work ran out (a TimeoutError: a deployment's budget, see
 * docs/architecture.md) or the deployment stopped; `elapsedMs` is how long it ran.
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
  const raise = "(a deployment's grows with the definition's driverInputs.values.timeout)";
  if (!result.started && result.aborted) {
    return timeUp
      ? `was not started: ${budget} had run out ${raise}`
      : 'was not started: the deployment stopped (the control plane stopping or losing it)';
  }
  if (result.timedOut)
    return `timed out (driverInputs.values.timeout is ${timeoutSeconds} s) and was stopped`;
  if (result.aborted) {
    return timeUp
      ? `was stopped after ${Math.round(elapsedMs / 100) / 10} s: ${budget} ran out ${raise}`
      : 'was stopped: the deployment stopped (the control plane stopping or losing it)';
  }
  if (result.stdout === undefined) return 'printed more than 64 MiB and was stopped';
  if (result.exitSignal) return `was killed by ${result.exitSignal}`;
  if (result.exitCode !== 0) return `exited with code ${result.exitCode}`;
  return undefined;
}

/** Every string, number and boolean in `value`, as strings: the secret values to mask. */
export function secretStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.flatMap(secretStrings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(secretStrings);
  return [];
}
