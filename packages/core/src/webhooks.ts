import { z } from 'zod';
import { EVENT_TYPES, type EventType } from './events.ts';
import { dnsLabel, printableText } from './ids.ts';
import { CURSOR_TIME, decodeCursor, encodeCursor, labelPageFields } from './paging.ts';

/*
 * Webhooks: Pave POSTs each event of the stream (as `GET /events` shows it) to a URL, signed the Standard
 * Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with a secret only the receiver and
 * Pave know. A webhook belongs to an app (its events) or to the organisation (every event).
 */

/** The prefix of a webhook signing secret (Standard Webhooks): `whsec_` + base64 of random bytes. */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** The largest page of `GET /webhooks/{id}/deliveries`. */
export const WEBHOOK_DELIVERY_PAGE_MAX = 500;

const eventType = z.enum(EVENT_TYPES as [EventType, ...EventType[]], {
  message: `must be an event type: ${EVENT_TYPES.join(', ')}`,
});

/** An http(s) URL a webhook is sent to. */
export const webhookUrl = z
  .string()
  .max(2048, { message: 'must be at most 2048 characters' })
  .superRefine((value, context) => {
    const example = 'e.g. https://hooks.example.com/pave';
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      // The URL parser refuses a port past 65535 without saying so.
      const port = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*:(\d+)(?:[/?#]|$)/iu.exec(value)?.[1];
      const message =
        port !== undefined && Number(port) > 65_535
          ? `has port ${port}; a port is a number from 1 to 65535`
          : `must be an http:// or https:// URL, ${example}`;
      context.addIssue({ code: 'custom', message });
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      context.addIssue({ code: 'custom', message: `must be an http:// or https:// URL, ${example}` });
    } else if (url.hostname === '') {
      context.addIssue({ code: 'custom', message: `has no host; ${example}` });
    }
  });

/** A webhook as the API shows it: never its secret. */
export const Webhook = z
  .object({
    id: z.string(),
    name: z.string().describe('Unique among the webhooks of its app (or the org-wide ones).'),
    url: z.string(),
    app: z.string().nullable().describe('The app whose events it receives; null: every event (org-wide).'),
    events: z.array(eventType).nullable().describe('The event types it receives; null: every type.'),
    enabled: z.boolean(),
    disabledReason: z
      .string()
      .nullable()
      .describe(
        'Why it is disabled: the failures in a row when Pave disabled it, or `disabled by USER[: REASON]`.',
      ),
    consecutiveFailures: z.number().int().describe('Deliveries that failed in a row.'),
    createdAt: z.string(),
    createdBy: z.string(),
    lastEventId: z.string().nullable().describe('The last event delivered (or given up on): its cursor.'),
    previousSecretExpiresAt: z
      .string()
      .nullable()
      .describe(
        'Until when deliveries are also signed with the secret the last rotation replaced; null: signed ' +
          'with the current secret only.',
      ),
  })
  .meta({ id: 'Webhook' });
export type Webhook = z.infer<typeof Webhook>;

/** `POST /webhooks`: without `app`, an org-wide webhook (every event Pave records). */
export const CreateWebhookInput = z
  .strictObject({
    name: dnsLabel,
    url: webhookUrl,
    app: dnsLabel.optional(),
    events: z
      .array(eventType)
      .min(1, { message: 'name at least one event type, or leave `events` out for every type' })
      .optional(),
  })
  .meta({ id: 'CreateWebhookInput' });
export type CreateWebhookInput = z.infer<typeof CreateWebhookInput>;

/** A new webhook and its signing secret: the only time the secret is shown. */
export const CreatedWebhook = z
  .object({
    webhook: Webhook,
    secret: z.string().describe('The `whsec_…` signing secret; shown this once only.'),
  })
  .meta({ id: 'CreatedWebhook' });
export type CreatedWebhook = z.infer<typeof CreatedWebhook>;

/**
 * `PATCH /webhooks/{id}`: what to change; a field left out (or, for `name` and `url`, null) stays as it is.
 * `events: null` goes back to every event type (as `events` is null in a Webhook); an array narrows it to
 * those types. At least one change must be given.
 */
export const UpdateWebhookInput = z
  .strictObject({
    name: dnsLabel
      .nullish()
      .describe('A new name, unique among the webhooks of its app (or the org-wide ones).'),
    url: webhookUrl.nullish().describe('A new URL; pending deliveries go to it from now on.'),
    events: z
      .array(eventType)
      .min(1, { message: 'name at least one event type, or give null for every type' })
      .nullish()
      .describe('The event types it receives from now on; null: every type; left out: unchanged.'),
  })
  .meta({ id: 'UpdateWebhookInput' });
export type UpdateWebhookInput = z.infer<typeof UpdateWebhookInput>;

/** The longest reason a webhook can be disabled with. */
export const WEBHOOK_DISABLE_REASON_MAX = 500;

/**
 * `POST /webhooks/{id}/disable` (optional): why, for whoever looks at the webhook next; its `disabledReason`
 * becomes `disabled by USER: REASON`.
 */
export const DisableWebhookInput = z
  .strictObject({
    reason: printableText()
      .min(1)
      .max(WEBHOOK_DISABLE_REASON_MAX, {
        message: `must be at most ${WEBHOOK_DISABLE_REASON_MAX} characters`,
      })
      .optional()
      .describe('Why it is disabled, e.g. "receiver under maintenance"; shown in its disabledReason.'),
  })
  .meta({ id: 'DisableWebhookInput' });
export type DisableWebhookInput = z.infer<typeof DisableWebhookInput>;

/** How long the replaced secret stays valid after a rotation when the caller does not say (as Svix does). */
export const DEFAULT_PREVIOUS_SECRET_VALIDITY = '24h';

const VALIDITY_UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** The longest a replaced secret may stay valid: 7 days. */
const MAX_VALIDITY_MS = 7 * VALIDITY_UNIT_MS.d;

/**
 * Milliseconds of a rotation's `previousValidFor`: a whole number followed by s, m, h or d, from `0s` to
 * `7d`. Undefined when `text` is not such a duration or is longer.
 */
export function previousSecretValidityMs(text: string): number | undefined {
  const match = /^(\d{1,7})([smhd])$/.exec(text);
  if (!match) return undefined;
  const ms = Number(match[1]) * VALIDITY_UNIT_MS[match[2] as keyof typeof VALIDITY_UNIT_MS];
  return ms <= MAX_VALIDITY_MS ? ms : undefined;
}

/**
 * `POST /webhooks/{id}/rotate-secret` (the body may be left out): how long deliveries stay signed with the
 * replaced secret as well as the new one.
 */
export const RotateWebhookSecretInput = z
  .strictObject({
    previousValidFor: z
      .string()
      .refine((text) => previousSecretValidityMs(text) !== undefined, {
        message: 'must be a duration from 0s to 7d: a whole number followed by s, m, h or d, e.g. 1h or 24h',
      })
      .optional()
      .describe(
        `How long deliveries are also signed with the replaced secret, from 0s (cut over at once) to 7d; ` +
          `${DEFAULT_PREVIOUS_SECRET_VALIDITY} unless given.`,
      ),
  })
  .meta({ id: 'RotateWebhookSecretInput' });
export type RotateWebhookSecretInput = z.infer<typeof RotateWebhookSecretInput>;

/** A webhook and its new signing secret (`POST /webhooks/{id}/rotate-secret`): the only time it is shown. */
export const RotatedWebhookSecret = z
  .object({
    webhook: Webhook,
    secret: z.string().describe('The new `whsec_…` signing secret; shown this once only.'),
  })
  .meta({ id: 'RotatedWebhookSecret' });
export type RotatedWebhookSecret = z.infer<typeof RotatedWebhookSecret>;

/** One attempt of a delivery. */
export const WebhookAttempt = z
  .object({
    at: z.string(),
    statusCode: z.number().int().nullable().describe('The receiver’s status; null when none came.'),
    latencyMs: z.number(),
    responseBody: z.string().describe('The first 1 KiB of the response body.'),
    error: z.string().nullable().describe('Why the attempt failed, if it did.'),
  })
  .meta({ id: 'WebhookAttempt' });
export type WebhookAttempt = z.infer<typeof WebhookAttempt>;

/** The delivery statuses: pending (to send or retry), succeeded, failed (given up after 24 h). */
export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** One event sent (or to send) to one webhook; its id is the `webhook-id` header, the same on every retry. */
export const WebhookDelivery = z
  .object({
    id: z.string(),
    webhookId: z.string(),
    eventId: z.string().nullable(),
    eventType: z.string(),
    status: z.enum(WEBHOOK_DELIVERY_STATUSES),
    attempts: z.number().int(),
    createdAt: z.string(),
    nextAttemptAt: z.string().nullable(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    attemptLog: z.array(WebhookAttempt).describe('Every attempt, oldest first.'),
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

/** What `POST /webhooks/{id}/test` got back from the receiver. */
export const WebhookTestResult = z
  .object({
    ok: z.boolean().describe('The receiver answered 2xx within 10 s.'),
    statusCode: z.number().int().nullable(),
    latencyMs: z.number(),
    error: z.string().nullable(),
    responseBody: z.string().describe('The first 1 KiB of the response body.'),
  })
  .meta({ id: 'WebhookTestResult' });
export type WebhookTestResult = z.infer<typeof WebhookTestResult>;

/** `GET /webhooks`: a page of an app's webhooks, or without `app` of the org-wide ones, by name. */
export const WebhookListQuery = z.strictObject({
  app: dnsLabel.optional(),
  ...labelPageFields('webhooks', 100, 'name'),
});
export type WebhookListQuery = z.infer<typeof WebhookListQuery>;

/** A page of webhooks, by name; `nextCursor` (a name) fetches the next page, null on the last. */
export const WebhookPage = z.object({ items: z.array(Webhook), nextCursor: z.string().nullable() });
export type WebhookPage = z.infer<typeof WebhookPage>;

/** A webhook in the path. */
export const WebhookParams = z.strictObject({ id: z.string().min(1).max(64) });

/**
 * Where a page of deliveries ends: the sort key (newest first: `createdAt`, then `eventId`, then `id`) of its
 * last delivery. `nextCursor` carries it, base64url-encoded (see deliveryCursor).
 */
export interface WebhookDeliveryPosition {
  createdAt: string;
  eventId: string | null;
  id: string;
}

/** The `nextCursor` of a page of deliveries that ends at `last`: opaque base64url text. */
export function deliveryCursor(last: WebhookDeliveryPosition): string {
  return encodeCursor([last.createdAt, last.eventId, last.id]);
}

/** The position a delivery cursor stands for; undefined when `cursor` is not one deliveryCursor made. */
export function parseDeliveryCursor(cursor: string): WebhookDeliveryPosition | undefined {
  const [createdAt, eventId, id] = decodeCursor(cursor, 3) ?? [];
  if (typeof createdAt !== 'string' || !CURSOR_TIME.test(createdAt)) return undefined;
  if (eventId !== null && (typeof eventId !== 'string' || !/^\d{1,15}$/.test(eventId))) return undefined;
  if (typeof id !== 'string' || id.length === 0 || id.length > 128) return undefined;
  return { createdAt, eventId, id };
}

/** `GET /webhooks/{id}/deliveries`. */
export const WebhookDeliveryQuery = z.strictObject({
  limit: z.coerce
    .number({ message: 'must be a whole number' })
    .int({ message: 'must be a whole number' })
    .min(1, { message: 'must be at least 1' })
    .max(WEBHOOK_DELIVERY_PAGE_MAX, { message: `must be at most ${WEBHOOK_DELIVERY_PAGE_MAX}` })
    .optional()
    .describe('At most this many deliveries (50 unless given).'),
  cursor: z
    .string()
    .refine((text) => parseDeliveryCursor(text) !== undefined, {
      message: 'must be the nextCursor value of a previous page',
    })
    .optional()
    .describe('Continue after a previous page: its `nextCursor` (deliveries older than its last one).'),
});
export type WebhookDeliveryQuery = z.infer<typeof WebhookDeliveryQuery>;

/** A page of a webhook's deliveries, newest first; `nextCursor` fetches the next (older) page, null on the last. */
export const WebhookDeliveryPage = z.object({
  items: z.array(WebhookDelivery),
  nextCursor: z.string().nullable(),
});
export type WebhookDeliveryPage = z.infer<typeof WebhookDeliveryPage>;
