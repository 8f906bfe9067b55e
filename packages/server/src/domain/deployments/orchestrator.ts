import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DriverContext, RuntimeDriver, RuntimeTarget } from '@pave/plugin-api';
import { ServiceUnavailableError, UpstreamError, type DeploymentKind } from '@pave/core';
import type { Store } from '../../store/index.ts';
import { systemContext } from '../context.ts';
import { environmentMasker } from '../logs.ts';
import { maskingLogger } from '../resources/masking.ts';
import { recordEvent } from '../events.ts';
import {
  deploymentToRun,
  journal,
  leaseFence,
  progressOf,
  recordFailure,
  recordProgress,
  recordRunStart,
  recordSuccess,
  storedProgress,
  valuesVersionOf,
  type DeploymentRequest,
  type LeaseFence,
} from './records.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import { currentValuesVersion, latestValuesVersion, recordValuesEvents, restoreValues } from '../values.ts';
import { applyPatch } from './service.ts';
import { loadSet, saveSet, type SetWorkloads } from './sets.ts';
import { currentWorkloadArtifacts, patchWorkloadArtifacts, type WorkloadArtifacts } from './provenance.ts';
import type { EnvironmentTeardown } from '../environments.ts';
import {
  deleteCreatedResources,
  deprovisionEnvironment,
  type JournalNote,
  type ResourceDeps,
  type ResourceDriverRegistry,
  type ResourceTarget,
} from '../resources/provision.ts';
import { minReadySecondsOf } from '../env-types.ts';
import { LOCAL_TARGET } from '../targets.ts';
import { applySet, type ApplyOutcome } from './phases/apply-set.ts';
import { DeploymentInterrupted, type ProgressRecord, type RunProgress, type SetRun } from './phases/phase.ts';
import type { DeploymentTelemetry } from '../../observability/telemetry.ts';

export { DeploymentInterrupted } from './phases/phase.ts';

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
  /** Metrics and spans of each deployment and its phases; none when absent. */
  telemetry?: DeploymentTelemetry | undefined;
  /** How often the wait ready phase journals which workloads are still not ready; default 10 s. */
  readyProgressMs?: number;
}

/** Chooses the runtime of a deployment and moves the environment to it (see RuntimeRouter). */
export interface EnvironmentTargets {
  /**
   * The runtime of the target the environment matches now (`next`, when known); `moving` when that is not
   * the one it runs on.
   */
  plan(target: RuntimeTarget & { envType: string }): Promise<{
    runtime: RuntimeDriver;
    moving: boolean;
    next?: { id: string; type: string };
  }>;
  /**
   * Moves the environment to the target `move` planned; every change it makes needs the lease of `fence` (it
   * rejects with DeploymentInterrupted, `leaseLost`, once the run's replica no longer holds it).
   */
  commit(
    target: RuntimeTarget,
    move: { runtime: RuntimeDriver; moving: boolean },
    ctx: DriverContext,
    note: (entry: Parameters<typeof journal>[2]) => Promise<void>,
    fence: LeaseFence,
  ): Promise<void>;
}

/** The part of a pino logger that driver contexts write to. */
export type LevelLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/**
 * Builds the context object a driver call receives. With `journal` (a deployment's phases), every line names
 * its `step` in the log, and every line of `journal.levels` (default info, warn and error; a runtime's phases
 * take warn and error) also lands in the deployment's journal under it, as DriverLogger documents: the message
 * only, prefixed with the resource's `address` field when it has one. `flushed()` resolves once every line so far is written; the returned `note` waits for it, so journal
 * entries keep their order.
 */
export function driverContext(
  logger: LevelLogger,
  signal: AbortSignal,
  journal?: { note: JournalNote; step: string; levels?: ReadonlyArray<'info' | 'warn' | 'error'> },
): DriverContext & { dispose(): void; note: JournalNote; flushed(): Promise<void> } {
  const scratchDir = mkdtempSync(join(tmpdir(), 'pave-driver-'));
  let written: Promise<void> = Promise.resolve();
  const journaled = new Set<string>(journal?.levels ?? ['info', 'warn', 'error']);
  const log =
    (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) => {
      logger[level](journal ? { ...fields, step: journal.step } : (fields ?? {}), message);
      if (!journal || !journaled.has(level)) return;
      const address = typeof fields?.address === 'string' ? `${fields.address}: ` : '';
      const entry = { step: journal.step, status: 'info' as const, message: `${address}${message}` };
      // Handed over at once, so it takes its place among the deployment's entries (written in call order) now.
      const pending = journal.note(entry).catch(() => undefined);
      written = written.then(() => pending);
    };
  return {
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    signal,
    scratchDir,
    dryRun: false,
    dispose: () => rmSync(scratchDir, { recursive: true, force: true }),
    note: async (entry) => {
      await written;
      await journal?.note(entry);
    },
    flushed: () => written,
  };
}

/** How long removing one environment's workloads may take. */
const WORKLOADS_REMOVAL_TIMEOUT_MS = 60_000;

/**
 * Asks `runtime` to stop and remove the workloads of `target`, giving up when `signal` aborts; rejects with
 * the runtime's error. What the runtime says (its error, its log lines) may quote the environment the
 * workloads were given: its log lines go through `mask` (see environmentMasker), and callers mask its error.
 */
async function removeWorkloads(
  runtime: RuntimeDriver,
  logger: LevelLogger,
  target: { app: string; env: string },
  mask: (text: string) => string,
  signal: AbortSignal,
): Promise<void> {
  const ctx = driverContext(logger, signal);
  try {
    // Masked as the driver writes it (driverContext hands its logger pino's arguments, not a driver's).
    await runtime.destroy(target, { ...ctx, logger: maskingLogger(ctx.logger, mask) });
  } finally {
    ctx.dispose();
  }
}

/**
 * Stops and removes the workloads of environments that are gone already (one deleted while a deployment of
 * it ran): a failure is logged, there being no environment left to keep. Deleting an environment removes its
 * workloads through environmentTeardown, which reports a failure. What the runtime says is logged through the
 * mask `maskerOf` gives (see environmentMasker).
 */
export async function destroyWorkloads(
  runtime: RuntimeDriver | undefined,
  logger: LevelLogger,
  targets: Array<{ app: string; env: string }>,
  maskerOf: (target: { app: string; env: string }) => Promise<(text: string) => string>,
): Promise<void> {
  if (!runtime) return;
  for (const target of targets) {
    const mask = await maskerOf(target);
    await removeWorkloads(
      runtime,
      logger,
      target,
      mask,
      AbortSignal.timeout(WORKLOADS_REMOVAL_TIMEOUT_MS),
    ).catch((error: unknown) =>
      logger.error({ ...target, error: mask((error as Error).message) }, 'could not remove workloads'),
    );
  }
}

/**
 * How long deleting an environment's resources may take, all of them together, whatever their definitions'
 * own timeouts: the deletion holds the environment's lease, renewed, for all of it.
 */
const ENVIRONMENT_TEARDOWN_TIMEOUT_MS = 600_000;

/**
 * What deleting an environment tears down: its workloads, then its resources. A failure of either is
 * reported (the runtime's as a WorkloadsNotRemovedError, 502, masked, and logged), so that the environment is
 * kept with what is left rather than forgotten while its workloads still run or its resources still exist.
 * Once `stopping` aborts (the control plane stops), a teardown not begun is refused and the drivers of one
 * under way are asked to give up (their `ctx.signal`), rather than holding the stop until they end: either
 * way the caller gets a ServiceUnavailableError (503), and the environment is kept with what is left, to be
 * deleted again.
 */
export function environmentTeardown(
  runtime: RuntimeDriver | undefined,
  resources: ResourceDeps | undefined,
  logger: LevelLogger,
  stopping?: AbortSignal,
): EnvironmentTeardown {
  const refuseWhenStopping = (target: { app: string; env: string }) => {
    if (stopping?.aborted) throw stoppingError(target);
  };
  return {
    async workloads({ app, env, runtimeTarget }) {
      const target = { app, env };
      refuseWhenStopping(target);
      if (!runtime) return;
      const mask = resources
        ? await environmentMasker(resources.box, resources.store.db, target)
        : (text: string) => text;
      const timeout = AbortSignal.timeout(WORKLOADS_REMOVAL_TIMEOUT_MS);
      const signal = stopping ? AbortSignal.any([timeout, stopping]) : timeout;
      try {
        await removeWorkloads(runtime, logger, target, mask, signal);
      } catch (error) {
        if (stopping?.aborted) throw stoppingError(target);
        const said = mask((error as Error).message);
        logger.error({ ...target, runtimeTarget, error: said }, 'could not remove workloads');
        throw workloadsNotRemoved(target, runtimeTarget, said);
      }
    },
    async resources(target) {
      if (!resources) return;
      refuseWhenStopping(target);
      const timeout = AbortSignal.timeout(ENVIRONMENT_TEARDOWN_TIMEOUT_MS);
      const ctx = driverContext(logger, stopping ? AbortSignal.any([timeout, stopping]) : timeout);
      try {
        await deprovisionEnvironment(resources, target, ctx, async (entry) =>
          logger.info({ ...target, step: entry.step, status: entry.status }, entry.message),
        );
      } catch (error) {
        if (stopping?.aborted) throw stoppingError(target);
        throw error;
      } finally {
        ctx.dispose();
      }
    },
  };
}

/** A runtime that could not remove a deleted environment's workloads: an UpstreamError (502). */
class WorkloadsNotRemovedError extends UpstreamError {}

/**
 * Why an environment is kept when the runtime of `runtimeTarget` could not remove its workloads (`said`, the
 * runtime's words, masked): a WorkloadsNotRemovedError naming the environment and the target, with a problem
 * at `env` (the request's `path.env` where it has one) saying how to finish: fix the target and delete again,
 * or, for a target gone for good, move the environment off it with a deployment first (a deployment to
 * another target leaves the workloads it cannot remove behind, saying so in its journal).
 */
function workloadsNotRemoved(
  { app, env }: { app: string; env: string },
  runtimeTarget: string,
  said: string,
): WorkloadsNotRemovedError {
  const fix =
    `fix runtime target ${runtimeTarget} (\`pave targets get ${runtimeTarget}\`, ` +
    `\`pave status --app ${app} --env ${env}\`) and delete it again`;
  const goneForGood =
    runtimeTarget === LOCAL_TARGET.id
      ? ''
      : '; if the target is gone for good, move the environment off it first: apply the target with ' +
        'criteria that no longer match the environment and deploy it once, then delete it';
  return new WorkloadsNotRemovedError(
    `could not remove the workloads of ${app}/${env} from runtime target "${runtimeTarget}": ${said}; ` +
      'the environment is kept, with its workloads and resources',
    [{ path: 'env', message: `${fix}${goneForGood}` }],
  );
}

/** A deletion given up because the control plane stops: a ServiceUnavailableError (503), by its name. */
class DeletionStoppedError extends ServiceUnavailableError {}

/**
 * Why an environment is kept when the control plane stopped while (or before) it was deleted: a
 * ServiceUnavailableError (503) naming it, with a problem at `env` (the request's `path.env` where it has one).
 */
function stoppingError({ app, env }: { app: string; env: string }): ServiceUnavailableError {
  return new DeletionStoppedError(
    `the control plane is stopping, so ${app}/${env} was not deleted: it is kept with the resources not ` +
      'deleted yet',
    [
      {
        path: 'env',
        message: 'delete it again once Pave runs (an expired one is deleted at the next sweep)',
      },
    ],
  );
}

/** Whether `error` is a {@link stoppingError}: the deletion gave up because the control plane stops. */
export function isStoppingError(error: unknown): boolean {
  return error instanceof DeletionStoppedError;
}

/**
 * The reason of a deployment that failed on an error in Pave itself rather than a driver's: what went wrong is
 * in the server's log only, under the deployment's id.
 */
export function internalErrorReason(deploymentId: number): string {
  return `internal error; the server log has details under deployment ${deploymentId}`;
}

/**
 * Runs one deployment to its end: resolves its set and applies it phase by phase (see applySet). When a phase
 * fails, or Pave itself does once the run has started, one decision follows whatever failed: restore the
 * previous set (unless asked not to), or with none to restore stop what the deployment started; then delete
 * the resources it created, once nothing of the failed set uses them. Every step lands in the deployment's
 * journal, and every write needs the environment's lease (see leaseFence). Rejects with DeploymentInterrupted
 * (the deployment stays `running`, to be resumed; after `leaseLost` nothing was undone), and with an error of
 * the store when even failing the deployment could not be recorded.
 */
export async function runDeployment(
  deps: OrchestratorDeps,
  deploymentId: number,
  signal: AbortSignal,
  resumed: boolean,
): Promise<void> {
  const { store } = deps;
  const { row, environment } = await deploymentToRun(store.db, deploymentId);
  const target: ResourceTarget = {
    app: row.app_id,
    env: row.env_id,
    envType: environment.type,
    actor: row.actor,
    deploymentId,
  };
  const logger = deps.logger.child({ deployment: deploymentId, app: target.app, env: target.env });
  const request = JSON.parse(row.request) as DeploymentRequest;
  const fence = leaseFence(store, target, deps.replicaId);
  // Entries are written one after the other, in the order they are made: a driver's lines before the phase's
  // outcome they explain (see driverContext).
  let lastNote: Promise<unknown> = Promise.resolve();
  const note: JournalNote = (entry) => {
    const written = lastNote.then(() => fence.write((db) => journal(db, deploymentId, entry)));
    lastNote = written.catch(() => undefined);
    return written;
  };
  const checkSignal = () => {
    if (signal.aborted) throw new DeploymentInterrupted('the control plane is stopping');
  };

  if (resumed) {
    await note({
      step: 'resume',
      status: 'info',
      message:
        'the control plane stopped during this deployment; running it again (resources it already made are kept)',
    });
  }
  // On a resume the previous set is the one recorded at the first start, not what the env says now.
  const previousSetId = resumed && row.set_id ? row.previous_set_id : environment.current_set_id;
  const previousDeploymentId = environment.current_deployment_id;
  // Config is pinned when a deployment starts: a rollback runs with its source's values, one that awaited
  // approval with those pinned when it was asked for (the values approved), others with the environment's
  // newest values.
  const valuesVersion =
    request.valuesVersion !== undefined
      ? request.valuesVersion
      : resumed && row.values_version !== null
        ? Number(row.values_version)
        : await currentValuesVersion(store, target.app, target.env);

  let setId = row.set_id;
  let workloads: SetWorkloads;
  // Set when this start builds the set: where each of its workloads came from (provenance.ts).
  let workloadArtifacts: WorkloadArtifacts | undefined;
  if (setId) {
    workloads = (await loadSet(store.db, setId)).workloads;
  } else {
    const base = environment.current_set_id
      ? (await loadSet(store.db, environment.current_set_id)).workloads
      : {};
    workloads = applyPatch(base, request.upsert, request.remove);
    setId = await saveSet(store.db, workloads);
    workloadArtifacts = patchWorkloadArtifacts(
      await currentWorkloadArtifacts(store.db, previousDeploymentId, base),
      (request.upsert ?? []).map((source) => source.spec.metadata.name),
      request.remove ?? [],
      row.artifact_id === null ? null : String(row.artifact_id),
    );
  }
  // Events of the run are the actor's who queued it.
  const actor = systemContext(row.actor, `deployment-${deploymentId}`);
  const about = { app: target.app, env: target.env };
  const deployment = { deploymentId: String(deploymentId), kind: row.kind as DeploymentKind };
  const runSetId = setId;
  const minReadySeconds = request.minReadySeconds ?? (await minReadySecondsOf(store.db, environment.type));

  const run = (
    set: SetWorkloads,
    pinned: SetRun['pinned'],
    options: SetRun['options'],
    record?: ProgressRecord,
  ): Promise<ApplyOutcome> =>
    applySet({ deps, target, workloads: set, pinned, options, signal, note, fence, logger, record });

  /**
   * The one rollback decision, on what the deployment's runs changed (`progress`). Resolves true when the
   * previous set is back.
   */
  const undo = async (progress: RunProgress): Promise<boolean> => {
    // Only the lease's holder undoes: a replica that lost it leaves the deployment to the one that has it.
    await fence.check();
    // `cleared`: nothing of the failed set still runs.
    let rolledBack = false;
    let cleared = !progress.touched || progress.started.length === 0;
    if (!progress.touched) {
      await note({
        step: 'rollback',
        status: 'info',
        message: previousSetId
          ? 'no workload was changed: the previous deployment keeps running'
          : 'no workload was changed: nothing was deployed here before',
      });
    } else if (!request.autoRollback) {
      await note({
        step: 'rollback',
        status: 'info',
        message: 'automatic rollback is off for this deployment',
      });
    } else if (previousSetId && previousSetId !== runSetId) {
      await note({
        step: 'rollback',
        status: 'started',
        message: `restoring the previous set ${previousSetId.slice(0, 12)} (deployment ${previousDeploymentId ?? '?'})`,
      });
      const previousValues = await valuesVersionOf(store.db, previousDeploymentId);
      const restored = await run(
        (await loadSet(store.db, previousSetId)).workloads,
        { deploymentId: String(previousDeploymentId ?? deploymentId), valuesVersion: previousValues },
        {
          timeoutSeconds: request.timeoutSeconds,
          prune: false,
          allowDataLoss: false,
          keepUnused: true,
          minReadySeconds,
        },
      );
      checkSignal();
      rolledBack = cleared = restored.ok;
      await note({
        step: 'rollback',
        status: restored.ok ? 'succeeded' : 'failed',
        message: restored.ok
          ? 'the previous set is back and ready'
          : `the previous set did not come back: ${restored.reason}`,
      });
    } else if (!previousSetId) {
      cleared = await stopStarted(deps, target, progress.started, signal, logger, note);
      checkSignal();
    } else {
      await note({
        step: 'rollback',
        status: 'info',
        message: 'the previous deployment ran this same set: there is nothing else to restore',
      });
    }
    await takeBackResources(deps, target, progress.created, cleared, fence, signal, logger, note);
    // Stopped while it undid (a call aborted, not failed): the run that resumes the deployment finishes it.
    checkSignal();
    return rolledBack;
  };

  /**
   * The one exit for failure, whatever failed: undoes what the deployment changed (best effort: an error in
   * Pave while undoing is journaled and logged, and the failure recorded all the same), then records the
   * deployment failed with `reason`.
   */
  const fail = async (progress: RunProgress, reason: string): Promise<void> => {
    const rolledBack = await undo(progress).catch(async (error: unknown) => {
      if (error instanceof DeploymentInterrupted) throw error;
      logger.error({ err: error }, 'could not undo what the failed deployment changed');
      await note({
        step: 'rollback',
        status: 'failed',
        message: `could not undo all this deployment changed: ${internalErrorReason(deploymentId)}`,
      });
      return false;
    });
    await fence.write(async (tx) => {
      await recordFailure(tx, deploymentId, reason, rolledBack);
      const failure = { ...deployment, status: 'failed' as const, reason, rolledBack };
      await recordEvent(tx, actor, { type: 'deployment.failed', ...about, data: failure });
      if (rolledBack) {
        await recordEvent(tx, actor, { type: 'deployment.rolled-back', ...about, data: failure });
      }
    });
    await note({ step: 'finish', status: 'failed', message: reason });
    logger.warn({ reason }, 'deployment failed');
  };

  let outcome: ApplyOutcome;
  try {
    await fence.write(async (tx) => {
      await recordRunStart(tx, deploymentId, {
        setId: runSetId,
        previousSetId,
        valuesVersion,
        startedAt: row.started_at,
        workloadArtifacts,
      });
      await recordEvent(tx, actor, {
        type: 'deployment.started',
        ...about,
        data: { ...deployment, status: 'running', setId: runSetId, valuesVersion },
      });
    });
    await note({
      step: 'plan',
      status: 'info',
      message:
        `set ${runSetId.slice(0, 12)} with ${Object.keys(workloads).length} workload(s): ` +
        `${Object.keys(workloads).sort().join(', ') || 'none'}; values version ${valuesVersion ?? 'none'}; ` +
        `workloads without a readiness probe must run ${minReadySeconds} s`,
    });
    // The run of the deployment's own set keeps its progress in the store as it goes; resumed, it starts from
    // what the interrupted runs had done, so a failure now takes that back too.
    outcome = await run(
      workloads,
      { deploymentId: String(deploymentId), valuesVersion },
      // A rollback or a restart deploys a set that ran before: resources it no longer uses stay as they are.
      { ...request, keepUnused: row.kind === 'rollback' || row.kind === 'restart', minReadySeconds },
      {
        earlier: resumed ? progressOf(row) : { touched: false, started: [], created: [] },
        save: (progress, db) => fence.write((tx) => recordProgress(tx, deploymentId, progress), db),
      },
    );
    checkSignal();
    if (outcome.ok) {
      await store.transaction(async (tx) => {
        if (!(await recordSuccess(tx, deploymentId, { ...target, setId: runSetId }, deps.replicaId))) {
          throw new DeploymentInterrupted('this replica lost its lease on the environment', true);
        }
        // A rollback brings its config back too, so the next deployment does not undo it. A restart runs with
        // the values its current deployment ran with, and leaves values set since for the next deployment.
        if (
          row.kind === 'rollback' &&
          request.valuesVersion !== undefined &&
          request.valuesVersion !== null
        ) {
          const latest = await latestValuesVersion(tx, target.app, target.env);
          if (latest !== request.valuesVersion) {
            const restored = await restoreValues(
              tx,
              actor,
              target.app,
              target.env,
              request.valuesVersion,
              `rollback with deployment ${deploymentId}`,
            );
            await recordValuesEvents(tx, actor, target.app, 'env', restored);
          }
        }
        await recordEvent(tx, actor, {
          type: 'deployment.succeeded',
          ...about,
          data: { ...deployment, status: 'succeeded' },
        });
      });
    }
  } catch (error) {
    if (error instanceof DeploymentInterrupted) throw error;
    // Pave itself failed, not a driver: the deployment fails as it would in a phase, undoing what its runs
    // changed as the store has it. What went wrong is for the log only: it may hold the store's words.
    logger.error({ err: error }, 'the deployment stopped on an unexpected error');
    await fail(await storedProgress(store.db, deploymentId), internalErrorReason(deploymentId));
    return;
  }
  if (outcome.ok) {
    await note({ step: 'finish', status: 'succeeded', message: 'every workload is ready' });
    logger.info('deployment succeeded');
    return;
  }
  await fail(
    outcome,
    `${outcome.phase} failed${outcome.driver ? ` (${outcome.driver})` : ''}: ${outcome.reason}`,
  );
}

/**
 * A failed deployment with no earlier set to go back to stops the workloads it started, so a failed first
 * deployment leaves nothing crash-looping. Resolves true when every one of them is gone. What the runtime
 * says (its errors in the journal, its log lines) has the environment's secrets masked: it may quote the
 * environment the workloads were given.
 */
async function stopStarted(
  deps: Pick<OrchestratorDeps, 'runtime' | 'store' | 'box'>,
  target: RuntimeTarget,
  started: string[],
  signal: AbortSignal,
  logger: Logger,
  note: JournalNote,
): Promise<boolean> {
  // Unreadable secrets (the store gone) withhold the runtime's words, and still stop the workloads.
  const mask = await environmentMasker(deps.box, deps.store.db, target);
  // Stopped with the deployment (the control plane stopping, its lease lost) as every driver call of its run
  // is; the runtime's warnings and errors are journaled as in the runtime phases, masked as they are written.
  const ctx = driverContext(
    logger.child({ step: 'rollback' }),
    AbortSignal.any([signal, AbortSignal.timeout(60_000)]),
    { note, step: 'rollback', levels: ['warn', 'error'] },
  );
  const driverCtx = { ...ctx, logger: maskingLogger(ctx.logger, mask) };
  const failures: string[] = [];
  try {
    for (const workload of [...started].sort()) {
      await deps.runtime
        .remove({ app: target.app, env: target.env }, workload, driverCtx)
        .catch((error: unknown) => failures.push(`${workload}: ${mask((error as Error).message)}`));
    }
  } finally {
    ctx.dispose();
  }
  // After the runtime's lines, which it explains.
  await ctx.note({
    step: 'rollback',
    status: failures.length ? 'failed' : 'info',
    message: failures.length
      ? `no previous set to restore, and some workloads this deployment started could not be stopped: ${failures.join('; ')}`
      : `no previous set to restore: stopped what this deployment started (${[...started].sort().join(', ')})`,
  });
  return failures.length === 0;
}

/**
 * Deletes the resources a failed deployment created, newest first, once nothing of the failed set runs (a
 * workload still running keeps the resources it uses). Resources that existed before are never touched.
 */
async function takeBackResources(
  deps: OrchestratorDeps,
  target: ResourceTarget,
  created: string[],
  cleared: boolean,
  fence: LeaseFence,
  signal: AbortSignal,
  logger: Logger,
  note: JournalNote,
): Promise<void> {
  if (created.length === 0) return;
  if (!cleared) {
    await note({
      step: 'provision',
      status: 'info',
      message: `kept ${created.join(', ')}: workloads of the failed set still use them`,
    });
    return;
  }
  // Stopped with the deployment, as its provisioning is; what the drivers say while deleting is journaled
  // as it is while provisioning, in order with the entries of the deletions.
  const ctx = driverContext(logger, AbortSignal.any([signal, AbortSignal.timeout(600_000)]), {
    note,
    step: 'provision',
  });
  try {
    const kept = await deleteCreatedResources(
      { store: deps.store, box: deps.box, drivers: deps.resourceDrivers, fence },
      target,
      created,
      ctx,
      ctx.note,
    );
    if (kept.length) {
      await ctx.note({
        step: 'provision',
        status: 'failed',
        message: `${kept.join(', ')} could not be deleted again; kept, and reused by the next deployment`,
      });
    }
  } finally {
    ctx.dispose();
  }
}
