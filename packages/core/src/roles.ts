import { z } from 'zod';
import { NUMERIC_ID_PATTERN, dnsLabel } from './ids.ts';
import { pageLimit, pageOf } from './paging.ts';
import { APP_ROLES, ENV_TYPE_ROLES, ORG_ROLES, PERMISSIONS, type Permission } from './permissions.ts';

const roleName = z.enum([...ORG_ROLES, ...APP_ROLES, ...ENV_TYPE_ROLES]);

/**
 * Grant or revoke a role: to a user or a team, at org scope (no app, no envType), on an app, or on an
 * environment type. The role decides the scope: org roles (admin, platform, member) take neither, app roles
 * (owner, developer, viewer) take `app`, `deployer` and `approver` take `envType`.
 */
export const RoleGrantBody = z.strictObject({
  role: roleName,
  user: dnsLabel.optional(),
  team: dnsLabel.optional(),
  app: dnsLabel.optional(),
  envType: dnsLabel.optional(),
});
export type RoleGrantBody = z.infer<typeof RoleGrantBody>;

/** A stored role grant. */
export const RoleGrant = z
  .object({
    role: z.string(),
    scope: z.object({ kind: z.enum(['org', 'app', 'env-type']), id: z.string().optional() }),
    subject: z.object({ kind: z.enum(['user', 'team']), name: z.string() }),
    createdBy: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'RoleGrant' });
export type RoleGrant = z.infer<typeof RoleGrant>;

/** How many grants `GET /roles` answers when the caller does not say. */
export const ROLE_GRANT_PAGE_DEFAULT = 100;

/** `GET /roles`: a page of role grants, oldest first (in the order they were granted). */
export const RolesQuery = z.strictObject({
  app: dnsLabel.optional().describe("Only this app's grants (owners and developers may list them)."),
  user: dnsLabel.optional().describe("Only this user's grants (admins)."),
  limit: pageLimit('grants', ROLE_GRANT_PAGE_DEFAULT),
  cursor: z
    .string()
    .regex(NUMERIC_ID_PATTERN, { message: 'must be the nextCursor value of a previous page' })
    .optional()
    .describe('Continue after a previous page: its `nextCursor` (grants made after its last one).'),
});
export type RolesQuery = z.infer<typeof RolesQuery>;

/** A page of role grants; `nextCursor` fetches the next page (with the same filters), null on the last. */
export const RoleGrantPage = pageOf(RoleGrant);
export type RoleGrantPage = z.infer<typeof RoleGrantPage>;

const permissionName = z.string().refine((value): value is Permission => Object.hasOwn(PERMISSIONS, value), {
  message: `must be a permission: ${Object.keys(PERMISSIONS).join(', ')}`,
});

/** Ask whether an action is allowed: for yourself, or (admins) for another user. */
export const CanIQuery = z.strictObject({
  action: permissionName,
  app: dnsLabel.optional(),
  env: dnsLabel.optional(),
  as: dnsLabel.optional(),
});

export const CanIResult = z
  .object({
    allowed: z.boolean(),
    reason: z.string(),
    action: z.string(),
    as: z.string(),
  })
  .meta({ id: 'CanIResult' });
export type CanIResult = z.infer<typeof CanIResult>;
