// Bringing an environment's current set back when the control plane starts, as Argo CD's self-heal brings an
// application back to its desired state and Heroku brings dynos back: the process runtime cannot restart a
// container on its own (its environment, secrets included, is never written to disk), so after a reboot or
// `pave down` its workloads stay stopped until the control plane deploys them again.
import type { Deployment } from '@pave/core';
import type { DriverContext, RuntimeDriver, WorkloadStatus } from '@pave/plugin-api';
import type { Logger } from 'pino';
import { SYSTEM_ACTORS } from '@pave/core';
import type { Executor, Store } from '../../store/index.ts';
import { now, systemContext } from '../context.ts';
import { isDeletionOwner } from '../environments.ts';
import { environmentMasker } from '../logs.ts';
import { LOCAL_TARGET } from '../targets.ts';
import { planResources, type ResourceDriverRegistry } from '../resources/provision.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import { driverContext } from './orchestrator.ts';
import { DEFAULT_TIMEOUT_SECONDS, pendingDeployment, progressOf, type DeploymentRequest } from './records.ts';
import { PLAN_TIMEOUT_MS, holdQueue, insertDeployment } from './service.ts';
import { loadSet } from './sets.ts';
import { cancelQueued } from './cancel.ts';

/** Who queues restarts, in their deployments, audit entries and events. */
export const RESTART_ACTOR = SYSTEM_ACTORS.system;

/** The message of every restart. */
export const RESTART_MESSAGE = 'restart: the workloads were not running when Pave started';

/** An environment whose current set runs on, as the store has it when the control plane starts. */
interface Candidate {
  app: string;
  env: string;
  deploymentId: number;
  setId: string;
}

/**
 * Queues a restart (a deployment of kind `restart`, by RESTART_ACTOR) for every environment on the process
 * runtime whose current set has workloads the runtime reports `stopped`: those whose supervisor or host went
 * away while the control plane was down (a reboot, `pave down`). Called once at start, after the runtimes adopted their workloads; the
 * worker then runs each restart like any deployment (resources and their servers first, values and secrets
 * pinned to the version the current deployment ran with). An environment is left alone when it is being
 * deleted or has expired, when it has a deployment queued or running, or when a deployment that failed since
 * its current one left it uncertain (see unsettledFailure: someone should look first; a warning names the
 * environment, the failure and what to do). A failed deployment that was rolled back to the current set, or
 * that changed no workload, does not stop its restart: the current set is what ran. Replicas starting
 * together queue one restart per environment: the check is made again in the transaction that queues it,
 * under the environment's queue lock. The runtime is asked first and the store only about an environment with
 * stopped workloads (or whose runtime cannot say): an environment whose runtime cannot say what runs, or whose
 * current set cannot be read, is logged and skipped when it would otherwise be restarted or warned about; one
 * whose runtime reports nothing stopped is not looked at further. Logs how long the whole look took. Resolves
 * with the restarts queued.
 */
export async function queueRestarts(
  store: Store,
  box: SecretBox,
  runtime: RuntimeDriver,
  ctx: DriverContext,
  requestId: string,
): Promise<Deployment[]> {
  const context = systemContext(RESTART_ACTOR, requestId);
  const queued: Deployment[] = [];
  const started = performance.now();
  const all = await candidates(store.db);
  for (const candidate of all) {
    const { app, env } = candidate;
    // The runtime first: most environments run (or the runtime knows nothing of them), and asking it is cheaper
    // than the store's checks, which matter only for an environment with stopped workloads.
    let statuses: WorkloadStatus[] | undefined;
    let unknown: Error | undefined;
    try {
      const answered: unknown = await runtime.status({ app, env }, ctx);
      if (!Array.isArray(answered)) throw new Error('the runtime answered no list of workloads');
      statuses = answered as WorkloadStatus[];
    } catch (error) {
      unknown = error instanceof Error ? error : new Error(String(error));
    }
    if (statuses && !statuses.some((status) => status.state === 'stopped')) continue;
    const verdict = await restartable(store.db, candidate);
    if (!verdict.ok && verdict.warning === undefined) continue;
    let stopped: string[];
    try {
      if (statuses === undefined) throw unknown ?? new Error('the runtime answered nothing');
      stopped = await stoppedWorkloads(store.db, candidate, statuses);
    } catch (error) {
      // The runtime's words may quote the environment the workloads were given.
      const mask = await environmentMasker(box, store.db, candidate);
      ctx.logger.warn('cannot tell whether the workloads of an environment run; not restarting them', {
        app,
        env,
        error: mask((error as Error).message),
      });
      continue;
    }
    if (stopped.length === 0) continue;
    if (!verdict.ok) {
      // Left stopped for a reason the user has to act on: say so once, with what to do.
      ctx.logger.warn(`not restarting ${stopped.join(', ')} of ${app}/${env}: ${verdict.warning}`, {
        app,
        env,
        workloads: stopped,
      });
      continue;
    }
    const deployment = await store.transaction(async (tx) => {
      await holdQueue(tx, candidate);
      const current = await restartable(tx, candidate);
      if (!current.ok) return undefined;
      const request: DeploymentRequest = {
        setId: candidate.setId,
        fromDeploymentId: String(candidate.deploymentId),
        valuesVersion: current.valuesVersion,
        timeoutSeconds: current.request.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
        autoRollback: true,
        ...(current.request.minReadySeconds !== undefined
          ? { minReadySeconds: current.request.minReadySeconds }
          : {}),
      };
      return insertDeployment(tx, context, candidate, 'restart', request, RESTART_MESSAGE);
    });
    if (!deployment) continue;
    queued.push(deployment);
    ctx.logger.info(`queued deployment ${deployment.id} to restart ${stopped.join(', ')} of ${app}/${env}`, {
      app,
      env,
      deployment: deployment.id,
      workloads: stopped,
    });
  }
  const ms = Math.round(performance.now() - started);
  ctx.logger.info(
    `looked for stopped workloads in ${all.length} environment(s) in ${ms} ms; queued ${queued.length} restart(s)`,
    { environments: all.length, restarts: queued.length, ms },
  );
  return queued;
}

/**
 * Every environment with a current set on the process runtime, apart from those being deleted and ephemeral
 * ones that expired.
 */
async function candidates(db: Executor): Promise<Candidate[]> {
  const at = now();
  const rows = await db
    .selectFrom('environments')
    .select([
      'app_id',
      'id',
      'current_deployment_id',
      'current_set_id',
      'lease_owner',
      'expires_at',
      'runtime_target',
    ])
    .where('current_deployment_id', 'is not', null)
    .where('current_set_id', 'is not', null)
    .orderBy('app_id')
    .orderBy('id')
    .execute();
  // Only the process runtime's `stopped` means that the workload's supervisor went away: docker restarts its
  // containers itself (a stopped one is stopped for good reason), and on kubernetes a workload reports stopped
  // when someone scaled it to zero on purpose.
  const processTargets = new Set(
    (await db.selectFrom('runtime_targets').select('id').where('type', '=', 'process').execute()).map(
      (target) => target.id,
    ),
  );
  processTargets.add(LOCAL_TARGET.id);
  return rows
    .filter((row) => !isDeletionOwner(row.lease_owner) && !(row.expires_at !== null && row.expires_at <= at))
    .filter((row) => processTargets.has(row.runtime_target ?? LOCAL_TARGET.id))
    .map((row) => ({
      app: row.app_id,
      env: row.id,
      deploymentId: Number(row.current_deployment_id),
      setId: row.current_set_id!,
    }));
}

/** The workloads of the candidate's current set that its runtime reports stopped (`statuses`), by name. */
async function stoppedWorkloads(
  db: Executor,
  candidate: Candidate,
  statuses: WorkloadStatus[],
): Promise<string[]> {
  const workloads = Object.keys((await loadSet(db, candidate.setId)).workloads).sort();
  return workloads.filter((name) => statuses.find((status) => status.workload === name)?.state === 'stopped');
}

/** Whether a restart of the candidate's current deployment may be queued now (see restartable). */
type Verdict =
  | { ok: true; valuesVersion: number | null; request: Partial<DeploymentRequest> }
  /** `warning`: why, when it is something the user has to act on; none when nothing needs saying. */
  | { ok: false; warning?: string };

/**
 * Whether a restart of the candidate's current deployment may be queued now: the environment still runs that
 * deployment's set, which succeeded, is not being deleted, has nothing queued or running, and no deployment
 * that failed since left it uncertain (see unsettledFailure). With it, what the restart runs with.
 */
async function restartable(db: Executor, candidate: Candidate): Promise<Verdict> {
  const environment = await db
    .selectFrom('environments')
    .select(['current_deployment_id', 'current_set_id', 'lease_owner'])
    .where('app_id', '=', candidate.app)
    .where('id', '=', candidate.env)
    .executeTakeFirst();
  if (
    !environment ||
    Number(environment.current_deployment_id) !== candidate.deploymentId ||
    environment.current_set_id !== candidate.setId ||
    isDeletionOwner(environment.lease_owner)
  ) {
    return { ok: false };
  }
  // It resumes or runs instead.
  if (await pendingDeployment(db, candidate.app, candidate.env, 'asc')) return { ok: false };
  const failure = await unsettledFailure(db, candidate);
  if (failure) return { ok: false, warning: failure };
  const current = await db
    .selectFrom('deployments')
    .select(['status', 'values_version', 'request'])
    .where('id', '=', candidate.deploymentId)
    .executeTakeFirst();
  if (current?.status !== 'succeeded') return { ok: false };
  return {
    ok: true,
    valuesVersion: current.values_version === null ? null : Number(current.values_version),
    request: JSON.parse(current.request) as Partial<DeploymentRequest>,
  };
}

/**
 * The newest deployment that failed since the candidate's current one and left the environment uncertain, as
 * a sentence for the log that says what to do; undefined when there is none. A failure leaves the current set
 * running, as the orchestrator journaled it, when its rollback brought that set back and it was ready
 * (`rolled_back`, and the set it replaced, `previous_set_id`, is the current one), or when it changed no
 * workload (its stored progress is not `touched`, which the runtime phases save before they call the
 * runtime). Any other failure (automatic rollback off, a rollback that failed too, a failed restart of the
 * same set, a crash of the worker) may have left workloads of the failed set, or none: a restart would not
 * put that right on its own, and nobody asked for it.
 */
async function unsettledFailure(db: Executor, candidate: Candidate): Promise<string | undefined> {
  const { app, env, deploymentId, setId } = candidate;
  // Those rolled back to the current set are settled. The rest are read without their requests (a deploy's
  // holds its workloads): only the one found is named.
  const failures = await db
    .selectFrom('deployments')
    .select(['id', 'progress'])
    .where('app_id', '=', app)
    .where('env_id', '=', env)
    .where('status', '=', 'failed')
    .where('id', '>', deploymentId)
    .where((eb) =>
      eb.or([
        eb('rolled_back', '!=', 1),
        eb('previous_set_id', 'is', null),
        eb('previous_set_id', '!=', setId),
      ]),
    )
    .orderBy('id', 'desc')
    .execute();
  const unsettled = failures.find((failure) => progressOf(failure).touched);
  if (!unsettled) return undefined;
  const { request } = await db
    .selectFrom('deployments')
    .select('request')
    .where('id', '=', unsettled.id)
    .executeTakeFirstOrThrow();
  const asked = JSON.parse(request) as Partial<DeploymentRequest>;
  const how =
    asked.autoRollback === false
      ? 'was not rolled back (automatic rollback was off)'
      : `was not rolled back to deployment ${deploymentId}'s set`;
  return (
    `deployment ${unsettled.id} failed after deployment ${deploymentId} (the current one) and ${how}, so ` +
    `what the environment runs is uncertain. Look first (\`pave deployments get ${unsettled.id} --app ${app} ` +
    `--env ${env}\`), then deploy again, or bring deployment ${deploymentId}'s set back with ` +
    `\`pave rollback ${deploymentId} --app ${app} --env ${env}\``
  );
}

/**
 * Cancels the queued deployment `id` instead of running it when it is a restart whose source is no longer the
 * environment's current deployment: another deployment (one approved meanwhile, say) has run since the restart
 * was queued, and running the restart would put the older set back over it, unapproved. Called by the worker
 * in the transaction that would start it; journaled, with a `deployment.cancelled` event. Resolves with
 * whether it cancelled.
 */
export async function cancelStaleRestart(tx: Executor, id: number): Promise<boolean> {
  const row = await tx
    .selectFrom('deployments')
    .innerJoin('environments', (join) =>
      join
        .onRef('environments.app_id', '=', 'deployments.app_id')
        .onRef('environments.id', '=', 'deployments.env_id'),
    )
    .select([
      'deployments.kind',
      'deployments.request',
      'deployments.app_id',
      'deployments.env_id',
      'environments.current_deployment_id',
    ])
    .where('deployments.id', '=', id)
    .where('deployments.status', '=', 'queued')
    .executeTakeFirst();
  if (row?.kind !== 'restart') return false;
  const source = (JSON.parse(row.request) as Partial<DeploymentRequest>).fromDeploymentId;
  const current = row.current_deployment_id === null ? null : String(row.current_deployment_id);
  if (current === source) return false;
  const reason =
    `not needed: deployment ${current ?? '(none)'} has run since this restart of deployment ${source} was ` +
    'queued, and is what the environment runs now';
  await cancelRestart(tx, { id, app: row.app_id, env: row.env_id }, reason);
  return true;
}

/**
 * Why the queued restart `id` must not run, although its source is still current (never throws: a check that
 * fails is a reason too): the resources it would
 * provision are not the ones that run. A resource definition changed since the current deployment (a restart
 * would update or replace resources with it, unapproved and uncounted), or no longer provisions a resource
 * (`pave defs delete --force`). A restart changes nothing; such changes wait for a deployment. Asks the drivers
 * as `pave deploy --plan` does (`dryRun`). Undefined when it may run.
 */
export async function restartWouldChange(
  deps: { store: Store; box: SecretBox; resourceDrivers?: ResourceDriverRegistry; logger: Logger },
  id: number,
): Promise<string | undefined> {
  const row = await deps.store.db
    .selectFrom('deployments')
    .innerJoin('environments', (join) =>
      join
        .onRef('environments.app_id', '=', 'deployments.app_id')
        .onRef('environments.id', '=', 'deployments.env_id'),
    )
    .select(['deployments.kind', 'deployments.request', 'deployments.actor', 'environments.type'])
    .select(['deployments.app_id as app', 'deployments.env_id as env'])
    .where('deployments.id', '=', id)
    .executeTakeFirst();
  if (row?.kind !== 'restart' || !deps.resourceDrivers) return undefined;
  const request = JSON.parse(row.request) as Partial<DeploymentRequest>;
  if (!request.setId) return undefined;
  const deploy =
    'a restart changes nothing: deploy to put that right (with approval where needed); the workloads stay ' +
    'stopped until then';
  const ctx = driverContext(deps.logger, AbortSignal.timeout(PLAN_TIMEOUT_MS));
  try {
    const workloads = (await loadSet(deps.store.db, request.setId)).workloads;
    const plan = await planResources(
      deps.store.db,
      { app: row.app, env: row.env, envType: row.type, actor: row.actor },
      workloads,
      { keepUnused: true },
      { box: deps.box, drivers: deps.resourceDrivers, ctx: { ...ctx, dryRun: true }, read: false },
    );
    // Among them a resource whose definition was deleted (with --force): it cannot be provisioned again.
    if (plan.problems.length) {
      const problems = plan.problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ');
      return `not run: its resources can no longer be provisioned as they were (${problems}); ${deploy}`;
    }
    const changes = plan.changes.filter((change) => change.action !== 'keep');
    if (changes.length === 0) return undefined;
    const listed = changes
      .map((change) => `${change.address}: ${change.action} (${change.reason})`)
      .join('; ');
    return `not run: the resources would change since deployment ${request.fromDeploymentId} (${listed}); ${deploy}`;
  } catch (error) {
    // Drivers' errors come masked (see resourceDriver): the reason may quote them.
    return `not run: checking whether its resources would change failed (${(error as Error).message}); ${deploy}`;
  } finally {
    ctx.dispose();
  }
}

/** Cancels the queued restart `deployment` instead of running it, saying why: journaled and audited, with an event. */
export async function cancelRestart(
  tx: Executor,
  deployment: { id: number; app: string; env: string },
  reason: string,
): Promise<void> {
  await cancelQueued(tx, deployment, reason, RESTART_ACTOR);
}
