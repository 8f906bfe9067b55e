import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type {
  DriverContext,
  ReadyResult,
  RenderedWorkload,
  RuntimeDriver,
  RuntimeTarget,
} from '@pave/plugin-api';
import type { Store } from '../../store/index.ts';
import { now, systemContext } from '../context.ts';
import { journal, type DeploymentRequest } from './records.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import {
  currentValuesVersion,
  decryptValues,
  latestValuesVersion,
  restoreValues,
  valuesContent,
} from '../values.ts';
import { renderSet } from './render.ts';
import { applyPatch } from './service.ts';
import { loadSet, saveSet, type SetWorkloads } from './sets.ts';
import type { EnvironmentTeardown } from '../environments.ts';
import {
  deprovisionEnvironment,
  planResources,
  provisionResources,
  pruneResources,
  ProvisioningError,
  type ResourceDeps,
  type ResourceDriverRegistry,
  type ResourceTarget,
  type WorkloadResourceOutputs,
} from '../resources/provision.ts';
import { writeRoutes } from '../resources/routes.ts';

/** Thrown inside a run when the replica is stopping or lost its lease: the deployment is left to be resumed. */
export class DeploymentInterrupted extends Error {
  override name = 'DeploymentInterrupted';
}

/** Everything a deployment run needs. */
export interface OrchestratorDeps {
  store: Store;
  runtime: RuntimeDriver;
  /** Decrypts the secrets a deployment runs with. */
  box: SecretBox;
  /** Resource drivers by name; resources are provisioned before workloads start. */
  resourceDrivers: ResourceDriverRegistry;
  /** The replica running deployments: it finishes one only while it holds the environment's lease. */
  replicaId?: string;
  /** Runtime targets: which runtime each environment deploys to (without: `runtime` for all). */
  targets?: EnvironmentTargets;
  logger: Logger;
}

/** Chooses the runtime of a deployment and moves the environment to it (see RuntimeRouter). */
export interface EnvironmentTargets {
  plan(target: RuntimeTarget & { envType: string }): Promise<{ runtime: RuntimeDriver }>;
  commit(
    target: RuntimeTarget,
    move: { runtime: RuntimeDriver },
    ctx: DriverContext,
    note: (entry: Parameters<typeof journal>[2]) => Promise<void>,
  ): Promise<void>;
}

/** The part of a pino logger that driver contexts write to. */
export type LevelLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** Builds the context object a driver call receives. */
export function driverContext(logger: LevelLogger, signal: AbortSignal): DriverContext & { dispose(): void } {
  const scratchDir = mkdtempSync(join(tmpdir(), 'pave-driver-'));
  const log =
    (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) =>
      logger[level](fields ?? {}, message);
  return {
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    signal,
    scratchDir,
    dryRun: false,
    dispose: () => rmSync(scratchDir, { recursive: true, force: true }),
  };
}

/** Stops and removes the workloads of deleted environments; a failure is logged, not reported to the caller. */
export async function destroyWorkloads(
  runtime: RuntimeDriver | undefined,
  logger: LevelLogger,
  targets: Array<{ app: string; env: string }>,
): Promise<void> {
  if (!runtime) return;
  const ctx = driverContext(logger, AbortSignal.timeout(60_000));
  try {
    for (const target of targets) {
      await runtime
        .destroy(target, ctx)
        .catch((error: unknown) => logger.error({ err: error, ...target }, 'could not remove workloads'));
    }
  } finally {
    ctx.dispose();
  }
}

/**
 * What deleting an environment tears down: its workloads (failures logged: the processes are gone with the
 * environment either way) and its resources (failures reported, so the environment is kept).
 */
export function environmentTeardown(
  runtime: RuntimeDriver | undefined,
  resources: ResourceDeps | undefined,
  logger: LevelLogger,
): EnvironmentTeardown {
  return {
    workloads: (target) => destroyWorkloads(runtime, logger, [target]),
    async resources(target) {
      if (!resources) return;
      const ctx = driverContext(logger, AbortSignal.timeout(600_000));
      try {
        await deprovisionEnvironment(resources, target, ctx, async (entry) =>
          logger.info({ ...target, step: entry.step, status: entry.status }, entry.message),
        );
      } finally {
        ctx.dispose();
      }
    },
  };
}

/**
 * Runs one deployment to its end: resolves its set, renders it, removes workloads the set no longer has,
 * deploys the rest and waits until they are ready. On failure it records the reason and, unless asked not
 * to, restores the environment's previous set. Every step lands in the deployment's journal.
 * Rejects only with DeploymentInterrupted (the deployment stays `running`, to be resumed).
 */
export async function runDeployment(
  deps: OrchestratorDeps,
  deploymentId: number,
  signal: AbortSignal,
  resumed: boolean,
): Promise<void> {
  const { store } = deps;
  const row = await store.db
    .selectFrom('deployments')
    .selectAll()
    .where('id', '=', deploymentId)
    .executeTakeFirstOrThrow();
  const target: RuntimeTarget = { app: row.app_id, env: row.env_id };
  const logger = deps.logger.child({ deployment: deploymentId, app: target.app, env: target.env });
  const request = JSON.parse(row.request) as DeploymentRequest;
  const note = (entry: Parameters<typeof journal>[2]) => journal(store.db, deploymentId, entry);
  const checkSignal = () => {
    if (signal.aborted) throw new DeploymentInterrupted('the control plane is stopping');
  };

  if (resumed) {
    await note({
      step: 'resume',
      status: 'info',
      message: 'the control plane stopped during this deployment; running it again from the start',
    });
  }
  const environment = await store.db
    .selectFrom('environments')
    .selectAll()
    .where('app_id', '=', target.app)
    .where('id', '=', target.env)
    .executeTakeFirstOrThrow();
  // On a resume the previous set is the one recorded at the first start, not what the env says now.
  const previousSetId = resumed && row.set_id ? row.previous_set_id : environment.current_set_id;
  const previousDeploymentId = environment.current_deployment_id;
  const previousValuesVersion = previousDeploymentId
    ? ((
        await store.db
          .selectFrom('deployments')
          .select('values_version')
          .where('id', '=', previousDeploymentId)
          .executeTakeFirst()
      )?.values_version ?? null)
    : null;
  // Config is pinned when a deployment starts: a rollback runs with its source's values, others with the
  // environment's newest values.
  const valuesVersion =
    request.valuesVersion !== undefined
      ? request.valuesVersion
      : resumed && row.values_version !== null
        ? Number(row.values_version)
        : await currentValuesVersion(store, target.app, target.env);

  let setId = row.set_id;
  let workloads: SetWorkloads;
  if (setId) {
    workloads = (await loadSet(store.db, setId)).workloads;
  } else {
    const base = environment.current_set_id
      ? (await loadSet(store.db, environment.current_set_id)).workloads
      : {};
    workloads = applyPatch(base, request.upsert, request.remove);
    setId = await saveSet(store.db, workloads);
  }
  await store.db
    .updateTable('deployments')
    .set({
      set_id: setId,
      previous_set_id: previousSetId,
      values_version: valuesVersion,
      started_at: row.started_at ?? now(),
    })
    .where('id', '=', deploymentId)
    .execute();
  await note({
    step: 'plan',
    status: 'info',
    message:
      `set ${setId.slice(0, 12)} with ${Object.keys(workloads).length} workload(s): ` +
      `${Object.keys(workloads).sort().join(', ') || 'none'}; values version ${valuesVersion ?? 'none'}`,
  });

  const resourceTarget: ResourceTarget = { ...target, envType: environment.type, actor: row.actor };
  const outcome = await applySet(
    deps,
    resourceTarget,
    workloads,
    { deploymentId: String(deploymentId), valuesVersion },
    { ...request, keepUnused: row.kind === 'rollback' },
    signal,
    note,
    logger,
  );
  checkSignal();
  if (outcome.ok) {
    await store.transaction(async (tx) => {
      // Fencing: only the replica that still holds the environment's lease may finish the deployment (one
      // that lost it while stalled leaves it to the replica that took over).
      const held = await tx
        .updateTable('environments')
        .set({ current_set_id: setId, current_deployment_id: deploymentId })
        .where('app_id', '=', target.app)
        .where('id', '=', target.env)
        .$if(deps.replicaId !== undefined, (qb) => qb.where('lease_owner', '=', deps.replicaId!))
        .executeTakeFirst();
      if (Number(held.numUpdatedRows) !== 1) {
        throw new DeploymentInterrupted('this replica lost its lease on the environment');
      }
      await tx
        .updateTable('deployments')
        .set({ status: 'succeeded', finished_at: now() })
        .where('id', '=', deploymentId)
        .execute();
      // A rollback brings its config back too, so the next deployment does not undo it.
      if (request.valuesVersion !== undefined && request.valuesVersion !== null) {
        const latest = await latestValuesVersion(tx, target.app, target.env);
        if (latest !== request.valuesVersion) {
          await restoreValues(
            tx,
            systemContext(row.actor, `deployment-${deploymentId}`),
            target.app,
            target.env,
            request.valuesVersion,
            `rollback with deployment ${deploymentId}`,
          );
        }
      }
    });
    await note({ step: 'finish', status: 'succeeded', message: 'every workload is ready' });
    logger.info('deployment succeeded');
    return;
  }

  let rolledBack = false;
  if (!outcome.touched) {
    await note({
      step: 'rollback',
      status: 'info',
      message: 'no workload was changed: the previous deployment keeps running',
    });
  } else if (request.autoRollback && previousSetId && previousSetId !== setId) {
    await note({
      step: 'rollback',
      status: 'started',
      message: `restoring the previous set ${previousSetId.slice(0, 12)} (deployment ${previousDeploymentId ?? '?'})`,
    });
    const previous = (await loadSet(store.db, previousSetId)).workloads;
    const restored = await applySet(
      deps,
      resourceTarget,
      previous,
      {
        deploymentId: String(previousDeploymentId ?? deploymentId),
        valuesVersion: previousValuesVersion === null ? null : Number(previousValuesVersion),
      },
      {
        timeoutSeconds: request.timeoutSeconds,
        autoRollback: false,
        prune: false,
        allowDataLoss: false,
        keepUnused: true,
      },
      signal,
      note,
      logger,
    );
    checkSignal();
    rolledBack = restored.ok;
    await note({
      step: 'rollback',
      status: restored.ok ? 'succeeded' : 'failed',
      message: restored.ok
        ? 'the previous set is back and ready'
        : `the previous set did not come back: ${restored.reason}`,
    });
  } else if (!request.autoRollback) {
    await note({
      step: 'rollback',
      status: 'info',
      message: 'automatic rollback is off for this deployment',
    });
  } else if (!previousSetId) {
    await note({ step: 'rollback', status: 'info', message: 'no previous successful set to restore' });
  }
  await store.db
    .updateTable('deployments')
    .set({ status: 'failed', reason: outcome.reason, finished_at: now(), rolled_back: rolledBack ? 1 : 0 })
    .where('id', '=', deploymentId)
    .execute();
  await note({ step: 'finish', status: 'failed', message: outcome.reason });
  logger.warn({ reason: outcome.reason }, 'deployment failed');
}

/** How applying a set ended; `touched` is false when it failed before any workload changed. */
type ApplyOutcome = { ok: true } | { ok: false; reason: string; touched: boolean };

/**
 * Makes the environment run exactly `workloads`: provision their resources, remove the other workloads,
 * deploy these, wait until ready, then prune unused resources if asked to.
 */
async function applySet(
  deps: OrchestratorDeps,
  resourceTarget: ResourceTarget,
  workloads: SetWorkloads,
  pinned: { deploymentId: string; valuesVersion: number | null },
  request: Pick<
    DeploymentRequest,
    'timeoutSeconds' | 'prune' | 'allowDataLoss' | 'cloneDataFrom' | 'autoRollback'
  > & {
    /** A rollback: unused stateful resources are kept, not refused. */
    keepUnused?: boolean;
  },
  signal: AbortSignal,
  note: (entry: Parameters<typeof journal>[2]) => Promise<void>,
  logger: Logger,
): Promise<ApplyOutcome> {
  const target: RuntimeTarget = { app: resourceTarget.app, env: resourceTarget.env };
  const timeoutSeconds = request.timeoutSeconds;
  const resourceDeps = { store: deps.store, box: deps.box, drivers: deps.resourceDrivers };
  let resources: WorkloadResourceOutputs;
  const provisionCtx = driverContext(logger, AbortSignal.any([signal, AbortSignal.timeout(600_000)]));
  try {
    const plan = await planResources(deps.store.db, resourceTarget, workloads, request);
    if (plan.problems.length) {
      const reason = plan.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
      await note({ step: 'resources', status: 'failed', message: reason });
      return { ok: false, reason, touched: false };
    }
    ({ outputs: resources } = await provisionResources(
      resourceDeps,
      resourceTarget,
      workloads,
      provisionCtx,
      note,
      { cloneFrom: request.cloneDataFrom },
    ));
  } catch (error) {
    if (signal.aborted) throw new DeploymentInterrupted('the control plane is stopping');
    const problems = (error as { errors?: Array<{ path: string; message: string }> }).errors ?? [];
    const reason = [(error as Error).message, ...problems.map((p) => `${p.path}: ${p.message}`)].join('; ');
    if (!(error instanceof ProvisioningError) && problems.length === 0) throw error;
    await note({ step: 'resources', status: 'failed', message: reason });
    return { ok: false, reason, touched: false };
  } finally {
    provisionCtx.dispose();
  }
  const move = deps.targets ? await deps.targets.plan(resourceTarget) : { runtime: deps.runtime };
  const runtime = move.runtime;
  let rendered: RenderedWorkload[];
  try {
    const content =
      pinned.valuesVersion === null
        ? {}
        : await valuesContent(deps.store.db, target.app, target.env, pinned.valuesVersion);
    rendered = await renderSet(
      deps.store.db,
      {
        ...target,
        deploymentId: pinned.deploymentId,
        values: await decryptValues(deps.box, content),
        fingerprint: (value) => deps.box.fingerprint(value),
        resources,
        ...(runtime.serviceAddress
          ? { serviceAddress: (workload, port) => runtime.serviceAddress!(target, workload, port) }
          : {}),
      },
      workloads,
    );
  } catch (error) {
    const problems = (error as { errors?: Array<{ path: string; message: string }> }).errors ?? [];
    const reason = [(error as Error).message, ...problems.map((p) => `${p.path}: ${p.message}`)].join('; ');
    await note({ step: 'render', status: 'failed', message: reason });
    return { ok: false, reason, touched: false };
  }
  const timeout = AbortSignal.timeout(timeoutSeconds * 1000);
  const callSignal = AbortSignal.any([signal, timeout]);
  const ctx = driverContext(logger, callSignal);
  try {
    if (deps.targets) await deps.targets.commit(target, move, ctx, note);
    const running = await runtime.status(target, ctx);
    for (const workload of running.map((w) => w.workload).sort()) {
      if (workload in workloads) continue;
      await note({ step: 'remove', workload, status: 'started', message: 'not in the set' });
      await runtime.remove(target, workload, ctx);
      await note({ step: 'remove', workload, status: 'succeeded', message: 'stopped and removed' });
    }
    const failures: string[] = [];
    if (signal.aborted) throw new DeploymentInterrupted('the control plane is stopping');
    // Workloads start and become ready side by side; each one's steps are journaled as they happen.
    const results = await Promise.all(
      rendered.map(async (workload): Promise<[RenderedWorkload, ReadyResult | null]> => {
        const existing = running.find((w) => w.workload === workload.name);
        const unchanged = existing?.hash === workload.hash && existing.state !== 'stopped';
        await note({
          step: 'deploy',
          workload: workload.name,
          status: 'started',
          message: unchanged
            ? 'unchanged: keeps running'
            : existing
              ? 'replacing the running version'
              : 'starting',
        });
        try {
          await runtime.deploy(target, workload, ctx);
        } catch (error) {
          failures.push(`${workload.name}: ${(error as Error).message}`);
          await note({
            step: 'deploy',
            workload: workload.name,
            status: 'failed',
            message: (error as Error).message,
          });
          return [workload, null];
        }
        return [workload, await runtime.waitReady(target, workload.name, ctx)];
      }),
    );
    if (signal.aborted) throw new DeploymentInterrupted('the control plane is stopping');
    for (const [workload, result] of results) {
      if (!result) continue;
      if (result.ready) {
        await note({ step: 'ready', workload: workload.name, status: 'succeeded', message: 'ready' });
        continue;
      }
      const reason =
        timeout.aborted && !/timed out/.test(result.reason)
          ? `not ready after ${timeoutSeconds} s (${result.reason})`
          : result.reason;
      const logs = result.lastLogs.length ? `\nlast log lines:\n${result.lastLogs.join('\n')}` : '';
      failures.push(`${workload.name}: ${reason}${logs}`);
      await note({ step: 'ready', workload: workload.name, status: 'failed', message: `${reason}${logs}` });
    }
    if (failures.length) return { ok: false, reason: failures.join('\n'), touched: true };
    await writeRoutes(deps.store.db, resourceTarget, workloads, rendered, resources, note);
    if (request.prune) {
      await pruneResources(resourceDeps, resourceTarget, workloads, ctx, note, {
        allowDataLoss: request.allowDataLoss ?? false,
      }).catch(async (error: unknown) => {
        // The workloads run; a resource that could not be deleted stays recorded and is retried next time.
        await note({ step: 'prune', status: 'failed', message: (error as Error).message });
      });
    }
    return { ok: true };
  } finally {
    ctx.dispose();
  }
}
