import type { Command } from 'commander';
import {
  DEFAULT_PREVIOUS_SECRET_VALIDITY,
  EVENT_TYPES,
  WEBHOOK_DELIVERY_PAGE_MAX,
  previousSecretValidityMs,
  type CreatedWebhook,
  type EventType,
  type RotatedWebhookSecret,
  type UpdateWebhookInput,
  type Webhook,
  type WebhookDelivery,
  type WebhookTestResult,
} from '@pave/core';
import { CliUsageError } from '../errors.ts';
import { aliasApiFields, withFieldOrigins } from '../field-origins.ts';
import type { CliIo } from '../io.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { emptyPageLine, pageQuery, parseLimit, withMoreLine } from './paging.ts';

type CreateOptions = ClientOptions & { url: string; app?: string; events?: string };
type ListOptions = ClientOptions & { app?: string; limit?: string; cursor?: string };
type UpdateOptions = ClientOptions & { name?: string; url?: string; events?: string; allEvents?: boolean };
type DeliveriesOptions = ClientOptions & { limit?: string; cursor?: string };
type RotateOptions = ClientOptions & { previousValidFor?: string };
type DisableOptions = ClientOptions & { reason?: string };

/** The receiver did not answer a `pave webhooks test` with 2xx in time: exit code 1, after the result. */
class WebhookTestFailedError extends Error {
  override name = 'WebhookTestFailedError';
}

const webhookColumns: Column<Webhook>[] = [
  { header: 'id', value: (webhook) => webhook.id },
  { header: 'name', value: (webhook) => webhook.name },
  { header: 'scope', value: (webhook) => scopeOf(webhook) },
  { header: 'url', value: (webhook) => webhook.url },
  { header: 'events', value: (webhook) => webhook.events?.join(',') ?? 'all' },
  { header: 'state', value: (webhook) => state(webhook) },
  { header: 'last event', value: (webhook) => webhook.lastEventId ?? '-' },
  // A webhook outlives its creator's roles (docs/webhooks.md): who made it is what to look at when one goes.
  { header: 'created by', value: (webhook) => webhook.createdBy },
];

const deliveryColumns: Column<WebhookDelivery>[] = [
  { header: 'id', value: (delivery) => delivery.id },
  { header: 'event', value: (delivery) => delivery.eventId ?? '-' },
  { header: 'type', value: (delivery) => delivery.eventType },
  { header: 'status', value: (delivery) => delivery.status },
  { header: 'attempts', value: (delivery) => String(delivery.attempts) },
  { header: 'last code/error', value: (delivery) => lastOutcome(delivery) },
  { header: 'time', value: (delivery) => formatTime(delivery.createdAt) },
];

/**
 * `pave webhooks create|list|get|update|rotate-secret|delete|disable|enable|test|deliveries|redeliver`: signed HTTP
 * callbacks of the event stream, for an app (its owners) or the whole organisation (platform).
 */
export function registerWebhooksCommands(program: Command, io: CliIo): void {
  const webhooks = program
    .command('webhooks')
    .summary('Send events to HTTP endpoints, signed (Standard Webhooks)')
    .description(
      'A webhook POSTs each event Pave records (as `pave events -o json` shows it) to a URL, in order, ' +
        'signed with a secret so the receiver can verify it (Standard Webhooks: webhook-id, ' +
        'webhook-timestamp, webhook-signature). A webhook of an app receives that app’s events (app ' +
        'owners manage them); one without --app receives every event (platform and admins). Failed ' +
        'deliveries are retried with backoff for 24 hours; 20 failed deliveries in a row disable it.',
    )
    .addHelpText(
      'after',
      examples(
        'pave webhooks create ci --url https://ci.example.com/pave --app shop --events deployment.failed',
        'pave webhooks list --app shop',
        'pave webhooks update wh_0123 --url https://ci.example.com/pave/v2',
        'pave webhooks test wh_0123',
        'pave webhooks deliveries wh_0123',
      ),
    );

  addClientOptions(
    webhooks
      .command('create')
      .description('Create a webhook; prints its signing secret, shown only this once')
      .argument('<name>', 'a name, unique among the webhooks of its app (lowercase letters, digits, -)')
      .requiredOption('--url <url>', 'where events are POSTed (http:// or https://)')
      .option('--app <app>', "only this app's events (default: every event, org-wide; needs platform)")
      .option('--events <types>', `only these event types, comma-separated (${EVENT_TYPES.join(', ')})`),
  )
    .addHelpText(
      'after',
      examples(
        'pave webhooks create ci --url https://ci.example.com/pave --app shop',
        'pave webhooks create alerts --url https://alerts.example.com/in --events deployment.failed,resource.failed',
        'pave webhooks create ci --url https://ci.example.com/pave --app shop -o json',
      ),
    )
    .action(async (name: string, options: CreateOptions) => {
      const events = options.events === undefined ? undefined : parseEventTypes(options.events);
      const { client, output } = await clientFor(options, io);
      const created = await client.createWebhook({
        name,
        url: options.url,
        ...(options.app !== undefined ? { app: options.app } : {}),
        ...(events ? { events } : {}),
      });
      output.show(created, (body: CreatedWebhook) =>
        [
          `Created webhook ${body.webhook.name} (${body.webhook.id}) for ${scopeOf(body.webhook)}.`,
          `Signing secret: ${body.secret}`,
          'This secret is shown only now: keep it in the receiver, which verifies each request with it.',
        ].join('\n'),
      );
    });

  addClientOptions(
    webhooks
      .command('list')
      .description(
        'List an app’s webhooks, or without --app the org-wide ones (those that receive every app’s events)',
      )
      .option('--app <app>', 'list this app’s webhooks (default: the org-wide ones, not every app’s)')
      .option('--limit <n>', 'at most this many, by name (100 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave webhooks list --app shop',
        'pave webhooks list -o json',
        'pave webhooks list --limit 20',
      ),
    )
    .action(async (options: ListOptions) => {
      const query = {
        ...(options.app === undefined ? {} : { app: options.app }),
        ...pageQuery(options, 'webhooks'),
      };
      const { client, output } = await clientFor(options, io);
      output.show(await client.listWebhooks(query), (page) => {
        const which = options.app === undefined ? 'org-wide webhooks' : `webhooks of app ${options.app}`;
        const none = emptyPageLine(noWebhooksLine(options.app), options.cursor, which);
        const table = output.table(page.items, webhookColumns, none);
        return withMoreLine(table, page.nextCursor, {
          items: 'webhooks',
          command: `pave webhooks list${options.app === undefined ? '' : ` --app ${options.app}`}`,
          limit: options.limit,
        });
      });
    });

  addClientOptions(
    webhooks
      .command('get')
      .description('Show one webhook (never its secret)')
      .argument('<id>', 'webhook id (see `pave webhooks list`)'),
  )
    .addHelpText('after', examples('pave webhooks get wh_0123', 'pave webhooks get wh_0123 -o json'))
    .action(async (id: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(await client.getWebhook(id), (webhook) => output.details(detailsOf(webhook)));
    });

  addClientOptions(
    webhooks
      .command('update')
      .description(
        'Change a webhook’s name, URL or event types; its deliveries, secret and place in the stream stay',
      )
      .argument('<id>', 'webhook id (see `pave webhooks list`)')
      .option('--name <name>', 'a new name, unique among the webhooks of its app')
      .option('--url <url>', 'a new URL (http:// or https://); pending deliveries go to it from now on')
      .option(
        '--events <types>',
        `only these event types from now on, comma-separated (${EVENT_TYPES.join(', ')})`,
      )
      .option('--all-events', 'every event type from now on (undoes --events)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave webhooks update wh_0123 --url https://ci.example.com/pave/v2',
        'pave webhooks update wh_0123 --name deploys --events deployment.failed,deployment.succeeded',
        'pave webhooks update wh_0123 --all-events -o json',
      ),
    )
    .action(async (id: string, options: UpdateOptions) => {
      const changes = updateInput(options);
      const { client, output } = await clientFor(options, io);
      output.show(await client.updateWebhook(id, changes), (webhook) =>
        [`Updated webhook ${webhook.name} (${webhook.id}).`, output.details(detailsOf(webhook))].join('\n'),
      );
    });

  addClientOptions(
    webhooks
      .command('rotate-secret')
      .description(
        'Give a webhook a new signing secret, printed only this once; deliveries stay signed with the old ' +
          'one as well for a while, so the receiver can switch over',
      )
      .argument('<id>', 'webhook id')
      .option(
        '--previous-valid-for <duration>',
        `how long deliveries are also signed with the old secret, from 0s (cut over at once) to 7d, e.g. 1h ` +
          `(default ${DEFAULT_PREVIOUS_SECRET_VALIDITY}); rotating again meanwhile drops the older one at once`,
      ),
  )
    .addHelpText(
      'after',
      examples(
        'pave webhooks rotate-secret wh_0123',
        'pave webhooks rotate-secret wh_0123 --previous-valid-for 1h',
        'pave webhooks rotate-secret wh_0123 --previous-valid-for 0s -o json',
      ),
    )
    .action(async (id: string, options: RotateOptions) => {
      const { previousValidFor } = options;
      if (previousValidFor !== undefined && previousSecretValidityMs(previousValidFor) === undefined) {
        throw new CliUsageError(
          `--previous-valid-for: "${previousValidFor}" is not a duration from 0s to 7d; use a whole number ` +
            'followed by s, m, h or d, e.g. 0s, 1h or 24h',
        );
      }
      const { client, output } = await clientFor(options, io);
      const body = previousValidFor === undefined ? {} : { previousValidFor };
      output.show(await client.rotateWebhookSecret(id, body), renderRotation);
    });

  addClientOptions(
    webhooks
      .command('delete')
      .description('Delete a webhook and its deliveries')
      .argument('<id>', 'webhook id'),
  )
    .addHelpText('after', examples('pave webhooks delete wh_0123'))
    .action(async (id: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      await client.deleteWebhook(id);
      output.confirm(`Deleted webhook ${id}`);
    });

  addClientOptions(
    webhooks
      .command('enable')
      .description('Enable a disabled webhook; it goes on from the event where it stopped')
      .argument('<id>', 'webhook id'),
  )
    .addHelpText('after', examples('pave webhooks enable wh_0123'))
    .action(async (id: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(
        await client.enableWebhook(id),
        (webhook) => `Enabled webhook ${webhook.name} (${webhook.id}).`,
      );
    });

  addClientOptions(
    webhooks
      .command('disable')
      .description(
        'Disable a webhook on purpose (a receiver under maintenance): nothing is sent until `enable`, which ' +
          'sends what waited',
      )
      .argument('<id>', 'webhook id')
      .option('--reason <text>', "why, shown in the webhook's state (`pave webhooks get`)"),
  )
    .addHelpText(
      'after',
      examples(
        'pave webhooks disable wh_0123',
        "pave webhooks disable wh_0123 --reason 'receiver under maintenance'",
      ),
    )
    .action(async (id: string, options: DisableOptions) => {
      const { client, output } = await clientFor(options, io);
      const disabled = await withFieldOrigins(
        { '/reason': { name: '--reason', value: options.reason } },
        () => client.disableWebhook(id, options.reason === undefined ? {} : { reason: options.reason }),
      );
      output.show(
        disabled,
        (webhook) =>
          `Disabled webhook ${webhook.name} (${webhook.id}); \`pave webhooks enable ${webhook.id}\` sends what waited.`,
      );
    });

  addClientOptions(
    webhooks
      .command('test')
      .description(
        'Send a signed webhook.test message now and show what the receiver answered (exit 1 if not 2xx)',
      )
      .argument('<id>', 'webhook id'),
  )
    .addHelpText('after', examples('pave webhooks test wh_0123', 'pave webhooks test wh_0123 -o json'))
    .action(async (id: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      const result = await client.testWebhook(id);
      output.show(result, renderTestResult);
      if (!result.ok) {
        throw new WebhookTestFailedError(
          `the test message to webhook ${id} failed: ${result.error ?? `status ${result.statusCode}`}`,
        );
      }
    });

  addClientOptions(
    webhooks
      .command('deliveries')
      .description("List a webhook's deliveries, newest first, a page at a time")
      .argument('<id>', 'webhook id')
      .option('--limit <n>', `at most N deliveries (1 to ${WEBHOOK_DELIVERY_PAGE_MAX}; default 50)`)
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples('pave webhooks deliveries wh_0123', 'pave webhooks deliveries wh_0123 --limit 20 -o json'),
    )
    .action(async (id: string, options: DeliveriesOptions) => {
      const limit =
        options.limit === undefined
          ? undefined
          : parseLimit(options.limit, 'deliveries', WEBHOOK_DELIVERY_PAGE_MAX);
      const query = {
        ...(limit === undefined ? {} : { limit }),
        ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
      };
      const { client, output } = await clientFor(options, io);
      output.show(await client.listWebhookDeliveries(id, query), (page) => {
        const none = emptyPageLine('No deliveries yet.', options.cursor, `deliveries of webhook ${id}`);
        const table = output.table(page.items, deliveryColumns, none);
        // A server from before paging answers no nextCursor: one page, nothing more to fetch.
        if (!page.nextCursor) return table;
        const limitFlag = limit === undefined ? '' : ` --limit ${limit}`;
        return `${table}\n\nMore deliveries: pave webhooks deliveries ${id}${limitFlag} --cursor ${page.nextCursor}`;
      });
    });

  addClientOptions(
    aliasApiFields(webhooks.command('redeliver'), { 'path.id': '<delivery-id>' })
      .description('Queue a new delivery of the same event to the same webhook (a new webhook-id)')
      .argument('<delivery-id>', 'delivery id (see `pave webhooks deliveries`)'),
  )
    .addHelpText('after', examples('pave webhooks redeliver msg_0123'))
    .action(async (deliveryId: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(
        await client.redeliverWebhookDelivery(deliveryId),
        (delivery) =>
          `Queued delivery ${delivery.id} of event ${delivery.eventId ?? '-'} (${delivery.eventType}) ` +
          `to webhook ${delivery.webhookId}.`,
      );
    });
}

/** The event types of `--events`; a usage error naming the valid ones for an unknown type. */
export function parseEventTypes(text: string): EventType[] {
  const types = text
    .split(',')
    .map((type) => type.trim())
    .filter(Boolean);
  const unknown = types.filter((type) => !(EVENT_TYPES as string[]).includes(type));
  if (types.length === 0 || unknown.length > 0) {
    throw new CliUsageError(
      `--events: ${unknown.length > 0 ? `"${unknown.join('", "')}" is not an event type` : 'no event type given'}; ` +
        `use one or more of ${EVENT_TYPES.join(', ')}`,
    );
  }
  return types as EventType[];
}

/** The body of `pave webhooks update` from its flags; a usage error naming the flags when none is given. */
export function updateInput(
  options: Pick<UpdateOptions, 'name' | 'url' | 'events' | 'allEvents'>,
): UpdateWebhookInput {
  if (options.events !== undefined && options.allEvents) {
    throw new CliUsageError('--events and --all-events contradict each other: give one of them');
  }
  if (
    options.name === undefined &&
    options.url === undefined &&
    options.events === undefined &&
    !options.allEvents
  ) {
    throw new CliUsageError(
      'nothing to change: give --name NAME, --url URL, --events TYPE,… or --all-events ' +
        '(e.g. pave webhooks update wh_0123 --url https://ci.example.com/pave)',
    );
  }
  return {
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.url !== undefined ? { url: options.url } : {}),
    ...(options.events !== undefined ? { events: parseEventTypes(options.events) } : {}),
    ...(options.allEvents ? { events: null } : {}),
  };
}

// What `pave webhooks list` says when it lists none: which webhooks there are none of, and how to create one.
function noWebhooksLine(app: string | undefined): string {
  if (app !== undefined) {
    return `No webhooks of app ${app}. Create one with \`pave webhooks create NAME --url URL --app ${app}\`.`;
  }
  return (
    'No org-wide webhooks (those that receive every app’s events); an app’s own are listed with ' +
    '`pave webhooks list --app APP`. Create one with `pave webhooks create NAME --url URL`.'
  );
}

/** The fields of one webhook, for people (`get`, `update`). */
function detailsOf(webhook: Webhook): Array<[string, string]> {
  return [
    ['id', webhook.id],
    ['name', webhook.name],
    ['scope', scopeOf(webhook)],
    ['url', webhook.url],
    ['events', webhook.events?.join(', ') ?? 'all'],
    ['state', state(webhook)],
    ['failures in a row', String(webhook.consecutiveFailures)],
    ['last event', webhook.lastEventId ?? '-'],
    ...(webhook.previousSecretExpiresAt === null
      ? []
      : [['old secret also signs until', formatTime(webhook.previousSecretExpiresAt)] as [string, string]]),
    ['created', `${formatTime(webhook.createdAt)} by ${webhook.createdBy}`],
  ];
}

/** What `pave webhooks rotate-secret` prints for people: the new secret, and until when the old one signs. */
function renderRotation({ webhook, secret }: RotatedWebhookSecret): string {
  const until = webhook.previousSecretExpiresAt;
  return [
    `Rotated the signing secret of webhook ${webhook.name} (${webhook.id}).`,
    `Signing secret: ${secret}`,
    until === null
      ? 'This secret is shown only now: put it in the receiver, which must verify with it from now on ' +
        '(every delivery, retries included, is signed with it alone).'
      : 'This secret is shown only now: put it in the receiver before ' +
        `${formatTime(until)}. Until then every delivery is signed with both the old and the new secret; ` +
        'after that, with the new one alone.',
  ].join('\n');
}

function scopeOf(webhook: Webhook): string {
  return webhook.app === null ? 'every app (org-wide)' : `app ${webhook.app}`;
}

function state(webhook: Webhook): string {
  if (webhook.enabled)
    return webhook.consecutiveFailures > 0 ? `enabled (${webhook.consecutiveFailures} failing)` : 'enabled';
  return `disabled${webhook.disabledReason ? `: ${webhook.disabledReason}` : ''}`;
}

function lastOutcome(delivery: WebhookDelivery): string {
  if (delivery.lastError)
    return delivery.lastStatusCode ? `${delivery.lastStatusCode} ${delivery.lastError}` : delivery.lastError;
  return delivery.lastStatusCode === null ? '-' : String(delivery.lastStatusCode);
}

function renderTestResult(result: WebhookTestResult): string {
  const answer = result.statusCode === null ? 'no answer' : `status ${result.statusCode}`;
  const lines = [`${result.ok ? 'OK' : 'Failed'}: ${answer} after ${Math.round(result.latencyMs)} ms`];
  if (result.error) lines.push(`Error: ${result.error}`);
  if (result.responseBody) lines.push(`Response: ${result.responseBody.slice(0, 200)}`);
  return lines.join('\n');
}
