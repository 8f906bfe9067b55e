import {
  CreateTokenBody,
  CreatedToken,
  TOKEN_PAGE_DEFAULT,
  TokenListQuery,
  TokenPage,
  TokenParams,
  WhoAmI,
} from '@pave/core';
import type { ApiServer } from '../app.ts';
import { noContent } from '../responses.ts';
import type { Store } from '../../store/index.ts';
import { createToken, listTokens, revokeToken } from '../../domain/tokens.ts';
import { accountOf } from '../../domain/users.ts';

/**
 * The caller's identity and tokens: whoami, list, create (the token is returned once), revoke; admins (user.write)
 * also list, create and revoke other users' and service accounts' tokens.
 */
export function tokenRoutes(api: ApiServer, store: Store): void {
  api.get(
    '/whoami',
    {
      config: { permission: 'token.self' },
      schema: { tags: ['tokens'], summary: 'Who the token belongs to', response: { 200: WhoAmI } },
    },
    async (request) => ({
      username: request.pave.actor.username,
      ...(await accountOf(store.db, request.pave.actor.userId)),
      token: {
        id: request.pave.actor.tokenId,
        name: request.pave.actor.tokenName,
        expiresAt: request.pave.actor.tokenExpiresAt,
        scope: request.pave.actor.tokenScope,
      },
      grants: request.pave.actor.grants,
    }),
  );
  api.get(
    '/tokens',
    {
      config: {
        permission: 'token.self',
        // Another user's tokens (`?user=`): for those who may create tokens for others, as POST /tokens asks.
        access: async (request) => {
          const { user } = request.query as { user?: unknown };
          return typeof user === 'string' && user !== request.pave.actor.username
            ? [{ permission: 'user.write', target: {} }]
            : [];
        },
      },
      schema: {
        tags: ['tokens'],
        summary: "List your tokens (admins: another user's), newest first, a page at a time",
        description: `At most \`limit\` tokens a page (${TOKEN_PAGE_DEFAULT} unless given); \`nextCursor\` fetches the next page (give the same \`user\`). With \`user\`, that user's or service account's tokens: needs user.write, the permission that creates them. Through a scoped token, only the tokens within its scope. Never a token's secret.`,
        querystring: TokenListQuery,
        response: { 200: TokenPage },
      },
    },
    async (request) => listTokens(store.db, request.pave.actor, request.query),
  );
  api.post(
    '/tokens',
    {
      config: { permission: 'token.self' },
      schema: {
        tags: ['tokens'],
        summary: 'Create a token (shown once)',
        body: CreateTokenBody,
        response: { 201: CreatedToken },
      },
    },
    async (request, reply) => reply.code(201).send(await createToken(store, request.pave, request.body)),
  );
  api.delete(
    '/tokens/:id',
    {
      config: { permission: 'token.self' },
      schema: {
        tags: ['tokens'],
        summary: "Revoke a token (admins: any user's)",
        description:
          "Your own token, or with user.write any user's or service account's (a leaked CI token, say); the audit entry names whose it was. Another user's token is 404 to those who may not revoke it.",
        params: TokenParams,
        response: { 204: noContent('The token is revoked') },
      },
    },
    async (request, reply) => {
      await revokeToken(store, request.pave, request.params.id);
      return reply.code(204).send(null);
    },
  );
}
