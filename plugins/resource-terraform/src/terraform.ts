import { InputError } from '@pave/core';
import { shortHash } from '@pave/plugin-api';
import type {
  CheckFailure,
  DriverContext,
  ResourceDiff,
  ResourceDriver,
  ResourceInputs,
  ResourceOutputs,
  ResourceStateBackend,
} from '@pave/plugin-api';
import { DEFAULT_INHERITED_ENV } from '@pave/resource-basic';
import { planSummary, refreshFindings } from './plan.ts';
import { canonicalJson, readSettings, type TerraformSettings } from './settings.ts';
import { TerraformError, TerraformWorkspace, secretStrings } from './workspace.ts';

/** Configuration of the terraform driver (Pave's configuration, not a resource definition's). */
export interface TerraformDriverConfig {
  /**
   * Variables of the control plane's environment passed on to Terraform (and so to its providers and
   * provisioners); default DEFAULT_INHERITED_ENV. The server gives DEFAULT_INHERITED_ENV and the names of
   * `pave up --driver-env`, e.g. the credentials the modules' providers read (`AWS_PROFILE`, `AWS_REGION`,
   * `GOOGLE_APPLICATION_CREDENTIALS`) or `TF_PLUGIN_CACHE_DIR`.
   */
  inheritEnv?: string[];
  /**
   * Between SIGTERM and SIGKILL when Terraform is stopped (timeout, the deployment stopped), so that it can
   * stop its providers and release the state lock; default 20 000 ms. A programmatic option for tests and embedding; `pave up` leaves it unset and no setting changes it.
   */
  killGraceMs?: number;
}

/** What the terraform driver takes from its surroundings (replaceable in tests). */
export interface TerraformDriverDeps {
  /** Where inherited variables come from; default `process.env`. */
  hostEnv?: NodeJS.ProcessEnv;
}

/** The message of every call that needs the control plane's state store and has none. */
const NO_STATE_BACKEND =
  'the terraform driver keeps its state in the control plane; run it under `pave up` (the control plane ' +
  'gives each resource its own state store), not on its own';

/**
 * Provisions a resource by applying a Terraform module, with the Terraform state kept by the control plane
 * (`ctx.stateBackend`, Terraform's `http` backend). See docs/terraform.md for writing definitions.
 *
 * Resource definition:
 * - `driverInputs.values.source` (required): the module, an absolute directory on the Pave host or a `git::`
 *   address;
 * - `driverInputs.values.variables`: the module's input variables; strings may use `${context.app}`,
 *   `${context.env}`, `${context.envType}`, `${context.res}`, `${context.type}`, `${context.class}`,
 *   `${context.name}` (a name no other resource gets, see docs/terraform.md) and `${resource.params.<key>}`;
 * - `driverInputs.values.terraformBinary`: the terraform program (default: `terraform` on PATH);
 * - `driverInputs.values.timeout`: seconds one call may take, default 600;
 * - `driverInputs.secrets`: sensitive input variables of the module.
 *
 * Each call copies the module into a private working directory (removed afterwards), adds the backend and
 * a variables file, and runs `terraform init` and then:
 * - `create`/`update`: `apply`, then `output -json`: sensitive outputs become secrets, the rest values. If
 *   create's apply fails after it may have changed something, `destroy` removes what it made, then create
 *   rejects with the apply's error;
 * - `read`: `plan -refresh-only`; null when the state holds nothing or the refresh finds it all deleted, else
 *   the outputs in the state, with `drift` naming what the refresh found changed outside Terraform
 *   (resources, outputs, failing `check` blocks);
 * - `delete`: `destroy` (nothing to do when the state holds nothing);
 * - `diff`: the changed inputs, and the summary of a `plan` ("plan: +1 ~0 -0").
 *
 * Every line Terraform prints is logged at info level with the secrets masked as `***`; a failure rejects
 * with TerraformError quoting the last 20 lines.
 */
export class TerraformDriver implements ResourceDriver {
  readonly name = 'terraform';
  private readonly inheritEnv: readonly string[];
  private readonly killGraceMs: number;
  private readonly hostEnv: NodeJS.ProcessEnv;

  private constructor(config: TerraformDriverConfig, deps: TerraformDriverDeps) {
    this.inheritEnv = config.inheritEnv ?? DEFAULT_INHERITED_ENV;
    this.killGraceMs = config.killGraceMs ?? 20_000;
    this.hostEnv = deps.hostEnv ?? process.env;
  }

  /** A terraform driver; see TerraformDriverConfig for what the control plane passes on to Terraform. */
  static fromConfig(config: TerraformDriverConfig = {}, deps: TerraformDriverDeps = {}): TerraformDriver {
    return new TerraformDriver(config, deps);
  }

  /**
   * Every problem with the definition's inputs: `source` missing, not absolute, not a module or declaring its
   * own backend; variables the module does not declare or with unknown placeholders; `timeout`;
   * `terraformBinary` (or no terraform on PATH).
   */
  async check(inputs: ResourceInputs, _ctx: DriverContext): Promise<CheckFailure[]> {
    return (await readSettings(inputs, this.hostEnv.PATH)).failures;
  }

  /**
   * A change when the definition's values or secrets, or the resource's params, differ (secrets named, never
   * shown); with a state store, also the summary of `terraform plan` for the new inputs as a property
   * "plan: +<add> ~<change> -<destroy>". Never a replacement: Terraform replaces what it must itself.
   */
  async diff(
    _id: string,
    olds: ResourceInputs,
    news: ResourceInputs,
    ctx: DriverContext,
  ): Promise<ResourceDiff> {
    const changedProperties = [
      ...changedKeys('driverInputs', olds.driverInputs, news.driverInputs),
      ...changedKeys('driverSecrets', olds.driverSecrets, news.driverSecrets),
      ...changedKeys('params', olds.params, news.params),
    ];
    const inputsChanged = changedProperties.length > 0;
    const { settings } = await readSettings(news, this.hostEnv.PATH);
    if (!ctx.stateBackend || !settings) {
      return { changes: inputsChanged, replace: false, changedProperties };
    }
    try {
      const summary = await this.withWorkspace(settings, news, ctx, ctx.stateBackend, async (tf) => {
        await tf.init();
        await tf.run('plan', ['plan', '-lock=false', '-input=false', '-no-color', `-out=${tf.planFile}`]);
        const { stdout } = await tf.run('show', ['show', '-json', '-no-color', tf.planFile], {
          capture: true,
        });
        return planSummary(JSON.parse(stdout));
      });
      return {
        changes: inputsChanged || summary.changes,
        replace: false,
        changedProperties: [...changedProperties, `plan: ${summary.text}`],
      };
    } catch (error) {
      // The plan is advice: an update runs Terraform again and fails with the whole story.
      ctx.logger.warn(`terraform plan failed: ${(error as Error).message}`);
      return {
        changes: true,
        replace: false,
        changedProperties: [...changedProperties, 'plan: failed (see the log)'],
      };
    }
  }

  /**
   * `terraform apply` of the module, then its outputs. When the apply fails after it may have changed
   * anything (it started and took the state lock), `terraform destroy` removes what it made (running to the
   * end even when the deployment stopped), then create rejects with the apply's error.
   */
  async create(
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ id: string; outputs: ResourceOutputs }> {
    const settings = await this.settings(inputs);
    const backend = stateBackendOf(ctx);
    const outputs = await this.withWorkspace(settings, inputs, ctx, backend, async (tf) => {
      await tf.init();
      try {
        return await this.apply(tf);
      } catch (error) {
        if (error instanceof TerraformError && !error.changedAnything) throw error;
        throw await this.compensate(tf, inputs, ctx, error as Error);
      }
    });
    return { id: terraformId(inputs), outputs };
  }

  /** `terraform apply` with the new inputs (the state knows the old ones), then the outputs. */
  async update(
    _id: string,
    _olds: ResourceInputs,
    news: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    const settings = await this.settings(news);
    const outputs = await this.withWorkspace(settings, news, ctx, stateBackendOf(ctx), async (tf) => {
      await tf.init();
      return this.apply(tf);
    });
    return { outputs };
  }

  /**
   * `terraform plan -refresh-only` (without taking the lock; it writes nothing), read back with `terraform
   * show -json`: null when the state holds no resource, or when the refresh finds every managed resource
   * deleted (the resource is gone); otherwise the outputs in the state, with `drift` listing what the refresh
   * found changed outside Terraform (drifted resources, outputs it would change, failing `check` blocks) so
   * that `pave resources check` reports the resource drifted.
   */
  async read(
    _id: string,
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs; drift?: string[] } | null> {
    const settings = await this.settings(inputs);
    return this.withWorkspace(settings, inputs, ctx, stateBackendOf(ctx), async (tf) => {
      await tf.init();
      const resources = await tf.stateResources();
      if (resources.length === 0) return null;
      await tf.run('plan', [
        'plan',
        '-refresh-only',
        '-lock=false',
        '-input=false',
        '-no-color',
        `-out=${tf.planFile}`,
      ]);
      const { stdout } = await tf.run('show', ['show', '-json', '-no-color', tf.planFile], { capture: true });
      const findings = refreshFindings(JSON.parse(stdout));
      const managed = resources.filter((address) => !/(^|\.)data\./.test(address));
      if (findings.deleted.length > 0 && findings.deleted.length >= managed.length) {
        ctx.logger.warn('terraform found every resource of the module deleted outside Terraform', {
          address: inputs.scope.address,
        });
        return null;
      }
      const outputs = await outputsOf(tf);
      if (findings.lines.length === 0) return { outputs };
      const drift = findings.lines.map((line) => tf.masked(line));
      ctx.logger.warn(`terraform found changes made outside Terraform: ${drift.join('; ')}`, {
        address: inputs.scope.address,
      });
      return { outputs, drift };
    });
  }

  /** `terraform destroy` of what the state holds; nothing to do when it holds nothing. */
  async delete(_id: string, inputs: ResourceInputs, ctx: DriverContext): Promise<void> {
    const settings = await this.settings(inputs);
    await this.withWorkspace(settings, inputs, ctx, stateBackendOf(ctx), async (tf) => {
      await tf.init();
      if ((await tf.stateResources()).length === 0) return;
      await this.destroy(tf, true);
    });
  }

  private async apply(tf: TerraformWorkspace): Promise<ResourceOutputs> {
    await tf.run('apply', ['apply', '-auto-approve', '-input=false', '-no-color', tf.lockTimeoutFlag()]);
    return outputsOf(tf);
  }

  private async destroy(tf: TerraformWorkspace, stopOnAbort: boolean): Promise<void> {
    await tf.run('destroy', ['destroy', '-auto-approve', '-input=false', '-no-color', tf.lockTimeoutFlag()], {
      stopOnAbort,
    });
  }

  /** Destroys what a failed create left; the error to reject with (saying so when destroying failed too). */
  private async compensate(
    tf: TerraformWorkspace,
    inputs: ResourceInputs,
    ctx: DriverContext,
    error: Error,
  ): Promise<Error> {
    ctx.logger.warn('terraform apply failed; running terraform destroy to remove what it created', {
      address: inputs.scope.address,
    });
    tf.restartClock();
    try {
      await this.destroy(tf, false);
      error.message += '\nterraform destroy removed what the failed apply had created.';
      return error;
    } catch (compensation) {
      const command = error instanceof TerraformError ? error.command : 'apply';
      const tail = error instanceof TerraformError ? error.tail : [];
      return new TerraformError(
        `${error.message}\nThe compensating terraform destroy failed as well, so what the module created may still ` +
          `exist and must be removed by hand (its state is kept in the control plane):\n${(compensation as Error).message}`,
        command,
        tail,
        true,
      );
    }
  }

  private async settings(inputs: ResourceInputs): Promise<TerraformSettings> {
    const { settings, failures } = await readSettings(inputs, this.hostEnv.PATH);
    if (settings) return settings;
    throw new InputError(
      `the terraform resource driver cannot use these inputs: ${failures.map((f) => `${f.property}: ${f.reason}`).join('; ')}`,
      failures.map((f) => ({ path: f.property, message: f.reason })),
    );
  }

  private async withWorkspace<T>(
    settings: TerraformSettings,
    inputs: ResourceInputs,
    ctx: DriverContext,
    backend: ResourceStateBackend,
    body: (tf: TerraformWorkspace) => Promise<T>,
  ): Promise<T> {
    const inheritedEnv: Record<string, string> = {};
    for (const name of this.inheritEnv) {
      const value = this.hostEnv[name];
      if (value !== undefined) inheritedEnv[name] = value;
    }
    const tf = await TerraformWorkspace.open({
      settings,
      scope: inputs.scope,
      backend,
      ctx,
      inheritedEnv,
      killGraceMs: this.killGraceMs,
      secrets: secretStrings(inputs.cloneFrom?.secrets),
    });
    try {
      return await body(tf);
    } finally {
      await tf.close();
    }
  }
}

/**
 * The id of a resource: `tf-` and 16 hex digits of a hash of its app, environment and graph address, so the
 * same resource always has the same id.
 */
export function terraformId(inputs: ResourceInputs): string {
  const { app, env, address } = inputs.scope;
  return `tf-${shortHash(JSON.stringify([app, env, address]), 16)}`;
}

function stateBackendOf(ctx: DriverContext): ResourceStateBackend {
  if (!ctx.stateBackend) throw new TerraformError(NO_STATE_BACKEND, 'init', [], false);
  return ctx.stateBackend;
}

/**
 * The module's outputs as Pave outputs: sensitive ones are secrets, the others values; strings as they are,
 * numbers and booleans stringified, lists and objects as JSON; null outputs are left out. Sensitive values
 * are masked in what Terraform prints after.
 */
async function outputsOf(tf: TerraformWorkspace): Promise<ResourceOutputs> {
  const outputs: ResourceOutputs = { values: {}, secrets: {} };
  for (const [name, output] of Object.entries(await tf.outputs())) {
    if (output.value === null || output.value === undefined) continue;
    const text = typeof output.value === 'string' ? output.value : JSON.stringify(output.value);
    if (output.sensitive) {
      outputs.secrets[name] = text;
      tf.addSecrets(secretStrings(output.value));
    } else {
      outputs.values[name] = text;
    }
  }
  return outputs;
}

/** The keys whose values differ between `olds` and `news`, prefixed with `prefix` and a dot, sorted. */
function changedKeys(prefix: string, olds: Record<string, unknown>, news: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(olds), ...Object.keys(news)])]
    .filter((key) => canonicalJson(olds[key]) !== canonicalJson(news[key]))
    .sort()
    .map((key) => `${prefix}.${key}`);
}
