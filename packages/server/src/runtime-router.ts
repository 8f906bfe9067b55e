import { createHash } from 'node:crypto';
import type {
  DriverContext,
  RenderableEnvironment,
  LogLine,
  LogsOptions,
  ReadyResult,
  RenderedPort,
  RenderedWorkload,
  RuntimeDriver,
  RuntimeRegistry,
  RuntimeTarget,
  WaitReadyOptions,
  WorkloadStatus,
} from '@pave/plugin-api';
import { InputError, type RuntimeTargetView } from '@pave/core';
import type { Store } from './store/index.ts';
import { getTarget, listTargets, LOCAL_TARGET, matchTarget } from './domain/targets.ts';
import { environmentRow } from './domain/environments.ts';
import type { JournalNote } from './domain/resources/provision.ts';
import type { SecretBox } from './secrets/secret-box.ts';
import { previewEnvironment } from './domain/deployments/preview.ts';
import type { LeaseFence } from './domain/deployments/records.ts';

/** Where a deployment runs: the target matched now, and the one the environment ran on before. */
export interface TargetMove {
  runtime: RuntimeDriver;
  next: RuntimeTargetView;
  previous: RuntimeTargetView | null;
  /** The environment ran on another target before: committing the move removes its workloads there. */
  moving: boolean;
}

/**
 * Renders an environment's workloads as a Compose file (`pave render --format compose`): the docker runtime
 * plugin's renderCompose, handed over at start-up. `render` never writes a secret value into the text.
 */
export interface ComposeRenderer {
  /** How a service reaches another workload's port in the file (a `service-port` resource's outputs). */
  serviceAddress(workload: string, port: RenderedPort): { hostname: string; port: number };
  render(
    target: RuntimeTarget,
    environment: RenderableEnvironment & { deploymentSet?: string | null },
  ): string;
}

/**
 * The runtime of every environment: routes each runtime call to the driver of the target the environment
 * runs on (`environments.runtime_target`; the built-in `local` process target until a target matches), built
 * by the runtime registered for the target's type.
 */
export class RuntimeRouter implements RuntimeDriver {
  readonly name = 'router';
  private readonly drivers = new Map<string, { key: string; runtime: RuntimeDriver }>();

  /** `compose`: how `renderCompose` renders (without it, it refuses). */
  constructor(
    private readonly store: Store,
    private readonly runtimes: RuntimeRegistry,
    private readonly compose?: ComposeRenderer,
  ) {}

  /**
   * The driver for a target, built once per target and configuration by the runtime of its type. Throws
   * NotFoundError for a type no runtime serves, and what the runtime throws for a configuration it refuses.
   */
  runtimeOf(target: RuntimeTargetView): RuntimeDriver {
    const key = createHash('sha256')
      .update(JSON.stringify([target.type, target.config]))
      .digest('hex');
    const cached = this.drivers.get(target.id);
    if (cached?.key === key) return cached.runtime;
    const runtime = this.runtimes.get(target.type).fromConfig(target.config);
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
    return {
      runtime: this.runtimeOf(next),
      next,
      previous,
      moving: previous !== null && previous.id !== next.id,
    };
  }

  /**
   * Moves an environment to the target of `move`: if it ran on another one, its workloads there are removed
   * first (the deployment then starts them on the new one), and the new target is recorded. Both need the
   * lease of the deployment's `fence`: a replica that lost it neither removes the workloads nor records the
   * target (the new holder may run the environment elsewhere by now), and the call rejects with
   * DeploymentInterrupted (`leaseLost`). A fence without a replica lets both through.
   */
  async commit(
    target: RuntimeTarget,
    move: TargetMove,
    ctx: DriverContext,
    note: JournalNote,
    fence: LeaseFence,
  ): Promise<void> {
    if (move.previous?.id === move.next.id) return;
    if (move.previous) {
      await note({
        step: 'switch target',
        status: 'info',
        message: `moving from runtime target ${move.previous.id} (${move.previous.type}) to ${move.next.id} (${move.next.type})`,
      });
      await fence.check();
      // An environment must be able to leave a target that cannot be reached any more (a deleted cluster
      // context, a docker socket that is gone): its workloads there are reported as possibly left behind.
      try {
        await this.runtimeOf(move.previous).destroy({ app: target.app, env: target.env }, ctx);
      } catch (error) {
        await note({
          step: 'switch target',
          status: 'info',
          message: `could not remove the workloads on ${move.previous.id}: ${(error as Error).message}; they may still run there`,
        });
      }
    }
    // Not recorded after a lost lease, unlike what a resource driver did: nothing runs on the new target yet,
    // and the lease's holder may have kept the environment where it was.
    await fence.write((db) =>
      db
        .updateTable('environments')
        .set({ runtime_target: move.next.id })
        .where('app_id', '=', target.app)
        .where('id', '=', target.env)
        .execute(),
    );
  }

  async deploy(target: RuntimeTarget, workload: RenderedWorkload, ctx: DriverContext): Promise<void> {
    return (await this.runtimeFor(target)).deploy(target, workload, ctx);
  }

  async waitReady(
    target: RuntimeTarget,
    workload: string,
    ctx: DriverContext,
    options?: WaitReadyOptions,
  ): Promise<ReadyResult> {
    return (await this.runtimeFor(target)).waitReady(target, workload, ctx, options);
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

  /**
   * Asks the runtime of every target to take back its workloads after a control-plane start: each driver
   * once, as the runtime contract says. Targets that share one (every process target is a view of the one
   * local process runtime, `viewOf`) ask it once: adopt takes stock of all the driver runs, not of a target.
   * A target whose runtime cannot be built or reached (a docker socket that is gone, say) is logged and
   * skipped: the others are still adopted and the server still starts.
   */
  async adopt(ctx: DriverContext): Promise<void> {
    const asked = new Set<RuntimeDriver>();
    for (const view of await listTargets(this.store.db)) {
      try {
        const runtime = this.runtimeOf(view);
        const driver = runtime.viewOf ?? runtime;
        if (!runtime.adopt || asked.has(driver)) continue;
        asked.add(driver);
        await runtime.adopt(ctx);
      } catch (error) {
        ctx.logger.warn('cannot take back the workloads of a runtime target; they are left as they are', {
          target: view.id,
          type: view.type,
          error: (error as Error).message,
        });
      }
    }
  }

  /**
   * Whether the runtime of the target an environment runs on can stream its logs (has the `logs`
   * capability). The router has `logs` whatever the targets' runtimes can do: ask this first (the logs
   * route answers 204 when it is false). Throws what runtimeOf throws for a target it cannot build.
   */
  async streamsLogs(target: RuntimeTarget): Promise<boolean> {
    return (await this.runtimeFor(target)).logs !== undefined;
  }

  /** The logs of the environment's runtime; rejects when it cannot stream logs (see streamsLogs). */
  async *logs(target: RuntimeTarget, options: LogsOptions, ctx: DriverContext): AsyncIterable<LogLine> {
    const runtime = await this.runtimeFor(target);
    if (!runtime.logs) throw new Error(`the ${runtime.name} runtime cannot stream logs`);
    yield* runtime.logs(target, options, ctx);
  }

  /**
   * The manifests a target would apply for an environment's current set (`pave render`), as its runtime
   * renders them (YAML for kubernetes). InputError for targets whose runtime cannot render manifests.
   */
  async render(
    store: Store,
    box: SecretBox,
    target: RuntimeTarget,
    view: RuntimeTargetView,
  ): Promise<string> {
    const runtime = this.runtimeOf(view);
    if (!runtime.renderManifests) {
      throw new InputError(
        `runtime target "${view.id}" is a ${view.type} target; only kubernetes targets render manifests`,
        [
          {
            path: 'query.target',
            message:
              'name a kubernetes target (`pave targets list` shows them), or ask for a Compose file with ' +
              'format=compose',
          },
        ],
      );
    }
    const preview = await previewEnvironment(
      store,
      box,
      target,
      runtime.serviceAddress && ((workload, port) => runtime.serviceAddress!(target, workload, port)),
    );
    return runtime.renderManifests(target, preview);
  }

  /**
   * An environment's current set as a Compose file (`pave render --format compose`), whatever target it runs
   * on: rendered as the docker runtime would run it (workloads reach each other by name), secret variables as
   * references, secret files left out. InputError when a secret value would still be printed (in a command,
   * an argument, a probe, an image or a volume source), naming where.
   */
  async renderCompose(store: Store, box: SecretBox, target: RuntimeTarget): Promise<string> {
    const compose = this.compose;
    if (!compose) throw new InputError('this server cannot render Compose files');
    const preview = await previewEnvironment(store, box, target, (workload, port) =>
      compose.serviceAddress(workload, port),
    );
    const problems = preview.workloads.flatMap((workload) =>
      workload.containers.flatMap((container) => {
        const where = `workloads.${workload.name}.containers.${container.name}`;
        const printed: Array<[string, string[]]> = [
          ['image', [container.image]],
          ['command', container.command ?? []],
          ['args', container.args ?? []],
          ['readinessProbe', probeTexts(container.readinessProbe)],
          ['volumes', (container.volumes ?? []).map((volume) => `${volume.source} ${volume.path ?? ''}`)],
        ];
        return printed
          .filter(([, texts]) => texts.some(preview.holdsSecret))
          .map(([field]) => ({
            path: `${where}.${field}`,
            message: 'holds a secret value; pass it in a variable so the Compose file can leave it out',
          }));
      }),
    );
    if (problems.length > 0) {
      throw new InputError('the Compose file would print a secret value', problems);
    }
    return compose.render(target, { ...preview, deploymentSet: preview.setId });
  }
}

/** The texts of a probe a Compose healthcheck would print. */
function probeTexts(probe: RenderedWorkload['containers'][number]['readinessProbe']): string[] {
  if (!probe) return [];
  return [...(probe.exec?.command ?? []), probe.httpGet?.path ?? '', probe.httpGet?.host ?? ''];
}
