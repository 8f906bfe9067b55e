import { z } from 'zod';

/*
 * Single sign-on (OpenID Connect): which ways of signing in a server offers. The sign-in itself is a browser
 * redirect flow (GET /auth/sso/start, then the provider, then GET /auth/sso/callback), not a JSON API.
 */

/** How one may sign in to a server (`GET /auth/methods`, public). */
export const AuthMethods = z
  .object({
    password: z.boolean().describe('Whether users may log in with a username and password.'),
    sso: z
      .object({
        issuer: z.string().describe("The OIDC provider's issuer URL."),
        startUrl: z
          .string()
          .describe('Where a sign-in starts: GET it with `redirect` (the portal or a CLI loopback URL).'),
      })
      .nullable()
      .describe('Single sign-on with an OIDC provider; null when the server has none configured.'),
  })
  .meta({ id: 'AuthMethods' });
export type AuthMethods = z.infer<typeof AuthMethods>;

/** The path (under /api/v1) where an SSO sign-in starts. */
export const SSO_START_PATH = '/auth/sso/start';
