import type { Logger } from 'pino';
import { SYSTEM_ACTORS } from '@pave/core';
import type { Store } from '../store/index.ts';
import { storeTime } from '../store/clock.ts';
import { now, systemContext, type RequestContext } from './context.ts';
import {
  DELETION_LEASE_MS,
  JANITOR_OWNER_PREFIX,
  deleteEnvironment,
  expiredEnvironments,
  type EnvironmentTeardown,
} from './environments.ts';
import { deleteEventsBefore } from './events.ts';
import {
  deleteDeliveriesBefore,
  forgetExpiredPreviousSecrets,
  removeRetiredWebhooks,
} from './webhooks/records.ts';
import { approvalTtlMs, expirePendingApprovals } from './deployments/approvals.ts';
import { isStoppingError } from './deployments/orchestrator.ts';

/** How often the janitor looks for expired environments by default. */
export const JANITOR_INTERVAL_MS = 10_000;

/** How long events are kept by default (`pave up --event-retention`): 30 days. */
export const EVENT_RETENTION_MS = 30 * 86_400_000;

/** The actor the janitor's deletions are audited as. */
const JANITOR: RequestContext = systemContext(SYSTEM_ACTORS.janitor, 'janitor');

/**
 * Deletes ephemeral environments whose time to live has run out, with their workloads and resources, as
 * `pave envs delete` would. Every replica runs one; an environment is taken with the same lease deployments
 * use, so one replica deletes it, and never while one of its deployments runs. It also deletes the events
 * and finished webhook deliveries older than `eventRetentionMs` (default EVENT_RETENTION_MS), and removes the
 * webhooks of deleted apps once they delivered the app's last events; every replica may, deleting twice is
 * harmless. Deployments that awaited approval longer than `approvalTtlMs` (default: the server's approval TTL)
 * expire; each is taken with a conditional update, so one replica expires it.
 */
export class EnvironmentJanitor {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: {
      store: Store;
      teardown: EnvironmentTeardown;
      logger: Logger;
      replicaId: string;
      intervalMs?: number;
      eventRetentionMs?: number;
      approvalTtlMs?: number | undefined;
      /** Aborts when the control plane stops: no further expired environment is taken from then on. */
      stopping?: AbortSignal;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => this.poke(), this.deps.intervalMs ?? JANITOR_INTERVAL_MS);
    this.poke();
  }

  /** Sweeps now unless a sweep is running. */
  poke(): void {
    if (this.sweeping || this.stopped || this.deps.stopping?.aborted) return;
    this.sweeping = this.sweep()
      .catch((error: unknown) => this.deps.logger.error({ err: error }, 'janitor sweep failed'))
      .finally(() => (this.sweeping = undefined));
  }

  /** Stops sweeping: a sweep under way takes no further environment and ends with the one it deletes. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.sweeping;
  }

  /**
   * Deletes every expired environment this replica can take, expires deployments that awaited approval too
   * long, then deletes the events past retention and forgets webhook secrets whose overlap has ended.
   */
  async sweep(): Promise<void> {
    await this.sweepEnvironments();
    const expired = await expirePendingApprovals(
      this.deps.store,
      JANITOR,
      this.deps.approvalTtlMs ?? approvalTtlMs(),
    );
    if (expired > 0) this.deps.logger.info({ expired }, 'expired deployments that awaited approval too long');
    const retention = this.deps.eventRetentionMs ?? EVENT_RETENTION_MS;
    const before = new Date(Date.now() - retention).toISOString();
    const deleted = await deleteEventsBefore(this.deps.store.db, before);
    if (deleted > 0) this.deps.logger.info({ deleted }, 'deleted events older than the retention');
    const deliveries = await deleteDeliveriesBefore(this.deps.store.db, before);
    if (deliveries > 0) {
      this.deps.logger.info({ deleted: deliveries }, 'deleted webhook deliveries older than the retention');
    }
    const forgotten = await forgetExpiredPreviousSecrets(this.deps.store.db);
    if (forgotten > 0) {
      this.deps.logger.info({ webhooks: forgotten }, 'forgot webhook secrets replaced by a rotation');
    }
    const retired = await removeRetiredWebhooks(this.deps.store);
    if (retired > 0) this.deps.logger.info({ removed: retired }, "removed deleted apps' webhooks");
  }

  private async sweepEnvironments(): Promise<void> {
    const { store, logger } = this.deps;
    for (const { app, env } of await expiredEnvironments(store.db)) {
      if (this.stopped || this.deps.stopping?.aborted) return;
      const owner = `${JANITOR_OWNER_PREFIX}${this.deps.replicaId}`;
      // The lease's expiry is the store's time (as every lease's, see storeTime); deleteEnvironment renews it.
      const taken = await store.db
        .updateTable('environments')
        .set({ lease_owner: owner, lease_until: storeTime(store.engine, DELETION_LEASE_MS) })
        .where('app_id', '=', app)
        .where('id', '=', env)
        .where('expires_at', '<', now())
        .where((eb) =>
          eb.or([eb('lease_owner', 'is', null), eb('lease_until', '<', storeTime(store.engine))]),
        )
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) !== 1) continue;
      try {
        await deleteEnvironment(store, JANITOR, app, env, this.deps.teardown, {
          cause: 'expiry',
          leaseOwner: owner,
        });
        logger.info({ app, env }, 'deleted an expired environment');
      } catch (error) {
        // deleteEnvironment gave the lease back: the next sweep tries again.
        if (isStoppingError(error)) {
          logger.warn(
            { app, env },
            'kept an expired environment: the control plane is stopping; deleted at the next sweep',
          );
        } else {
          logger.error({ err: error, app, env }, 'could not delete an expired environment; retrying later');
        }
      }
    }
  }
}
