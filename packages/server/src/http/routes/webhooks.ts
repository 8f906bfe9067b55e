import {
  CreateWebhookInput,
  CreatedWebhook,
  DisableWebhookInput,
  RotateWebhookSecretInput,
  RotatedWebhookSecret,
  UpdateWebhookInput,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryPage,
  WebhookDeliveryQuery,
  WebhookListQuery,
  WebhookPage,
  WebhookParams,
  WebhookTestResult,
} from '@pave/core';
import type { FastifyRequest } from 'fastify';
import type { ApiServer } from '../app.ts';
import { noContent } from '../responses.ts';
import type { Store } from '../../store/index.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import {
  createWebhook,
  deleteWebhook,
  deliveryAccess,
  disableWebhook,
  enableWebhook,
  getWebhook,
  listDeliveries,
  listWebhooks,
  redeliver,
  rotateWebhookSecret,
  testWebhook,
  updateWebhook,
  webhookAccess,
  webhookScopeCheck,
  type WebhookDeps,
} from '../../domain/webhooks/records.ts';
import { WebhookSender } from '../../domain/webhooks/sender.ts';
import { WebhookAllowList } from '../../domain/webhooks/ssrf.ts';

/**
 * Webhooks: create, list, get, change, delete, disable, enable and test them, rotate their signing secrets, list their
 * deliveries and redeliver one. A webhook of an app needs webhook.manage on that app (its owners); an
 * org-wide one (no app) needs webhook.manage-org (platform, admins). The app is not in the path, so each route's gate is the event
 * stream's own permission (everyone signed in may read the stream) and `access` checks the webhook's scope:
 * the app named in the query or body, or the app of the webhook (or delivery) in the path. A webhook of an
 * app the caller cannot see answers 404, as if it did not exist.
 */
export function webhookRoutes(
  api: ApiServer,
  options: { store: Store; box: SecretBox; allow?: readonly string[] | undefined },
): void {
  const { store } = options;
  const allow = new WebhookAllowList(options.allow ?? []);
  const deps: WebhookDeps = { store, box: options.box, allow, sender: new WebhookSender(allow) };
  api.addHook('onClose', async () => deps.sender.close());
  const tags = ['webhooks'];
  const byId = async (request: FastifyRequest) =>
    webhookAccess(store.db, request.pave.actor, String((request.params as { id?: unknown }).id));

  api.post(
    '/webhooks',
    {
      config: {
        permission: 'event.read',
        access: async (request) => {
          const app = (request.body as { app?: unknown } | undefined)?.app;
          return [webhookScopeCheck(typeof app === 'string' ? app : null)];
        },
      },
      schema: {
        tags,
        summary: 'Create a webhook; answers its signing secret, shown this once only',
        description:
          'With `app`, it receives that app’s events (webhook.manage on the app); without, every event ' +
          '(webhook.manage-org). `events` narrows it to some types. It receives the events recorded from ' +
          'now on, each POSTed as `GET /events` shows it and signed the Standard Webhooks way.',
        body: CreateWebhookInput,
        response: { 201: CreatedWebhook },
      },
    },
    async (request, reply) => reply.code(201).send(await createWebhook(deps, request.pave, request.body)),
  );

  api.get(
    '/webhooks',
    {
      config: {
        permission: 'event.read',
        access: async (request) => [webhookScopeCheck((request.query as { app?: string }).app)],
      },
      schema: {
        tags,
        summary:
          'List the webhooks of an app, or (without `app`) the org-wide ones, by name, a page at a time',
        description: 'A page holds 100 webhooks unless `limit` says otherwise (at most 500).',
        querystring: WebhookListQuery,
        response: { 200: WebhookPage },
      },
    },
    async (request) => listWebhooks(store.db, request.query.app ?? null, request.query),
  );

  api.get(
    '/webhooks/:id',
    {
      config: { permission: 'event.read', access: byId },
      schema: {
        tags,
        summary: 'Get a webhook (never its secret)',
        params: WebhookParams,
        response: { 200: Webhook },
      },
    },
    async (request) => getWebhook(store.db, request.params.id),
  );

  api.patch(
    '/webhooks/:id',
    {
      config: { permission: 'event.read', access: byId },
      schema: {
        tags,
        summary: "Change a webhook's name, URL or event types",
        description:
          'A field left out (or a null `name` or `url`) stays as it is; `events: null` is every event type ' +
          'again. A new URL is checked as at creation; pending deliveries go to it from now on, at once. ' +
          'Its deliveries, cursor and secret stay.',
        params: WebhookParams,
        body: UpdateWebhookInput,
        response: { 200: Webhook },
      },
    },
    async (request) => updateWebhook(deps, request.pave, request.params.id, request.body),
  );

  api.post(
    '/webhooks/:id/rotate-secret',
    {
      config: { permission: 'event.read', access: byId },
      schema: {
        tags,
        summary: 'Give a webhook a new signing secret; answers it, shown this once only',
        description:
          'Every delivery from now on (retries included) is signed with the new secret and, for ' +
          '`previousValidFor` (24h unless given, at most 7d), with the replaced one too: the ' +
          '`webhook-signature` header carries both, so the receiver can switch secrets meanwhile. `0s` ' +
          'cuts over at once. Rotating again during that time drops the older secret at once.',
        params: WebhookParams,
        body: RotateWebhookSecretInput.nullish(),
        response: { 200: RotatedWebhookSecret },
      },
    },
    async (request) => rotateWebhookSecret(deps, request.pave, request.params.id, request.body ?? {}),
  );

  api.delete(
    '/webhooks/:id',
    {
      config: { permission: 'event.read', access: byId },
      schema: {
        tags,
        summary: 'Delete a webhook and its deliveries',
        params: WebhookParams,
        response: { 204: noContent('The webhook is deleted') },
      },
    },
    async (request, reply) => {
      await deleteWebhook(store, request.pave, request.params.id);
      return reply.code(204).send(null);
    },
  );

  api.post(
    '/webhooks/:id/enable',
    {
      config: { permission: 'event.read', access: byId },
      schema: {
        tags,
        summary: 'Enable a webhook again; it goes on from where it stopped, its failures in a row reset',
        params: WebhookParams,
        response: { 200: Webhook },
      },
    },
    async (request) => enableWebhook(store, request.pave, request.params.id),
  );

  api.post(
    '/webhooks/:id/disable',
    {
      config: { permission: 'event.read', access: byId },
      schema: {
        tags,
        summary: 'Disable a webhook on purpose; nothing is sent until it is enabled again',
        description:
          'As when Pave disables a webhook after failures in a row: new events wait behind its cursor and ' +
          'pending deliveries stay pending; `enable` sends them. `disabledReason` becomes `disabled by USER` ' +
          'and the `reason` given, if any.',
        params: WebhookParams,
        body: DisableWebhookInput.nullish(),
        response: { 200: Webhook },
      },
    },
    async (request) => disableWebhook(store, request.pave, request.params.id, request.body ?? {}),
  );

  api.post(
    '/webhooks/:id/test',
    {
      config: { permission: 'event.read', access: byId },
      schema: {
        tags,
        summary: 'Send a signed `webhook.test` message now and answer what the receiver said',
        description:
          'Goes through the same sender and SSRF guard as deliveries; records no event or delivery.',
        params: WebhookParams,
        response: { 200: WebhookTestResult },
      },
    },
    async (request) => testWebhook(deps, request.pave, request.params.id),
  );

  api.get(
    '/webhooks/:id/deliveries',
    {
      config: { permission: 'event.read', access: byId },
      schema: {
        tags,
        summary: "List a webhook's deliveries, newest first, a page at a time (default 50)",
        params: WebhookParams,
        querystring: WebhookDeliveryQuery,
        response: { 200: WebhookDeliveryPage },
      },
    },
    async (request) => listDeliveries(store.db, request.params.id, request.query),
  );

  api.post(
    '/webhook-deliveries/:id/redeliver',
    {
      config: {
        permission: 'event.read',
        access: async (request) =>
          deliveryAccess(store.db, request.pave.actor, String((request.params as { id?: unknown }).id)),
      },
      schema: {
        tags,
        summary: 'Queue a new delivery of the same event to the same webhook (a new webhook-id)',
        params: WebhookParams,
        response: { 202: WebhookDelivery },
      },
    },
    async (request, reply) => reply.code(202).send(await redeliver(store, request.pave, request.params.id)),
  );
}
