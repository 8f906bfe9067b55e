import { createHash, randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import {
  SYSTEM_ACTORS,
  AuthenticationError,
  InputError,
  ServiceUnavailableError,
  isDnsLabel,
  isReservedUsername,
  type LoginResult,
  type OrgRole,
} from '@pave/core';
import { sql } from 'kysely';
import type { Executor, Store } from '../store/index.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { recordAudit } from './audit.ts';
import { refusalsFor } from './audit-refusals.ts';
import { now, systemContext } from './context.ts';
import { insertToken } from './tokens.ts';
import { LOGIN_TOKEN_TTL_MS, countOrgAdmins, lockOrgAdmins } from './users.ts';

/** How Pave signs users in with an OpenID Connect provider (`pave up --oidc-issuer …`). */
export interface SsoSettings {
  /** The provider's issuer URL; its discovery document is at `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The ID token (or userinfo) claim that lists the user's groups; default `groups`. */
  groupsClaim?: string | undefined;
  /**
   * Pave's callback as registered at the provider, e.g. https://pave.example.com/api/v1/auth/sso/callback;
   * default: built from the Host the browser used. Set it behind a proxy that terminates TLS.
   */
  callbackUrl?: string | undefined;
  /** The org role a user gets at their first sign-in; default `member`; `none` grants nothing. */
  defaultRole?: OrgRole | 'none' | undefined;
  /**
   * Seconds to add to this host's clock when checking the ID token's times (for a host whose clock is off);
   * default 0. The provider's own tolerance of 30 s applies on top.
   */
  clockSkewSeconds?: number | undefined;
  /** How Pave talks to the provider; the global fetch by default (tests intercept the token response). */
  fetch?: typeof fetch | undefined;
}

/** How long a started sign-in may take at the provider before it must start again. */
export const SSO_SIGN_IN_TTL_MS = 10 * 60 * 1000;

/**
 * Where an SSO sign-in hands the token over: the portal (by origin), or the CLI's loopback server. A portal
 * sign-in carries the random value of the browser tab that started it (`tab`), handed back with the token:
 * the portal takes a token only from a sign-in its own tab started, so a callback URL someone else started
 * cannot sign a victim's browser in as them (login CSRF). The CLI needs none: its loopback URL has a secret
 * path.
 */
export type SsoReturn =
  { kind: 'portal'; origin: string; tab?: string | undefined } | { kind: 'cli'; url: string };

/** A finished sign-in: the user's new token, and where it goes. */
export interface SsoSignedIn {
  returnTo: SsoReturn;
  login: LoginResult;
  /**
   * The teams the user stayed in although their groups no longer name them: leaving would have left the
   * organisation without an org admin. Audited as `team.member.keep`; empty as a rule.
   */
  teamsKept: string[];
}

/** A refused sign-in: why (an AuthenticationError the caller may see) and, when known, where to say so. */
export class SsoRefusal extends Error {
  constructor(
    readonly error: AuthenticationError,
    readonly returnTo: SsoReturn | null,
  ) {
    super(error.message);
    this.name = 'SsoRefusal';
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Checks SSO settings before the server starts: an issuer must be https, except on loopback (a provider on
 * this machine, for tests and trials), where http is allowed. InputError naming the flag otherwise.
 */
export function checkSsoSettings(settings: SsoSettings): void {
  let issuer: URL;
  try {
    issuer = new URL(settings.issuer);
  } catch {
    throw new InputError(`--oidc-issuer: "${settings.issuer}" is not a URL`, [
      { path: '--oidc-issuer', message: 'give the issuer URL, e.g. https://login.example.com/realms/acme' },
    ]);
  }
  if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && LOOPBACK_HOSTS.has(issuer.hostname))) {
    throw new InputError(`--oidc-issuer: ${settings.issuer} is not https`, [
      { path: '--oidc-issuer', message: 'an issuer must be https (http only on 127.0.0.1 or localhost)' },
    ]);
  }
  if (
    settings.callbackUrl !== undefined &&
    !/^https?:\/\/[^/]+\/api\/v1\/auth\/sso\/callback$/.test(settings.callbackUrl)
  ) {
    throw new InputError(`--oidc-redirect-url: "${settings.callbackUrl}" is not Pave's callback URL`, [
      {
        path: '--oidc-redirect-url',
        message: 'give https://HOST/api/v1/auth/sso/callback, as registered at the provider',
      },
    ]);
  }
  if (!settings.clientId || !settings.clientSecret) {
    throw new InputError('SSO needs a client id and a client secret', [
      { path: '--oidc-client-id', message: 'give --oidc-client-id and --oidc-client-secret-file' },
    ]);
  }
}

function hashState(state: string): string {
  return createHash('sha256').update(state).digest('hex');
}

/**
 * The data key a sign-in's secrets are sealed with. A master-key rotation re-wraps data keys and leaves what
 * they sealed as it is, so a sign-in started before a rotation still finishes after it, on any replica.
 */
const SIGN_IN_SCOPE = 'pave:sso-sign-ins';

/** What a sign-in under way keeps sealed: whoever can read the store must not be able to finish it. */
interface SealedSignIn {
  /** The row's state_hash, so that a sealed value moved to another row opens to nothing. */
  stateHash: string;
  nonce: string;
  codeVerifier: string;
  /** Secret too: the CLI's loopback path, the portal tab's value. */
  returnTo: SsoReturn;
}

/**
 * Single sign-on with an OpenID Connect provider: the authorization code flow with PKCE, state and nonce.
 * What a sign-in needs between its start and its callback is kept in the store (single use, 10 minutes), so
 * any replica can finish a sign-in another started; its nonce, verifier and return are sealed with `box`.
 * The provider is discovered at the first sign-in (and again after a failure), so Pave starts while the
 * provider is down.
 */
export class OidcSignOn {
  private configuration: Promise<oidc.Configuration> | undefined;
  private readonly groupsClaim: string;

  constructor(
    private readonly store: Store,
    readonly settings: SsoSettings,
    private readonly box: SecretBox,
  ) {
    checkSsoSettings(settings);
    this.groupsClaim = settings.groupsClaim ?? 'groups';
  }

  /** The provider's configuration (discovery and its keys); ServiceUnavailableError when it cannot be had. */
  private async provider(): Promise<oidc.Configuration> {
    this.configuration ??= this.discover();
    try {
      return await this.configuration;
    } catch (error) {
      this.configuration = undefined;
      throw new ServiceUnavailableError(
        `the SSO provider ${this.settings.issuer} cannot be reached: ${(error as Error).message}`,
        [
          {
            path: '--oidc-issuer',
            message: 'check the issuer URL and that Pave can reach it; then try again',
          },
        ],
      );
    }
  }

  private async discover(): Promise<oidc.Configuration> {
    const issuer = new URL(this.settings.issuer);
    const insecure = issuer.protocol === 'http:';
    const metadata: Partial<oidc.ClientMetadata> = { client_secret: this.settings.clientSecret };
    if (this.settings.clockSkewSeconds) metadata[oidc.clockSkew] = this.settings.clockSkewSeconds;
    const configuration = await oidc.discovery(
      issuer,
      this.settings.clientId,
      metadata,
      oidc.ClientSecretBasic(this.settings.clientSecret),
      {
        // Only ever for an issuer on loopback (checkSsoSettings refuses http elsewhere).
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
        ...(this.settings.fetch ? { [oidc.customFetch]: this.customFetch() } : {}),
      },
    );
    // Check the ID token's signature with the provider's keys (JWKS) too, not only TLS to the provider.
    oidc.enableNonRepudiationChecks(configuration);
    return configuration;
  }

  private customFetch(): oidc.CustomFetch {
    const fetcher = this.settings.fetch!;
    return (url, options) => fetcher(url, options as RequestInit);
  }

  /**
   * Starts a sign-in: keeps its state's hash and, sealed, its nonce, PKCE verifier and return, and returns
   * the provider's authorization URL to send the browser to. `callbackUrl` is Pave's /auth/sso/callback as
   * the browser reaches it.
   */
  async start(returnTo: SsoReturn, callbackUrl: string): Promise<URL> {
    const configuration = await this.provider();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    const at = Date.now();
    await this.store.db
      .deleteFrom('sso_sign_ins')
      .where('expires_at', '<', new Date(at).toISOString())
      .execute();
    const stateHash = hashState(state);
    const sealed: SealedSignIn = { stateHash, nonce, codeVerifier: verifier, returnTo };
    await this.store.db
      .insertInto('sso_sign_ins')
      .values({
        state_hash: stateHash,
        sealed: await this.box.encrypt(SIGN_IN_SCOPE, JSON.stringify(sealed)),
        callback_url: callbackUrl,
        created_at: new Date(at).toISOString(),
        expires_at: new Date(at + SSO_SIGN_IN_TTL_MS).toISOString(),
      })
      .execute();
    const supported = configuration.serverMetadata().scopes_supported ?? [];
    const scopes = ['openid', 'profile', 'email', ...(supported.includes('groups') ? ['groups'] : [])];
    return oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: callbackUrl,
      scope: scopes.join(' '),
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
  }

  /**
   * Finishes a sign-in from the provider's redirect (`query`: the callback's query parameters): takes the
   * sign-in its state names (once), exchanges the code with the PKCE verifier, validates the ID token
   * (signature with the provider's keys, issuer, audience, expiry, nonce), then finds or creates the user,
   * refreshes their teams from the groups claim and issues a token like a password login. Rejects with
   * SsoRefusal (saying what was wrong) for anything that does not validate, after auditing it as
   * `auth.sso-failed`.
   */
  async finish(
    query: Record<string, string>,
    client: { address: string; requestId: string },
  ): Promise<SsoSignedIn> {
    let returnTo: SsoReturn | null = null;
    try {
      const state = query.state;
      if (!state) throw refused('the answer from the SSO provider has no state', 'start the sign-in again');
      const signIn = await this.takeSignIn(state);
      returnTo = signIn.returnTo;
      if (query.error) {
        const description = query.error_description ? `: ${query.error_description}` : '';
        throw refused(
          `the SSO provider refused the sign-in (${query.error}${description})`,
          'try again, or ask your SSO admin',
        );
      }
      const configuration = await this.provider();
      const currentUrl = new URL(signIn.callbackUrl);
      for (const [name, value] of Object.entries(query)) currentUrl.searchParams.set(name, value);
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(configuration, currentUrl, {
          pkceCodeVerifier: signIn.codeVerifier,
          expectedState: state,
          expectedNonce: signIn.nonce,
          idTokenExpected: true,
        });
      } catch (error) {
        throw validationRefusal(error);
      }
      const claims = tokens.claims();
      if (!claims) throw refused('the SSO provider sent no ID token', 'check the client is an OIDC client');
      let groupsValue = claims[this.groupsClaim];
      if (groupsValue === undefined && configuration.serverMetadata().userinfo_endpoint) {
        try {
          const info = await oidc.fetchUserInfo(configuration, tokens.access_token, claims.sub);
          groupsValue = info[this.groupsClaim];
        } catch (error) {
          throw refused(
            `the SSO provider's userinfo, where the groups are, could not be read: ${(error as Error).message}`,
            'start the sign-in again; if it keeps failing, ask your SSO admin',
          );
        }
      }
      const groups = Array.isArray(groupsValue)
        ? groupsValue.filter((g): g is string => typeof g === 'string')
        : [];
      const { login, teamsKept } = await this.signIn(
        {
          issuer: claims.iss,
          subject: claims.sub,
          preferredName: stringClaim(claims.preferred_username) ?? stringClaim(claims.email),
          groups,
        },
        client,
      );
      return { returnTo, login, teamsKept };
    } catch (error) {
      const refusal =
        error instanceof SsoRefusal
          ? new SsoRefusal(error.error, returnTo)
          : (error as Error).name === 'AuthenticationError'
            ? new SsoRefusal(error as AuthenticationError, returnTo)
            : null;
      if (!refusal) throw error;
      refusalsFor(this.store).ssoFailed({
        reason: refusal.error.message,
        clientAddress: client.address,
        requestId: client.requestId,
      });
      throw refusal;
    }
  }

  /**
   * Takes (deletes) the sign-in `state` names and opens its sealed secrets; refused when it is unknown, used
   * already, expired, or its sealed secrets are not its own. ServiceUnavailableError when the master key that
   * opens them is missing.
   */
  private async takeSignIn(state: string): Promise<SealedSignIn & { callbackUrl: string }> {
    const stateHash = hashState(state);
    const row = await this.store.db
      .deleteFrom('sso_sign_ins')
      .where('state_hash', '=', stateHash)
      .returningAll()
      .executeTakeFirst();
    const unknown = () =>
      refused(
        'this SSO sign-in is unknown or was used already (state)',
        'a sign-in link works once; start the sign-in again',
      );
    if (!row) throw unknown();
    let sealed: SealedSignIn;
    try {
      sealed = JSON.parse(await this.box.decrypt(row.sealed)) as SealedSignIn;
    } catch (error) {
      if ((error as Error).name === 'ServiceUnavailableError') throw error;
      // Not a ciphertext of this store's keys: the row was written by something other than Pave.
      throw unknown();
    }
    if (sealed.stateHash !== stateHash) throw unknown();
    if (Date.parse(row.expires_at) <= Date.now()) {
      throw refused(
        `this SSO sign-in took longer than ${SSO_SIGN_IN_TTL_MS / 60_000} minutes`,
        'start the sign-in again',
      );
    }
    return { ...sealed, callbackUrl: row.callback_url };
  }

  /**
   * Finds or creates the user of a validated identity, refreshes their teams, and issues their token; also
   * says which teams the user stayed in to keep an org admin.
   */
  private async signIn(
    identity: { issuer: string; subject: string; preferredName: string | undefined; groups: string[] },
    client: { address: string; requestId: string },
  ): Promise<{ login: LoginResult; teamsKept: string[] }> {
    const signedInAt = new Date();
    const expiresAt = new Date(signedInAt.getTime() + LOGIN_TOKEN_TTL_MS).toISOString();
    return this.store.transaction(async (tx) => {
      await lockSignIns(this.store, tx);
      const linked = await tx
        .selectFrom('oidc_identities')
        .innerJoin('users', 'users.id', 'oidc_identities.user_id')
        .select(['users.id as id', 'users.username as username'])
        .where('oidc_identities.issuer', '=', identity.issuer)
        .where('oidc_identities.subject', '=', identity.subject)
        .executeTakeFirst();
      const user = linked ?? (await this.createUser(tx, identity, client.requestId));
      if (linked) {
        await tx
          .updateTable('oidc_identities')
          .set({ last_sign_in_at: signedInAt.toISOString() })
          .where('issuer', '=', identity.issuer)
          .where('subject', '=', identity.subject)
          .execute();
      }
      const context = systemContext(user.username, client.requestId, user.id);
      const teams = await syncTeams(this.store, tx, user, identity.groups, context);
      const created = await insertToken(tx, user, `sso ${signedInAt.toISOString()}`, expiresAt);
      await recordAudit(tx, context, {
        action: 'user.login',
        target: `users/${user.username}`,
        summary: {
          method: 'sso',
          issuer: identity.issuer,
          tokenId: created.id,
          prefix: created.prefix,
          expiresAt,
          clientAddress: client.address,
          teamsJoined: teams.joined,
          teamsLeft: teams.left,
          teamsKept: teams.kept,
        },
      });
      return {
        login: { token: created.token, expiresAt, username: user.username },
        teamsKept: teams.kept,
      };
    });
  }

  /** Creates the user of an identity seen for the first time, links it, and grants the default role. */
  private async createUser(
    tx: Executor,
    identity: { issuer: string; subject: string; preferredName: string | undefined },
    requestId: string,
  ): Promise<{ id: string; username: string }> {
    const username = await freeUsername(tx, usernameFrom(identity.preferredName));
    const id = `usr_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
    const at = now();
    await tx
      .insertInto('users')
      .values({ id, username, created_at: at, kind: 'user', password_hash: null })
      .execute();
    await tx
      .insertInto('oidc_identities')
      .values({
        issuer: identity.issuer,
        subject: identity.subject,
        user_id: id,
        created_at: at,
        last_sign_in_at: at,
      })
      .execute();
    const role = this.settings.defaultRole ?? 'member';
    if (role !== 'none') {
      await tx
        .insertInto('role_grants')
        .values({
          subject_kind: 'user',
          subject_id: id,
          role,
          scope_kind: 'org',
          scope_id: '',
          created_by: SYSTEM_ACTORS.pave,
          created_at: at,
        })
        .execute();
    }
    await recordAudit(tx, systemContext(SYSTEM_ACTORS.pave, requestId), {
      action: 'user.create',
      target: `users/${username}`,
      summary: {
        username,
        kind: 'user',
        hasPassword: false,
        via: 'sso',
        issuer: identity.issuer,
        subject: identity.subject,
        role: role === 'none' ? null : role,
      },
    });
    return { id, username };
  }
}

/**
 * Makes SSO sign-ins that finish at the same moment take turns, so that two first sign-ins (one subject in
 * two browser tabs, or two people whose names make the same username) do not both create the user: the second
 * finds the first's user, or takes the next free name. On PostgreSQL (read committed, several replicas) that
 * is a transaction-scoped advisory lock, held until commit or rollback; each later statement then sees what
 * the first committed. SQLite needs none: Pave's one connection to it runs one transaction at a time.
 */
async function lockSignIns(store: Store, tx: Executor): Promise<void> {
  if (store.engine === 'postgres') {
    await sql`select pg_advisory_xact_lock(hashtext('pave.sso-sign-ins'))`.execute(tx);
  }
}

function refused(message: string, fix: string): SsoRefusal {
  return new SsoRefusal(new AuthenticationError(message, [{ path: 'sso', message: fix }]), null);
}

/** What a failed code exchange or ID token check means, in words a user can act on. */
function validationRefusal(error: unknown): SsoRefusal {
  const { message, code, cause } = error as { message: string; code?: string; cause?: { message?: string } };
  // openid-client's errors say what kind of check failed; the check itself is in their cause.
  const detail = `${message} ${cause?.message ?? ''}`;
  const again = 'start the sign-in again; if it keeps failing, ask your SSO admin';
  if (error instanceof oidc.ResponseBodyError || error instanceof oidc.AuthorizationResponseError) {
    const description = error.error_description ? `: ${error.error_description}` : '';
    return refused(`the SSO provider refused the sign-in (${error.error}${description})`, again);
  }
  if (/signature/i.test(detail)) {
    return refused('the ID token is not signed by the SSO provider (its signature does not verify)', again);
  }
  if (/"aud"|"azp"/.test(detail)) {
    return refused(
      'the ID token was issued for another client (its audience is not this Pave)',
      'check --oidc-client-id; start the sign-in again',
    );
  }
  if (/"exp"|"iat"|"nbf"/.test(detail) || code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED') {
    return refused('the ID token has expired (or its times are not valid now)', `${again}; check the clocks`);
  }
  if (/"nonce"/.test(detail)) {
    return refused('the ID token is not for this sign-in (nonce)', again);
  }
  if (/"iss"/.test(detail)) {
    return refused('the ID token comes from another issuer', 'check --oidc-issuer; start the sign-in again');
  }
  return refused(`the SSO provider's answer did not validate: ${message}`, again);
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/**
 * A username (a DNS label) from a provider's preferred username or email: the part before `@`, lower case,
 * other characters as `-`; `user` when nothing is left.
 */
export function usernameFrom(name: string | undefined): string {
  const local = (name ?? '').split('@')[0]!.toLowerCase();
  const label = local
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 50)
    .replace(/-+$/, '');
  return label && isDnsLabel(label) ? label : 'user';
}

/**
 * `base`, or `base-2`, `base-3`, … : the first that no user or service account has and that is not reserved
 * for Pave's own actions (a provider's `system` becomes `system-2`).
 */
async function freeUsername(tx: Executor, base: string): Promise<string> {
  const taken = new Set(
    (
      await tx
        .selectFrom('users')
        .select('username')
        .where((eb) => eb.or([eb('username', '=', base), eb('username', 'like', `${base}-%`)]))
        .execute()
    ).map((row) => row.username),
  );
  const free = (name: string) => !taken.has(name) && !isReservedUsername(name);
  if (free(base)) return base;
  for (let n = 2; ; n += 1) {
    if (free(`${base}-${n}`)) return `${base}-${n}`;
  }
}

/**
 * Makes the user a member of exactly those teams following an SSO group that `groups` holds: joins the
 * ones they are missing, leaves the others. Teams without a group are left alone. Audited per change.
 * Like removing a member by hand, leaving never takes the organisation's last org admin away: such a team is
 * kept (audited as `team.member.keep`, with why) and the sign-in goes on, since refusing it would lock the
 * organisation out just the same. The user leaves at a later sign-in, once someone else is an org admin.
 */
async function syncTeams(
  store: Store,
  tx: Executor,
  user: { id: string; username: string },
  groups: string[],
  context: ReturnType<typeof systemContext>,
): Promise<{ joined: string[]; left: string[]; kept: string[] }> {
  const following = await tx
    .selectFrom('teams')
    .select(['id', 'oidc_group'])
    .where('oidc_group', 'is not', null)
    .orderBy('id')
    .execute();
  const current = new Map(
    (
      await tx
        .selectFrom('team_members')
        .select(['team_id', 'added_at'])
        .where('user_id', '=', user.id)
        .execute()
    ).map((row) => [row.team_id, row.added_at]),
  );
  const inGroups = new Set(groups);
  const toJoin = following.filter((team) => inGroups.has(team.oidc_group!) && !current.has(team.id));
  const toLeave = following.filter((team) => !inGroups.has(team.oidc_group!) && current.has(team.id));
  // Joins first: a user moving from one team that makes them org admin to another stays one throughout.
  for (const team of toJoin) {
    await tx
      .insertInto('team_members')
      .values({ team_id: team.id, user_id: user.id, added_at: now() })
      .execute();
  }
  const left: string[] = [];
  const kept: string[] = [];
  if (toLeave.length > 0) {
    // Counted in turn with concurrent changes to org admins (see keepingAnOrgAdmin).
    await lockOrgAdmins(store, tx);
    const before = await countOrgAdmins(tx);
    for (const team of toLeave) {
      await tx
        .deleteFrom('team_members')
        .where('team_id', '=', team.id)
        .where('user_id', '=', user.id)
        .execute();
      if (before > 0 && (await countOrgAdmins(tx)) === 0) {
        // Put back as it was: leaving this team would leave nobody who can manage Pave.
        await tx
          .insertInto('team_members')
          .values({ team_id: team.id, user_id: user.id, added_at: current.get(team.id)! })
          .execute();
        kept.push(team.id);
      } else {
        left.push(team.id);
      }
    }
  }
  const joined = toJoin.map((team) => team.id);
  for (const team of joined) {
    await recordAudit(tx, context, {
      action: 'team.member.add',
      target: `teams/${team}`,
      summary: { team, username: user.username, via: 'sso' },
    });
  }
  for (const team of left) {
    await recordAudit(tx, context, {
      action: 'team.member.remove',
      target: `teams/${team}`,
      summary: { team, username: user.username, via: 'sso' },
    });
  }
  for (const team of kept) {
    await recordAudit(tx, context, {
      action: 'team.member.keep',
      target: `teams/${team}`,
      summary: {
        team,
        username: user.username,
        via: 'sso',
        reason:
          `${user.username} is the last org admin (through team ${team}): their SSO groups no longer name ` +
          "the team's group, but leaving it would leave nobody to manage Pave; make another user an org " +
          'admin, and they leave the team at their next sign-in',
      },
    });
  }
  return { joined, left, kept };
}
