import { useEffect, useRef, useState, type FormEvent } from 'react';
import { EVENT_TYPES, eventSummary, type EventQuery, type PaveEvent } from '@pave/core';
import type { Session } from '../session.ts';
import { hrefWithQuery, useRouteQuery } from '../router.ts';
import {
  Command,
  ErrorMessage,
  Section,
  Time,
  shellWord,
  useAction,
  useLoad,
} from '../components/common.tsx';

/** How many events the page shows at first, and adds with each "Older events". */
const PAGE_SIZE = 50;

/** The filters of `pave events` the page takes: `--app`, `--env`, `--type`. */
interface EventFilters {
  app?: string | undefined;
  env?: string | undefined;
  type?: string | undefined;
}

/**
 * The events Pave recorded that the user may read, as `pave events` lists them (`#/events`, one app's at
 * `#/events/<app>`; `?env=` and `?type=` filter further). Newest first, like Heroku's activity feed and
 * GitHub's audit log, since people come to see what just happened: the newest 50 (`newest=true`), then
 * **Older events** for 50 more each (`before`), and **Follow**, which
 * adds new events at the top as they happen, where the reader's eye already is (`pave events -f` appends
 * at the bottom, where a terminal's is).
 */
export function EventsPage({ session, app }: { session: Session; app?: string | undefined }) {
  const query = useRouteQuery();
  const filters: EventFilters = {
    app,
    env: query.get('env') || undefined,
    type: query.get('type') || undefined,
  };
  // Changing the filters (or refreshing) starts again from the newest events.
  const [refreshes, setRefreshes] = useState(0);
  const key = `${filters.app ?? ''}/${filters.env ?? ''}/${filters.type ?? ''}`;
  return (
    <>
      <h1>{app ? `Events of ${app}` : 'Events'}</h1>
      <p className="muted">
        What Pave changed: deployments, environments, values (key names only) and the org-wide changes you may
        read.
      </p>
      <EventFilter key={`filter:${key}`} filters={filters} />
      <EventList
        key={`events:${key}:${refreshes}`}
        session={session}
        filters={filters}
        onRefresh={() => setRefreshes((n) => n + 1)}
      />
    </>
  );
}

/** The link to the Events page with these filters. */
function eventsHref({ app, env, type }: EventFilters): string {
  return hrefWithQuery(['events', ...(app ? [app] : [])], { env, type });
}

/** The `pave events` flags of the filters. */
function eventFlags({ app, env, type }: EventFilters): string {
  return (
    [
      ['--app', app],
      ['--env', env],
      ['--type', type],
    ] as const
  )
    .filter(([, value]) => value)
    .map(([flag, value]) => ` ${flag} ${shellWord(value!)}`)
    .join('');
}

/** Filters the events as `pave events`' flags do, through the address so the filtered view can be linked to. */
function EventFilter({ filters }: { filters: EventFilters }) {
  const [app, setApp] = useState(filters.app ?? '');
  const [env, setEnv] = useState(filters.env ?? '');
  const [type, setType] = useState(filters.type ?? '');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    window.location.hash = eventsHref({ app: app.trim(), env: env.trim(), type });
  };
  const filtered = Boolean(filters.app || filters.env || filters.type);
  return (
    <form onSubmit={submit} className="form-row" role="search" aria-label="Filter the events">
      <label>
        App
        <input
          name="app"
          value={app}
          placeholder="all apps"
          autoComplete="off"
          onChange={(event) => setApp(event.target.value)}
        />
      </label>
      <label>
        Environment
        <input
          name="env"
          value={env}
          placeholder="all environments"
          autoComplete="off"
          onChange={(event) => setEnv(event.target.value)}
        />
      </label>
      <label>
        Type
        <select name="type" value={type} onChange={(event) => setType(event.target.value)}>
          <option value="">All types</option>
          {/* A type in the address that Pave does not know stays visible; the server says what is wrong. */}
          {type && !(EVENT_TYPES as string[]).includes(type) && <option value={type}>{type}</option>}
          {EVENT_TYPES.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Filter</button>
      {filtered && (
        <button type="button" onClick={() => (window.location.hash = eventsHref({}))}>
          Show all events
        </button>
      )}
    </form>
  );
}

/**
 * The events, newest first: the newest PAGE_SIZE, older ones on request, and with Follow those that happen
 * meanwhile at the top.
 */
function EventList({
  session,
  filters,
  onRefresh,
}: {
  session: Session;
  filters: EventFilters;
  onRefresh: () => void;
}) {
  const query = {
    ...(filters.app ? { app: filters.app } : {}),
    ...(filters.env ? { env: filters.env } : {}),
    ...(filters.type ? { type: filters.type as EventQuery['type'] } : {}),
  };
  // Keyed by the filters, so loaded once.
  const newest = useLoad(() => session.client.listEvents({ ...query, newest: 'true', limit: PAGE_SIZE }), []);
  const [older, setOlder] = useState<{ items: PaveEvent[]; before: string | null } | null>(null);
  const olderAction = useAction();
  const [followed, setFollowed] = useState<PaveEvent[]>([]);
  const [following, setFollowing] = useState(false);
  const [followError, setFollowError] = useState<unknown>(null);

  const items = newest.data ? [...followed, ...newest.data.items, ...(older?.items ?? [])] : undefined;
  const before = older ? older.before : (newest.data?.nextBefore ?? null);
  // Following continues after the newest event shown: none is missed or shown twice.
  const newestShown = useRef<string | undefined>(undefined);
  newestShown.current = items?.[0]?.id;

  useEffect(() => {
    if (!following) return;
    const abort = new AbortController();
    const after = newestShown.current;
    const follow = async () => {
      try {
        const stream = session.client.streamEvents(
          { ...query, ...(after !== undefined ? { after } : {}) },
          abort.signal,
        );
        for await (const event of stream) setFollowed((shown) => [event, ...shown]);
      } catch (error) {
        if (abort.signal.aborted) return;
        setFollowError(error);
        setFollowing(false);
      }
    };
    void follow();
    return () => abort.abort();
  }, [following]);

  const loadOlder = () =>
    olderAction.run(async () => {
      if (before === null) return;
      const page = await session.client.listEvents({ ...query, newest: 'true', before, limit: PAGE_SIZE });
      setOlder((shown) => ({
        items: [...(shown?.items ?? []), ...page.items],
        before: page.nextBefore ?? null,
      }));
    });

  const flags = eventFlags(filters);
  return (
    <Section
      title="Events"
      actions={
        <span>
          <button
            type="button"
            className={following ? 'primary' : undefined}
            aria-pressed={following}
            disabled={!newest.data}
            onClick={() => {
              setFollowError(null);
              setFollowing((on) => !on);
            }}
          >
            Follow
          </button>{' '}
          <button type="button" onClick={onRefresh}>
            Refresh
          </button>
        </span>
      }
    >
      <p role="status" className="muted">
        {following
          ? `Following: new events appear at the top as they happen${
              followed.length > 0 ? ` (${followed.length} so far)` : ''
            }.`
          : ''}
      </p>
      <ErrorMessage error={followError} />
      <ErrorMessage error={newest.error} />
      {!newest.data && !newest.error && <p className="loading">Loading the events…</p>}
      {items && items.length === 0 && (
        <p className="muted">{following ? 'No events yet; waiting for new ones…' : 'No events.'}</p>
      )}
      {items && items.length > 0 && (
        <table aria-label="Events, newest first">
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Time</th>
              <th scope="col">Type</th>
              <th scope="col">App/env</th>
              <th scope="col">Actor</th>
              <th scope="col">Summary</th>
            </tr>
          </thead>
          <tbody>
            {items.map((event) => (
              <tr key={event.id} data-event-id={event.id}>
                <td>{event.id}</td>
                <td>
                  <Time at={event.time} />
                </td>
                <td>
                  <code>{event.type}</code>
                </td>
                <td>{where(event)}</td>
                <td>{event.actor}</td>
                <td>{eventSummary(event, (time) => new Date(time).toLocaleString())}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ErrorMessage error={olderAction.error} />
      {before !== null && (
        <p>
          <button type="button" onClick={() => void loadOlder()} disabled={olderAction.busy}>
            Older events
          </button>
        </p>
      )}
      {/* What the page shows: the newest page, or while following the new events. */}
      <Command>
        {following ? `pave events${flags} -f` : `pave events --newest --limit ${PAGE_SIZE}${flags}`}
      </Command>
    </Section>
  );
}

/** Where an event happened, as `pave events` shows it: `app/env`, `app`, or `-` for org-wide events. */
function where(event: PaveEvent): string {
  if (event.app === null) return '-';
  return event.env === null ? event.app : `${event.app}/${event.env}`;
}
