import {
  CanIQuery,
  CanIResult,
  ROLE_GRANT_PAGE_DEFAULT,
  RoleGrant,
  RoleGrantBody,
  RoleGrantPage,
  RolesQuery,
} from '@pave/core';
import type { ApiServer } from '../app.ts';
import { noContent } from '../responses.ts';
import type { Store } from '../../store/index.ts';
import { canI, grantRole, listRoles, revokeRole } from '../../domain/roles.ts';

/**
 * Role grants and the permission explainer. Who may grant depends on the role granted (app owners grant
 * app roles; admins grant org and environment-type roles), so the routes check in the domain.
 */
export function roleRoutes(api: ApiServer, store: Store): void {
  const tags = ['roles'];
  api.get(
    '/roles',
    {
      config: { permission: 'token.self' },
      schema: {
        tags,
        summary: 'List role grants, in the order they were granted, a page at a time',
        description: `At most \`limit\` grants a page (${ROLE_GRANT_PAGE_DEFAULT} unless given); \`nextCursor\` fetches the next page (give the same \`app\` or \`user\`).`,
        querystring: RolesQuery,
        response: { 200: RoleGrantPage },
      },
    },
    async (request) => listRoles(store.db, request.pave.actor, request.query),
  );
  api.post(
    '/roles',
    {
      config: { permission: 'token.self' },
      schema: {
        tags,
        summary: 'Grant a role to a user or a team',
        body: RoleGrantBody,
        response: { 201: RoleGrant },
      },
    },
    async (request, reply) => reply.code(201).send(await grantRole(store, request.pave, request.body)),
  );
  api.post(
    '/roles/revoke',
    {
      config: { permission: 'token.self' },
      schema: {
        tags,
        summary: 'Revoke a role from a user or a team',
        body: RoleGrantBody,
        response: { 204: noContent('The role is revoked') },
      },
    },
    async (request, reply) => {
      await revokeRole(store, request.pave, request.body);
      return reply.code(204).send(null);
    },
  );
  api.get(
    '/auth/can-i',
    {
      config: { permission: 'token.self' },
      schema: {
        tags,
        summary: 'Whether you (or, for admins, another user) may do an action, and why',
        querystring: CanIQuery,
        response: { 200: CanIResult },
      },
    },
    async (request) => canI(store.db, request.pave.actor, request.query),
  );
}
