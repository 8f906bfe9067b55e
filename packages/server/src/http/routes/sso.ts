import { z } from 'zod';
import { AuthMethods, InputError, NotAllowedError, SSO_START_PATH } from '@pave/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiServer } from '../app.ts';
import { SsoRefusal, type OidcSignOn, type SsoReturn } from '../../domain/sso.ts';

/** What the sign-in routes serve: SSO when configured, and whether password logins are taken. */
export interface SignInMethods {
  sso?: OidcSignOn | undefined;
  /** False: `POST /auth/login` is refused (`pave up --disable-password-login`). */
  passwordLogin: boolean;
}

const CALLBACK_PATH = '/api/v1/auth/sso/callback';
/**
 * Sign-ins one client address may start a minute. Each start keeps a row for 10 minutes, so without a limit
 * anyone could fill the store; a person needs one or two, and a whole office behind one address a few dozen.
 */
export const SSO_STARTS_PER_MINUTE = 60;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The origin the browser reached Pave at, e.g. http://127.0.0.1:7300. */
function originOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/**
 * Where a sign-in may hand its token: this server's portal (a URL of this origin, or nothing), or the
 * loopback server of `pave login --sso` (http://127.0.0.1:PORT/…). Anything else would send a token to a
 * site of the caller's choosing, so it is refused (InputError). `tab`, the portal tab's value, goes with a
 * portal return only.
 */
function ssoReturnFor(redirect: string | undefined, origin: string, tab?: string): SsoReturn {
  const portal: SsoReturn = { kind: 'portal', origin, ...(tab ? { tab } : {}) };
  if (redirect === undefined || redirect === '') return portal;
  let url: URL | undefined;
  try {
    url = new URL(redirect);
  } catch {
    url = undefined;
  }
  if (url?.origin === origin) return portal;
  if (url && url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname) && url.port) {
    url.hash = '';
    url.search = '';
    return { kind: 'cli', url: url.toString() };
  }
  throw new InputError('an SSO sign-in can return only to this portal or to `pave login --sso`', [
    {
      path: 'redirect',
      message: `give ${origin}/ (the portal) or a loopback URL such as http://127.0.0.1:PORT/callback`,
    },
  ]);
}

/** Whether a browser asks (a page, not an API call). */
function acceptsHtml(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/html');
}

/** The URL that hands a finished (or refused) sign-in to where it started. */
function handOver(returnTo: SsoReturn, params: Record<string, string>): string {
  if (returnTo.kind === 'cli') return `${returnTo.url}?${new URLSearchParams(params).toString()}`;
  // The portal reads the token from the fragment, which browsers never send to a server, and takes it only
  // when `tab` is the value its tab started the sign-in with.
  const query = new URLSearchParams({ ...params, ...(returnTo.tab ? { tab: returnTo.tab } : {}) });
  return `${returnTo.origin}/#/sso?${query.toString()}`;
}

function redirect(reply: FastifyReply, location: string): FastifyReply {
  return reply
    .code(302)
    .header('location', location)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .send();
}

/**
 * The sign-in methods (`GET /auth/methods`, read by the portal's sign-in page and `pave login`) and, when
 * SSO is configured, its start and callback. With password login disabled, `POST /auth/login` is refused
 * (403, naming SSO); tokens, the admin's included, keep working.
 */
export function signInRoutes(api: ApiServer, methods: SignInMethods): void {
  const sso = methods.sso;
  if (!methods.passwordLogin) {
    api.addHook('onRequest', async (request) => {
      if (request.method !== 'POST' || request.routeOptions.url !== '/api/v1/auth/login') return;
      throw new NotAllowedError('password login is disabled on this server; sign in with SSO', [
        {
          path: '/',
          message: sso
            ? 'use "Sign in with SSO" in the portal, or `pave login --sso`'
            : 'log in with a token: `pave login --token-stdin`',
        },
      ]);
    });
  }

  api.get(
    '/auth/methods',
    {
      // Public: the sign-in page reads it before anyone has signed in.
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'How one may sign in: with a password, with SSO (needs no token)',
        security: [],
        response: { 200: AuthMethods },
      },
    },
    async () => ({
      password: methods.passwordLogin,
      sso: sso ? { issuer: sso.settings.issuer, startUrl: `/api/v1${SSO_START_PATH}` } : null,
    }),
  );
  if (!sso) return;

  /** Where people reach this portal: behind a proxy that terminates TLS, the configured callback says. */
  const portalOrigin = (request: FastifyRequest): string => {
    const configured = sso.settings.callbackUrl;
    return configured ? new URL(configured).origin : originOf(request);
  };

  api.get(
    SSO_START_PATH,
    {
      // Public: starting a sign-in is how one gets a token.
      config: { public: true, rateLimit: { max: SSO_STARTS_PER_MINUTE, timeWindow: 60_000 } },
      schema: {
        tags: ['auth'],
        summary: 'Start an SSO sign-in: redirects to the OIDC provider',
        security: [],
        querystring: z.strictObject({
          redirect: z
            .string()
            .max(2048)
            .optional()
            .describe(
              'Where the token goes: this portal (default) or the loopback URL of `pave login --sso`.',
            ),
          tab: z
            .string()
            .regex(/^[\w-]{16,128}$/, 'give 16 to 128 letters, digits, `-` or `_`')
            .optional()
            .describe(
              'The portal only: a random value its browser tab keeps, handed back with the token so that ' +
                'the tab takes only a sign-in it started. Not kept for a loopback redirect.',
            ),
        }),
      },
    },
    async (request, reply) => {
      const origin = portalOrigin(request);
      const returnTo = ssoReturnFor(request.query.redirect, origin, request.query.tab);
      const url = await sso.start(returnTo, sso.settings.callbackUrl ?? `${origin}${CALLBACK_PATH}`);
      return redirect(reply, url.toString());
    },
  );

  api.get(
    '/auth/sso/callback',
    {
      // Public: the OIDC provider sends the browser back here; the state, code and ID token are the proof.
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Finish an SSO sign-in (the OIDC provider redirects here); hands the token on',
        security: [],
        querystring: z.record(z.string(), z.string()),
      },
    },
    async (request, reply) => {
      try {
        const { returnTo, login, teamsKept } = await sso.finish(request.query, {
          address: request.ip,
          requestId: String(request.id),
        });
        if (teamsKept.length > 0) {
          request.log.warn(
            { username: login.username, teams: teamsKept },
            'SSO sign-in kept the user in teams their groups no longer name: leaving would leave no org admin',
          );
        }
        return redirect(
          reply,
          handOver(returnTo, { token: login.token, username: login.username, expiresAt: login.expiresAt }),
        );
      } catch (error) {
        if (!(error instanceof SsoRefusal)) throw error;
        request.log.warn({ client: request.ip, reason: error.message }, 'SSO sign-in refused');
        // A sign-in whose start is unknown (used already, e.g. by going back to the provider's page, or
        // expired) has nowhere to return to: a browser is shown this portal's sign-in page with the reason,
        // anything else gets the problem.
        const returnTo =
          error.returnTo ??
          (acceptsHtml(request) ? { kind: 'portal' as const, origin: portalOrigin(request) } : null);
        if (!returnTo) throw error.error;
        return redirect(reply, handOver(returnTo, { error: error.error.message }));
      }
    },
  );
}
