import {
  CreateTeamBody,
  CreateUserBody,
  LoginBody,
  LoginFailuresCleared,
  PasswordChanged,
  SetPasswordBody,
  LoginResult,
  TEAM_PAGE_DEFAULT,
  Team,
  TeamListQuery,
  TeamMemberParams,
  TeamPage,
  TeamParams,
  UpdateTeamBody,
  USER_PAGE_DEFAULT,
  User,
  UserListQuery,
  UserPage,
  UserParams,
} from '@pave/core';
import type { ApiServer } from '../app.ts';
import { noContent } from '../responses.ts';
import type { Store } from '../../store/index.ts';
import {
  addTeamMember,
  createTeam,
  createUser,
  deleteTeam,
  deleteUser,
  listTeams,
  listUsers,
  login,
  removeTeamMember,
  setPassword,
  unlockUser,
  updateTeam,
} from '../../domain/users.ts';

/**
 * Identities: password login (public, rate limited), users and service accounts, teams and their members.
 * Reads need `user.read`, changes `user.write`.
 */
export function identityRoutes(api: ApiServer, store: Store): void {
  api.post(
    '/auth/login',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Log in with a username and password; returns a token valid for 12 hours',
        security: [],
        body: LoginBody,
        response: { 200: LoginResult },
      },
    },
    async (request) => {
      try {
        return await login(store, {
          ...request.body,
          clientAddress: request.ip,
          requestId: String(request.id),
        });
      } catch (error) {
        if ((error as Error).name === 'AuthenticationError') {
          request.log.warn({ username: request.body.username, client: request.ip }, 'login failed');
        }
        throw error;
      }
    },
  );

  api.get(
    '/users',
    {
      config: { permission: 'user.read' },
      schema: {
        tags: ['users'],
        summary: 'List users and service accounts, ordered by username, a page at a time',
        description: `At most \`limit\` users a page (${USER_PAGE_DEFAULT} unless given); \`nextCursor\` fetches the next page.`,
        querystring: UserListQuery,
        response: { 200: UserPage },
      },
    },
    async (request) => listUsers(store.db, request.query),
  );
  api.post(
    '/users',
    {
      config: { permission: 'user.write' },
      schema: {
        tags: ['users'],
        summary: 'Create a user (optionally with a password) or a service account',
        body: CreateUserBody,
        response: { 201: User },
      },
    },
    async (request, reply) => reply.code(201).send(await createUser(store, request.pave, request.body)),
  );
  api.delete(
    '/users/:username',
    {
      config: { permission: 'user.write' },
      schema: {
        tags: ['users'],
        summary: 'Delete a user or service account with its tokens, team memberships and roles',
        params: UserParams,
        response: { 204: noContent('The user is deleted') },
      },
    },
    async (request, reply) => {
      await deleteUser(store, request.pave, request.params.username);
      return reply.code(204).send(null);
    },
  );

  api.delete(
    '/users/:username/login-failures',
    {
      config: { permission: 'user.write' },
      schema: {
        tags: ['users'],
        summary: "Forget a user's failed logins, so that they may log in again at once (admins)",
        params: UserParams,
        response: { 200: LoginFailuresCleared },
      },
    },
    async (request) => unlockUser(store, request.pave, request.params.username),
  );

  api.put(
    '/users/:username/password',
    {
      // Everyone signed in may change their own password; another user's needs user.write.
      config: {
        permission: 'token.self',
        access: async (request) =>
          (request.params as { username: string }).username === request.pave.actor.username
            ? []
            : [{ permission: 'user.write', target: {} }],
      },
      schema: {
        tags: ['users'],
        summary:
          "Set a password: your own (with the current one, if you have one) or, as an admin, anyone's; revokes the user's other tokens",
        params: UserParams,
        body: SetPasswordBody,
        response: { 200: PasswordChanged },
      },
    },
    async (request) =>
      setPassword(
        store,
        request.pave,
        { username: request.params.username, clientAddress: request.ip },
        request.body,
      ),
  );

  api.get(
    '/teams',
    {
      config: { permission: 'user.read' },
      schema: {
        tags: ['teams'],
        summary: 'List teams with their members, ordered by id, a page at a time',
        description: `At most \`limit\` teams a page (${TEAM_PAGE_DEFAULT} unless given); \`nextCursor\` fetches the next page.`,
        querystring: TeamListQuery,
        response: { 200: TeamPage },
      },
    },
    async (request) => listTeams(store.db, request.query),
  );
  api.post(
    '/teams',
    {
      config: { permission: 'user.write' },
      schema: {
        tags: ['teams'],
        summary: 'Create a team',
        body: CreateTeamBody,
        response: { 201: Team },
      },
    },
    async (request, reply) => reply.code(201).send(await createTeam(store, request.pave, request.body)),
  );
  api.patch(
    '/teams/:team',
    {
      config: { permission: 'user.write' },
      schema: {
        tags: ['teams'],
        summary: 'Change a team: the SSO group it follows (null: members by hand only)',
        params: TeamParams,
        body: UpdateTeamBody,
        response: { 200: Team },
      },
    },
    async (request) => updateTeam(store, request.pave, request.params.team, request.body),
  );
  api.delete(
    '/teams/:team',
    {
      config: { permission: 'user.write' },
      schema: {
        tags: ['teams'],
        summary: 'Delete a team and the roles granted to it (its members stay)',
        params: TeamParams,
        response: { 204: noContent('The team is deleted') },
      },
    },
    async (request, reply) => {
      await deleteTeam(store, request.pave, request.params.team);
      return reply.code(204).send(null);
    },
  );
  api.put(
    '/teams/:team/members/:username',
    {
      config: { permission: 'user.write' },
      schema: {
        tags: ['teams'],
        summary: 'Add a user to a team (no change if already a member)',
        params: TeamMemberParams,
        response: { 200: Team },
      },
    },
    async (request) => addTeamMember(store, request.pave, request.params.team, request.params.username),
  );
  api.delete(
    '/teams/:team/members/:username',
    {
      config: { permission: 'user.write' },
      schema: {
        tags: ['teams'],
        summary: 'Remove a user from a team',
        params: TeamMemberParams,
        response: { 204: noContent('The user is not a member of the team (any more)') },
      },
    },
    async (request, reply) => {
      await removeTeamMember(store, request.pave, request.params.team, request.params.username);
      return reply.code(204).send(null);
    },
  );
}
