import type { Command } from 'commander';
import {
  EVENT_PAGE_MAX,
  EVENT_TYPES,
  eventSummary,
  type EventListQuery,
  type EventType,
  type PaveEvent,
} from '@pave/core';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import { streamItemText } from '../output/output.ts';
import type { Column } from '../output/table.ts';
import { escapeControlCharacters } from '../output/terminal-text.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';

type EventsOptions = ClientOptions & {
  app?: string;
  env?: string;
  type?: string;
  after?: string;
  before?: string;
  newest?: boolean;
  limit?: string;
  follow?: boolean;
};

const eventColumns: Column<PaveEvent>[] = [
  { header: 'id', value: (event) => event.id },
  { header: 'time', value: (event) => formatTime(event.time) },
  { header: 'type', value: (event) => event.type },
  { header: 'app/env', value: (event) => where(event) },
  { header: 'actor', value: (event) => event.actor },
  { header: 'summary', value: (event) => eventSummary(event, formatTime) },
];

/**
 * `pave events`: what Pave changed, oldest first, from the event stream; `-f` keeps printing new events as
 * they happen (JSON Lines with `-o json`, one YAML document each with `-o yaml`).
 */
export function registerEventsCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('events')
      .summary('List (or follow) the events of the apps you may read')
      .description(
        'List the events Pave recorded, oldest first: deployments, environments, values (key names only), ' +
          'and the org-wide changes you may read; with -f, keep printing new ones until Ctrl-C',
      )
      .option('--app <app>', 'only events of this application')
      .option('--env <env>', 'only events of this environment')
      .option('--type <type>', `only events of this type (${EVENT_TYPES.join(', ')})`)
      .option('--after <id>', 'only events after this id (the cursor; the last id you saw)')
      .option('--newest', 'newest first: the newest events, or with --before those before an id')
      .option('--before <id>', 'with --newest: only events before this id (the cursor of older events)')
      .option('--limit <n>', `at most N events (1 to ${EVENT_PAGE_MAX}; default 100; not with -f)`)
      .option('-f, --follow', 'keep printing new events until Ctrl-C'),
  )
    .addHelpText(
      'after',
      examples(
        'pave events',
        'pave events --app shop --type deployment.failed',
        'pave events --after 1042 -o json',
        'pave events --newest --limit 20',
        'pave events --app shop -f -o json | jq -r .type',
      ),
    )
    .action(async (options: EventsOptions) => {
      const query = eventQuery(options);
      const { client, output } = await clientFor(options, io);
      if (!options.follow) {
        output.show(await client.listEvents(query), (page) => {
          const table = output.table(page.items, eventColumns, 'No events.');
          const next = options.newest
            ? page.nextBefore && ` --newest --before ${page.nextBefore}`
            : page.items.length >= (query.limit ?? 100) &&
              page.nextAfter !== null &&
              ` --after ${page.nextAfter}`;
          if (!next) return table;
          // The same filters and limit, after (or, newest first, before) the page's last event.
          const kept = (
            [
              ['--app', options.app],
              ['--env', options.env],
              ['--type', options.type],
              ['--limit', options.limit?.trim()],
            ] as const
          )
            .filter(([, value]) => value !== undefined)
            .map(([flag, value]) => ` ${flag} ${value}`)
            .join('');
          return `${table}\n\nMore events: pave events${kept}${next}`;
        });
        return;
      }
      // Ctrl-C ends the stream quietly: that is how one stops `-f`.
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      try {
        for await (const event of client.streamEvents(query, controller.signal)) {
          io.stdout.write(
            output.format === 'table' ? `${eventLine(event)}\n` : streamItemText(output.format, event),
          );
        }
      } finally {
        process.removeListener('SIGINT', stop);
      }
    });
}

/** The API query of the options; CliUsageError naming the option when one is malformed. */
export function eventQuery(options: EventsOptions): EventListQuery {
  if (options.type !== undefined && !(EVENT_TYPES as string[]).includes(options.type)) {
    throw new CliUsageError(
      `--type: "${options.type}" is not an event type; use one of ${EVENT_TYPES.join(', ')}`,
    );
  }
  for (const [flag, value] of [
    ['--after', options.after],
    ['--before', options.before],
  ] as const) {
    if (value !== undefined && !/^\d{1,15}$/.test(value.trim())) {
      throw new CliUsageError(`${flag}: "${value}" is not an event id; use the id of an event, e.g. 1042`);
    }
  }
  if (options.newest && options.after !== undefined) {
    throw new CliUsageError('--after lists oldest first; with --newest continue with --before ID');
  }
  if (options.before !== undefined && !options.newest) {
    throw new CliUsageError('--before goes with --newest (newest first); add --newest');
  }
  if (options.newest && options.follow) {
    throw new CliUsageError('-f prints new events as they come; leave --newest out');
  }
  let limit: number | undefined;
  if (options.limit !== undefined) {
    if (options.follow) throw new CliUsageError('--limit: not with -f, which prints every new event');
    limit = Number(options.limit.trim());
    if (!/^\d+$/.test(options.limit.trim()) || limit < 1 || limit > EVENT_PAGE_MAX) {
      throw new CliUsageError(
        `--limit: "${options.limit}" is not a whole number from 1 to ${EVENT_PAGE_MAX}`,
      );
    }
  }
  return {
    ...(options.app !== undefined ? { app: options.app } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
    ...(options.type !== undefined ? { type: options.type as EventType } : {}),
    ...(options.after !== undefined ? { after: options.after.trim() } : {}),
    ...(options.newest ? { newest: 'true' as const } : {}),
    ...(options.before !== undefined ? { before: options.before.trim() } : {}),
    ...(limit !== undefined ? { limit } : {}),
  };
}

function where(event: PaveEvent): string {
  if (event.app === null) return '-';
  return event.env === null ? event.app : `${event.app}/${event.env}`;
}

/** One followed event as a line for people: id, time, type, app/env, actor, summary. */
function eventLine(event: PaveEvent): string {
  const line = eventColumns.map((column) => column.value(event)).join('  ');
  return escapeControlCharacters(line);
}
