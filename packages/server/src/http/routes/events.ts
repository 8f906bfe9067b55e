import { setTimeout as sleep } from 'node:timers/promises';
import { EventListQuery, EventPage, EventQuery, InputError } from '@pave/core';
import type { ApiServer } from '../app.ts';
import { API_SECURITY_HEADERS } from '../headers.ts';
import { streamSignals } from '../streams.ts';
import type { Store } from '../../store/index.ts';
import { eventVisibility, listEvents, requireAppWithEvents } from '../../domain/events.ts';
import { authenticate } from '../../domain/tokens.ts';

/** How often the stream looks for new events: the table is the only channel, so every replica sees all. */
export const EVENT_POLL_MS = 300;
/** How often the stream sends an SSE comment, so proxies keep an idle connection open. */
const HEARTBEAT_MS = 15_000;

/**
 * The event stream: `GET /events` lists events after a cursor, oldest first; `GET /events/stream` sends
 * them as Server-Sent Events as they are committed, resumable with `Last-Event-ID`. Both show a caller only
 * the events it may read (see eventVisibility); naming an app the caller cannot see, or one that does not
 * exist and has no events kept, answers 404.
 */
export function eventRoutes(api: ApiServer, store: Store): void {
  const tags = ['events'];
  const streamSignal = streamSignals(api);

  api.get(
    '/events',
    {
      config: { permission: 'event.read' },
      schema: {
        tags,
        summary: 'List events after a cursor, oldest first (or, with newest=true, newest first)',
        description:
          '`after` is the id of the last event seen (`nextAfter` of the previous page); `limit` defaults ' +
          'to 100. With `newest=true` the page starts at the newest event, or before `before` (`nextBefore` ' +
          'of the previous page), newest first, as an activity feed shows them; its `nextAfter` is its ' +
          'newest id, to follow new events from. Events of apps the caller may not read, and org-wide ' +
          'events about things it may not read, are left out.',
        querystring: EventListQuery,
        response: { 200: EventPage },
      },
    },
    async (request) => {
      const { newest, ...query } = request.query;
      if (query.app !== undefined) await requireAppWithEvents(store.db, query.app);
      const visibility = eventVisibility(request.pave.actor);
      if (newest !== 'true') {
        const items = await listEvents(store.db, visibility, query);
        return { items, nextAfter: items.at(-1)?.id ?? query.after ?? null };
      }
      // One more than the page: whether any is older, so that a page that is exactly full ends the list too.
      const limit = query.limit ?? 100;
      const read = await listEvents(store.db, visibility, { ...query, limit: limit + 1, newest: true });
      const items = read.slice(0, limit);
      return {
        items,
        // To follow from the newest shown; with none shown, none matched: following from the start is the same.
        nextAfter: items[0]?.id ?? null,
        nextBefore: read.length > limit ? (items.at(-1)?.id ?? null) : null,
      };
    },
  );

  api.get(
    '/events/stream',
    {
      config: { permission: 'event.read' },
      schema: {
        tags,
        summary: 'Stream events as Server-Sent Events (id: event id, event: type, data: Event JSON)',
        description:
          'Sends the events after `after` (or the `Last-Event-ID` header, which wins), then every new one ' +
          'as it is committed, with a comment line every 15 s. Reconnecting with the last id received ' +
          'continues without gaps or repeats. `limit` is not used.',
        querystring: EventQuery,
      },
    },
    async (request, reply) => {
      const header = request.headers['last-event-id'];
      let after = request.query.after;
      if (header !== undefined) {
        if (typeof header !== 'string' || !/^\d{1,15}$/.test(header.trim())) {
          throw new InputError('the Last-Event-ID header is not an event id', [
            { path: 'header.last-event-id', message: 'must be the id of an event (a whole number)' },
          ]);
        }
        after = header.trim();
      }
      if (request.query.app !== undefined) await requireAppWithEvents(store.db, request.query.app);
      // The stream asks again who the caller is before each look (answered from the token cache, a query a
      // second at most): a token revoked or expired meanwhile ends it, and roles granted or revoked meanwhile
      // change what it shows, as they would for a new request.
      const token = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
      const signal = streamSignal(request);
      reply.hijack();
      reply.raw.writeHead(200, {
        ...API_SECURITY_HEADERS,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-request-id': String(request.id),
      });
      reply.raw.write(': connected\n\n');
      const heartbeat = setInterval(() => reply.raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
      try {
        while (!signal.aborted) {
          const actor = await authenticate(store.db, token).catch((error: Error) => {
            const message = `${error.message}; reconnect with a valid token`;
            reply.raw.write(`event: error\ndata: ${JSON.stringify({ message })}\n\n`);
            return undefined;
          });
          if (!actor) break;
          const events = await listEvents(store.db, eventVisibility(actor), {
            ...request.query,
            ...(after === undefined ? {} : { after }),
            limit: 1000,
          });
          for (const event of events) {
            reply.raw.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
            after = event.id;
          }
          if (events.length < 1000) {
            await sleep(EVENT_POLL_MS, undefined, { signal }).catch(() => undefined);
          }
        }
      } catch (error) {
        if (!signal.aborted) {
          request.log.error({ err: error }, 'event stream failed');
          reply.raw.write(
            `event: error\ndata: ${JSON.stringify({ message: 'the event stream failed' })}\n\n`,
          );
        }
      } finally {
        clearInterval(heartbeat);
        reply.raw.end();
      }
    },
  );
}
