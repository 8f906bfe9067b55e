import { EVENT_DATA, type EventData, type EventQuery, type EventType, type PaveEvent } from '@pave/core';
import type { Selectable } from 'kysely';
import type { Executor } from '../store/index.ts';
import type { EventsTable } from '../store/schema.ts';
import { appsActorSees, decideFor } from './access.ts';
import { appNotFound } from './apps.ts';
import { incarnationOf } from './audit.ts';
import { now, type Actor, type RequestContext } from './context.ts';

/** What a change records in the event stream. `data` never holds a secret value. */
export interface EventRecord<T extends EventType> {
  type: T;
  app: string | null;
  env?: string | null;
  data: EventData<T>;
}

/**
 * Appends one event to the outbox. Call it with the transaction that makes the change, so the event exists
 * exactly when the change does (a change that rolls back leaves no event); given the database itself, it
 * opens a transaction of its own. Call it after recordAudit in the same transaction, so every transaction
 * takes the two single-row locks (audit chain, then event cursor) in the same order.
 *
 * The id comes from the event cursor row, taken with an UPDATE that on PostgreSQL holds the row until the
 * transaction ends: ids are committed in order across replicas, so a reader resuming after id N never misses
 * an event committed later with a smaller id. Rejects when `data` does not fit its type's schema (a bug).
 */
export async function recordEvent<T extends EventType>(
  db: Executor,
  context: RequestContext,
  event: EventRecord<T>,
): Promise<void> {
  // Parsing drops any field the type does not declare, so nothing unplanned (a value) slips in.
  const data = EVENT_DATA[event.type].parse(event.data);
  const append = async (tx: Executor) => {
    const cursor = await tx
      .updateTable('event_cursor')
      .set((eb) => ({ last_id: eb('last_id', '+', 1) }))
      .where('id', '=', 1)
      .returning('last_id')
      .executeTakeFirstOrThrow();
    await tx
      .insertInto('events')
      .values({
        id: Number(cursor.last_id),
        type: event.type,
        time: now(),
        actor: context.actor.username,
        app_id: event.app,
        app_incarnation: event.app === null ? null : await incarnationOf(tx, event.app),
        env_id: event.env ?? null,
        data: JSON.stringify(data),
      })
      .execute();
  };
  if (db.isTransaction) await append(db);
  else await db.transaction().execute(append);
}

/** Event types about no app, and the permission that lets a reader see them. */
const ORG_EVENT_PERMISSIONS = {
  'role.granted': 'role.read',
  'role.revoked': 'role.read',
  'target.changed': 'target.read',
  'definition.changed': 'definition.read',
  'policy.changed': 'policy.read',
  'profile.changed': 'profile.read',
  'template.changed': 'template.read',
  'env-type.changed': 'env-type.read',
  'webhook.disabled': 'webhook.manage-org',
} as const;

/**
 * What of the stream an actor may read: events of the apps it may read (`app.read`; of their current
 * incarnation only, since an app id deleted and created again is another app; every app's, whole history
 * included, for org admins), and org-wide events (no app) of the types whose subject it may read: target.changed with
 * target.read, definition.changed with definition.read, policy.changed, profile.changed, template.changed and
 * env-type.changed with the read permission of theirs, org and environment-type role changes with role.read on
 * the organisation (admins).
 */
export interface EventVisibility {
  allApps: boolean;
  apps: string[];
  orgTypes: EventType[];
}

/** The visibility of the stream for `actor` (see EventVisibility). */
export function eventVisibility(actor: Actor): EventVisibility {
  // The apps the actor may know exist, as every app route decides: an org admin's token scoped to one app
  // sees that app, though the admin holds no role on it.
  const seen = appsActorSees(actor);
  const allApps = seen === 'all';
  const apps = allApps ? [] : seen.filter((app) => decideFor(actor, 'app.read', { app }).allowed);
  const orgTypes = (Object.keys(ORG_EVENT_PERMISSIONS) as (keyof typeof ORG_EVENT_PERMISSIONS)[]).filter(
    (type) => decideFor(actor, ORG_EVENT_PERMISSIONS[type]).allowed,
  );
  return { allApps, apps, orgTypes };
}

/**
 * Above this many readable apps, a restricted reader's events are read with one query instead of one ordered
 * read per app (SQLite allows at most 500 parts in one compound select; there are at most 9 org-wide types).
 */
export const MAX_APP_READS = 200;

/**
 * Throws NotFoundError (appNotFound) unless the app `app` exists or events about it are kept: the events of an
 * app that was deleted stay readable by those who see them (org admins see the whole history), while a filter
 * naming an app that never existed answers 404, as every route naming an app does, not an empty list. (For a
 * caller who does not see every app, the permission check has already answered 404 for one it cannot see.)
 */
export async function requireAppWithEvents(db: Executor, app: string): Promise<void> {
  const exists = await db.selectFrom('apps').select('id').where('id', '=', app).executeTakeFirst();
  if (exists) return;
  const recorded = await db
    .selectFrom('events')
    .select('id')
    .where('app_id', '=', app)
    .limit(1)
    .executeTakeFirst();
  if (!recorded) throw appNotFound(app);
}

/**
 * The events after `query.after` (all when absent), oldest first, that match the filters and that the
 * visibility admits; at most `query.limit` (default 100). With `query.newest`, newest first instead: those
 * before `query.before` (from the newest when absent).
 *
 * For a reader who sees only some apps, each app's events and each org-wide type it may see are read in
 * order through an index and merged, each read stopping at the limit: one query that filters the whole
 * log by app makes the database read every event of those apps and sort them, which grows with history
 * (docs/benchmarks.md, "A year of history").
 */
export async function listEvents(
  db: Executor,
  visibility: EventVisibility,
  query: EventQuery & { newest?: boolean; before?: string | undefined },
): Promise<PaveEvent[]> {
  const limit = query.limit ?? 100;
  const order = query.newest ? 'desc' : 'asc';
  const matching = () =>
    db
      .selectFrom('events')
      .selectAll()
      .$if(query.after !== undefined, (qb) => qb.where('id', '>', Number(query.after)))
      .$if(query.before !== undefined, (qb) => qb.where('id', '<', Number(query.before)))
      .$if(query.app !== undefined, (qb) => qb.where('app_id', '=', query.app!))
      .$if(query.env !== undefined, (qb) => qb.where('env_id', '=', query.env!))
      .$if(query.type !== undefined, (qb) => qb.where('type', '=', query.type!));
  const orgTypes = visibility.orgTypes;
  const apps = visibility.apps.filter((app) => query.app === undefined || app === query.app);
  if (visibility.allApps || apps.length > MAX_APP_READS) {
    const rows = await matching()
      .where((eb) => {
        const org =
          orgTypes.length > 0
            ? eb.and([eb('app_id', 'is', null), eb('type', 'in', orgTypes)])
            : eb.lit(false);
        if (visibility.allApps) return eb.or([eb('app_id', 'is not', null), org]);
        // Only the app as it is now: the events of an earlier app with the same id are not its readers'.
        const current = eb
          .selectFrom('apps')
          .select('apps.incarnation')
          .whereRef('apps.id', '=', 'events.app_id');
        return eb.or([eb.and([eb('app_id', 'in', apps), eb('app_incarnation', '=', current)]), org]);
      })
      .orderBy('id', order)
      .limit(limit)
      .execute();
    return rows.map(toEvent);
  }
  const reads = apps.map((app) =>
    matching()
      .where('app_id', '=', app)
      // Only the app as it is now: the events of an earlier app with the same id are not its readers'.
      .where((eb) =>
        eb('app_incarnation', '=', eb.selectFrom('apps').select('incarnation').where('id', '=', app)),
      )
      .orderBy('id', order)
      .limit(limit),
  );
  if (query.app === undefined) {
    // One read per type, each in order through the index of org-wide events by type.
    for (const type of orgTypes) {
      reads.push(
        matching().where('app_id', 'is', null).where('type', '=', type).orderBy('id', order).limit(limit),
      );
    }
  }
  if (reads.length === 0) return [];
  // Each read is wrapped in a select of its own: SQLite takes no ORDER BY or LIMIT on a part of a compound.
  const parts = reads.map((read, index) => db.selectFrom(read.as(`part${index}`)).selectAll());
  const merged = parts.slice(1).reduce((all, part) => all.unionAll(part), parts[0]!);
  const rows = await db
    .selectFrom(merged.as('visible'))
    .selectAll()
    .orderBy('id', order)
    .limit(limit)
    .execute();
  return rows.map(toEvent);
}

function toEvent(row: Selectable<EventsTable>): PaveEvent {
  return {
    id: String(row.id),
    type: row.type,
    time: row.time,
    actor: row.actor,
    app: row.app_id,
    env: row.env_id,
    data: JSON.parse(row.data) as unknown,
  } as PaveEvent;
}

/** Deletes the events recorded before `before` (RFC 3339); resolves with how many were deleted. */
export async function deleteEventsBefore(db: Executor, before: string): Promise<number> {
  const result = await db.deleteFrom('events').where('time', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
