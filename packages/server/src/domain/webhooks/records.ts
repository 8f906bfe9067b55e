import { randomBytes, randomUUID } from 'node:crypto';
import {
  ConflictError,
  DEFAULT_PREVIOUS_SECRET_VALIDITY,
  InputError,
  NotFoundError,
  WEBHOOK_SECRET_PREFIX,
  deliveryCursor,
  isApplessEventType,
  parseDeliveryCursor,
  previousSecretValidityMs,
  type CreateWebhookInput,
  type CreatedWebhook,
  type DisableWebhookInput,
  type EventType,
  type RotateWebhookSecretInput,
  type RotatedWebhookSecret,
  type UpdateWebhookInput,
  type Webhook,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookDeliveryPage,
  type WebhookPage,
  type WebhookTestResult,
} from '@pave/core';
import type { Selectable } from 'kysely';
import { isUniqueViolation, lockRow, type Executor, type Store } from '../../store/index.ts';
import type { WebhookDeliveriesTable, WebhooksTable } from '../../store/schema.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import { actorSeesApp, type AccessCheck } from '../access.ts';
import { appNotFound } from '../apps.ts';
import { incarnationOf, recordAudit } from '../audit.ts';
import { now, type Actor, type RequestContext } from '../context.ts';
import type { WebhookSender } from './sender.ts';
import type { WebhookAllowList } from './ssrf.ts';
import { auditUrl, shownUrl } from './urls.ts';

/** What the webhook routes need besides the store. */
export interface WebhookDeps {
  store: Store;
  /** Encrypts signing secrets at rest. */
  box: SecretBox;
  /** The SSRF guard's exceptions: a URL whose literal address it refuses is refused at creation. */
  allow: WebhookAllowList;
  /** Sends `POST /webhooks/{id}/test`, through the same guard as deliveries. */
  sender: WebhookSender;
}

/** The secret-box scope of a webhook's signing secret: its app's, or the platform's for org-wide ones. */
export function webhookSecretScope(app: string | null): string {
  return app === null ? 'platform:webhooks' : `app:${app}`;
}

/** A new signing secret: `whsec_` + base64 of 32 random bytes (Standard Webhooks). */
export function newWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString('base64');
}

/**
 * The secrets a webhook's attempt at `at` is signed with: its secret, then, while the overlap of its last
 * rotation lasts, the secret that rotation replaced. `open` opens a sealed one; it rejects (and so does this)
 * when the master key that sealed it is missing.
 */
export async function signingSecrets(
  open: (sealed: string) => Promise<string>,
  row: Pick<Selectable<WebhooksTable>, 'secret' | 'previous_secret' | 'previous_secret_until'>,
  at: string = now(),
): Promise<string[]> {
  const current = await open(row.secret);
  const { previous_secret: previous, previous_secret_until: until } = row;
  if (previous === null || until === null || at >= until) return [current];
  return [current, await open(previous)];
}

/** Seals a webhook's whole URL with the secret box, in its signing secret's scope. */
function sealUrl(box: SecretBox, app: string | null, url: string): Promise<string> {
  return box.encrypt(webhookSecretScope(app), url);
}

/**
 * The whole URL of a stored webhook, credentials included, to send to: opened from the secret box, or for a
 * row stored before URLs were sealed (and not sealed yet), its `url`. Rejects with ServiceUnavailableError
 * when the master key that seals it is missing.
 */
export async function urlToSend(
  box: Pick<SecretBox, 'decrypt'>,
  row: Pick<Selectable<WebhooksTable>, 'url' | 'sealed_url'>,
): Promise<string> {
  return row.sealed_url === null ? row.url : box.decrypt(row.sealed_url);
}

/**
 * Seals the URLs of the webhooks stored before URLs were sealed (migration 0029): each one's whole URL goes
 * to the secret box, and its `url` keeps only the shown form. Each row is changed once even when replicas do
 * this at the same time. Also gives a sealed webhook's `url` the shown form as it is now, where an earlier
 * Pave showed more (a user name without a password, which is as likely a token). Resolves with how many
 * rows this call changed.
 */
export async function sealStoredUrls(store: Store, box: SecretBox): Promise<number> {
  const rows = await store.db.selectFrom('webhooks').select(['id', 'app_id', 'url', 'sealed_url']).execute();
  let changed = 0;
  for (const row of rows) {
    const shown = shownUrl(row.url);
    if (row.sealed_url !== null && shown === row.url) continue;
    const result = await store.db
      .updateTable('webhooks')
      .set(
        row.sealed_url === null
          ? { url: shown, sealed_url: await sealUrl(box, row.app_id, row.url) }
          : { url: shown },
      )
      .where('id', '=', row.id)
      .where('url', '=', row.url)
      .where((eb) =>
        row.sealed_url === null ? eb('sealed_url', 'is', null) : eb('sealed_url', '=', row.sealed_url),
      )
      .executeTakeFirst();
    changed += Number(result.numUpdatedRows);
  }
  return changed;
}

/** The error for a webhook id that does not exist (or that the caller may not see). */
export function webhookNotFound(id: string): NotFoundError {
  return new NotFoundError(`webhook "${id}" not found`, [
    {
      path: 'id',
      message: 'no such webhook; `pave webhooks list [--app APP]` shows the webhooks you manage',
    },
  ]);
}

function deliveryNotFound(id: string): NotFoundError {
  return new NotFoundError(`webhook delivery "${id}" not found`, [
    { path: 'id', message: 'no such delivery; `pave webhooks deliveries WEBHOOK` lists them' },
  ]);
}

/** The event types a stored webhook receives; null: every type. */
function eventsOf(row: Pick<Selectable<WebhooksTable>, 'events'>): EventType[] | null {
  return row.events === null ? null : (JSON.parse(row.events) as EventType[]);
}

/** The API's view of a stored webhook: never its secret. */
export function toWebhook(row: Selectable<WebhooksTable>): Webhook {
  const cursor = Number(row.last_event_id);
  return {
    id: row.id,
    name: row.name,
    url: shownUrl(row.url),
    app: row.app_id,
    events: eventsOf(row),
    enabled: Number(row.enabled) === 1,
    disabledReason: row.disabled_reason,
    consecutiveFailures: Number(row.consecutive_failures),
    createdAt: row.created_at,
    createdBy: row.created_by,
    lastEventId: cursor > 0 ? String(cursor) : null,
    previousSecretExpiresAt:
      row.previous_secret_until !== null && row.previous_secret_until > now()
        ? row.previous_secret_until
        : null,
  };
}

/** The API's view of a stored delivery. */
export function toDelivery(row: Selectable<WebhookDeliveriesTable>): WebhookDelivery {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventId: row.event_id === null ? null : String(row.event_id),
    eventType: row.event_type,
    status: row.status as WebhookDelivery['status'],
    attempts: Number(row.attempts),
    createdAt: row.created_at,
    nextAttemptAt: row.next_attempt_at,
    lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
    lastError: row.last_error,
    attemptLog: JSON.parse(row.attempt_log) as WebhookAttempt[],
  };
}

/**
 * The permission managing webhook `id` needs: webhook.manage on its app, webhook.manage-org for an
 * org-wide one. NotFoundError when it does not exist or belongs to an app the actor cannot see.
 */
export async function webhookAccess(db: Executor, actor: Actor, id: string): Promise<AccessCheck[]> {
  const row = await db
    .selectFrom('webhooks')
    .select('app_id')
    .where('id', '=', id)
    .where('retire_after_event_id', 'is', null)
    .executeTakeFirst();
  if (!row || (row.app_id !== null && !actorSeesApp(actor, row.app_id))) throw webhookNotFound(id);
  return [webhookScopeCheck(row.app_id)];
}

/** Like webhookAccess, for the webhook of delivery `id`. */
export async function deliveryAccess(db: Executor, actor: Actor, id: string): Promise<AccessCheck[]> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .innerJoin('webhooks', 'webhooks.id', 'webhook_deliveries.webhook_id')
    .select('webhooks.app_id')
    .where('webhook_deliveries.id', '=', id)
    .where('webhooks.retire_after_event_id', 'is', null)
    .executeTakeFirst();
  if (!row || (row.app_id !== null && !actorSeesApp(actor, row.app_id))) throw deliveryNotFound(id);
  return [webhookScopeCheck(row.app_id)];
}

/** webhook.manage on `app`, or webhook.manage-org for org-wide webhooks (`app` null or absent). */
export function webhookScopeCheck(app: string | null | undefined): AccessCheck {
  return app
    ? { permission: 'webhook.manage', target: { app } }
    : { permission: 'webhook.manage-org', target: {} };
}

/**
 * Creates a webhook and its signing secret (stored encrypted; the result is the only place it appears). It
 * receives the events recorded from now on. Rejects with NotFoundError for an app that does not exist,
 * ConflictError for a name taken in its scope, InputError for a URL whose literal address the guard refuses.
 */
export async function createWebhook(
  deps: Pick<WebhookDeps, 'store' | 'box' | 'allow'>,
  context: RequestContext,
  input: CreateWebhookInput,
): Promise<CreatedWebhook> {
  const refused = deps.allow.refuseLiteral(input.url);
  if (refused) throw new InputError(refused.message, [{ path: '/url', message: refused.message }]);
  const app = input.app ?? null;
  refuseApplessEvents(app, input.events);
  const secret = newWebhookSecret();
  const sealed = await deps.box.encrypt(webhookSecretScope(app), secret);
  const sealedUrl = await sealUrl(deps.box, app, input.url);
  const row = await deps.store
    .transaction(async (tx) => {
      // Locked, so that a deletion of the app at the same moment retires this webhook too, or finds it refused.
      if (app !== null && !(await lockRow(deps.store.engine, tx, 'apps', { id: app }, 'share'))) {
        throw appNotFound(app);
      }
      const taken = await tx
        .selectFrom('webhooks')
        .select('id')
        .where('name', '=', input.name)
        .where((eb) => (app === null ? eb('app_id', 'is', null) : eb('app_id', '=', app)))
        .where('retire_after_event_id', 'is', null)
        .executeTakeFirst();
      if (taken) throw nameTaken(input.name, app);
      // It starts at the end of the stream: the events recorded before it existed are not its.
      const cursor = await tx
        .selectFrom('event_cursor')
        .select('last_id')
        .where('id', '=', 1)
        .executeTakeFirst();
      const values = {
        id: `wh_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
        name: input.name,
        url: shownUrl(input.url),
        sealed_url: sealedUrl,
        app_id: app,
        app_incarnation: app === null ? null : await incarnationOf(tx, app),
        events: input.events ? JSON.stringify([...new Set(input.events)]) : null,
        secret: sealed,
        previous_secret: null,
        previous_secret_until: null,
        enabled: 1,
        disabled_reason: null,
        consecutive_failures: 0,
        last_event_id: Number(cursor?.last_id ?? 0),
        lease_owner: null,
        lease_until: null,
        retire_after_event_id: null,
        created_at: now(),
        created_by: context.actor.username,
      };
      await tx.insertInto('webhooks').values(values).execute();
      await recordAudit(tx, context, {
        action: 'webhook.create',
        target: `webhooks/${values.id}`,
        appId: app,
        summary: {
          id: values.id,
          name: values.name,
          url: auditUrl(input.url),
          events: input.events ?? null,
        },
      });
      return values;
    })
    .catch((error: unknown) => {
      // Another creation of the same name committed between the check above and the insert.
      throw isUniqueViolation(error) ? nameTaken(input.name, app) : error;
    });
  return { webhook: toWebhook(row), secret };
}

/** The error for a webhook name already taken among the live webhooks of `app` (or the org-wide ones). */
function nameTaken(name: string, app: string | null): ConflictError {
  return new ConflictError(
    `a webhook named "${name}" already exists ${app ? `for app ${app}` : 'org-wide'}`,
    [{ path: '/name', message: 'choose another name, or delete that webhook first' }],
  );
}

/** Webhook `id`, unless retired (its app was deleted); NotFoundError when there is no such webhook. */
async function liveWebhook(db: Executor, id: string): Promise<Selectable<WebhooksTable>> {
  const row = await db
    .selectFrom('webhooks')
    .selectAll()
    .where('id', '=', id)
    .where('retire_after_event_id', 'is', null)
    .executeTakeFirst();
  if (!row) throw webhookNotFound(id);
  return row;
}

/**
 * Refuses, for a webhook of `app`, event types Pave records about no app (but those in `kept`): it would never
 * receive them, as an app's webhook receives the events of its app alone. Nothing to refuse for an org-wide one.
 */
function refuseApplessEvents(
  app: string | null,
  events: readonly EventType[] | null | undefined,
  kept: readonly EventType[] = [],
): void {
  if (app === null || !events) return;
  const problems = events.flatMap((type, index) =>
    isApplessEventType(type) && !kept.includes(type)
      ? [
          {
            path: `/events/${index}`,
            message:
              `${type} events are about no app, so a webhook of app ${app} never receives them: ` +
              'leave it out, or create an org-wide webhook for it (`pave webhooks create` without --app)',
          },
        ]
      : [],
  );
  if (problems.length > 0) {
    throw new InputError(`webhook of app ${app}: event types it would never receive`, problems);
  }
}

/** The error for a PATCH that changes nothing. */
function nothingToChange(): InputError {
  const message = 'give at least one of name, url and events (null: every event type)';
  return new InputError(`nothing to change: ${message}`, [{ path: '/', message }]);
}

/**
 * Changes a webhook's name, URL or event types; a field left out (or a null name or URL) stays as it is,
 * `events: null` is every type again. A new URL passes the guard as at creation and is stored sealed the
 * same way; the webhook's pending deliveries go to it from now on, at once rather than after the backoff
 * they were waiting out. The cursor stays: new event types apply to the events not delivered yet. Rejects
 * with InputError for no change or a refused URL, ConflictError for a name taken in its scope, NotFoundError
 * for no such webhook.
 */
export async function updateWebhook(
  deps: Pick<WebhookDeps, 'store' | 'box' | 'allow'>,
  context: RequestContext,
  id: string,
  input: UpdateWebhookInput,
): Promise<Webhook> {
  const { name, url, events } = input;
  if (name == null && url == null && events === undefined) throw nothingToChange();
  if (url != null) {
    const refused = deps.allow.refuseLiteral(url);
    if (refused) throw new InputError(refused.message, [{ path: '/url', message: refused.message }]);
  }
  // A webhook's app never changes: its URL can be sealed in its scope before the transaction.
  const app = (await liveWebhook(deps.store.db, id)).app_id;
  const newUrl =
    url == null ? undefined : { url: shownUrl(url), sealed_url: await sealUrl(deps.box, app, url) };
  return deps.store
    .transaction(async (tx) => {
      const row = await liveWebhook(tx, id);
      const changes: Partial<Pick<Selectable<WebhooksTable>, 'name' | 'url' | 'sealed_url' | 'events'>> = {};
      if (name != null && name !== row.name) {
        const taken = await tx
          .selectFrom('webhooks')
          .select('id')
          .where('name', '=', name)
          .where((eb) => (app === null ? eb('app_id', 'is', null) : eb('app_id', '=', app)))
          .where('retire_after_event_id', 'is', null)
          .where('id', '!=', id)
          .executeTakeFirst();
        if (taken) throw nameTaken(name, app);
        changes.name = name;
      }
      // A stored URL that cannot be opened (its key gone) is replaced, not a reason to refuse the change.
      const storedUrl = newUrl ? await urlToSend(deps.box, row).catch(() => undefined) : undefined;
      if (newUrl && url !== storedUrl) Object.assign(changes, newUrl);
      // Types it has already stay allowed (a webhook made before they were refused), as the portal keeps them.
      refuseApplessEvents(app, events, eventsOf(row) ?? []);
      const newEvents =
        events === undefined ? undefined : events === null ? null : JSON.stringify([...new Set(events)]);
      if (newEvents !== undefined && newEvents !== row.events) changes.events = newEvents;
      // What it asks for is what the webhook has already: nothing to record.
      if (Object.keys(changes).length === 0) return toWebhook(row);
      // Not if its app's deletion retired it meanwhile (PostgreSQL lets the update wait for that to commit).
      const updated = await tx
        .updateTable('webhooks')
        .set(changes)
        .where('id', '=', id)
        .where('retire_after_event_id', 'is', null)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) throw webhookNotFound(id);
      if (changes.sealed_url !== undefined) {
        // The deliveries waiting to be retried were failing at the old URL: try the new one now.
        await tx
          .updateTable('webhook_deliveries')
          .set({ next_attempt_at: now() })
          .where('webhook_id', '=', id)
          .where('status', '=', 'pending')
          .execute();
      }
      await recordAudit(tx, context, {
        action: 'webhook.update',
        target: `webhooks/${id}`,
        appId: app,
        summary: {
          id,
          name: changes.name ?? row.name,
          ...(changes.name !== undefined ? { previousName: row.name } : {}),
          ...(url != null && changes.sealed_url !== undefined ? { url: auditUrl(url) } : {}),
          ...(events !== undefined && changes.events !== undefined
            ? { events: events === null ? null : [...new Set(events)] }
            : {}),
        },
      });
      return toWebhook({ ...row, ...changes });
    })
    .catch((error: unknown) => {
      // Another webhook took the name between the check above and the update.
      throw isUniqueViolation(error) && name != null ? nameTaken(name, app) : error;
    });
}

/**
 * Gives a webhook a new signing secret, stored encrypted as at creation; every attempt from now on is signed
 * with it (one already being sent carries the old one) and, for `previousValidFor` (24h unless given; `0s`:
 * not at all), with the secret it replaces as well, so that its receiver can switch over in the meantime. A
 * rotation during an earlier one's overlap replaces the secret current then: the older one stops at once. The
 * result is the only place the new secret appears. NotFoundError when there is no such webhook,
 * ConflictError when another rotation of it committed first.
 */
export async function rotateWebhookSecret(
  deps: Pick<WebhookDeps, 'store' | 'box'>,
  context: RequestContext,
  id: string,
  input: RotateWebhookSecretInput = {},
): Promise<RotatedWebhookSecret> {
  const previousValidFor = input.previousValidFor ?? DEFAULT_PREVIOUS_SECRET_VALIDITY;
  // The route's schema checked it; an unchecked caller gets no overlap rather than an endless one.
  const validityMs = previousSecretValidityMs(previousValidFor) ?? 0;
  const app = (await liveWebhook(deps.store.db, id)).app_id;
  const secret = newWebhookSecret();
  const sealed = await deps.box.encrypt(webhookSecretScope(app), secret);
  const row = await deps.store.transaction(async (tx) => {
    const found = await liveWebhook(tx, id);
    // The replaced secret stays sealed as it was: the same scope, the same box.
    const overlap =
      validityMs > 0
        ? {
            previous_secret: found.secret,
            previous_secret_until: new Date(Date.now() + validityMs).toISOString(),
          }
        : { previous_secret: null, previous_secret_until: null };
    // Only over the secret read above, and not once its app's deletion retired it (both can commit while
    // PostgreSQL lets this update wait): two rotations at once must not both answer a secret.
    const updated = await tx
      .updateTable('webhooks')
      .set({ secret: sealed, ...overlap })
      .where('id', '=', id)
      .where('secret', '=', found.secret)
      .where('retire_after_event_id', 'is', null)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) {
      await liveWebhook(tx, id);
      throw new ConflictError(`the signing secret of webhook ${id} was rotated by someone else just now`, [
        { path: 'path.id', message: 'rotate it again, or ask them for the secret they were shown' },
      ]);
    }
    await recordAudit(tx, context, {
      action: 'webhook.rotate-secret',
      target: `webhooks/${id}`,
      appId: app,
      summary: {
        id,
        name: found.name,
        previousValidFor,
        previousSecretExpiresAt: overlap.previous_secret_until,
      },
    });
    return { ...found, secret: sealed, ...overlap };
  });
  return { webhook: toWebhook(row), secret };
}

/** How many webhooks a page holds when the caller does not say. */
const DEFAULT_WEBHOOK_PAGE = 100;

/**
 * One page of the webhooks of `app`, or of the org-wide ones when `app` is null, by name (`limit`, default
 * 100): with `cursor` (a previous page's nextCursor, the name of its last webhook), those whose name sorts
 * after it. A retired webhook (of a deleted app, still delivering) is never listed. NotFoundError for no such
 * app.
 */
export async function listWebhooks(
  db: Executor,
  app: string | null,
  page: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<WebhookPage> {
  if (app !== null && !(await db.selectFrom('apps').select('id').where('id', '=', app).executeTakeFirst())) {
    throw appNotFound(app);
  }
  const limit = page.limit ?? DEFAULT_WEBHOOK_PAGE;
  // Keyset pagination on the name, unique among the live webhooks of a scope (webhooks_live_name); the index
  // webhooks_app_id (app_id, name) serves the order, so a deep page costs what the first does.
  const rows = await db
    .selectFrom('webhooks')
    .selectAll()
    .where((eb) => (app === null ? eb('app_id', 'is', null) : eb('app_id', '=', app)))
    .where('retire_after_event_id', 'is', null)
    .$if(page.cursor !== undefined, (qb) => qb.where('name', '>', page.cursor!))
    .orderBy('name')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit).map(toWebhook);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.name ?? null) : null };
}

/** One webhook; NotFoundError when it does not exist. */
export async function getWebhook(db: Executor, id: string): Promise<Webhook> {
  const row = await db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw webhookNotFound(id);
  return toWebhook(row);
}

/** Deletes a webhook with its deliveries; NotFoundError when it does not exist. */
export async function deleteWebhook(store: Store, context: RequestContext, id: string): Promise<void> {
  await store.transaction(async (tx) => {
    const row = await tx.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw webhookNotFound(id);
    await tx.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
    const deleted = await tx.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
    // None deleted: another deletion of it committed since it was read (PostgreSQL); that one is audited.
    if (Number(deleted.numDeletedRows) === 0) throw webhookNotFound(id);
    await recordAudit(tx, context, {
      action: 'webhook.delete',
      target: `webhooks/${id}`,
      appId: row.app_id,
      summary: { id, name: row.name },
    });
  });
}

/**
 * Retires the webhooks of an app being deleted, in the transaction that deletes it, after the events of the
 * deletion are recorded: they deliver the app's events up to the last of them (the deletion's own
 * included), then removeRetiredWebhooks removes them. The API no longer shows them.
 */
export async function retireAppWebhooks(tx: Executor, app: string): Promise<void> {
  const cursor = await tx.selectFrom('event_cursor').select('last_id').where('id', '=', 1).executeTakeFirst();
  await tx
    .updateTable('webhooks')
    .set({ retire_after_event_id: Number(cursor?.last_id ?? 0) })
    .where('app_id', '=', app)
    .where('retire_after_event_id', 'is', null)
    .execute();
}

/**
 * Removes the retired webhooks that are done: their cursor has passed the event they retire after and no
 * delivery of theirs is pending, or they are disabled (they would deliver nothing more). Resolves with how
 * many were removed.
 */
export async function removeRetiredWebhooks(store: Store): Promise<number> {
  return store.transaction(async (tx) => {
    const done = await tx
      .selectFrom('webhooks')
      .select('id')
      .where('retire_after_event_id', 'is not', null)
      .where((eb) =>
        eb.or([
          eb('enabled', '=', 0),
          eb.and([
            eb('last_event_id', '>=', eb.ref('retire_after_event_id')),
            eb.not(
              eb.exists(
                eb
                  .selectFrom('webhook_deliveries')
                  .select('webhook_deliveries.id')
                  .whereRef('webhook_deliveries.webhook_id', '=', 'webhooks.id')
                  .where('webhook_deliveries.status', '=', 'pending'),
              ),
            ),
          ]),
        ]),
      )
      .execute();
    const ids = done.map((row) => row.id);
    if (ids.length === 0) return 0;
    await tx.deleteFrom('webhook_deliveries').where('webhook_id', 'in', ids).execute();
    await tx.deleteFrom('webhooks').where('id', 'in', ids).execute();
    return ids.length;
  });
}

/**
 * Deletes the finished deliveries (succeeded or failed) created before `before` (RFC 3339), as events past
 * their retention are; pending ones stay. Resolves with how many were deleted.
 */
export async function deleteDeliveriesBefore(db: Executor, before: string): Promise<number> {
  const result = await db
    .deleteFrom('webhook_deliveries')
    .where('created_at', '<', before)
    .where('status', '!=', 'pending')
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Forgets the replaced secrets whose overlap has ended: they sign nothing more, so nothing keeps them, not even
 * sealed. Resolves with how many webhooks had one.
 */
export async function forgetExpiredPreviousSecrets(db: Executor): Promise<number> {
  const result = await db
    .updateTable('webhooks')
    .set({ previous_secret: null, previous_secret_until: null })
    .where('previous_secret', 'is not', null)
    .where('previous_secret_until', '<=', now())
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Enables a webhook (again, after Pave or disableWebhook disabled it): it goes on from its cursor, sending its
 * pending deliveries first, its count of failures in a row back at 0. Resolves
 * with the webhook; NotFoundError when it does not exist.
 */
export async function enableWebhook(store: Store, context: RequestContext, id: string): Promise<Webhook> {
  return store.transaction(async (tx) => {
    const row = await liveWebhook(tx, id);
    // Not if its app's deletion retired it meanwhile (PostgreSQL lets the update wait for that to commit).
    const enabled = await tx
      .updateTable('webhooks')
      .set({ enabled: 1, disabled_reason: null, consecutive_failures: 0 })
      .where('id', '=', id)
      .where('retire_after_event_id', 'is', null)
      .executeTakeFirst();
    if (Number(enabled.numUpdatedRows) !== 1) throw webhookNotFound(id);
    await recordAudit(tx, context, {
      action: 'webhook.enable',
      target: `webhooks/${id}`,
      appId: row.app_id,
      summary: { id, name: row.name, wasEnabled: Number(row.enabled) === 1 },
    });
    return toWebhook({ ...row, enabled: 1, disabled_reason: null, consecutive_failures: 0 });
  });
}

/**
 * Disables a webhook on purpose (a receiver under maintenance): its `disabledReason` says who did and why.
 * As when Pave disables one after failures in a row, the dispatcher sends nothing more (an attempt under way
 * finishes): new events wait behind its cursor and pending deliveries stay pending, until enableWebhook. Its
 * count of failures in a row stays. Resolves with the webhook; NotFoundError when it does not exist.
 */
export async function disableWebhook(
  store: Store,
  context: RequestContext,
  id: string,
  input: DisableWebhookInput,
): Promise<Webhook> {
  const { reason } = input;
  const disabledReason = `disabled by ${context.actor.username}${reason === undefined ? '' : `: ${reason}`}`;
  return store.transaction(async (tx) => {
    const row = await liveWebhook(tx, id);
    // Not if its app's deletion retired it meanwhile, as in enableWebhook.
    const disabled = await tx
      .updateTable('webhooks')
      .set({ enabled: 0, disabled_reason: disabledReason })
      .where('id', '=', id)
      .where('retire_after_event_id', 'is', null)
      .executeTakeFirst();
    if (Number(disabled.numUpdatedRows) !== 1) throw webhookNotFound(id);
    await recordAudit(tx, context, {
      action: 'webhook.disable',
      target: `webhooks/${id}`,
      appId: row.app_id,
      summary: { id, name: row.name, wasEnabled: Number(row.enabled) === 1, reason: reason ?? null },
    });
    return toWebhook({ ...row, enabled: 0, disabled_reason: disabledReason });
  });
}

/** How many deliveries a page holds when the caller does not say. */
const DEFAULT_DELIVERY_PAGE = 50;

/**
 * One page of a webhook's deliveries, newest first (`limit`, default 50): by creation time, then event
 * (a delivery without one last), then id. With `cursor` (a previous page's nextCursor: the position of its
 * last delivery, see deliveryCursor), the deliveries after that one. NotFoundError when the webhook does not
 * exist.
 */
export async function listDeliveries(
  db: Executor,
  id: string,
  page: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<WebhookDeliveryPage> {
  await getWebhook(db, id);
  const limit = page.limit ?? DEFAULT_DELIVERY_PAGE;
  const after = page.cursor === undefined ? undefined : parseDeliveryCursor(page.cursor);
  if (page.cursor !== undefined && !after) {
    throw new InputError('invalid cursor', [
      { path: 'query.cursor', message: 'must be the nextCursor value of a previous page' },
    ]);
  }
  // Keyset pagination: `created_at <= cursor` bounds the scan of the index webhook_deliveries_webhook
  // (webhook_id, created_at), so a deep page costs what the first does; the rest of the condition orders
  // deliveries of the same instant as ORDER BY does.
  const rows = await db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('webhook_id', '=', id)
    .$if(after !== undefined, (qb) =>
      qb.where('created_at', '<=', after!.createdAt).where((eb) => {
        const { createdAt, eventId, id: lastId } = after!;
        const sameInstant =
          eventId === null
            ? eb.and([eb('event_id', 'is', null), eb('id', '<', lastId)])
            : eb.or([
                eb('event_id', '<', Number(eventId)),
                eb('event_id', 'is', null),
                eb.and([eb('event_id', '=', Number(eventId)), eb('id', '<', lastId)]),
              ]);
        return eb.or([
          eb('created_at', '<', createdAt),
          eb.and([eb('created_at', '=', createdAt), sameInstant]),
        ]);
      }),
    )
    .orderBy('created_at', 'desc')
    // Explicitly last: SQLite and PostgreSQL put NULLs at different ends by default.
    .orderBy('event_id', (ob) => ob.desc().nullsLast())
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit).map(toDelivery);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? deliveryCursor(last) : null };
}

/**
 * Queues a new delivery of the event of delivery `id` to its webhook (a new `webhook-id`, the same body);
 * the dispatcher sends it before the webhook's next new events. NotFoundError when it does not exist.
 */
export async function redeliver(store: Store, context: RequestContext, id: string): Promise<WebhookDelivery> {
  return store.transaction(async (tx) => {
    const source = await tx
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!source) throw deliveryNotFound(id);
    const row = {
      id: newDeliveryId(),
      webhook_id: source.webhook_id,
      event_id: source.event_id,
      event_type: source.event_type,
      payload: source.payload,
      status: 'pending',
      attempts: 0,
      created_at: now(),
      next_attempt_at: now(),
      last_status_code: null,
      last_error: null,
      attempt_log: '[]',
    };
    await tx.insertInto('webhook_deliveries').values(row).execute();
    const webhook = await tx
      .selectFrom('webhooks')
      .select('app_id')
      .where('id', '=', source.webhook_id)
      .executeTakeFirst();
    await recordAudit(tx, context, {
      action: 'webhook.redeliver',
      target: `webhooks/${source.webhook_id}`,
      appId: webhook?.app_id ?? null,
      summary: { delivery: row.id, of: id, eventId: row.event_id === null ? null : String(row.event_id) },
    });
    return toDelivery(row);
  });
}

/** A delivery id (`webhook-id`) for a delivery that is not an event's first (redeliveries, tests). */
export function newDeliveryId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`;
}

/**
 * Sends one signed synthetic `webhook.test` message to the webhook now, through the same sender (and SSRF
 * guard) as deliveries; records nothing. NotFoundError when it does not exist.
 */
export async function testWebhook(
  deps: WebhookDeps,
  context: RequestContext,
  id: string,
): Promise<WebhookTestResult> {
  const row = await deps.store.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw webhookNotFound(id);
  const secrets = await signingSecrets((sealed) => deps.box.decrypt(sealed), row);
  const body = JSON.stringify({
    id: '0',
    time: now(),
    actor: context.actor.username,
    app: row.app_id,
    env: null,
    type: 'webhook.test',
    data: { webhookId: row.id, name: row.name },
  });
  return deps.sender.send(await urlToSend(deps.box, row), secrets, { id: newDeliveryId(), body });
}
