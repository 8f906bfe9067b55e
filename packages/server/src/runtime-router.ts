import { createHash } from 'node:crypto';
import { ISOLATION_LEVELS, type IsolationLevel } from '@pave/plugin-api';
import type {
  DriverContext,
  LogLine,
  ReadyResult,
  RenderedWorkload,
  RuntimeDriver,
  RuntimeTarget,
  WorkloadStatus,
} from '@pave/plugin-api';
import { InputError, type RuntimeTargetView } from '@pave/core';
import { DockerRuntime } from '@pave/runtime-docker';
import type { ProcessRuntime } from '@pave/runtime-process';
import { KubernetesRuntime, manifestsToYaml, renderManifests } from '@pave/runtime-kubernetes';
import type { Store } from './store/index.ts';
import { getTarget, LOCAL_TARGET, matchTarget } from './domain/targets.ts';
import { environmentRow } from './domain/environments.ts';
import type { JournalNote } from './domain/resources/provision.ts';
import type { SecretBox } from './secrets/secret-box.ts';
import { previewEnvironment } from './domain/deployments/preview.ts';

/** Where a deployment runs: the target matched now, and the one the environment ran on before. */
export interface TargetMove {
  runtime: RuntimeDriver;
  next: RuntimeTargetView;
  previous: RuntimeTargetView | null;
}

/**
 * The runtime of every environment: routes each runtime call to the driver of the target the environment
 * runs on (`environments.runtime_target`; the built-in `local` process runtime until a target matches). This
 * is the one place the server touches the runtime plugins besides start-up.
 */
export class RuntimeRouter implements RuntimeDriver {
  readonly name = 'router';
  private readonly drivers = new Map<string, { key: string; runtime: RuntimeDriver }>();

  constructor(
    private readonly store: Store,
    private readonly local: ProcessRuntime,
    private readonly dataDir: string,
  ) {}

  /** The driver for a target, built once per target and configuration. */
  runtimeOf(target: RuntimeTargetView): RuntimeDriver {
    // Process targets share the one local runtime; each deploys at its own `isolation` (default: strongest).
    if (target.type === 'process') return this.local.isolated(processIsolation(target));
    const key = createHash('sha256')
      .update(JSON.stringify([target.type, target.config]))
      .digest('hex');
    const cached = this.drivers.get(target.id);
    if (cached?.key === key) return cached.runtime;
    const runtime =
      target.type === 'docker'
        ? DockerRuntime.fromConfig({ ...(target.config as object), dataDir: this.dataDir })
        : KubernetesRuntime.fromConfig(target.config as object);
    this.drivers.set(target.id, { key, runtime });
    return runtime;
  }

  /** The target an environment's workloads run on now (null until it is first deployed: `local`). */
  private async recorded(target: RuntimeTarget): Promise<RuntimeTargetView> {
    const row = await this.store.db
      .selectFrom('environments')
      .select('runtime_target')
      .where('app_id', '=', target.app)
      .where('id', '=', target.env)
      .executeTakeFirst();
    return getTarget(this.store.db, row?.runtime_target ?? LOCAL_TARGET.id).catch(() =>
      getTarget(this.store.db, LOCAL_TARGET.id),
    );
  }

  private async runtimeFor(target: RuntimeTarget): Promise<RuntimeDriver> {
    return this.runtimeOf(await this.recorded(target));
  }

  /**
   * The driver of the target an environment matches now (a deployment runs on it), without changing
   * anything; `commit` then moves the environment there.
   */
  async plan(target: RuntimeTarget & { envType: string }): Promise<TargetMove> {
    const row = await environmentRow(this.store.db, target.app, target.env);
    const next = await matchTarget(this.store.db, target.app, target.env, target.envType);
    const previous = row.runtime_target
      ? await getTarget(this.store.db, row.runtime_target).catch(() => null)
      : null;
    return { runtime: this.runtimeOf(next), next, previous };
  }

  /**
   * Moves an environment to the target of `move`: if it ran on another one, its workloads there are removed
   * first (the deployment then starts them on the new one), and the new target is recorded.
   */
  async commit(
    target: RuntimeTarget,
    move: TargetMove,
    ctx: DriverContext,
    note: JournalNote,
  ): Promise<void> {
    if (move.previous?.id === move.next.id) return;
    if (move.previous) {
      await note({
        step: 'target',
        status: 'info',
        message: `moving from runtime target ${move.previous.id} (${move.previous.type}) to ${move.next.id} (${move.next.type})`,
      });
      await this.runtimeOf(move.previous).destroy({ app: target.app, env: target.env }, ctx);
    }
    await this.store.db
      .updateTable('environments')
      .set({ runtime_target: move.next.id })
      .where('app_id', '=', target.app)
      .where('id', '=', target.env)
      .execute();
  }

  async deploy(target: RuntimeTarget, workload: RenderedWorkload, ctx: DriverContext): Promise<void> {
    return (await this.runtimeFor(target)).deploy(target, workload, ctx);
  }

  async waitReady(target: RuntimeTarget, workload: string, ctx: DriverContext): Promise<ReadyResult> {
    return (await this.runtimeFor(target)).waitReady(target, workload, ctx);
  }

  async remove(target: RuntimeTarget, workload: string, ctx: DriverContext): Promise<void> {
    return (await this.runtimeFor(target)).remove(target, workload, ctx);
  }

  async status(target: RuntimeTarget, ctx: DriverContext): Promise<WorkloadStatus[]> {
    return (await this.runtimeFor(target)).status(target, ctx);
  }

  async destroy(target: RuntimeTarget, ctx: DriverContext): Promise<void> {
    return (await this.runtimeFor(target)).destroy(target, ctx);
  }

  async adopt(ctx: DriverContext): Promise<void> {
    await this.local.adopt(ctx);
  }

  async *logs(
    target: RuntimeTarget,
    options: { workload?: string; tail?: number; follow: boolean },
    ctx: DriverContext,
  ): AsyncIterable<LogLine> {
    const runtime = await this.runtimeFor(target);
    if (!runtime.logs) throw new Error(`the ${runtime.name} runtime cannot stream logs`);
    yield* runtime.logs(target, options, ctx);
  }

  /**
   * The manifests a kubernetes target would apply for an environment's current set (`pave render`), as
   * YAML. InputError for targets of other types.
   */
  async render(
    store: Store,
    box: SecretBox,
    target: RuntimeTarget,
    view: RuntimeTargetView,
  ): Promise<string> {
    const runtime = this.runtimeOf(view);
    if (!(runtime instanceof KubernetesRuntime)) {
      throw new InputError(
        `runtime target "${view.id}" is a ${view.type} target; only kubernetes targets render manifests`,
        [{ path: 'query.target', message: 'name a kubernetes target (`pave targets list` shows them)' }],
      );
    }
    const preview = await previewEnvironment(store, box, target, (workload, port) =>
      runtime.serviceAddress(target, workload, port),
    );
    return manifestsToYaml(
      renderManifests({
        app: target.app,
        env: target.env,
        namespace: runtime.namespace(target),
        workloads: preview.workloads,
        routes: preview.routes,
        secretKeys: preview.secretKeys,
      }),
    );
  }
}

/** A process target's `isolation` setting (checked when the target was applied), or undefined: the strongest. */
function processIsolation(target: RuntimeTargetView): IsolationLevel | undefined {
  const level = target.config.isolation;
  return (ISOLATION_LEVELS as readonly unknown[]).includes(level) ? (level as IsolationLevel) : undefined;
}
