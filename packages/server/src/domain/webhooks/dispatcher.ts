import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { SYSTEM_ACTORS, PaveEvent, type WebhookAttempt } from '@pave/core';
import type { Selectable } from 'kysely';
import type { Store, Executor } from '../../store/index.ts';
import type { EventsTable, WebhookDeliveriesTable, WebhooksTable } from '../../store/schema.ts';
import { storeTime } from '../../store/clock.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import { recordAudit } from '../audit.ts';
import { now, systemContext } from '../context.ts';
import { recordEvent } from '../events.ts';
import { sealStoredUrls, signingSecrets, urlToSend } from './records.ts';
import { WebhookSender, WEBHOOK_TIMEOUT_MS, type SendResult } from './sender.ts';
import type { WebhookAllowList } from './ssrf.ts';

/** When deliveries are retried and given up, and when a webhook is disabled. */
export interface WebhookRetryPolicy {
  /** The wait after a delivery's first failed attempt; it doubles with each attempt. Default 5 s. */
  firstBackoffMs: number;
  /** The longest wait between attempts. Default 1 h. */
  maxBackoffMs: number;
  /** A delivery still failing this long after it was created is given up (failed). Default 24 h. */
  giveUpAfterMs: number;
  /** Failed deliveries in a row that disable the webhook. Default 20. */
  disableAfterFailures: number;
}

export const DEFAULT_RETRY_POLICY: WebhookRetryPolicy = {
  firstBackoffMs: 5_000,
  maxBackoffMs: 3_600_000,
  giveUpAfterMs: 86_400_000,
  disableAfterFailures: 20,
};

export interface WebhookDispatcherOptions {
  store: Store;
  box: SecretBox;
  allow: WebhookAllowList;
  logger: Logger;
  /** This replica's identity in leases (e.g. the deployment worker's). */
  replicaId?: string;
  /** How often the outbox and the webhooks are looked at. Default 100 ms. */
  pollMs?: number;
  /** Events read, sent and recorded at a time per webhook. Default 100. */
  batchSize?: number;
  /**
   * How long a lease lasts without renewal, by the store's clock (see storeTime). Default 10 s; renewed every
   * quarter of it.
   */
  leaseMs?: number;
  /** How long a receiver has to answer. Default 10 s. */
  timeoutMs?: number;
  retry?: Partial<WebhookRetryPolicy>;
  /** Told of every delivery attempt that was not aborted (for metrics). */
  onAttempt?: (result: SendResult) => void;
}

/** How many of a webhook's pending deliveries are looked at for one that is due. */
const PENDING_PAGE = 50;

/** The actor Pave records for what the dispatcher does (disabling a webhook). */
export const WEBHOOK_ACTOR = SYSTEM_ACTORS.webhooks;

type WebhookRow = Selectable<WebhooksTable>;

/** A webhook this replica holds the lease of, and the loop sending its events. */
interface HeldWebhook {
  loop: Promise<void>;
  /** Tells the loop there may be work: new events, or (`due`) a retry or redelivery to send. */
  wake(due: boolean): void;
}

/** What a step of a webhook's loop found: more to do now, or nothing until the next tick. */
type StepOutcome = 'more' | 'idle';

/**
 * Delivers the event outbox to webhooks. Every replica runs one; they share the work through the store: a
 * replica takes a lease on a webhook (a conditional update, atomic on both engines), renews it while it
 * works, and sends that webhook's events after its cursor in id order. An event's delivery is recorded,
 * and the cursor advanced, in one transaction that also checks the lease is still held; so delivery is at
 * least once and in order, and two replicas never send a webhook's events at the same time. A failed
 * delivery is retried with exponential backoff and jitter while the webhook's later events wait; after
 * `giveUpAfterMs` it fails and the webhook moves on; `disableAfterFailures` failures in a row disable it
 * (event `webhook.disabled`).
 */
export class WebhookDispatcher {
  readonly replicaId: string;
  private readonly sender: WebhookSender;
  private readonly policy: WebhookRetryPolicy;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly held = new Map<string, HeldWebhook>();
  /** Sealed values (signing secrets, URLs) already opened, by their ciphertext. */
  private readonly opened = new Map<string, string>();
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private sealing: Promise<void> | undefined;
  /** The last event id the tick saw committed; loops read up to it. */
  private latest = 0;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.replicaId = options.replicaId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.sender = new WebhookSender(options.allow, options.timeoutMs ?? WEBHOOK_TIMEOUT_MS);
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.pollMs = options.pollMs ?? 100;
    this.batchSize = options.batchSize ?? 100;
    this.leaseMs = options.leaseMs ?? 10_000;
  }

  /**
   * Starts looking for work every `pollMs`, and seals the URLs of the webhooks stored before URLs were
   * sealed (meanwhile, and if that fails, they are sent to as stored).
   */
  start(): void {
    const { store, box, logger } = this.options;
    this.sealing = sealStoredUrls(store, box)
      .then((count) => {
        if (count > 0) logger.info({ webhooks: count }, `sealed the plaintext URLs of ${count} webhooks`);
      })
      .catch((error: unknown) =>
        logger.error({ err: error }, 'could not seal the stored webhook URLs; the next start tries again'),
      );
    this.timer = setInterval(() => this.poke(), this.pollMs);
    this.poke();
  }

  /** Looks for work now (e.g. after a local commit recorded events). */
  poke(): void {
    if (this.ticking || this.stopping.signal.aborted) return;
    this.ticking = this.tick()
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'webhook dispatcher tick failed'))
      .finally(() => (this.ticking = undefined));
  }

  /** Stops: in-flight requests are aborted (not counted as failures), leases released. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort();
    await this.sealing;
    await this.ticking;
    await Promise.allSettled([...this.held.values()].map((held) => held.loop));
    this.sender.close();
  }

  private async tick(): Promise<void> {
    const { db } = this.options.store;
    const latest = await latestEventId(db);
    this.latest = Math.max(this.latest, latest);
    const at = now();
    // Leases are compared with the store's time, which every replica shares (their own clocks may be off).
    const webhooks = await db
      .selectFrom('webhooks')
      .select(['id', 'last_event_id', 'lease_owner', 'lease_until'])
      .select(storeTime(this.options.store.engine).as('store_now'))
      .where('enabled', '=', 1)
      .execute();
    const due = new Set(
      (
        await db
          .selectFrom('webhook_deliveries')
          .select('webhook_id')
          .distinct()
          .where('status', '=', 'pending')
          .where('next_attempt_at', '<=', at)
          .execute()
      ).map((row) => row.webhook_id),
    );
    for (const webhook of webhooks) {
      if (this.stopping.signal.aborted) return;
      const hasWork = Number(webhook.last_event_id) < latest || due.has(webhook.id);
      const held = this.held.get(webhook.id);
      if (held) {
        if (hasWork) held.wake(due.has(webhook.id));
        continue;
      }
      if (!hasWork) continue;
      const free =
        webhook.lease_owner === null ||
        webhook.lease_owner === this.replicaId ||
        (webhook.lease_until ?? '') < webhook.store_now;
      if (!free || !(await this.acquireLease(webhook.id))) continue;
      this.hold(webhook.id);
    }
  }

  /** Takes (or renews) the webhook's lease if it is free, expired or this replica's: by the store's time. */
  private async acquireLease(id: string): Promise<boolean> {
    const { engine } = this.options.store;
    const result = await this.options.store.db
      .updateTable('webhooks')
      .set({ lease_owner: this.replicaId, lease_until: storeTime(engine, this.leaseMs) })
      .where('id', '=', id)
      .where('enabled', '=', 1)
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

  private async releaseLease(id: string): Promise<void> {
    await this.options.store.db
      .updateTable('webhooks')
      .set({ lease_owner: null, lease_until: null })
      .where('id', '=', id)
      .where('lease_owner', '=', this.replicaId)
      .execute();
  }

  /** Starts the loop of a webhook whose lease this replica just took. */
  private hold(id: string): void {
    let woken = true;
    // Whether pending deliveries (retries, redeliveries) may exist: on taking the lease, after a failure, and
    // when the tick saw one due. Otherwise the loop does not look, a query saved per batch.
    let mayHavePending = true;
    let wakeUp: (() => void) | undefined;
    const lost = new AbortController();
    const signal = AbortSignal.any([this.stopping.signal, lost.signal]);
    const renew = setInterval(() => {
      this.acquireLease(id)
        .then((kept) => {
          if (!kept) lost.abort();
        })
        .catch(() => lost.abort());
    }, this.leaseMs / 4);
    const idle = async () => {
      if (woken) return void (woken = false);
      await new Promise<void>((resolve) => {
        const timeout = setTimeout(resolve, 1_000);
        const done = () => {
          clearTimeout(timeout);
          signal.removeEventListener('abort', done);
          resolve();
        };
        wakeUp = done;
        signal.addEventListener('abort', done, { once: true });
      });
      wakeUp = undefined;
      woken = false;
    };
    const loop = (async () => {
      try {
        while (!signal.aborted) {
          const webhook = await this.options.store.db
            .selectFrom('webhooks')
            .selectAll()
            .where('id', '=', id)
            .executeTakeFirst();
          if (!webhook || Number(webhook.enabled) !== 1 || webhook.lease_owner !== this.replicaId) break;
          const pending: Selectable<WebhookDeliveriesTable> | undefined = mayHavePending
            ? await this.nextPending(id)
            : undefined;
          mayHavePending = pending !== undefined;
          const outcome = await (
            pending ? this.retry(webhook, pending, signal) : this.deliverNew(webhook, signal)
          )
            .then((result) => {
              if (result.failed) mayHavePending = true;
              return result.outcome;
            })
            .catch(async (error: unknown): Promise<StepOutcome> => {
              mayHavePending = true;
              if (!signal.aborted) {
                this.options.logger.error({ err: error, webhook: id }, 'webhook delivery failed');
                await sleep(this.pollMs * 5, undefined, { signal }).catch(() => undefined);
              }
              return 'more';
            });
          if (outcome === 'idle') await idle();
        }
      } finally {
        clearInterval(renew);
        this.held.delete(id);
        await this.releaseLease(id).catch(() => undefined);
      }
    })();
    this.held.set(id, {
      loop,
      wake: (due) => {
        woken = true;
        if (due) mayHavePending = true;
        wakeUp?.();
      },
    });
  }

  /**
   * The webhook's pending delivery to attempt next, due or not (later events wait while there is one): the
   * first that is due, else the first. Of its events only one delivery is pending at a time (the rest wait
   * behind it), so this keeps their order; the others are redeliveries someone asked for, sent as soon as
   * asked rather than after the blocked delivery's backoff.
   */
  private async nextPending(id: string): Promise<Selectable<WebhookDeliveriesTable> | undefined> {
    const pending = await this.options.store.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('webhook_id', '=', id)
      .where('status', '=', 'pending')
      .orderBy('event_id')
      .orderBy('created_at')
      .limit(PENDING_PAGE)
      .execute();
    const at = now();
    return pending.find((delivery) => (delivery.next_attempt_at ?? '') <= at) ?? pending[0];
  }

  /**
   * Sends the webhook's next events after its cursor up to the last id the tick saw, in order, stopping at
   * the first failure. A page that was not full leaves the loop idle until the next tick, so that events
   * arriving meanwhile go in one batch (one transaction) rather than one each.
   */
  private async deliverNew(
    webhook: WebhookRow,
    signal: AbortSignal,
  ): Promise<{ outcome: StepOutcome; failed: boolean }> {
    const { db } = this.options.store;
    const cursor = Number(webhook.last_event_id);
    const latest = this.latest;
    if (latest <= cursor) return { outcome: 'idle', failed: false };
    const types = webhook.events === null ? null : (JSON.parse(webhook.events) as string[]);
    const events = await db
      .selectFrom('events')
      .selectAll()
      .where('id', '>', cursor)
      .where('id', '<=', latest)
      .$if(webhook.app_id !== null, (qb) =>
        qb.where('app_id', '=', webhook.app_id).where('app_incarnation', '=', webhook.app_incarnation),
      )
      .$if(types !== null, (qb) => qb.where('type', 'in', types!))
      .orderBy('id')
      .limit(this.batchSize)
      .execute();
    const sent: Array<{ row: Selectable<WebhookDeliveriesTable> & { event_id: number } }> = [];
    let failed: Selectable<WebhookDeliveriesTable> | undefined;
    let failedTarget = '';
    let stopped = false;
    for (const event of events) {
      const id = deliveryIdOf(webhook.id, Number(event.id));
      const body = eventBody(event);
      const createdAt = now();
      const target = await this.target(webhook);
      if (!target) {
        stopped = true;
        break;
      }
      const result = await this.sender.send(target.url, target.secrets, { id, body }, signal);
      if (signal.aborted) break;
      this.options.onAttempt?.(result);
      const row: Selectable<WebhookDeliveriesTable> & { event_id: number } = {
        id,
        webhook_id: webhook.id,
        event_id: Number(event.id),
        event_type: event.type,
        payload: body,
        status: result.ok ? 'succeeded' : 'pending',
        attempts: 1,
        created_at: createdAt,
        next_attempt_at: null,
        last_status_code: result.statusCode,
        last_error: result.error,
        attempt_log: JSON.stringify([attemptOf(result)]),
      };
      if (!result.ok) {
        failed = row;
        failedTarget = target.key;
        break;
      }
      sent.push({ row });
    }
    // Everything up to `latest` was looked at when the page was not full and nothing stopped it.
    const complete = !failed && !stopped && !signal.aborted && events.length < this.batchSize;
    const lastSent = sent.at(-1)?.row.event_id;
    const advanceTo = complete ? latest : (lastSent ?? cursor);
    await this.options.store.transaction(async (tx) => {
      if (sent.length > 0) {
        await tx
          .insertInto('webhook_deliveries')
          .values(sent.map((entry) => entry.row))
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
      }
      await this.advance(tx, webhook, advanceTo, sent.length > 0 ? 0 : undefined);
      if (failed) {
        await tx
          .insertInto('webhook_deliveries')
          .values({ ...failed, attempt_log: '[]', attempts: 0 })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute();
        await this.recordFailure(
          tx,
          webhook,
          failed,
          JSON.parse(failed.attempt_log) as WebhookAttempt[],
          { ...webhook, consecutive_failures: sent.length > 0 ? 0 : webhook.consecutive_failures },
          failedTarget,
        );
      }
    });
    return { outcome: events.length === this.batchSize ? 'more' : 'idle', failed: failed !== undefined };
  }

  /** Attempts a pending delivery again (a retry, or a redelivery). */
  private async retry(
    webhook: WebhookRow,
    delivery: Selectable<WebhookDeliveriesTable>,
    signal: AbortSignal,
  ): Promise<{ outcome: StepOutcome; failed: boolean }> {
    if ((delivery.next_attempt_at ?? '') > now()) return { outcome: 'idle', failed: true };
    const target = await this.target(webhook);
    if (!target) return { outcome: 'idle', failed: true };
    const result = await this.sender.send(
      target.url,
      target.secrets,
      { id: delivery.id, body: delivery.payload },
      signal,
    );
    if (signal.aborted) return { outcome: 'idle', failed: true };
    this.options.onAttempt?.(result);
    const log = [...(JSON.parse(delivery.attempt_log) as WebhookAttempt[]), attemptOf(result)];
    await this.options.store.transaction(async (tx) => {
      if (result.ok) {
        await tx
          .updateTable('webhook_deliveries')
          .set({
            status: 'succeeded',
            attempts: log.length,
            next_attempt_at: null,
            last_status_code: result.statusCode,
            last_error: null,
            attempt_log: JSON.stringify(log),
          })
          .where('id', '=', delivery.id)
          .execute();
        const eventId =
          delivery.event_id === null ? Number(webhook.last_event_id) : Number(delivery.event_id);
        await this.advance(tx, webhook, Math.max(eventId, Number(webhook.last_event_id)), 0);
        return;
      }
      await this.leaseCheck(tx, webhook.id);
      await this.recordFailure(tx, webhook, delivery, log, webhook, target.key);
    });
    return { outcome: 'more', failed: !result.ok };
  }

  /**
   * Records a failed attempt of `delivery` (its log `log`, the last entry the new attempt), made to the URL
   * `targetKey` names (see target): a retry later with backoff, or, past giveUpAfterMs, a failed delivery;
   * the webhook moves past it, and is disabled after disableAfterFailures in a row. When the webhook's URL
   * changed while the attempt was under way, the failure was the old URL's: it is retried at once, never
   * given up on for it.
   */
  private async recordFailure(
    tx: Executor,
    webhook: WebhookRow,
    delivery: Selectable<WebhookDeliveriesTable>,
    log: WebhookAttempt[],
    state: WebhookRow,
    targetKey: string,
  ): Promise<void> {
    const last = log.at(-1)!;
    const current = await tx
      .selectFrom('webhooks')
      .select(['url', 'sealed_url'])
      .where('id', '=', webhook.id)
      .executeTakeFirst();
    const moved = current !== undefined && urlKey(current) !== targetKey;
    const age = Date.now() - Date.parse(delivery.created_at);
    const givenUp = !moved && age >= this.policy.giveUpAfterMs;
    const nextAttempt = moved ? Date.now() : Date.now() + this.backoff(log.length);
    await tx
      .updateTable('webhook_deliveries')
      .set({
        status: givenUp ? 'failed' : 'pending',
        attempts: log.length,
        next_attempt_at: givenUp ? null : new Date(nextAttempt).toISOString(),
        last_status_code: last.statusCode,
        last_error: last.error,
        attempt_log: JSON.stringify(log),
      })
      .where('id', '=', delivery.id)
      .execute();
    if (!givenUp) return;
    const failures = Number(state.consecutive_failures) + 1;
    const disable = failures >= this.policy.disableAfterFailures;
    const eventId = delivery.event_id === null ? 0 : Number(delivery.event_id);
    await tx
      .updateTable('webhooks')
      .set({
        consecutive_failures: failures,
        last_event_id: Math.max(eventId, Number(webhook.last_event_id)),
        ...(disable
          ? {
              enabled: 0,
              disabled_reason: `${failures} deliveries in a row failed; the last: ${last.error ?? 'no answer'}`,
            }
          : {}),
      })
      .where('id', '=', webhook.id)
      .execute();
    if (!disable) return;
    const context = systemContext(WEBHOOK_ACTOR, `webhook-${webhook.id}`);
    await recordAudit(tx, context, {
      action: 'webhook.disable',
      target: `webhooks/${webhook.id}`,
      appId: webhook.app_id,
      summary: { id: webhook.id, name: webhook.name, consecutiveFailures: failures },
    });
    await recordEvent(tx, context, {
      type: 'webhook.disabled',
      app: webhook.app_id,
      data: { webhookId: webhook.id, name: webhook.name, consecutiveFailures: failures },
    });
    this.options.logger.warn(
      { webhook: webhook.id, failures },
      `webhook ${webhook.name} disabled after ${failures} failed deliveries in a row`,
    );
  }

  /**
   * Moves the webhook's cursor to `to` (and its failures in a row to `failures`, when given), if this
   * replica still holds its lease; otherwise rejects, rolling back what the transaction recorded.
   */
  private async advance(tx: Executor, webhook: WebhookRow, to: number, failures?: number): Promise<void> {
    const result = await tx
      .updateTable('webhooks')
      .set({ last_event_id: to, ...(failures === undefined ? {} : { consecutive_failures: failures }) })
      .where('id', '=', webhook.id)
      .where('lease_owner', '=', this.replicaId)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw new LeaseLost(webhook.id);
  }

  private async leaseCheck(tx: Executor, id: string): Promise<void> {
    // An update rather than a read: on PostgreSQL it locks the row, so that a change of the webhook (its URL)
    // commits either before recordFailure reads it or after this transaction, never in between.
    const result = await tx
      .updateTable('webhooks')
      .set({ lease_owner: this.replicaId })
      .where('id', '=', id)
      .where('lease_owner', '=', this.replicaId)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw new LeaseLost(id);
  }

  /** The wait before attempt `attempts + 1`: doubling from firstBackoffMs up to maxBackoffMs, ±25 % jitter. */
  private backoff(attempts: number): number {
    const base = Math.min(
      this.policy.firstBackoffMs * 2 ** Math.max(0, attempts - 1),
      this.policy.maxBackoffMs,
    );
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  /**
   * Where and how the webhook's next attempt goes: its URL and signing secrets as stored now (see
   * signingSecrets: the replaced one too while a rotation's overlap lasts), read again before every attempt,
   * so that a change (`PATCH /webhooks/{id}`, a rotated secret, an overlap's end) applies from the next one
   * on, within a batch too. `key` tells the URL apart from another (see recordFailure). Undefined when
   * the webhook was deleted or disabled, or this replica lost its lease: then nothing more is sent.
   */
  private async target(
    webhook: WebhookRow,
  ): Promise<{ url: string; secrets: string[]; key: string } | undefined> {
    const row = await this.options.store.db
      .selectFrom('webhooks')
      .select([
        'url',
        'sealed_url',
        'secret',
        'previous_secret',
        'previous_secret_until',
        'enabled',
        'lease_owner',
      ])
      .where('id', '=', webhook.id)
      .executeTakeFirst();
    // Deleted, disabled or another replica's now: nothing more goes out from here.
    if (!row || Number(row.enabled) !== 1 || row.lease_owner !== this.replicaId) return undefined;
    const secrets = await signingSecrets((sealed) => this.open(sealed), row);
    return { url: await this.urlOf(row), secrets, key: urlKey(row) };
  }

  /** The whole URL to send the webhook's deliveries to, credentials included. */
  private urlOf(webhook: Pick<WebhookRow, 'url' | 'sealed_url'>): Promise<string> {
    return urlToSend({ decrypt: (sealed) => this.open(sealed) }, webhook);
  }

  private async open(sealed: string): Promise<string> {
    const cached = this.opened.get(sealed);
    if (cached !== undefined) return cached;
    const plaintext = await this.options.box.decrypt(sealed);
    if (this.opened.size >= 1000) this.opened.clear();
    this.opened.set(sealed, plaintext);
    return plaintext;
  }
}

/** Which URL a webhook's row names: its sealed form (or, not sealed yet, the URL itself). */
function urlKey(row: Pick<WebhookRow, 'url' | 'sealed_url'>): string {
  return row.sealed_url ?? row.url;
}

/** This replica no longer holds the webhook's lease: another sends its events now. */
class LeaseLost extends Error {
  override name = 'LeaseLost';
  constructor(id: string) {
    super(`lost the lease on webhook ${id}; another replica delivers its events`);
  }
}

/** The id of the last event committed: every event up to it is visible (ids are committed in order). */
async function latestEventId(db: Executor): Promise<number> {
  const row = await db.selectFrom('event_cursor').select('last_id').where('id', '=', 1).executeTakeFirst();
  return Number(row?.last_id ?? 0);
}

/** The `webhook-id` of an event's delivery to a webhook: stable, so a receiver can tell a repeat. */
function deliveryIdOf(webhookId: string, eventId: number): string {
  return `msg_${webhookId.replace(/^wh_/, '')}_${eventId}`;
}

/** The body of an event's delivery: the event exactly as `GET /events` shows it. */
function eventBody(row: Selectable<EventsTable>): string {
  const event = {
    id: String(row.id),
    time: row.time,
    actor: row.actor,
    app: row.app_id,
    env: row.env_id,
    type: row.type,
    data: JSON.parse(row.data) as unknown,
  };
  // The API serialises through the schema (its key order); an event of an older shape goes as stored.
  const parsed = PaveEvent.safeParse(event);
  return JSON.stringify(parsed.success ? parsed.data : event);
}

function attemptOf(result: SendResult): WebhookAttempt {
  return {
    at: now(),
    statusCode: result.statusCode,
    latencyMs: result.latencyMs,
    responseBody: result.responseBody,
    error: result.error,
  };
}
