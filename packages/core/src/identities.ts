import { z } from 'zod';
import { dnsLabel } from './ids.ts';
import { labelPageQuery, pageOf } from './paging.ts';

/*
 * Identities in the REST API: local users (who may log in with a password), service accounts (token-only
 * users, for automation), teams of users, and password login.
 */

const timestamp = z.string().describe('RFC 3339 timestamp (UTC)');

/** The shortest password Pave accepts. */
export const PASSWORD_MIN_LENGTH = 12;
/** The longest password Pave accepts (a bound on the work of hashing it). */
export const PASSWORD_MAX_LENGTH = 1024;
/** Why a password is refused, for messages. */
export const PASSWORD_RULE = `must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters long`;

/**
 * The names Pave records its own actions under (audit entries, deployments' `createdBy`, events): `pave` for
 * set-up and bookkeeping it does itself (the first admin, SSO users, provisioning, resource state), `system`
 * for restarts and the built-in templates, and its janitor and webhook dispatcher. No user may have one of
 * them, so that a person's actions can always be told from Pave's own. Every actor Pave acts as is one of
 * these, or is not a DNS label at all (`rule:<id>`), so it cannot be a username either.
 */
export const SYSTEM_ACTORS = {
  pave: 'pave',
  system: 'system',
  janitor: 'pave-janitor',
  webhooks: 'pave-webhooks',
} as const;
/** One of the names Pave records its own actions under. */
export type SystemActor = (typeof SYSTEM_ACTORS)[keyof typeof SYSTEM_ACTORS];

const reservedUsernames: ReadonlySet<string> = new Set(Object.values(SYSTEM_ACTORS));

/** Whether `username` is one Pave records its own actions under (SYSTEM_ACTORS), which no user may have. */
export function isReservedUsername(username: string): boolean {
  return reservedUsernames.has(username);
}

/** Why a reserved username is refused, for messages. */
export const RESERVED_USERNAME_RULE =
  "is reserved for Pave's own actions (audit, deployments, events), so that they cannot be mistaken for a " +
  "person's; choose another username";

/** `user`: a person, who may have a password; `service`: a service account, which has tokens only. */
export const UserKind = z.enum(['user', 'service']);
export type UserKind = z.infer<typeof UserKind>;

/** A password as Pave accepts it when one is set (login accepts any, up to the maximum length). */
export const NewPassword = z
  .string()
  .min(PASSWORD_MIN_LENGTH, { message: PASSWORD_RULE })
  .max(PASSWORD_MAX_LENGTH, { message: PASSWORD_RULE });

// Login

export const LoginBody = z
  .strictObject({
    username: dnsLabel,
    password: z.string().min(1).max(PASSWORD_MAX_LENGTH),
  })
  .meta({ id: 'LoginBody' });
export type LoginBody = z.infer<typeof LoginBody>;

export const LoginResult = z
  .object({
    token: z
      .string()
      .describe('A new token for the user, valid for 12 hours. Shown only once: Pave keeps only its hash.'),
    expiresAt: timestamp,
    username: z.string(),
  })
  .meta({ id: 'LoginResult' });
export type LoginResult = z.infer<typeof LoginResult>;

/** What `DELETE /users/{username}/login-failures` (`pave users unlock`) cleared. */
export const LoginFailuresCleared = z
  .object({
    username: dnsLabel,
    failuresCleared: z
      .number()
      .int()
      .describe('How many failed logins counted for the user (from any address) were forgotten.'),
  })
  .meta({ id: 'LoginFailuresCleared' });
export type LoginFailuresCleared = z.infer<typeof LoginFailuresCleared>;

// Users and service accounts

export const User = z
  .object({
    id: z.string(),
    username: dnsLabel,
    kind: UserKind,
    hasPassword: z.boolean().describe('Whether the user can log in with a password.'),
    createdAt: timestamp,
    teams: z.array(dnsLabel).describe('The teams the user is a member of, by id.'),
  })
  .meta({ id: 'User' });
export type User = z.infer<typeof User>;

export const CreateUserBody = z
  .strictObject({
    username: dnsLabel.describe('A DNS label; it cannot change later.'),
    kind: UserKind.optional().describe('Default user; a service account (service) has no password.'),
    password: NewPassword.optional().describe(
      `For kind user: lets the user log in with \`pave login --username\`; ${PASSWORD_RULE}.`,
    ),
  })
  .meta({ id: 'CreateUserBody' });
export type CreateUserBody = z.infer<typeof CreateUserBody>;

export const UserParams = z.strictObject({ username: dnsLabel });

/** How many users `GET /users` answers when the caller does not say. */
export const USER_PAGE_DEFAULT = 100;

/** `GET /users`: a page of users and service accounts, ordered by username. */
export const UserListQuery = labelPageQuery('users', USER_PAGE_DEFAULT, 'username');
export type UserListQuery = z.infer<typeof UserListQuery>;

/** A page of users; `nextCursor` is the last username of the page, null on the last page. */
export const UserPage = pageOf(User);
export type UserPage = z.infer<typeof UserPage>;

/**
 * Set a user's password (`PUT /users/{username}/password`). Your own: give `currentPassword` when you have
 * one. An admin setting another user's password gives none.
 */
export const SetPasswordBody = z
  .strictObject({
    password: NewPassword.describe(`The new password; ${PASSWORD_RULE}.`),
    currentPassword: z
      .string()
      .min(1)
      .max(PASSWORD_MAX_LENGTH)
      .optional()
      .describe('Your current password, when you change your own and have one.'),
  })
  .meta({ id: 'SetPasswordBody' });
export type SetPasswordBody = z.infer<typeof SetPasswordBody>;

/** The outcome of setting a password: the user's other tokens were revoked. */
export const PasswordChanged = z
  .object({
    username: dnsLabel,
    tokensRevoked: z
      .number()
      .int()
      .describe("How many of the user's tokens were revoked (all but the caller's own token)."),
  })
  .meta({ id: 'PasswordChanged' });
export type PasswordChanged = z.infer<typeof PasswordChanged>;

// Teams

export const Team = z
  .object({
    id: dnsLabel,
    members: z.array(dnsLabel).describe('Usernames of the members, sorted.'),
    oidcGroup: z
      .string()
      .nullable()
      .describe(
        'The SSO (OIDC) group whose members are the members, refreshed at each sign-in; null: by hand.',
      ),
    createdBy: z.string(),
    createdAt: timestamp,
  })
  .meta({ id: 'Team' });
export type Team = z.infer<typeof Team>;

/** An OIDC group name, as the provider's groups claim lists it. */
export const OidcGroup = z.string().min(1).max(256);

export const CreateTeamBody = z
  .strictObject({
    id: dnsLabel.describe('The team id, a DNS label; it cannot change later.'),
    oidcGroup: OidcGroup.optional().describe(
      'Follow this SSO group: at each SSO sign-in, members of the group join the team and others leave it.',
    ),
  })
  .meta({ id: 'CreateTeamBody' });
export type CreateTeamBody = z.infer<typeof CreateTeamBody>;

/** Change a team (`PATCH /teams/{team}`): the SSO group it follows, or null to manage it by hand. */
export const UpdateTeamBody = z
  .strictObject({
    oidcGroup: OidcGroup.nullable().describe(
      'The SSO group the team follows; null: membership by hand only.',
    ),
  })
  .meta({ id: 'UpdateTeamBody' });
export type UpdateTeamBody = z.infer<typeof UpdateTeamBody>;

export const TeamMemberBody = z.strictObject({ username: dnsLabel }).meta({ id: 'TeamMemberBody' });
export type TeamMemberBody = z.infer<typeof TeamMemberBody>;

export const TeamParams = z.strictObject({ team: dnsLabel });

/** How many teams `GET /teams` answers when the caller does not say. */
export const TEAM_PAGE_DEFAULT = 100;

/** `GET /teams`: a page of teams with their members, ordered by id. */
export const TeamListQuery = labelPageQuery('teams', TEAM_PAGE_DEFAULT);
export type TeamListQuery = z.infer<typeof TeamListQuery>;

/** A page of teams; `nextCursor` is the last team id of the page, null on the last page. */
export const TeamPage = pageOf(Team);
export type TeamPage = z.infer<typeof TeamPage>;
export const TeamMemberParams = z.strictObject({ team: dnsLabel, username: dnsLabel });
