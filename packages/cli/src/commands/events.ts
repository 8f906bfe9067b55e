import type { Command } from 'commander';
import { EVENT_PAGE_MAX, EVENT_TYPES, type EventQuery, type EventType, type PaveEvent } from '@pave/core';
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
  limit?: string;
  follow?: boolean;
};

const eventColumns: Column<PaveEvent>[] = [
  { header: 'id', value: (event) => event.id },
  { header: 'time', value: (event) => formatTime(event.time) },
  { header: 'type', value: (event) => event.type },
  { header: 'app/env', value: (event) => where(event) },
  { header: 'actor', value: (event) => event.actor },
  { header: 'summary', value: (event) => eventSummary(event) },
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
      .option('--limit <n>', `at most N events (1 to ${EVENT_PAGE_MAX}; default 100; not with -f)`)
      .option('-f, --follow', 'keep printing new events until Ctrl-C'),
  )
    .addHelpText(
      'after',
      examples(
        'pave events',
        'pave events --app shop --type deployment.failed',
        'pave events --after 1042 -o json',
        'pave events --app shop -f -o json | jq -r .type',
      ),
    )
    .action(async (options: EventsOptions) => {
      const query = eventQuery(options);
      const { client, output } = await clientFor(options, io);
      if (!options.follow) {
        output.show(await client.listEvents(query), (page) => {
          const table = output.table(page.items, eventColumns, 'No events.');
          if (page.items.length < (query.limit ?? 100) || page.nextAfter === null) return table;
          // The same filters and limit, after the page's last event.
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
          return `${table}\n\nMore events: pave events${kept} --after ${page.nextAfter}`;
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
export function eventQuery(options: EventsOptions): EventQuery {
  if (options.type !== undefined && !(EVENT_TYPES as string[]).includes(options.type)) {
    throw new CliUsageError(
      `--type: "${options.type}" is not an event type; use one of ${EVENT_TYPES.join(', ')}`,
    );
  }
  if (options.after !== undefined && !/^\d{1,15}$/.test(options.after.trim())) {
    throw new CliUsageError(
      `--after: "${options.after}" is not an event id; use the id of an event, e.g. 1042`,
    );
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

/** A few words on what happened, from the event's data. */
export function eventSummary(event: PaveEvent): string {
  switch (event.type) {
    case 'deployment.queued':
      return `deployment ${event.data.deploymentId} (${event.data.kind})${event.data.message ? `: ${event.data.message}` : ''}`;
    case 'deployment.started':
      return `deployment ${event.data.deploymentId} (${event.data.kind}), set ${event.data.setId.slice(0, 12)}`;
    case 'deployment.succeeded':
      return `deployment ${event.data.deploymentId} (${event.data.kind})`;
    case 'deployment.failed':
    case 'deployment.rolled-back':
    case 'deployment.cancelled':
      return `deployment ${event.data.deploymentId}: ${event.data.reason}`;
    case 'approval.requested':
      return `deployment ${event.data.deploymentId} (${event.data.kind}) by ${event.data.requestedBy} awaits approval`;
    case 'approval.approved':
      return `deployment ${event.data.deploymentId} approved by ${event.data.approver}${event.data.comment ? `: ${event.data.comment}` : ''}`;
    case 'approval.rejected':
      return `deployment ${event.data.deploymentId} rejected by ${event.data.approver}: ${event.data.comment}`;
    case 'approval.expired':
      return `deployment ${event.data.deploymentId} was not approved in time`;
    case 'approval.superseded':
      return `deployment ${event.data.deploymentId} superseded by deployment ${event.data.supersededBy}`;
    case 'resource.provisioned':
      return `${event.data.resource} (${event.data.type}${event.data.driver ? `, ${event.data.driver}` : ''}) ${event.data.change}`;
    case 'resource.deleted':
      return `${event.data.resource} (${event.data.type}${event.data.driver ? `, ${event.data.driver}` : ''}) deleted`;
    case 'resource.failed':
      return `${event.data.resource} (${event.data.type}): ${event.data.reason}`;
    case 'artifact.pushed':
      return `artifact ${event.data.artifactId}, commit ${event.data.commit.slice(0, 12)}${event.data.branch ? ` on ${event.data.branch}` : ''}`;
    case 'rule.triggered':
      return event.data.deploymentId === null
        ? `rule ${event.data.ruleId} did not deploy artifact ${event.data.artifactId}: ${event.data.refused ?? ''}`
        : `rule ${event.data.ruleId} queued deployment ${event.data.deploymentId} of artifact ${event.data.artifactId}`;
    case 'webhook.disabled':
      return `webhook ${event.data.name} disabled after ${event.data.consecutiveFailures} failed deliveries`;
    case 'environment.created':
    case 'environment.deleted':
      return `type ${event.data.type}`;
    case 'environment.expired':
      return `type ${event.data.type}, expired at ${formatTime(event.data.expiresAt)}`;
    case 'values.changed': {
      const keys = [...event.data.set, ...event.data.unset.map((key) => `-${key}`)].join(', ');
      return `${event.data.version === null ? '' : `version ${event.data.version}: `}${keys}`;
    }
    case 'role.granted':
    case 'role.revoked':
      return `${event.data.role} on ${event.data.scope} to ${event.data.subject}`;
    case 'target.changed':
      return `target ${event.data.target} ${event.data.change}`;
    case 'definition.changed':
      return `definition ${event.data.definition} ${event.data.change}`;
    case 'policy.changed':
      return `policy ${event.data.policy} ${event.data.change}`;
    case 'profile.changed':
      return `profile ${event.data.profile} version ${event.data.version} ${event.data.change}`;
    case 'template.changed':
      return `template ${event.data.template} version ${event.data.version} ${event.data.change}`;
    case 'env-type.changed':
      return `environment type ${event.data.type} ${event.data.change} (${event.data.fields.join(', ')})`;
  }
}
