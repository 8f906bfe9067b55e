import type { AuthMethods } from './sso.ts';
import { redactUrlPassword } from './urls.ts';
import type {
  CreateDeploymentBody,
  Deployment,
  DeploymentDetail,
  DeploymentPage,
  DeploymentPlan,
  EnvironmentStatus,
  LogEvent,
  RollbackBody,
  SetDiff,
} from './deployments.ts';
import type {
  ImportValuesBody,
  PatchValuesBody,
  RotationResult,
  ValueList,
  ValuesChanged,
  ValuesDiff,
  ValuesVersionPage,
} from './values.ts';
import type {
  App,
  AppDetail,
  AppPage,
  AppStatus,
  AuditHead,
  AuditPage,
  AuditQuery,
  AuditVerification,
  CreateAppBody,
  CreateEnvTypeBody,
  CreateEnvironmentBody,
  CreateTokenBody,
  CreatedToken,
  EnvType,
  EnvTypePage,
  Environment,
  EnvironmentDetail,
  EnvironmentPage,
  ExtendEnvironmentBody,
  Problem,
  TokenPage,
  UpdateEnvTypeBody,
  WhoAmI,
} from './api.ts';
import type { MatchExplanation } from './matching.ts';
import type { Insights } from './insights.ts';
import type {
  Artifact,
  ArtifactPage,
  CreateRuleInput,
  PushArtifactInput,
  PushedArtifact,
  Rule,
  RulePage,
} from './artifacts.ts';
import type { EventListQuery, EventPage, EventQuery, PaveEvent } from './events.ts';
import type { CatalogEntityList, CatalogQuery } from './catalog.ts';
import type {
  CreateWebhookInput,
  CreatedWebhook,
  DisableWebhookInput,
  RotateWebhookSecretInput,
  RotatedWebhookSecret,
  UpdateWebhookInput,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryPage,
  WebhookPage,
  WebhookTestResult,
} from './webhooks.ts';
import type { Permission } from './permissions.ts';
import type { Approval, ApprovalPage, ApproveBody, RejectBody } from './approvals.ts';
import type { CanIResult, RoleGrant, RoleGrantBody, RoleGrantPage } from './roles.ts';
import type {
  CreateTeamBody,
  UpdateTeamBody,
  CreateUserBody,
  LoginBody,
  LoginFailuresCleared,
  LoginResult,
  PasswordChanged,
  SetPasswordBody,
  Team,
  TeamPage,
  User,
  UserPage,
} from './identities.ts';
import type {
  DefinitionPage,
  DefinitionsPlan,
  MoveResourceBody,
  Resource,
  ResourceDefinition,
  ResourceDefinitionInput,
  ResourceGraph,
  ResourcePage,
} from './resources.ts';
import type {
  ApplyTargetsBody,
  RenderFormat,
  RenderResult,
  RuntimeTargetView,
  TargetPage,
} from './targets.ts';
import type {
  ApplyProfilesBody,
  ProfileMatch,
  ProfilePage,
  ProfilesPlan,
  WorkloadProfileRecord,
} from './profiles.ts';
import type { ApplyPoliciesBody, PoliciesPlan, PolicyPage, PolicyRecord } from './policies.ts';

import type {
  InstantiateTemplateBody,
  RenderTemplateBody,
  RenderedTemplate,
  TemplateApplied,
  TemplateInput,
  TemplateInstance,
  TemplateInstancePlan,
  TemplatePage,
  TemplateRecord,
} from './templates.ts';

/** The server answered with an error; `problem` is its RFC 9457 body. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail || problem.title);
  }
}

/** What to do about a request body to `path` over REQUEST_BODY_LIMIT_BYTES, by what the request sends. */
function tooLargeAdvice(path: string): string {
  if (/\/(deployments|artifacts)$/.test(path)) {
    return 'send less: split the deployment, or keep large files out of the Score file (e.g. in the image)';
  }
  if (path.endsWith('/values/import')) return 'import the file in parts, each under 1 MiB';
  if (path.endsWith('/values')) return 'set fewer values at once, or keep large files out of values';
  return 'send less';
}

/** The largest request body the server takes: 1 MiB. */
export const REQUEST_BODY_LIMIT_BYTES = 1_048_576;

/** A problem the client finds itself, before sending: shaped as the server's, so it is shown the same way. */
function clientProblem(detail: string, path: string, message: string): Problem {
  return {
    type: 'about:blank',
    title: 'Not sent',
    status: 0,
    detail,
    requestId: '',
    errors: [{ path, message }],
  };
}

/** The server could not be reached at all. */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
}

// By name, not instanceof: the fetch may come from a bundle with a copy of this module of its own.
function isConnectionError(error: unknown): error is ConnectionError {
  return error instanceof Error && error.name === 'ConnectionError';
}

/** How many times in a row `streamEvents` connects again after its stream dropped, before it gives up. */
export const STREAM_RECONNECTS = 6;

/** The server ended an event stream with an error message (internal to streamEvents). */
class StreamEndedError extends Error {
  override name = 'StreamEndedError';
}

export interface PaveClientOptions {
  /** Base URL of the control plane, e.g. http://127.0.0.1:7300 */
  server: string;
  /** A bearer token (`pave_…`). */
  token?: string | undefined;
  /**
   * The fetch to send requests with (default: the global one). One that gives up on its own (the CLI's request
   * timeout) may reject with a ConnectionError saying why: the client passes it on as it is.
   */
  fetch?: typeof fetch;
  /**
   * The fetch to send the requests that wait for drivers with ({@link waitsForDrivers}; default: `fetch`), so
   * that one giving up on slow answers can let these take as long as the drivers do.
   */
  fetchWaitingForDrivers?: typeof fetch;
}

/**
 * The requests the server answers only once drivers have done their work, which may rightly take minutes (a
 * terraform destroy or plan, an exec driver's delete): deleting an environment, deleting an app (all its
 * environments), a deployment plan (`plan: true`: `deploy --plan`, `promote --plan`) and checking an
 * environment's resources (each driver reads its resource). Paths are under /api/v1, without the query.
 */
const REQUESTS_WAITING_FOR_DRIVERS: ReadonlyArray<{ method: string; path: RegExp; plan?: true }> = [
  { method: 'DELETE', path: /^\/apps\/[^/]+$/ },
  { method: 'DELETE', path: /^\/apps\/[^/]+\/envs\/[^/]+$/ },
  { method: 'POST', path: /^\/apps\/[^/]+\/envs\/[^/]+\/deployments$/, plan: true },
  { method: 'GET', path: /^\/apps\/[^/]+\/envs\/[^/]+\/resources\/check$/ },
];

/**
 * Whether the server answers `method path` (under /api/v1, without the query; `body` as sent) only when drivers
 * have done their work (see REQUESTS_WAITING_FOR_DRIVERS), so that the answer may take minutes.
 */
export function waitsForDrivers(method: string, path: string, body?: unknown): boolean {
  return REQUESTS_WAITING_FOR_DRIVERS.some(
    (request) =>
      request.method === method &&
      request.path.test(path) &&
      (!request.plan || (body as { plan?: unknown } | undefined)?.plan === true),
  );
}

type Query = Record<string, string | number | boolean | undefined>;

/**
 * A thin typed client of the REST API, shared by the CLI and the portal. Every method resolves with the
 * response body, or rejects with ApiError (the server refused) or ConnectionError (it was not reached).
 */
export class PaveClient {
  readonly server: string;
  /** The server as messages show it: without a password its URL may carry. */
  private readonly shownServer: string;
  private readonly token: string | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly fetchWaitingForDrivers: typeof fetch;

  constructor(options: PaveClientOptions) {
    this.server = options.server.replace(/\/+$/, '');
    this.shownServer = redactUrlPassword(this.server);
    this.token = options.token;
    this.fetchImpl = options.fetch ?? fetch;
    this.fetchWaitingForDrivers = options.fetchWaitingForDrivers ?? this.fetchImpl;
  }

  /**
   * Sends one request to `/api/v1{path}` and returns the parsed JSON body (undefined for 204). Refuses, without
   * sending, a path with an empty segment (an empty id would make `/apps/` of `/apps/{app}`, another route)
   * and a body over REQUEST_BODY_LIMIT_BYTES (the server would cut the connection while it is sent).
   */
  async request<T>(
    method: string,
    path: string,
    options: { body?: unknown; query?: Query } = {},
  ): Promise<T> {
    if (path.split('/').slice(1).includes('')) {
      throw new ApiError(
        400,
        clientProblem(
          `an id in the request is empty (${method} /api/v1${path})`,
          'url',
          'give every id a value',
        ),
      );
    }
    const sent = options.body === undefined ? undefined : JSON.stringify(options.body);
    const size = sent === undefined ? 0 : new TextEncoder().encode(sent).length;
    if (size > REQUEST_BODY_LIMIT_BYTES) {
      const mib = (size / 1_048_576).toFixed(1);
      throw new ApiError(
        413,
        clientProblem(`the request is ${mib} MiB; Pave takes at most 1 MiB`, '/', tooLargeAdvice(path)),
      );
    }
    const url = new URL(`${this.server}/api/v1${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      const send = waitsForDrivers(method, path, options.body) ? this.fetchWaitingForDrivers : this.fetchImpl;
      response = await send(url, {
        method,
        headers,
        ...(sent !== undefined ? { body: sent } : {}),
      });
    } catch (error) {
      throw this.unreachable(error);
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const problem = isProblem(body)
        ? body
        : {
            type: 'about:blank',
            title: response.statusText || 'Error',
            status: response.status,
            detail: `the server at ${this.shownServer} answered ${response.status} without a problem document`,
            requestId: response.headers.get('x-request-id') ?? '',
            errors: [],
          };
      throw new ApiError(response.status, problem);
    }
    // Every answer of the API is a JSON object; anything else (an HTML page, a cut-off body) is not Pave's.
    if (text && (typeof body !== 'object' || body === null || Array.isArray(body))) {
      throw new ApiError(response.status, notPaveAnswer(this.shownServer, response, 'a JSON object'));
    }
    return body as T;
  }

  /** The error for a request that did not reach the server: its system error's code, and what to do. */
  private unreachable(error: unknown): Error {
    if (isConnectionError(error)) return error as Error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return new ConnectionError(
      `cannot reach Pave at ${this.shownServer} (${cause?.code ?? cause?.message ?? String(error)}); ` +
        'start it with `pave up` or pass --server',
    );
  }

  whoami() {
    return this.request<WhoAmI>('GET', '/whoami');
  }
  listApps(query: { limit?: number; cursor?: string } = {}) {
    return this.request<AppPage>('GET', '/apps', { query });
  }
  getApp(app: string) {
    return this.request<AppDetail>('GET', `/apps/${encodeURIComponent(app)}`);
  }
  createApp(body: CreateAppBody) {
    return this.request<App>('POST', '/apps', { body });
  }
  deleteApp(app: string, options: { force?: boolean } = {}) {
    return this.request<void>('DELETE', `/apps/${encodeURIComponent(app)}`, {
      query: { force: options.force ? 'true' : undefined },
    });
  }
  /** A page of the environment types, by id; `allPages` gives them all. */
  listEnvTypes(query: { limit?: number; cursor?: string } = {}) {
    return this.request<EnvTypePage>('GET', '/env-types', { query });
  }
  createEnvType(body: CreateEnvTypeBody) {
    return this.request<EnvType>('POST', '/env-types', { body });
  }
  getEnvType(type: string) {
    return this.request<EnvType>('GET', `/env-types/${encodeURIComponent(type)}`);
  }
  /** Changes the fields given; `minReadySeconds: null` resets the stability window to the default. */
  updateEnvType(type: string, body: UpdateEnvTypeBody) {
    return this.request<EnvType>('PATCH', `/env-types/${encodeURIComponent(type)}`, { body });
  }
  /** A page of the environments of `app`, by id (`nextCursor` fetches the next). */
  listEnvironments(app: string, query: { limit?: number; cursor?: string } = {}) {
    return this.request<EnvironmentPage>('GET', `/apps/${encodeURIComponent(app)}/envs`, { query });
  }
  /** An environment, with the runtime target a deployment of it would use now. */
  getEnvironment(app: string, env: string) {
    return this.request<EnvironmentDetail>(
      'GET',
      `/apps/${encodeURIComponent(app)}/envs/${encodeURIComponent(env)}`,
    );
  }
  createEnvironment(app: string, body: CreateEnvironmentBody) {
    return this.request<Environment>('POST', `/apps/${encodeURIComponent(app)}/envs`, { body });
  }
  /** Deletes an environment: its workloads are stopped and its resources (databases included) deleted. */
  deleteEnvironment(app: string, env: string) {
    return this.request<void>('DELETE', `/apps/${encodeURIComponent(app)}/envs/${encodeURIComponent(env)}`);
  }
  /** Sets an ephemeral environment's expiry to `ttlSeconds` from now. */
  extendEnvironment(app: string, env: string, body: ExtendEnvironmentBody) {
    return this.request<Environment>('POST', `${envPath(app, env)}/extend`, { body });
  }
  /** A page of the resource definitions, the built-in ones included, by id. */
  listResourceDefinitions(query: { limit?: number; cursor?: string } = {}) {
    return this.request<DefinitionPage>('GET', '/resource-definitions', { query });
  }
  getResourceDefinition(id: string) {
    return this.request<ResourceDefinition>('GET', `/resource-definitions/${encodeURIComponent(id)}`);
  }
  /** Deletes a resource definition; refused while a resource uses it, unless `force`. */
  deleteResourceDefinition(id: string, options: { force?: boolean } = {}) {
    return this.request<void>('DELETE', `/resource-definitions/${encodeURIComponent(id)}`, {
      query: { force: options.force ? 'true' : undefined },
    });
  }
  /**
   * Applies definitions declaratively: creates the new ones, updates the changed ones, leaves the rest; with
   * `dryRun` only answers what it would change.
   */
  applyResourceDefinitions(body: { definitions: ResourceDefinitionInput[]; dryRun?: boolean }) {
    return this.request<DefinitionsPlan>('POST', '/resource-definitions/apply', { body });
  }
  /** Which definition provisions a resource of `type` in an app's environment, and why the others do not. */
  matchResourceDefinition(query: { app: string; env: string; type: string; class?: string; id?: string }) {
    return this.request<MatchExplanation>('GET', '/resource-definitions/match', { query });
  }
  /** A page of the runtime targets, the built-in `local` one included, by id. */
  listTargets(query: { limit?: number; cursor?: string } = {}) {
    return this.request<TargetPage>('GET', '/runtime-targets', { query });
  }
  getTarget(id: string) {
    return this.request<RuntimeTargetView>('GET', `/runtime-targets/${encodeURIComponent(id)}`);
  }
  /** Deletes a runtime target; refused while an environment runs on it, and for the built-in one. */
  deleteTarget(id: string) {
    return this.request<void>('DELETE', `/runtime-targets/${encodeURIComponent(id)}`);
  }
  /**
   * Applies runtime targets declaratively: creates the new ones, updates the changed ones, leaves the rest;
   * with `dryRun` only answers what it would change.
   */
  applyTargets(body: ApplyTargetsBody) {
    return this.request<DefinitionsPlan>('POST', '/runtime-targets/apply', { body });
  }
  /** Which runtime target an app's environment runs on, and why the others do not match. */
  matchTarget(query: { app: string; env: string }) {
    return this.request<MatchExplanation>('GET', '/runtime-targets/match', { query });
  }
  /**
   * An environment's current set rendered as manifests for a target (default: its own), or as a Compose file
   * (`format: 'compose'`), applying nothing.
   */
  render(app: string, env: string, query: { target?: string; format?: RenderFormat } = {}) {
    return this.request<RenderResult>('GET', `${envPath(app, env)}/render`, { query });
  }
  /** A page of the policies, by id. */
  listPolicies(query: { limit?: number; cursor?: string } = {}) {
    return this.request<PolicyPage>('GET', '/policies', { query });
  }
  getPolicy(id: string) {
    return this.request<PolicyRecord>('GET', `/policies/${encodeURIComponent(id)}`);
  }
  deletePolicy(id: string) {
    return this.request<void>('DELETE', `/policies/${encodeURIComponent(id)}`);
  }
  /**
   * Applies policies declaratively: creates the new ones, updates the changed ones, leaves the rest; with
   * `dryRun` only answers what it would change. Refuses the whole batch (ApiError with a problem per JSON
   * pointer such as `/policies/0/rule`) when one policy is invalid.
   */
  applyPolicies(body: ApplyPoliciesBody) {
    return this.request<PoliciesPlan>('POST', '/policies/apply', { body });
  }
  /** A page of the workload profiles, by id. */
  listProfiles(query: { limit?: number; cursor?: string } = {}) {
    return this.request<ProfilePage>('GET', '/profiles', { query });
  }
  getProfile(id: string) {
    return this.request<WorkloadProfileRecord>('GET', `/profiles/${encodeURIComponent(id)}`);
  }
  deleteProfile(id: string) {
    return this.request<void>('DELETE', `/profiles/${encodeURIComponent(id)}`);
  }
  /**
   * Applies workload profiles declaratively: creates the new ones, updates the changed ones, leaves the
   * rest; with `dryRun` only answers what it would change.
   */
  applyProfiles(body: ApplyProfilesBody) {
    return this.request<ProfilesPlan>('POST', '/profiles/apply', { body });
  }
  /** Which profiles apply to an app's environment, most specific first. */
  matchProfiles(query: { app: string; env: string }) {
    return this.request<ProfileMatch>('GET', '/profiles/match', { query });
  }
  /** A page of the resources of an environment, by address (`nextCursor` fetches the next). */
  listResources(app: string, env: string, query: { limit?: number; cursor?: string } = {}) {
    return this.request<ResourcePage>('GET', `${envPath(app, env)}/resources`, { query });
  }
  /** One resource by its address, e.g. `api.db` or `shared.main`. */
  getResource(app: string, env: string, address: string) {
    return this.request<Resource>('GET', `${envPath(app, env)}/resources/${encodeURIComponent(address)}`);
  }
  /** Re-points a resource at a new address (a renamed Score resource), keeping its data. */
  moveResource(app: string, env: string, body: MoveResourceBody) {
    return this.request<Resource>('POST', `${envPath(app, env)}/resources/move`, { body });
  }
  resourceGraph(app: string, env: string) {
    return this.request<ResourceGraph>('GET', `${envPath(app, env)}/resource-graph`);
  }
  /**
   * One page of role grants, in the order they were granted: with `app` only those on that app (owners and
   * developers), with `user` only theirs (admins). `cursor`: a previous page's nextCursor (same filters).
   */
  listRoles(query: { app?: string; user?: string; limit?: number; cursor?: string } = {}) {
    return this.request<RoleGrantPage>('GET', '/roles', { query });
  }
  /** Grants a role to a user or a team; resolves with the grant (409 if they hold it already). */
  grantRole(body: RoleGrantBody) {
    return this.request<RoleGrant>('POST', '/roles', { body });
  }
  /** Revokes a role from a user or a team (404 if they do not hold it; refused for the last org admin). */
  revokeRole(body: RoleGrantBody) {
    return this.request<void>('POST', '/roles/revoke', { body });
  }
  /** Whether the caller (or, for admins, the user `as`) may do `action`, on an app or environment, and why. */
  canI(query: { action: Permission; app?: string; env?: string; as?: string }) {
    return this.request<CanIResult>('GET', '/auth/can-i', { query });
  }
  /**
   * One page of your tokens, newest first, or with `user` (admins) that user's or service account's;
   * `cursor`: a previous page's nextCursor (same `user`).
   */
  listTokens(query: { user?: string; limit?: number; cursor?: string } = {}) {
    return this.request<TokenPage>('GET', '/tokens', { query });
  }
  createToken(body: CreateTokenBody) {
    return this.request<CreatedToken>('POST', '/tokens', { body });
  }
  /** Revokes one of your tokens, or (admins) any user's or service account's; it stops working at once. */
  revokeToken(id: string) {
    return this.request<void>('DELETE', `/tokens/${encodeURIComponent(id)}`);
  }
  /** Logs in with a username and password; resolves with a new token valid for 12 hours (needs no token). */
  login(body: LoginBody) {
    return this.request<LoginResult>('POST', '/auth/login', { body });
  }
  /** How one may sign in to the server: password, SSO (needs no token). */
  authMethods() {
    return this.request<AuthMethods>('GET', '/auth/methods');
  }
  /** One page of users and service accounts, by username, with their teams; `cursor`: a previous nextCursor. */
  listUsers(query: { limit?: number; cursor?: string } = {}) {
    return this.request<UserPage>('GET', '/users', { query });
  }
  /** Creates a user (with an optional password) or a service account (`kind: 'service'`, no password). */
  createUser(body: CreateUserBody) {
    return this.request<User>('POST', '/users', { body });
  }
  /** Deletes a user with their tokens, team memberships and roles; refused for yourself and the last admin. */
  deleteUser(username: string) {
    return this.request<void>('DELETE', `/users/${encodeURIComponent(username)}`);
  }
  /** Forgets a user's failed logins, so that they may log in again at once (admins). */
  unlockUser(username: string) {
    return this.request<LoginFailuresCleared>(
      'DELETE',
      `/users/${encodeURIComponent(username)}/login-failures`,
    );
  }
  /**
   * Sets a user's password: your own (with `currentPassword` when you have one), or as an admin anyone's.
   * Revokes the user's other tokens.
   */
  setPassword(username: string, body: SetPasswordBody) {
    return this.request<PasswordChanged>('PUT', `/users/${encodeURIComponent(username)}/password`, { body });
  }
  /** One page of teams, by id, with their members; `cursor`: a previous page's nextCursor. */
  listTeams(query: { limit?: number; cursor?: string } = {}) {
    return this.request<TeamPage>('GET', '/teams', { query });
  }
  createTeam(body: CreateTeamBody) {
    return this.request<Team>('POST', '/teams', { body });
  }
  /** Changes a team: the SSO group it follows (null: by hand only); resolves with the team. */
  updateTeam(team: string, body: UpdateTeamBody) {
    return this.request<Team>('PATCH', `/teams/${encodeURIComponent(team)}`, { body });
  }
  /** Deletes a team and the roles granted to it; its members stay. */
  deleteTeam(team: string) {
    return this.request<void>('DELETE', `/teams/${encodeURIComponent(team)}`);
  }
  /** Adds a user to a team (nothing changes if they already are a member); resolves with the team. */
  addTeamMember(team: string, username: string) {
    return this.request<Team>('PUT', teamMemberPath(team, username));
  }
  removeTeamMember(team: string, username: string) {
    return this.request<void>('DELETE', teamMemberPath(team, username));
  }
  listAudit(query: AuditQuery = {}) {
    return this.request<AuditPage>('GET', '/audit', { query });
  }
  /**
   * Walks the audit log's hash chain; `ok: false` (still a 200) when the store was changed outside Pave. With
   * `head` (`SEQ:HASH`, as {@link getAuditHead} gave it earlier), the entry at SEQ must still have that hash.
   */
  verifyAudit(options: { head?: string } = {}) {
    return this.request<AuditVerification>('GET', '/audit/verify', { query: { head: options.head } });
  }
  /** The head of the audit chain (newest position and hash), to publish outside Pave. */
  getAuditHead() {
    return this.request<AuditHead>('GET', '/audit/head');
  }
  /** Queues a deployment (202); with `plan: true` only returns what would change. */
  createDeployment(app: string, env: string, body: CreateDeploymentBody) {
    return this.request<Deployment | DeploymentPlan>('POST', `${envPath(app, env)}/deployments`, { body });
  }
  /** App-level values (env absent) or an environment's effective values; secrets masked unless `reveal`. */
  listValues(app: string, env?: string, options: { reveal?: boolean } = {}) {
    return this.request<ValueList>('GET', `${valuesPath(app, env)}`, {
      query: { reveal: options.reveal ? 'true' : undefined },
    });
  }
  /** Sets and unsets values at app level (env absent) or for one environment; each change is a new version. */
  patchValues(app: string, env: string | undefined, body: PatchValuesBody) {
    return this.request<ValuesChanged>('PATCH', valuesPath(app, env), { body });
  }
  /** Imports a dotenv file; a malformed file is refused whole, naming its bad lines. */
  importValues(app: string, env: string | undefined, body: ImportValuesBody) {
    return this.request<ValuesChanged>('POST', `${valuesPath(app, env)}/import`, { body });
  }
  /** A page of the versions of an environment's values, newest first (`nextCursor` fetches older ones). */
  valuesHistory(app: string, env: string, query: { limit?: number; cursor?: string } = {}) {
    return this.request<ValuesVersionPage>('GET', `${envPath(app, env)}/values/versions`, { query });
  }
  /**
   * Compares two versions of an environment's values (`to`: the newest unless given; `from`: the one before
   * `to` unless given; 0 is before any value); secrets show only whether they changed.
   */
  valuesDiff(app: string, env: string, query: { from?: number; to?: number } = {}) {
    return this.request<ValuesDiff>('GET', `${envPath(app, env)}/values/diff`, { query });
  }
  /** Restores an earlier version of an environment's values, as a new version. */
  rollbackValues(app: string, env: string, version: number) {
    return this.request<ValuesChanged>('POST', `${envPath(app, env)}/values/rollback`, { body: { version } });
  }
  /** Re-wraps every data key with a new master key. */
  rotateMasterKey() {
    return this.request<RotationResult>('POST', '/admin/rotate-master-key', { body: {} });
  }
  /** Queues a rollback deployment (202). */
  rollback(app: string, env: string, body: RollbackBody = {}) {
    return this.request<Deployment>('POST', `${envPath(app, env)}/rollback`, { body });
  }
  listDeployments(app: string, env: string, query: { limit?: number; cursor?: string } = {}) {
    return this.request<DeploymentPage>('GET', `${envPath(app, env)}/deployments`, { query });
  }
  getDeployment(app: string, env: string, id: string) {
    return this.request<DeploymentDetail>(
      'GET',
      `${envPath(app, env)}/deployments/${encodeURIComponent(id)}`,
    );
  }
  /** Cancels a queued deployment (409 once it has started). */
  cancelDeployment(app: string, env: string, id: string) {
    return this.request<DeploymentDetail>(
      'POST',
      `${envPath(app, env)}/deployments/${encodeURIComponent(id)}/cancel`,
    );
  }
  getStatus(app: string, env: string) {
    return this.request<EnvironmentStatus>('GET', `${envPath(app, env)}/status`);
  }
  /** The live status and health of every environment of `app` the caller may read, in one request. */
  getAppStatus(app: string) {
    return this.request<AppStatus>('GET', `/apps/${encodeURIComponent(app)}/status`);
  }
  /** The DORA measures of `app`'s deployments over a window (`since`: `30d`, `12w`, `24h`). */
  getInsights(app: string, query: { env?: string; since?: string } = {}) {
    return this.request<Insights>('GET', `/apps/${encodeURIComponent(app)}/insights`, { query });
  }
  diff(app: string, env: string, query: { from?: string; to?: string; toEnv?: string } = {}) {
    return this.request<SetDiff>('GET', `${envPath(app, env)}/diff`, { query });
  }

  /**
   * Streams log lines of an environment (Server-Sent Events). Ends when the server ends the stream, or
   * when `signal` aborts; rejects with ConnectionError when the server sends an error, or the stream is cut
   * off before its end.
   */
  async *logs(
    app: string,
    env: string,
    query: { workload?: string; tail?: number; since?: string; follow?: boolean },
    signal?: AbortSignal,
  ): AsyncGenerator<LogEvent> {
    const url = new URL(`${this.server}/api/v1${envPath(app, env)}/logs`);
    if (query.workload) url.searchParams.set('workload', query.workload);
    if (query.tail !== undefined) url.searchParams.set('tail', String(query.tail));
    if (query.since !== undefined) url.searchParams.set('since', query.since);
    if (query.follow) url.searchParams.set('follow', 'true');
    // The server ends a stream it finished with `end`, and one the runtime failed with `error` and why.
    let ended = false;
    const noLogs = `the runtime of ${app}/${env}'s target keeps no logs: read them where its workloads run`;
    for await (const message of this.serverSentEvents(url, signal, noLogs)) {
      if (message.event === 'log') yield JSON.parse(message.data) as LogEvent;
      if (message.event === 'end') ended = true;
      if (message.event === 'error') {
        const { message: text } = JSON.parse(message.data) as { message?: string };
        throw new ConnectionError(`the log stream ended: ${text ?? 'the server sent an error'}`);
      }
    }
    if (!ended && !signal?.aborted) {
      throw new ConnectionError(
        `the log stream from ${this.shownServer} was cut off before its end (did the server stop?)`,
      );
    }
  }

  /** Registers a build artifact (CI); the answer says which rules it triggered and what they queued. */
  pushArtifact(app: string, body: PushArtifactInput) {
    return this.request<PushedArtifact>('POST', `/apps/${encodeURIComponent(app)}/artifacts`, { body });
  }
  /** A page of the build artifacts of `app`, newest first (`nextCursor` fetches older ones). */
  listArtifacts(app: string, query: { limit?: number; cursor?: string } = {}) {
    return this.request<ArtifactPage>('GET', `/apps/${encodeURIComponent(app)}/artifacts`, { query });
  }
  getArtifact(app: string, id: string) {
    return this.request<Artifact>(
      'GET',
      `/apps/${encodeURIComponent(app)}/artifacts/${encodeURIComponent(id)}`,
    );
  }
  /** Creates an automation rule: artifacts of matching branches are deployed to `body.env` when pushed. */
  createRule(app: string, body: CreateRuleInput) {
    return this.request<Rule>('POST', `/apps/${encodeURIComponent(app)}/rules`, { body });
  }
  /** A page of the automation rules of `app`, oldest first (`nextCursor` fetches the next). */
  listRules(app: string, query: { limit?: number; cursor?: string } = {}) {
    return this.request<RulePage>('GET', `/apps/${encodeURIComponent(app)}/rules`, { query });
  }
  deleteRule(app: string, id: string) {
    return this.request<void>('DELETE', `/apps/${encodeURIComponent(app)}/rules/${encodeURIComponent(id)}`);
  }

  /**
   * A page of the Backstage catalog entities the caller may read (`pave catalog`): see docs/backstage.md.
   * `nextCursor` fetches the next page (allPages reads them all).
   */
  listCatalogEntities(query: CatalogQuery = {}) {
    return this.request<CatalogEntityList>('GET', '/catalog/entities', { query });
  }

  /**
   * A page of the events the caller may read: after `query.after`, oldest first; with `newest: 'true'`, newest
   * first (before `query.before`, the previous page's `nextBefore`).
   */
  listEvents(query: EventListQuery = {}) {
    return this.request<EventPage>('GET', '/events', { query });
  }

  /**
   * Streams events (Server-Sent Events): those after `query.after`, then each new one as it happens, until
   * `signal` aborts. When the connection drops (the server restarts, a proxy times out) it connects again
   * and resumes after the last event received, so none is missed or repeated; after
   * {@link STREAM_RECONNECTS} tries in a row without an event it rejects with ConnectionError. An error the
   * server sends on the stream (a token revoked meanwhile) ends it with ConnectionError saying so.
   */
  async *streamEvents(
    query: Omit<EventQuery, 'limit'> = {},
    signal?: AbortSignal,
  ): AsyncGenerator<PaveEvent> {
    let after = query.after;
    for (let failures = 0, tries = 0; ; failures += 1, tries += 1) {
      const url = new URL(`${this.server}/api/v1/events/stream`);
      for (const [key, value] of Object.entries({ ...query, after })) {
        if (value !== undefined) url.searchParams.set(key, String(value));
      }
      let dropped: unknown;
      try {
        for await (const message of this.serverSentEvents(url, signal)) {
          if (message.event === 'error') {
            const { message: text } = JSON.parse(message.data) as { message?: string };
            throw new StreamEndedError(`the event stream ended: ${text ?? 'the server sent an error'}`);
          }
          if (message.id === undefined) continue;
          after = message.id;
          failures = 0;
          yield JSON.parse(message.data) as PaveEvent;
        }
      } catch (error) {
        // A refusal (401, 403, 404, a bad parameter) or an error the server sent is final; a dropped
        // connection is tried again (an ApiError on a retry: the server came back and refuses, also final).
        if (error instanceof ApiError) throw error;
        if (error instanceof StreamEndedError) throw new ConnectionError(error.message);
        // A server that cannot be reached at all when following starts is said at once.
        if (tries === 0 && error instanceof ConnectionError) throw error;
        dropped = error;
      }
      if (signal?.aborted) return;
      if (failures >= STREAM_RECONNECTS) {
        const resume = after === undefined ? '' : ` (resume with --after ${after})`;
        throw new ConnectionError(
          `the event stream from ${this.shownServer} dropped and could not be resumed after ${STREAM_RECONNECTS} ` +
            `tries${dropped ? ` (${String(dropped)})` : ''}${resume}`,
        );
      }
      // 0.5 s, 1 s, 2 s, … between tries; Ctrl-C (the signal) ends the wait too.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 500 * 2 ** failures);
        signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      if (signal?.aborted) return;
    }
  }

  /** The messages of a Server-Sent Events response (comments skipped); ends quietly when `signal` aborts. */
  /**
   * The events of the stream at `url`. A 204 (a route that has no stream to give, as logs of a runtime that
   * keeps none) throws an ApiError saying `noContent`; other answers that are no event stream throw too.
   */
  private async *serverSentEvents(
    url: URL,
    signal?: AbortSignal,
    noContent = 'the server has no events to stream here',
  ): AsyncGenerator<{ event: string | undefined; id: string | undefined; data: string }> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await this.fetchImpl(url, { headers, ...(signal ? { signal } : {}) });
    } catch (error) {
      if (signal?.aborted) return;
      throw this.unreachable(error);
    }
    if (response.status === 204) {
      throw new ApiError(204, {
        type: 'about:blank',
        title: response.statusText,
        status: 204,
        detail: noContent,
        requestId: response.headers.get('x-request-id') ?? '',
        errors: [],
      });
    }
    if (!response.ok || !response.body) {
      const text = await response.text();
      let problem: Problem | undefined;
      try {
        problem = JSON.parse(text) as Problem;
      } catch {
        problem = undefined;
      }
      throw new ApiError(
        response.status,
        problem && isProblem(problem)
          ? problem
          : {
              type: 'about:blank',
              title: response.statusText,
              status: response.status,
              detail: text || response.statusText,
              requestId: response.headers.get('x-request-id') ?? '',
              errors: [],
            },
      );
    }
    // Read as a stream of events, an HTML page would end "successfully" having said nothing.
    const type = response.headers.get('content-type');
    if (!type?.toLowerCase().startsWith('text/event-stream')) {
      throw new ApiError(response.status, notPaveAnswer(this.shownServer, response, 'an event stream'));
    }
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of chunksOf(response.body)) {
        buffer += decoder.decode(chunk, { stream: true });
        let boundary: number;
        while ((boundary = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const field = (name: string) =>
            block
              .split('\n')
              .filter((line) => line.startsWith(`${name}:`))
              .map((line) => line.slice(name.length + 1).trimStart());
          const data = field('data').join('\n');
          if (data) yield { event: field('event')[0], id: field('id')[0], data };
        }
      }
    } catch (error) {
      if (signal?.aborted) return;
      throw error;
    }
  }

  /** Creates a webhook (of `app`, or org-wide); the answer holds its signing secret, shown only this once. */
  createWebhook(body: CreateWebhookInput) {
    return this.request<CreatedWebhook>('POST', '/webhooks', { body });
  }
  /** A page of the webhooks of an app, or without `app` of the org-wide ones, by name. */
  listWebhooks(query: { app?: string | undefined; limit?: number; cursor?: string } = {}) {
    return this.request<WebhookPage>('GET', '/webhooks', { query });
  }
  getWebhook(id: string) {
    return this.request<Webhook>('GET', webhookPath(id));
  }
  /** Deletes a webhook with its deliveries. */
  deleteWebhook(id: string) {
    return this.request<void>('DELETE', webhookPath(id));
  }
  /**
   * Changes a webhook's name, URL or event types (a field left out stays; `events: null` is every type);
   * answers the webhook as it is now.
   */
  updateWebhook(id: string, body: UpdateWebhookInput) {
    return this.request<Webhook>('PATCH', webhookPath(id), { body });
  }
  /**
   * Gives a webhook a new signing secret; the answer is the only place it appears. Deliveries are signed with
   * the old one as well for `previousValidFor` (24h unless given; `0s`: the old one stops at once).
   */
  rotateWebhookSecret(id: string, body: RotateWebhookSecretInput = {}) {
    return this.request<RotatedWebhookSecret>('POST', `${webhookPath(id)}/rotate-secret`, { body });
  }
  /** Enables a webhook again (after it was disabled); its failures in a row start again from 0. */
  enableWebhook(id: string) {
    return this.request<Webhook>('POST', `${webhookPath(id)}/enable`);
  }
  /**
   * Disables a webhook on purpose (a receiver under maintenance), `reason` saying why: nothing is sent until
   * it is enabled again, when it goes on from where it stopped.
   */
  disableWebhook(id: string, body: DisableWebhookInput = {}) {
    return this.request<Webhook>('POST', `${webhookPath(id)}/disable`, { body });
  }
  /** Sends a signed `webhook.test` message to the webhook now and answers what the receiver said. */
  testWebhook(id: string) {
    return this.request<WebhookTestResult>('POST', `${webhookPath(id)}/test`);
  }
  /** A page of a webhook's deliveries, newest first (`nextCursor` fetches older ones). */
  listWebhookDeliveries(id: string, query: { limit?: number; cursor?: string } = {}) {
    return this.request<WebhookDeliveryPage>('GET', `${webhookPath(id)}/deliveries`, { query });
  }
  /** Queues a new delivery of the same event to the same webhook. */
  redeliverWebhookDelivery(deliveryId: string) {
    return this.request<WebhookDelivery>(
      'POST',
      `/webhook-deliveries/${encodeURIComponent(deliveryId)}/redeliver`,
    );
  }

  /**
   * A page of the deployments awaiting approval the caller may see (of `app`, or of every app), newest first
   * (`nextCursor` fetches older ones).
   */
  listApprovals(query: { app?: string | undefined; limit?: number; cursor?: string } = {}) {
    return this.request<ApprovalPage>('GET', '/approvals', { query });
  }
  /** Deployment `id` awaiting approval, with what it would change. */
  getApproval(id: string) {
    return this.request<Approval>('GET', `/approvals/${encodeURIComponent(id)}`);
  }
  /** Approves deployment `id` (awaiting approval): it is queued and runs. Answers the deployment. */
  approveDeployment(id: string, body: ApproveBody = {}) {
    return this.request<DeploymentDetail>('POST', `/approvals/${encodeURIComponent(id)}/approve`, { body });
  }
  /** Rejects deployment `id` (awaiting approval) with the reason: it never runs. Answers the deployment. */
  rejectDeployment(id: string, body: RejectBody) {
    return this.request<DeploymentDetail>('POST', `/approvals/${encodeURIComponent(id)}/reject`, { body });
  }

  /** A page of the templates (golden paths), each at its latest version, by id. */
  listTemplates(query: { limit?: number; cursor?: string } = {}) {
    return this.request<TemplatePage>('GET', '/templates', { query });
  }
  /** A template at `version` (default: the latest). */
  getTemplate(id: string, version?: number) {
    return this.request<TemplateRecord>('GET', templatePath(id), { query: { version } });
  }
  /** Applies a template: a new version when its content changed, nothing when it did not. */
  applyTemplate(template: TemplateInput, options: { dryRun?: boolean } = {}) {
    return this.request<TemplateApplied>('PUT', templatePath(template.id), {
      body: template,
      query: { dryRun: options.dryRun ? 'true' : undefined },
    });
  }
  /** Deletes a template with every version. */
  deleteTemplate(id: string) {
    return this.request<void>('DELETE', templatePath(id));
  }
  /** Validates answers and renders a template's files and setup; creates nothing. */
  renderTemplate(id: string, body: RenderTemplateBody, version?: number) {
    return this.request<RenderedTemplate>('POST', `${templatePath(id)}/render`, { body, query: { version } });
  }
  /** Creates the app, environments and values of a template; answers with them and the files. */
  instantiateTemplate(id: string, body: InstantiateTemplateBody, version?: number) {
    return this.request<TemplateInstance>('POST', `${templatePath(id)}/instantiate`, {
      body,
      query: { version },
    });
  }
  /**
   * Instantiates a template as a dry run: every check of {@link instantiateTemplate} (the answers, the secret
   * values, a free app id, the permissions), nothing created; answers what it would create.
   */
  planTemplateInstance(id: string, body: InstantiateTemplateBody, version?: number) {
    return this.request<TemplateInstancePlan>('POST', `${templatePath(id)}/instantiate`, {
      body,
      query: { version, dryRun: 'true' },
    });
  }
}

function templatePath(id: string): string {
  return `/templates/${encodeURIComponent(id)}`;
}

function webhookPath(id: string): string {
  return `/webhooks/${encodeURIComponent(id)}`;
}

function teamMemberPath(team: string, username: string): string {
  return `/teams/${encodeURIComponent(team)}/members/${encodeURIComponent(username)}`;
}

function valuesPath(app: string, env: string | undefined): string {
  return env ? `${envPath(app, env)}/values` : `/apps/${encodeURIComponent(app)}/values`;
}

function envPath(app: string, env: string): string {
  return `/apps/${encodeURIComponent(app)}/envs/${encodeURIComponent(env)}`;
}

// The problem of a successful answer that is not what Pave sends (`expected`): an HTML page, a cut-off body.
function notPaveAnswer(server: string, response: Response, expected: string): Problem {
  return {
    type: 'about:blank',
    title: response.statusText || 'Not a Pave answer',
    status: response.status,
    detail:
      `the server at ${server} answered ${response.status} with something other than ${expected} ` +
      `(content type ${response.headers.get('content-type') ?? 'not given'}); is it a Pave server? ` +
      'Check --server or PAVE_SERVER',
    requestId: response.headers.get('x-request-id') ?? '',
    errors: [],
  };
}

function isProblem(body: unknown): body is Problem {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as Problem).title === 'string' &&
    Array.isArray((body as Problem).errors)
  );
}

/**
 * The chunks of a response body: with a stream reader where the body has one (a browser's fetch; Safari's
 * bodies are not async iterable), else as the async iterable it is (Node's, the CLI's own fetch). Stopping the
 * iteration early cancels the body, closing the connection, as `for await` over it does.
 */
async function* chunksOf(body: unknown): AsyncGenerator<Uint8Array> {
  const stream = body as Partial<ReadableStream<Uint8Array>> | null;
  if (typeof stream?.getReader !== 'function') {
    yield* body as AsyncIterable<Uint8Array>;
    return;
  }
  const reader = stream.getReader();
  let done = false;
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) yield read.value;
    done = true;
  } finally {
    if (!done) void reader.cancel().catch(() => undefined);
  }
}
