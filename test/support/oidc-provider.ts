import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';
import Provider from 'oidc-provider';

/** A user of the test provider: their subject and the claims the ID token carries. */
export interface TestAccount {
  preferredUsername?: string;
  email?: string;
  groups: string[];
}

/** A real OpenID Connect provider (oidc-provider) on 127.0.0.1, for SSO tests. */
export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The accounts by subject (the login typed at the provider); change them between sign-ins. */
  accounts: Map<string, TestAccount>;
  /** Registers the client's redirect URI (Pave's callback); the provider answers only once it is set. */
  setRedirectUri(uri: string): void;
  /** Signs claims as an ID token with the provider's own key (for tokens a test forges). */
  sign(claims: JWTPayload): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts an OIDC provider on 127.0.0.1 with a random port and one confidential client that must use PKCE.
 * Its ID tokens carry `preferred_username`, `email` and `groups`. Sign in at its development interaction
 * pages with any password: the login is the account's subject.
 */
export async function startOidcProvider(
  options: { clientId?: string; clientSecret?: string } = {},
): Promise<TestOidcProvider> {
  const clientId = options.clientId ?? 'pave';
  const clientSecret = options.clientSecret ?? 'a-client-secret-for-tests-only';
  const accounts = new Map<string, TestAccount>();
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  let handler: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
  const server = createServer((request, response) => {
    if (handler) return handler(request, response);
    response.writeHead(503).end('the test provider has no redirect URI yet');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    setRedirectUri(uri) {
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: [uri],
            grant_types: ['authorization_code'],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_basic',
          },
        ],
        pkce: { required: () => true },
        jwks: { keys: [jwk] },
        cookies: { keys: ['test-cookie-key'] },
        claims: { profile: ['preferred_username'], email: ['email'], groups: ['groups'] },
        conformIdTokenClaims: false,
        async findAccount(_context: unknown, sub: string) {
          const account = accounts.get(sub);
          if (!account) return undefined;
          return {
            accountId: sub,
            async claims() {
              return {
                sub,
                preferred_username: account.preferredUsername,
                email: account.email,
                groups: account.groups,
              };
            },
          };
        },
      });
      // The provider logs a warning for its development interactions; they are what the tests sign in with.
      provider.on('server_error', (_context: unknown, error: Error) => console.error(error));
      handler = provider.callback();
    },
    sign(claims) {
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
        .sign(privateKey as CryptoKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Signs in at the provider as a browser would: follows redirects from `authorizationUrl` (keeping the
 * provider's cookies), submits the login (`login`, any password) and consent forms, and returns the first
 * URL it is sent to outside the provider (the client's callback, with code and state).
 */
export async function signInAtProvider(authorizationUrl: string, login: string): Promise<string> {
  const origin = new URL(authorizationUrl).origin;
  const cookies = new Map<string, string>();
  let url = authorizationUrl;
  let form: URLSearchParams | undefined;
  for (let step = 0; step < 20; step += 1) {
    if (new URL(url).origin !== origin) return url;
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: form.toString() } : {}),
    });
    form = undefined;
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const at = pair!.indexOf('=');
      const value = pair!.slice(at + 1);
      if (value) cookies.set(pair!.slice(0, at), value);
      else cookies.delete(pair!.slice(0, at));
    }
    const location = response.headers.get('location');
    if (location) {
      url = new URL(location, url).toString();
      continue;
    }
    const page = await response.text();
    const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
    if (response.status !== 200 || !prompt) {
      throw new Error(`the provider answered ${response.status} at ${url}: ${page.slice(0, 500)}`);
    }
    form = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'any password' } : { prompt });
  }
  throw new Error(`signing in at the provider did not end after 20 steps (last at ${url})`);
}
