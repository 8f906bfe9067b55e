import { z } from 'zod';
import { DeploymentKind, DeploymentStatus } from './deployments.ts';
import { dnsLabel } from './ids.ts';

/*
 * Pave's event stream: every change Pave makes writes one typed event in the same transaction as the change
 * (an outbox), read in order of `id` by `GET /events`, its Server-Sent Events stream and, later, webhooks.
 * Each type has its own schema for `data`; none ever holds a secret value.
 */

const deploymentData = z.object({
  deploymentId: z.string().describe('The deployment (`pave deployments get`).'),
  kind: DeploymentKind,
  status: DeploymentStatus,
});

const deploymentFinished = deploymentData.extend({
  reason: z.string().describe('Why it failed: the phase that failed and what the driver said.'),
  rolledBack: z.boolean().describe('Whether the previous set was restored.'),
});

const environmentData = z.object({ type: z.string().describe('The environment type.') });

const approvalData = z.object({
  deploymentId: z.string().describe('The deployment awaiting approval (its id is the approval id).'),
  kind: DeploymentKind,
  requestedBy: z.string().describe('Who asked for it; never its approver.'),
});

const resourceData = z.object({
  resource: z.string().describe('The resource, as `pave resources list` names it.'),
  type: z.string().describe('Its type, e.g. `postgres`.'),
  class: z.string().describe('Its class (`default` unless the Score file names one).'),
  definition: z.string().nullable().describe('The resource definition that provisions it.'),
  driver: z.string().nullable().describe('The driver of that definition.'),
  deploymentId: z.string().nullable().describe('The deployment that did it, if one did.'),
});

/** The `data` of each event type, by type. */
export const EVENT_DATA = {
  'deployment.queued': deploymentData.extend({
    message: z.string(),
    artifactId: z.string().nullable().describe('The build artifact it deploys, if one.'),
    commit: z.string().nullable().describe('The commit of that artifact.'),
  }),
  'deployment.started': deploymentData.extend({
    setId: z.string().describe('The deployment set it runs.'),
    valuesVersion: z.number().int().nullable().describe('The values version it runs with.'),
  }),
  'deployment.succeeded': deploymentData,
  'deployment.failed': deploymentFinished,
  'deployment.rolled-back': deploymentFinished.describe(
    'A failed deployment after which the previous set was restored (follows its deployment.failed).',
  ),
  'deployment.cancelled': deploymentData.extend({
    reason: z.string().describe('Who cancelled it and why, or what superseded it.'),
  }),
  'environment.created': environmentData.extend({
    ttlSeconds: z.number().int().nullable().describe('Ephemeral environments: the time to live.'),
  }),
  'environment.deleted': environmentData,
  'environment.expired': environmentData.extend({ expiresAt: z.string() }),
  'values.changed': z.object({
    scope: z.enum(['app', 'env']).describe('App-wide values, or those of one environment.'),
    version: z.number().int().nullable().describe('The new values version (environment values only).'),
    set: z.array(z.string()).describe('The names of keys set; never their values.'),
    unset: z.array(z.string()).describe('The names of keys removed.'),
  }),
  'approval.requested': approvalData.extend({
    expiresAt: z.string().describe('When the request expires unless approved or rejected.'),
  }),
  'approval.approved': approvalData.extend({
    approver: z.string(),
    comment: z.string().nullable(),
  }),
  'approval.rejected': approvalData.extend({ approver: z.string(), comment: z.string() }),
  'approval.expired': approvalData,
  'approval.superseded': approvalData.extend({
    supersededBy: z.string().describe('The newer deployment of the same environment that replaced it.'),
  }),
  'resource.provisioned': resourceData.extend({
    change: z
      .enum(['created', 'updated', 'replaced'])
      .describe(
        'Created (again, when it had gone missing), updated in place, or replaced (deleted, then created).',
      ),
  }),
  'resource.deleted': resourceData,
  'resource.failed': resourceData.extend({
    reason: z.string().describe('What the driver said (secret values never appear).'),
  }),
  'artifact.pushed': z.object({
    artifactId: z.string().describe('The artifact (`pave artifacts list`, `pave deploy --artifact`).'),
    commit: z.string().describe('The commit it was built from.'),
    branch: z.string().nullable().describe('The branch, when CI named one.'),
    workloads: z.array(z.string()).describe('The workloads its Score files describe.'),
    image: z.string().nullable().describe('The image reference CI built, if one.'),
  }),
  'rule.triggered': z.object({
    ruleId: z.string(),
    artifactId: z.string(),
    commit: z.string(),
    deploymentId: z.string().nullable().describe('The deployment it queued; null when it was refused.'),
    refused: z.string().nullable().describe('Why the rule did not deploy (a permission it lacks), if so.'),
  }),
  'webhook.disabled': z.object({
    webhookId: z.string(),
    name: z.string(),
    consecutiveFailures: z.number().int().describe('Failed deliveries in a row that disabled it.'),
  }),
  'role.granted': z.object({ role: z.string(), subject: z.string(), scope: z.string() }),
  'role.revoked': z.object({ role: z.string(), subject: z.string(), scope: z.string() }),
  'target.changed': z.object({
    target: z.string(),
    change: z.enum(['created', 'updated', 'deleted']),
  }),
  'definition.changed': z.object({
    definition: z.string(),
    change: z.enum(['created', 'updated', 'deleted']),
  }),
  'policy.changed': z.object({
    policy: z.string(),
    change: z.enum(['created', 'updated', 'deleted']),
  }),
  'profile.changed': z.object({
    profile: z.string(),
    version: z.number().int().describe('Its version after the change (before it, when deleted).'),
    change: z.enum(['created', 'updated', 'deleted']),
  }),
  'template.changed': z.object({
    template: z.string(),
    version: z.number().int().describe('The version applied (the latest, when deleted with every version).'),
    change: z.enum(['created', 'updated', 'deleted']),
  }),
  'env-type.changed': z.object({
    type: z.string(),
    change: z.enum(['created', 'updated']),
    fields: z.array(z.string()).describe('The fields that changed (every field given, when created).'),
  }),
} as const;

/** Every event type. */
export type EventType = keyof typeof EVENT_DATA;

/** The event types, in a stable order, for validation and help. */
export const EVENT_TYPES = Object.keys(EVENT_DATA) as EventType[];

/**
 * The event types Pave records about no app (changes to the platform's configuration): only an org-wide
 * webhook receives them, since an app's webhook receives the events of its app alone.
 */
export const APPLESS_EVENT_TYPES = [
  'target.changed',
  'definition.changed',
  'policy.changed',
  'profile.changed',
  'template.changed',
  'env-type.changed',
] as const satisfies readonly EventType[];

/** Whether Pave records the events of `type` about no app, so that only an org-wide webhook receives them. */
export function isApplessEventType(type: EventType): boolean {
  return (APPLESS_EVENT_TYPES as readonly EventType[]).includes(type);
}

/** The `data` of an event of `type`. */
export type EventData<T extends EventType> = z.infer<(typeof EVENT_DATA)[T]>;

const eventFields = {
  id: z.string().regex(/^\d+$/).describe('Monotonic: the cursor (`after`, `Last-Event-ID`).'),
  time: z.string().describe('RFC 3339 timestamp (UTC) of the change.'),
  actor: z.string().describe('Who made the change (a username, or Pave itself, e.g. `pave-janitor`).'),
  app: dnsLabel.nullable().describe('The app the change concerns; null for org-wide events.'),
  env: dnsLabel.nullable().describe('The environment the change concerns, if one.'),
};

function eventSchema<T extends EventType>(type: T) {
  return z.object({ ...eventFields, type: z.literal(type), data: EVENT_DATA[type] });
}

/** One event: a discriminated union on `type`, so each type's `data` is documented. */
export const PaveEvent = z
  .discriminatedUnion(
    'type',
    EVENT_TYPES.map((type) => eventSchema(type)) as unknown as [
      ReturnType<typeof eventSchema<EventType>>,
      ...ReturnType<typeof eventSchema<EventType>>[],
    ],
  )
  .meta({ id: 'Event' });
export type PaveEvent = {
  [T in EventType]: {
    id: string;
    time: string;
    actor: string;
    app: string | null;
    env: string | null;
    type: T;
    data: EventData<T>;
  };
}[EventType];

/** The largest page of `GET /events`. */
export const EVENT_PAGE_MAX = 1000;

/** `GET /events` and `GET /events/stream`: filters and the cursor. */
export const EventQuery = z.strictObject({
  app: dnsLabel.optional(),
  env: dnsLabel.optional(),
  type: z
    .enum(EVENT_TYPES as [EventType, ...EventType[]], {
      message: `must be an event type: ${EVENT_TYPES.join(', ')}`,
    })
    .optional(),
  after: z
    .string()
    .regex(/^\d{1,15}$/, { message: 'must be the id of an event (a whole number), e.g. from Last-Event-ID' })
    .optional(),
  limit: z.coerce
    .number({ message: 'must be a whole number' })
    .int({ message: 'must be a whole number' })
    .min(1, { message: 'must be at least 1' })
    .max(EVENT_PAGE_MAX, { message: `must be at most ${EVENT_PAGE_MAX}` })
    .optional(),
});
export type EventQuery = z.infer<typeof EventQuery>;

const EVENT_ID = /^\d{1,15}$/;

/**
 * `GET /events`: the filters, and either the cursor of a list oldest first (`after`) or, with `newest=true`, of
 * one newest first (`before`), as an activity feed shows them.
 */
export const EventListQuery = EventQuery.extend({
  newest: z
    .enum(['true', 'false'])
    .optional()
    .describe('true: newest first, from the newest event (or the one before `before`); not with `after`.'),
  before: z
    .string()
    .regex(EVENT_ID, { message: 'must be the id of an event (a whole number): `nextBefore` of a page' })
    .optional()
    .describe('With newest=true: the events before this id (`nextBefore` of the previous page).'),
}).superRefine((query, context) => {
  const newest = query.newest === 'true';
  if (newest && query.after !== undefined) {
    context.addIssue({
      code: 'custom',
      path: ['after'],
      message: 'lists oldest first; with newest=true continue with `before` (the page’s nextBefore)',
    });
  }
  if (!newest && query.before !== undefined) {
    context.addIssue({ code: 'custom', path: ['before'], message: 'goes with newest=true (newest first)' });
  }
});
export type EventListQuery = z.infer<typeof EventListQuery>;

/**
 * A page of events, oldest first: `nextAfter` continues after the last one (null when the page is empty). With
 * `newest=true`, newest first: `nextBefore` continues with older ones (null when there are none), and
 * `nextAfter` is the newest event's id, to follow new ones from.
 */
export const EventPage = z
  .object({
    items: z.array(PaveEvent),
    nextAfter: z.string().nullable(),
    nextBefore: z
      .string()
      .nullable()
      .optional()
      .describe('newest=true only: `before` of the next (older) page; null when none are older.'),
  })
  .meta({ id: 'EventPage' });
export interface EventPage {
  items: PaveEvent[];
  nextAfter: string | null;
  nextBefore?: string | null | undefined;
}

/**
 * A few words on what happened, from the event's data: the summary column of `pave events` and of the
 * portal's Events page, so both say the same. `showTime` shows a time in the data (an environment's
 * expiry) as the caller shows times; by default as it came.
 */
export function eventSummary(event: PaveEvent, showTime: (time: string) => string = (time) => time): string {
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
      return `type ${event.data.type}, expired at ${showTime(event.data.expiresAt)}`;
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
