import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { DeploymentKind } from '@pave/core';
import { now, systemContext } from '../context.ts';
import { recordEvent } from '../events.ts';
import {
  DeploymentInterrupted,
  destroyWorkloads,
  internalErrorReason,
  runDeployment,
  type OrchestratorDeps,
} from './orchestrator.ts';
import { environmentMasker } from '../logs.ts';
import { failedChangeOf, journal, leaseFence, pendingDeployment, type LeaseFence } from './records.ts';
import { releaseStateLocks } from '../resources/state.ts';
import { releaseEnvironmentLease } from '../environments.ts';
import { cancelRefusedNow } from './approvals.ts';
import { cancelRestart, cancelStaleRestart, restartWouldChange } from './restart.ts';
import { storeTime } from '../../store/clock.ts';

/**
 * How long a replica's claim on an environment lasts without renewal, by the store's clock (see storeTime):
 * replicas' own clocks may be off, by more than this.
 */
export const LEASE_MS = 6_000;
const RENEW_MS = 2_000;
const POLL_MS = 250;

/**
 * Runs queued deployments. Every replica runs one; they share the work through the store: a replica takes
 * a lease on an environment (a conditional update, atomic on both engines), runs that environment's oldest
 * deployment, and renews the lease while it works. So deployments of one environment run one at a time, in
 * the order they were queued, and a deployment whose replica died is resumed by whoever takes the lease
 * next, once it has expired. Every write a replica makes for a deployment needs the lease (see leaseFence): one
 * that finds it taken over stops the deployment where it is, undoing nothing, and logs that.
 */
export class DeploymentWorker {
  /** This replica's identity in leases and logs. */
  readonly replicaId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly active = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(private readonly deps: OrchestratorDeps & { logger: Logger }) {}

  /**
   * The mask of what the runtime says about an environment's workloads: the secrets of its values versions
   * (kept after its deletion; its resources' are gone with it).
   */
  private readonly maskerOf = (target: { app: string; env: string }) =>
    environmentMasker(this.deps.box, this.deps.store.db, target);

  start(): void {
    this.timer = setInterval(() => this.poke(), POLL_MS);
    this.poke();
  }

  /** Looks for work now (called after a deployment is queued on this replica). */
  poke(): void {
    if (this.ticking || this.stopping.signal.aborted) return;
    this.ticking = true;
    this.tick()
      .catch((error: unknown) => this.deps.logger.error({ err: error }, 'deployment worker tick failed'))
      .finally(() => (this.ticking = false));
  }

  /** Stops taking work and interrupts running deployments; they stay `running` and are resumed elsewhere. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort();
    await Promise.allSettled(this.active.values());
  }

  private async tick(): Promise<void> {
    const { store } = this.deps;
    const pending = await store.db
      .selectFrom('deployments')
      .select(['app_id', 'env_id'])
      .where('status', 'in', ['queued', 'running'])
      .orderBy('id')
      .execute();
    const seen = new Set<string>();
    for (const { app_id: app, env_id: env } of pending) {
      const key = `${app}/${env}`;
      if (seen.has(key) || this.active.has(key)) continue;
      seen.add(key);
      if (!(await this.acquireLease(app, env))) continue;
      const run = this.runEnvironment(app, env)
        .catch((error: unknown) =>
          this.deps.logger.error({ err: error, app, env }, 'deployment worker failed'),
        )
        .finally(() => this.active.delete(key));
      this.active.set(key, run);
    }
  }

  /**
   * Releases the state locks of the environment's resources that a killed run left behind (one deployment runs
   * per environment at a time, so none is still in use), noting them in the deployment's journal.
   */
  private async releaseStateLocks(fence: LeaseFence, app: string, env: string, id: number): Promise<void> {
    await fence.write(async (tx) => {
      const released = await releaseStateLocks(tx, app, env);
      if (released.length === 0) return;
      await journal(tx, id, {
        step: 'run',
        status: 'info',
        message: `released the state lock of ${released.join(', ')} left by an interrupted run`,
      });
    });
  }

  private async environmentExists(app: string, env: string): Promise<boolean> {
    const row = await this.deps.store.db
      .selectFrom('environments')
      .select('id')
      .where('app_id', '=', app)
      .where('id', '=', env)
      .executeTakeFirst();
    return Boolean(row);
  }

  /** Takes the environment's lease if it is free, expired or this replica's; its expiry is the store's time. */
  private async acquireLease(app: string, env: string): Promise<boolean> {
    const { engine } = this.deps.store;
    const result = await this.deps.store.db
      .updateTable('environments')
      .set({ lease_owner: this.replicaId, lease_until: storeTime(engine, LEASE_MS) })
      .where('app_id', '=', app)
      .where('id', '=', env)
      .where((eb) =>
        eb.or([
          eb('lease_owner', 'is', null),
          eb('lease_until', '<', storeTime(engine)),
          eb('lease_owner', '=', this.replicaId),
        ]),
      )
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Extends this replica's lease on an environment; false once another replica or a deletion holds it, or
   * it was given back (a lease lost is never taken again here: the deployment may have moved on meanwhile).
   */
  private async renewLease(app: string, env: string): Promise<boolean> {
    const result = await this.deps.store.db
      .updateTable('environments')
      .set({ lease_until: storeTime(this.deps.store.engine, LEASE_MS) })
      .where('app_id', '=', app)
      .where('id', '=', env)
      .where('lease_owner', '=', this.replicaId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  private async releaseLease(app: string, env: string): Promise<void> {
    await releaseEnvironmentLease(this.deps.store.db, app, env, this.replicaId);
  }

  /** Runs the environment's deployments one after another while this replica holds its lease. */
  private async runEnvironment(app: string, env: string): Promise<void> {
    const lost = new AbortController();
    const signal = AbortSignal.any([this.stopping.signal, lost.signal]);
    const renew = setInterval(() => {
      this.renewLease(app, env)
        .then((held) => {
          if (!held) lost.abort();
        })
        .catch(() => lost.abort());
    }, RENEW_MS);
    try {
      while (!signal.aborted) {
        const next = await pendingDeployment(this.deps.store.db, app, env, 'asc');
        if (!next) break;
        const id = Number(next.id);
        const resumed = next.status === 'running';
        const fence = leaseFence(this.deps.store, { app, env }, this.replicaId);
        try {
          // A restart whose resources would change is not run (see restartWouldChange); asked before the
          // transaction that starts it, as it may wait on drivers.
          const restart = !resumed && next.kind === 'restart';
          const refusal = restart ? await restartWouldChange(this.deps, id) : undefined;
          if (refusal) {
            await fence.write((tx) => cancelRestart(tx, { id, app, env }, refusal));
            continue;
          }
          if (!resumed) {
            const taken = await fence.write(async (tx) => {
              // A restart the environment has moved on from is cancelled instead (see cancelStaleRestart).
              if (restart && (await cancelStaleRestart(tx, id))) return false;
              // Anything else runs with its requesters' authority, which they may have lost while it waited, and
              // within the policies, which may deny it now.
              if (!restart && (await cancelRefusedNow(tx, id))) return false;
              const started = await tx
                .updateTable('deployments')
                .set({ status: 'running', started_at: now() })
                .where('id', '=', id)
                .where('status', '=', 'queued')
                .executeTakeFirst();
              return Number(started.numUpdatedRows) === 1;
            });
            // Cancelled since it was read: it never runs.
            if (!taken) continue;
          }
          await fence.write((tx) =>
            journal(tx, id, { step: 'run', status: 'info', message: `run by replica ${this.replicaId}` }),
          );
          // Locks found before the run were left by one that was killed; released before it, so that the journal
          // says so before the deployment ends.
          await this.releaseStateLocks(fence, app, env, id);
          const deps = { ...this.deps, replicaId: this.replicaId };
          const telemetry = this.deps.telemetry;
          await (telemetry
            ? telemetry.deployment({ app, env, deploymentId: id }, signal, () =>
                runDeployment(deps, id, signal, resumed),
              )
            : runDeployment(deps, id, signal, resumed));
          await this.releaseStateLocks(fence, app, env, id);
        } catch (error) {
          if (!(await this.environmentExists(app, env))) {
            // Deleted while it deployed: take down whatever the run started after the deletion removed it.
            this.deps.logger.warn({ app, env, deployment: id }, 'environment deleted during a deployment');
            await destroyWorkloads(this.deps.runtime, this.deps.logger, [{ app, env }], this.maskerOf);
            break;
          }
          const interrupted = error instanceof DeploymentInterrupted;
          if ((interrupted && error.leaseLost) || lost.signal.aborted) {
            // Nothing is journaled or undone: the deployment is the lease holder's now.
            this.deps.logger.warn(
              { app, env, deployment: id },
              'this replica lost its lease on the environment: it stopped the deployment, undoing nothing; the replica holding the lease resumes it',
            );
            break;
          }
          if (interrupted || signal.aborted) {
            await fence
              .write((tx) =>
                journal(tx, id, {
                  step: 'interrupted',
                  status: 'info',
                  message:
                    'the control plane is stopping; the deployment resumes when a control plane runs again',
                }),
              )
              .catch(() => undefined);
            break;
          }
          // runDeployment fails a deployment itself, whatever went wrong; this is for when even that failed, or
          // taking it up did (a queued one left queued would be taken up again at once, and fail again).
          this.deps.logger.error({ err: error, deployment: id }, 'deployment crashed');
          const reason = internalErrorReason(id);
          await fence
            .write(async (tx) => {
              const failed = await tx
                .updateTable('deployments')
                .set((eb) => ({
                  status: 'failed',
                  reason,
                  finished_at: now(),
                  failed_change: failedChangeOf(eb),
                }))
                .where('id', '=', id)
                .where('status', 'in', ['queued', 'running'])
                .returning(['kind', 'actor'])
                .executeTakeFirst();
              if (!failed) return;
              await journal(tx, id, { step: 'finish', status: 'failed', message: reason });
              await recordEvent(tx, systemContext(failed.actor, `deployment-${id}`), {
                type: 'deployment.failed',
                app,
                env,
                data: {
                  deploymentId: String(id),
                  kind: failed.kind as DeploymentKind,
                  status: 'failed',
                  reason,
                  rolledBack: false,
                },
              });
            })
            .catch(() => undefined);
          await this.releaseStateLocks(fence, app, env, id).catch(() => undefined);
        }
        if (!(await this.environmentExists(app, env))) {
          await destroyWorkloads(this.deps.runtime, this.deps.logger, [{ app, env }], this.maskerOf);
          break;
        }
      }
    } finally {
      clearInterval(renew);
      await this.releaseLease(app, env).catch(() => undefined);
    }
  }
}
