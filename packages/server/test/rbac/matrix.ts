import type { FastifyInstance } from 'fastify';
import type { Store } from '../../src/index.ts';
import { insertToken } from '../../src/domain/tokens.ts';

/** The roles the matrix asks as: each a user with exactly these grants. */
export const MATRIX_ROLES = [
  'admin',
  'platform',
  'member',
  'owner',
  'developer',
  'viewer',
  'developer+deployer',
  'developer+approver',
  'none',
] as const;
export type MatrixRole = (typeof MATRIX_ROLES)[number];

/** Where a request points: the caller's own app (an environment of an unrestricted and a restricted type), or another app. */
export const MATRIX_TARGETS = ['own/dev', 'own/prod', 'other'] as const;
export type MatrixTarget = (typeof MATRIX_TARGETS)[number];

/** What happened: authorised, refused with 403, or answered 404 as if the app did not exist. */
export type Outcome = 'allow' | 'deny' | 'hide';

/** The expected outcome of every route, by role and target: `routes[route][role]` is one letter per target. */
export type ExpectedMatrix = Record<string, Record<MatrixRole, string>>;

const LETTER: Record<Outcome, string> = { allow: 'A', deny: 'D', hide: 'H' };

/** Grants of each matrix role (apps: `own`, `other`; environment types: development, production). */
const GRANTS: Record<MatrixRole, Array<{ role: string; scopeKind: string; scopeId: string }>> = {
  admin: [{ role: 'admin', scopeKind: 'org', scopeId: '' }],
  platform: [{ role: 'platform', scopeKind: 'org', scopeId: '' }],
  member: [{ role: 'member', scopeKind: 'org', scopeId: '' }],
  owner: [{ role: 'owner', scopeKind: 'app', scopeId: 'own' }],
  developer: [{ role: 'developer', scopeKind: 'app', scopeId: 'own' }],
  viewer: [{ role: 'viewer', scopeKind: 'app', scopeId: 'own' }],
  'developer+deployer': [
    { role: 'developer', scopeKind: 'app', scopeId: 'own' },
    { role: 'deployer', scopeKind: 'env-type', scopeId: 'production' },
  ],
  'developer+approver': [
    { role: 'developer', scopeKind: 'app', scopeId: 'own' },
    { role: 'approver', scopeKind: 'env-type', scopeId: 'production' },
  ],
  none: [],
};

/** Creates a user per matrix role with its grants; resolves with each role's token. */
export async function createMatrixUsers(store: Store): Promise<Record<MatrixRole, string>> {
  const tokens = {} as Record<MatrixRole, string>;
  for (const role of MATRIX_ROLES) {
    const id = `usr_matrix_${role.replace('+', '_')}`;
    const username = `m-${role.replace('+', '-')}`;
    await store.db
      .insertInto('users')
      .values({ id, username, created_at: new Date().toISOString() })
      .execute();
    for (const grant of GRANTS[role]) {
      await store.db
        .insertInto('role_grants')
        .values({
          subject_kind: 'user',
          subject_id: id,
          role: grant.role,
          scope_kind: grant.scopeKind,
          scope_id: grant.scopeId,
          created_by: 'matrix',
          created_at: new Date().toISOString(),
        })
        .execute();
    }
    tokens[role] = (await insertToken(store.db, { id, username }, 'matrix', null)).token;
  }
  return tokens;
}

/** Routes anyone may call without a token: outside the matrix. */
export const PUBLIC_ROUTES = new Set([
  'POST /auth/login',
  'GET /auth/methods',
  'GET /auth/sso/start',
  'GET /auth/sso/callback',
]);

/** Every route the API serves that needs a token, as `METHOD /path`, from its OpenAPI document. */
export function apiRoutes(app: FastifyInstance): string[] {
  const document = (
    app as unknown as { swagger(): { paths: Record<string, Record<string, unknown>> } }
  ).swagger();
  const routes: string[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    if (!path.startsWith('/api/v1/')) continue;
    for (const method of Object.keys(methods)) {
      const route = `${method.toUpperCase()} ${path.slice('/api/v1'.length)}`;
      if (!PUBLIC_ROUTES.has(route)) routes.push(route);
    }
  }
  return routes.sort();
}

/** The deployments awaiting approval the test's setup inserts, one per target, by id. */
export const APPROVAL_SAMPLE_IDS: Record<MatrixTarget, string> = {
  'own/dev': '101',
  'own/prod': '102',
  other: '103',
};

/** The rules the test's setup inserts, one per target (into its environment), by id. */
export const RULE_SAMPLE_IDS: Record<MatrixTarget, string> = {
  'own/dev': '201',
  'own/prod': '202',
  other: '203',
};

/** A concrete URL for a route and target: `{app}` becomes own/other, `{env}` dev/prod, other params a sample. */
export function concreteUrl(route: string, target: MatrixTarget): { method: string; url: string } {
  const [method, path] = route.split(' ') as [string, string];
  const [app, env] = target === 'other' ? ['other', 'dev'] : (target.split('/') as [string, string]);
  const samples: Record<string, string> = {
    app,
    env,
    id: '1',
    address: 'api.db',
    username: 'someone',
    team: 'some-team',
  };
  // Webhooks and their deliveries are looked up by id: the sample ones of the target's app (see the test's setup).
  if (path.startsWith('/webhooks/')) samples.id = `wh_${app}`;
  if (path.startsWith('/webhook-deliveries/')) samples.id = `msg_${app}`;
  // Approvals are looked up by deployment id: the sample deployment awaiting approval of the target.
  if (path.startsWith('/approvals/')) samples.id = APPROVAL_SAMPLE_IDS[target];
  // Rules are deleted by id: the sample rule into the target's environment.
  if (path.startsWith('/apps/{app}/rules/')) samples.id = RULE_SAMPLE_IDS[target];
  let url = `/api/v1${path.replace(/\{(\w+)\}/g, (_match, name: string) => samples[name] ?? 'x')}`;
  // Listings that take the app in their query get it there.
  if (method === 'GET' && /^\/(audit|roles|auth\/can-i|resource-definitions\/match)$/.test(path)) {
    url += `?app=${app}&env=${env}${path === '/auth/can-i' ? '&action=app.read' : ''}${path === '/resource-definitions/match' ? '&type=postgres' : ''}`;
  }
  return { method, url };
}

/**
 * Requests whose permission depends on their body or query, asked besides the plain route: `{env}` in a
 * body becomes the target's environment and `{envType}` its type (development for dev, production for
 * prod), so the own/prod column shows the restricted case.
 */
export interface MatrixVariant {
  route: string;
  /** What the row adds to the route's name in the table. */
  label: string;
  query?: string;
  body?: Record<string, unknown>;
}

export const MATRIX_VARIANTS: readonly MatrixVariant[] = [
  {
    route: 'POST /apps/{app}/envs',
    label: 'of the type of {env}',
    body: { id: 'new', type: '{envType}' },
  },
  {
    route: 'POST /apps/{app}/envs',
    label: 'cloned from {env} with data',
    body: { id: 'new', type: 'development', from: '{env}', withData: true },
  },
  { route: 'GET /apps/{app}/envs/{env}/values', label: '?reveal=true', query: 'reveal=true' },
  { route: 'GET /apps/{app}/values', label: '?reveal=true', query: 'reveal=true' },
  {
    route: 'POST /apps/{app}/envs/{env}/deployments',
    label: 'redeploying an earlier set',
    body: { fromDeployment: '1' },
  },
  {
    route: 'POST /apps/{app}/rules',
    label: 'into {env}',
    body: { env: '{env}', branch: 'main' },
  },
  { route: 'GET /webhooks', label: "?app= (the app's webhooks)", query: 'app={app}' },
  { route: 'GET /approvals', label: "?app= (the app's pending deployments)", query: 'app={app}' },
  { route: 'GET /tokens', label: "?user= (another user's tokens)", query: 'user=someone' },
  {
    route: 'POST /webhooks',
    label: 'for the app',
    body: { name: 'hook', url: 'https://hooks.example.com/pave', app: '{app}' },
  },
];

/** The table's name for a variant's row. */
export function variantRow(variant: MatrixVariant): string {
  return `${variant.route} (${variant.label})`;
}

/** A variant's body for a target: `{env}` and `{envType}` filled in. */
export function variantBody(variant: MatrixVariant, target: MatrixTarget): object | undefined {
  if (!variant.body) return undefined;
  const env = target === 'own/prod' ? 'prod' : 'dev';
  const envType = env === 'prod' ? 'production' : 'development';
  return JSON.parse(
    JSON.stringify(variant.body)
      .replaceAll('{envType}', envType)
      .replaceAll('{env}', env)
      .replaceAll('{app}', target === 'other' ? 'other' : 'own'),
  ) as object;
}

/** A variant's query for a target: `{app}` filled in. */
export function variantQuery(variant: MatrixVariant, target: MatrixTarget): string | undefined {
  return variant.query?.replaceAll('{app}', target === 'other' ? 'other' : 'own');
}

/** The outcome of one response of an `authorizeOnly` API. */
export function outcomeOf(status: number, body: string): Outcome {
  if (status === 204) return 'allow';
  if (status === 403) return 'deny';
  if (status === 404 && body.includes('not found')) return 'hide';
  throw new Error(`unexpected status ${status}: ${body}`);
}

/** One row of the table: a letter per target. */
export function letters(outcomes: Outcome[]): string {
  return outcomes.map((outcome) => LETTER[outcome]).join('');
}

/** The matrix as a Markdown table for docs/rbac.md. */
export function renderMatrix(matrix: ExpectedMatrix): string {
  const header = `| route | ${MATRIX_ROLES.join(' | ')} |`;
  const rule = `| --- | ${MATRIX_ROLES.map(() => ':-:').join(' | ')} |`;
  const rows = Object.keys(matrix)
    .sort()
    .map((route) => `| \`${route}\` | ${MATRIX_ROLES.map((role) => matrix[route]![role]).join(' | ')} |`);
  return [header, rule, ...rows].join('\n');
}
