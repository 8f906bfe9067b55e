import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventQuery, EventType } from '@pave/core';
import type { Store } from '../src/index.ts';
import { listEvents, MAX_APP_READS, type EventVisibility } from '../src/domain/events.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';
import { seedApps, withPlanOfLastQuery } from './support/query-plan.ts';

const APPS = MAX_APP_READS + 50;
const EVENTS = 60_000;

/**
 * The event at position `i` of the seeded log, as a function, so that the test can say which events a
 * reader should get without asking the store: every 50th is about the busiest app (app-0), every 89th about
 * an earlier app deleted under the id app-3 (another incarnation), every 97th org-wide; the rest go round the
 * other apps. Seeded with SQL: the shape of a long log is under test, not how events are recorded.
 */
function eventAt(i: number) {
  const org = i % 97 === 0;
  const app = org ? null : i % 50 === 0 ? 'app-0' : i % 89 === 0 ? 'app-3' : `app-${1 + (i % (APPS - 1))}`;
  return {
    id: i,
    app,
    incarnation:
      app === null ? null : i % 89 === 0 && !(i % 50 === 0) ? 'earlier-3' : `incarnation-${app.slice(4)}`,
    env: app === null ? null : `env-${i % 3}`,
    type: org
      ? i % 2 === 0
        ? 'role.granted'
        : 'target.changed'
      : i % 2 === 0
        ? 'deployment.queued'
        : 'deployment.succeeded',
  };
}

/** What listEvents should answer, worked out from eventAt. */
function expected(visibility: EventVisibility, query: EventQuery): number[] {
  const ids: number[] = [];
  for (let i = 1; i <= EVENTS && ids.length < (query.limit ?? 100); i++) {
    const event = eventAt(i);
    const visible =
      event.app === null
        ? visibility.orgTypes.includes(event.type as EventType)
        : visibility.allApps ||
          (visibility.apps.includes(event.app) && event.incarnation === `incarnation-${event.app.slice(4)}`);
    const matches =
      (query.after === undefined || i > Number(query.after)) &&
      (query.app === undefined || event.app === query.app) &&
      (query.env === undefined || event.env === query.env) &&
      (query.type === undefined || event.type === query.type);
    if (visible && matches) ids.push(i);
  }
  return ids;
}

describe.each(storeEngines)('the events a reader may see, in a long log, on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    await seedApps(store, APPS);
    const rows = Array.from({ length: EVENTS }, (_, index) => eventAt(index + 1));
    for (let from = 0; from < rows.length; from += 1000) {
      await store.db
        .insertInto('events')
        .values(
          rows.slice(from, from + 1000).map((event) => ({
            id: event.id,
            type: event.type,
            time: '2026-01-01T00:00:00.000Z',
            actor: 'admin',
            app_id: event.app,
            app_incarnation: event.incarnation,
            env_id: event.env,
            data: JSON.stringify({ id: String(event.id), note: 'x'.repeat(200) }),
          })),
        )
        .execute();
    }
    await sql`analyze`.execute(store.db);
  }, 60_000);

  afterAll(async () => {
    await cleanup?.();
  });

  const some: EventVisibility = {
    allApps: false,
    apps: ['app-0', 'app-3', 'app-7'],
    orgTypes: ['role.granted'],
  };
  const many: EventVisibility = {
    allApps: false,
    apps: Array.from({ length: APPS }, (_, i) => `app-${i}`),
    orgTypes: ['target.changed'],
  };
  const everything: EventVisibility = {
    allApps: true,
    apps: [],
    orgTypes: ['role.granted', 'target.changed'],
  };

  it.each<[string, EventVisibility, EventQuery]>([
    ['a few apps and one org-wide type', some, {}],
    ['the same after a cursor, a smaller page', some, { after: '30000', limit: 50 }],
    ['the same for one app deleted and created again', some, { app: 'app-3' }],
    ['the same filtered by environment and type', some, { env: 'env-1', type: 'deployment.succeeded' }],
    ['an app the reader may not read', some, { app: 'app-9' }],
    ['nothing to read', { allApps: false, apps: [], orgTypes: [] }, {}],
    [`more than ${MAX_APP_READS} apps (one query)`, many, { after: '1000' }],
    ['every app (org admins), earlier incarnations included', everything, { after: '40000' }],
  ])('%s', async (_, visibility, query) => {
    const events = await listEvents(store.db, visibility, query);
    const want = expected(visibility, query);
    expect(events.map((event) => Number(event.id))).toEqual(want);
  });

  it.each<[string, string[], EventType[]]>([
    ['one busy app', ['app-0'], []],
    ['a few apps', ['app-0', 'app-3', 'app-7'], []],
    ['one org-wide type', [], ['role.granted']],
    ['two org-wide types', [], ['role.granted', 'target.changed']],
    ['a few apps and one org-wide type', ['app-0', 'app-7'], ['role.granted']],
  ])(
    'the events of %s are read a page at a time through an index, not all read and sorted',
    async (_, apps, orgTypes) => {
      const { result, plan } = await withPlanOfLastQuery(store, (db) =>
        listEvents(db, { allApps: false, apps, orgTypes }, { limit: 100 }),
      );
      expect(result).toHaveLength(100);
      const onEvents = plan.filter((step) => /\bevents\b/.test(step));
      const indexes = [...apps.map(() => 'events_app_id'), ...orgTypes.map(() => 'events_org')];
      expect(onEvents, plan.join('\n')).toHaveLength(indexes.length);
      onEvents.forEach((step, i) => {
        const index = indexes[i];
        if (engine === 'postgres') expect(step, plan.join('\n')).toBe(`Index Scan events ${index} Forward`);
        else
          expect(step, plan.join('\n')).toMatch(new RegExp(`^(SEARCH|SCAN) events USING INDEX ${index}\\b`));
      });
    },
  );
});
