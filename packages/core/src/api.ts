import { z } from 'zod';
import { EnvironmentStatus, HealthStatus } from './deployments.ts';
import { NUMERIC_ID_PATTERN, dnsLabel, printableText } from './ids.ts';
import { RUNTIME_TYPES } from './targets.ts';
import { CURSOR_TIME, decodeCursor, encodeCursor, labelPageQuery, pageLimit, pageOf } from './paging.ts';

/**
 * The schemas of Pave's REST API (`/api/v1`). The server validates requests and responses with them and
 * generates its OpenAPI document from them; clients use the inferred types.
 */

const timestamp = z.string().describe('RFC 3339 timestamp (UTC)');

/** RFC 9457 problem details, Pave's one error body. */
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })),
  })
  .meta({ id: 'Problem' });
export type Problem = z.infer<typeof Problem>;

export const Health = z.object({ status: z.enum(['ok', 'unavailable']), detail: z.string().optional() });
export type Health = z.infer<typeof Health>;

// Applications

export const App = z
  .object({
    id: dnsLabel,
    name: z.string(),
    createdBy: z.string(),
    createdAt: timestamp,
  })
  .meta({ id: 'App' });
export type App = z.infer<typeof App>;

export const AppDetail = App.extend({
  environments: z.array(z.object({ id: dnsLabel, type: dnsLabel })),
}).meta({ id: 'AppDetail' });
export type AppDetail = z.infer<typeof AppDetail>;

export const CreateAppBody = z.strictObject({
  id: dnsLabel.describe('The application id, a DNS label; it cannot change later.'),
  name: printableText().min(1).max(200).optional().describe('A display name; defaults to the id.'),
});
export type CreateAppBody = z.infer<typeof CreateAppBody>;

/**
 * The live status of every environment of an app the caller may read (`GET /apps/{app}/status`): each
 * environment's status with its type, and the app's health, the worst of theirs.
 */
export const AppStatus = z
  .object({
    appId: dnsLabel,
    health: HealthStatus.describe('The worst health of its environments; healthy when it has none.'),
    environments: z.array(
      EnvironmentStatus.extend({
        type: dnsLabel,
        restricted: z.boolean().describe('Whether the environment type is restricted (production).'),
      }),
    ),
  })
  .meta({ id: 'AppStatus' });
export type AppStatus = z.infer<typeof AppStatus>;

export const AppParams = z.strictObject({ app: dnsLabel });

export const AppListQuery = labelPageQuery('apps', 100);
export type AppListQuery = z.infer<typeof AppListQuery>;

export const AppPage = z.object({ items: z.array(App), nextCursor: dnsLabel.nullable() });
export type AppPage = z.infer<typeof AppPage>;
export const DeleteAppQuery = z.strictObject({
  force: z
    .enum(['true', 'false'])
    .optional()
    .describe('Delete the app even if it still has environments (they are deleted with it).'),
});

// Environment types

/** A stability window in seconds; null stands for the default, 5 seconds. */
const envTypeMinReadySeconds = z.number().int().min(0).max(3600).nullable();

export const EnvType = z
  .object({
    id: dnsLabel,
    description: z.string(),
    restricted: z
      .boolean()
      .describe('Deploying to its environments needs the deployer role on the type (production: true).'),
    requiresApproval: z
      .boolean()
      .describe(
        'Deployments, rollbacks and promotions into its environments wait for another person to approve them ' +
          '(`pave approvals approve`); default false.',
      ),
    minReadySeconds: envTypeMinReadySeconds.describe(
      'The stability window of deployments to its environments: a workload without a readiness probe counts ' +
        'as ready once it kept running this long (0: at once); null: the default, 5 seconds. A deployment ' +
        'may set its own (minReadySeconds).',
    ),
    createdBy: z.string(),
    createdAt: timestamp,
  })
  .meta({ id: 'EnvType' });
export type EnvType = z.infer<typeof EnvType>;

const envTypeDescription = printableText().max(500);

export const CreateEnvTypeBody = z.strictObject({
  id: dnsLabel,
  description: envTypeDescription.optional(),
  restricted: z.boolean().optional().describe('Default false.'),
  requiresApproval: z
    .boolean()
    .optional()
    .describe('Deployments into its environments need approval; default false.'),
  minReadySeconds: envTypeMinReadySeconds
    .optional()
    .describe(
      'The stability window in seconds (0 to 3600) of deployments to its environments; omitted or null: the ' +
        'default, 5 seconds.',
    ),
});
export type CreateEnvTypeBody = z.infer<typeof CreateEnvTypeBody>;

export const EnvTypeParams = z.strictObject({ type: dnsLabel });

export const EnvTypeListQuery = labelPageQuery('environment types', 100);
export type EnvTypeListQuery = z.infer<typeof EnvTypeListQuery>;
/** A page of environment types, ordered by id. */
export const EnvTypePage = pageOf(EnvType);
export type EnvTypePage = z.infer<typeof EnvTypePage>;

/** Changes an environment type: only the fields given change; `minReadySeconds: null` resets the window. */
export const UpdateEnvTypeBody = z
  .strictObject({
    description: envTypeDescription.optional(),
    minReadySeconds: envTypeMinReadySeconds
      .optional()
      .describe('The stability window in seconds (0 to 3600); null resets it to the default, 5 seconds.'),
    requiresApproval: z
      .boolean()
      .optional()
      .describe('Whether deployments into its environments need approval.'),
  })
  .refine(
    (body) =>
      body.description !== undefined ||
      body.minReadySeconds !== undefined ||
      body.requiresApproval !== undefined,
    {
      message:
        'nothing to change: give description, minReadySeconds (null resets the window to the default) or ' +
        'requiresApproval',
    },
  );
export type UpdateEnvTypeBody = z.infer<typeof UpdateEnvTypeBody>;

// Environments

export const Environment = z
  .object({
    appId: dnsLabel,
    id: dnsLabel,
    type: dnsLabel,
    createdBy: z.string(),
    createdAt: timestamp,
    expiresAt: timestamp
      .nullable()
      .describe('When the janitor deletes this ephemeral environment; null: never.'),
  })
  .meta({ id: 'Environment' });
export type Environment = z.infer<typeof Environment>;

/**
 * `GET /apps/{app}/envs/{env}`: an environment, and the runtime target a deployment of it would use now, so
 * that whoever may read the environment can tell where it runs (`pave validate --app --env` checks a Score
 * file against that runtime) without reading the platform's targets.
 */
export const EnvironmentDetail = Environment.extend({
  runtimeTarget: z
    .object({ id: dnsLabel, type: z.enum(RUNTIME_TYPES) })
    .describe('The runtime target a deployment would use now, as matching picks it, and its runtime type.'),
}).meta({ id: 'EnvironmentDetail' });
export type EnvironmentDetail = z.infer<typeof EnvironmentDetail>;

/** `GET /apps/{app}/envs`: a page of an app's environments, ordered by id. */
export const EnvironmentListQuery = labelPageQuery('environments', 100);
export type EnvironmentListQuery = z.infer<typeof EnvironmentListQuery>;

/** A page of an app's environments, by id; `nextCursor` fetches the next page, null on the last. */
export const EnvironmentPage = z.object({ items: z.array(Environment), nextCursor: dnsLabel.nullable() });
export type EnvironmentPage = z.infer<typeof EnvironmentPage>;

/** The longest time to live of an ephemeral environment: 36 500 days. */
export const MAX_TTL_SECONDS = 36_500 * 86_400;
const TTL_TOO_LONG = 'is too long; use at most 36500 days (3153600000 seconds)';

export const CreateEnvironmentBody = z.strictObject({
  id: dnsLabel,
  type: dnsLabel.describe('An environment type id, e.g. development, staging or production.'),
  from: dnsLabel.optional().describe("Clone: start the new environment with this environment's current set."),
  withData: z
    .boolean()
    .optional()
    .describe("With `from`: copy the source's postgres (and other data-holding) resources' data."),
  ttlSeconds: z
    .number()
    .int()
    .min(1)
    .max(MAX_TTL_SECONDS, { message: TTL_TOO_LONG })
    .optional()
    .describe('Ephemeral: the environment and its resources are deleted this long after creation.'),
});
export type CreateEnvironmentBody = z.infer<typeof CreateEnvironmentBody>;

export const EnvParams = z.strictObject({ app: dnsLabel, env: dnsLabel });

/** Set an ephemeral environment's expiry to `ttlSeconds` from now. */
export const ExtendEnvironmentBody = z.strictObject({
  ttlSeconds: z.number().int().min(1).max(MAX_TTL_SECONDS, { message: TTL_TOO_LONG }),
});
export type ExtendEnvironmentBody = z.infer<typeof ExtendEnvironmentBody>;

// Tokens

export const TokenInfo = z
  .object({
    id: z.string(),
    name: z.string(),
    username: z.string(),
    scope: z
      .string()
      .nullable()
      .describe("A narrower scope than the user's roles, e.g. app:shop:viewer; null: the user's roles."),
    prefix: z
      .string()
      .describe('The first characters of the token, to recognise it; never enough to use it.'),
    createdAt: timestamp,
    expiresAt: timestamp.nullable(),
    revokedAt: timestamp.nullable(),
    lastUsedAt: timestamp.nullable(),
  })
  .meta({ id: 'Token' });
export type TokenInfo = z.infer<typeof TokenInfo>;

export const CreatedToken = TokenInfo.extend({
  token: z.string().describe('The secret token. It is shown only once: Pave keeps only its hash.'),
}).meta({ id: 'CreatedToken' });
export type CreatedToken = z.infer<typeof CreatedToken>;

export const CreateTokenBody = z.strictObject({
  name: printableText().min(1).max(100),
  user: dnsLabel
    .optional()
    .describe('Admins: create the token for this user or service account instead of yourself.'),
  scope: z
    .string()
    .max(200)
    .optional()
    .describe(
      "Narrow the token below its user's roles: app:<app>:<owner|developer|viewer> (with the user's deployer roles on environment types) or org:<role>.",
    ),
  expiresAt: z.iso
    .datetime({ offset: true, message: 'must be an RFC 3339 time such as 2027-01-31T00:00:00Z' })
    .optional()
    .describe('When the token stops working; never if absent.'),
});
export type CreateTokenBody = z.infer<typeof CreateTokenBody>;

export const TokenParams = z.strictObject({ id: z.string().min(1).max(64) });

/** How many tokens `GET /tokens` answers when the caller does not say. */
export const TOKEN_PAGE_DEFAULT = 100;

/** Where a page of tokens ends: the sort key (newest first: `createdAt`, then `id`) of its last token. */
export interface TokenPosition {
  createdAt: string;
  id: string;
}

/** The `nextCursor` of a page of tokens that ends at `last`: opaque base64url text. */
export function tokenCursor(last: TokenPosition): string {
  return encodeCursor([last.createdAt, last.id]);
}

/** The position a token cursor stands for; undefined when `cursor` is not one tokenCursor made. */
export function parseTokenCursor(cursor: string): TokenPosition | undefined {
  const [createdAt, id] = decodeCursor(cursor, 2, 256) ?? [];
  if (typeof createdAt !== 'string' || !CURSOR_TIME.test(createdAt)) return undefined;
  if (typeof id !== 'string' || id.length === 0 || id.length > 64) return undefined;
  return { createdAt, id };
}

/** `GET /tokens`: a page of the caller's tokens (or, for admins, another user's), newest first. */
export const TokenListQuery = z.strictObject({
  user: dnsLabel
    .optional()
    .describe(
      "Admins (user.write): this user's or service account's tokens instead of yours; give the same `user` with `cursor`.",
    ),
  limit: pageLimit('tokens', TOKEN_PAGE_DEFAULT),
  cursor: z
    .string()
    .refine((text) => parseTokenCursor(text) !== undefined, {
      message: 'must be the nextCursor value of a previous page',
    })
    .optional()
    .describe('Continue after a previous page: its `nextCursor` (tokens older than its last one).'),
});
export type TokenListQuery = z.infer<typeof TokenListQuery>;

/**
 * A page of tokens (the caller's or, with `user`, that user's), newest first; `nextCursor` fetches the next
 * (older) page, null on the last.
 */
export const TokenPage = pageOf(TokenInfo);
export type TokenPage = z.infer<typeof TokenPage>;

/** A role held somewhere, and through what (`user`, or `team:<id>`). */
export const GrantView = z
  .object({
    role: z.string(),
    scope: z.object({ kind: z.enum(['org', 'app', 'env-type']), id: z.string().optional() }),
    via: z.string(),
  })
  .meta({ id: 'Grant' });

export const WhoAmI = z.object({
  username: z.string(),
  kind: z
    .enum(['user', 'service'])
    .describe('A person (`user`) or a service account (`service`, which signs in with tokens only).'),
  hasPassword: z
    .boolean()
    .describe(
      'Whether the user has a password: changing it then needs the current one (false for SSO users and the ' +
        'first admin until they set one, and always for a service account).',
    ),
  token: z.object({
    id: z.string(),
    name: z.string(),
    expiresAt: timestamp.nullable(),
    scope: GrantView.nullable(),
  }),
  grants: z.array(GrantView),
});
export type WhoAmI = z.infer<typeof WhoAmI>;

// Audit

export const AuditEntry = z
  .object({
    id: z.number().int(),
    at: timestamp,
    actor: z.string(),
    action: z.string().describe('What happened, as <object>.<verb>, e.g. app.create.'),
    target: z.string().describe('The object acted on, e.g. apps/shop/envs/dev.'),
    appId: z.string().nullable(),
    appIncarnation: z
      .string()
      .nullable()
      .describe(
        'Which incarnation of the app the entry is about: an app id deleted and created again is a new ' +
          'incarnation, with an audit trail of its own. Null for entries about no app, or about an app ' +
          'deleted before Pave recorded incarnations.',
      ),
    requestId: z.string(),
    summary: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditQuery = z.strictObject({
  app: dnsLabel.optional(),
  incarnation: z
    .enum(['current', 'all'])
    .optional()
    .describe(
      'With `app`: `current` (the default) lists the trail of the app as it exists now; `all` also that of ' +
        'earlier apps with the same id, and needs audit.read-all.',
    ),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z
    .string()
    .regex(NUMERIC_ID_PATTERN, { message: 'must be the nextCursor value of a previous page' })
    .optional(),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

/** A page of a list, newest first; `nextCursor` fetches the next page, null on the last one. */
export const AuditPage = z.object({ items: z.array(AuditEntry), nextCursor: z.string().nullable() });
export type AuditPage = z.infer<typeof AuditPage>;

/**
 * The result of walking the audit log's hash chain (`GET /audit/verify`). `ok: false` means the store was
 * changed outside Pave; `firstProblem` says where the chain first breaks.
 */
export const AuditVerification = z
  .object({
    ok: z.boolean().describe('True when every entry matches its hash and links to the one before.'),
    entries: z
      .number()
      .int()
      .describe('How many entries were verified before the first problem (all when ok).'),
    firstProblem: z
      .object({
        seq: z
          .number()
          .int()
          .describe("The entry's position in the chain (1, 2, …); 0 for an entry that has none."),
        id: z.number().int().nullable().describe('The entry id; null when the entry is missing.'),
        problem: z
          .enum(['changed', 'missing', 'broken-link', 'head-mismatch', 'key-mismatch', 'published-head'])
          .describe(
            'changed: the entry does not match its hash; missing: entries were deleted; broken-link: the ' +
              "entry's previous hash is not the previous entry's hash; head-mismatch: the newest entries " +
              'do not match the head of the chain (deleted, or added outside Pave); key-mismatch: the ' +
              "chain's record of its key does not match the audit key; published-head: the log does not " +
              'contain the head published earlier (`head` query parameter).',
          ),
        message: z.string().describe('Which entry (id, seq, time, action) and what is wrong with it.'),
      })
      .nullable(),
    keyedFrom: z
      .number()
      .int()
      .nullable()
      .describe(
        'The first entry hashed with the audit key (HMAC-SHA-256); entries before it were written before ' +
          'Pave keyed the chain and are checked with the unkeyed hash. Null: the chain is not keyed yet.',
      ),
    publishedHead: z
      .number()
      .int()
      .nullable()
      .describe(
        'The position of the published head that was checked too (`head`); null when none was given.',
      ),
  })
  .meta({ id: 'AuditVerification' });
export type AuditVerification = z.infer<typeof AuditVerification>;

/** A head of the audit chain as it is published and given back: `SEQ:HASH`, e.g. `42:9f86d0…` (64 hex digits). */
export const PublishedAuditHead = z.string().regex(/^\d{1,15}:[0-9a-f]{64}$/, {
  message: 'must be SEQ:HASH as `pave audit head` prints it, e.g. 42: and 64 lowercase hex digits',
});

export const AuditVerifyQuery = z.strictObject({
  head: PublishedAuditHead.optional().describe(
    'A head published earlier (`GET /audit/head`): the entry at that position must still have that hash.',
  ),
});
export type AuditVerifyQuery = z.infer<typeof AuditVerifyQuery>;

/**
 * The head of the audit chain (`GET /audit/head`): its newest position and hash. Publish it elsewhere (a
 * ticket, a chat, another system's log); `GET /audit/verify?head=SEQ:HASH` later proves that nothing up to it
 * was changed, even by someone who could rewrite the whole store.
 */
export const AuditHead = z
  .object({
    seq: z.number().int().describe("The newest entry's position; 0 for an empty log."),
    hash: z.string().describe("The newest entry's hash (64 zeros for an empty log)."),
    head: z.string().describe('SEQ:HASH, the form to publish and to give to `pave audit verify --head`.'),
    keyedFrom: z.number().int().nullable().describe('The first entry hashed with the audit key.'),
  })
  .meta({ id: 'AuditHead' });
export type AuditHead = z.infer<typeof AuditHead>;

/** Wraps a list response; lists are objects so they can grow fields without breaking clients. */
export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item) });
}
