import { ConflictError, canSeeApp } from '@pave/core';
import type { RenderedWorkload } from '@pave/plugin-api';
import type { Executor } from '../../store/index.ts';
import { loadGrants } from '../access.ts';
import { now } from '../context.ts';
import type { SetWorkloads } from '../deployments/sets.ts';
import type { JournalNote, ResourceTarget, WorkloadResourceOutputs } from './provision.ts';

/** A journal entry about the routes of a deployment (see writeRoutes). */
export type RouteNote = Parameters<JournalNote>[0];

/** One route Pave's reverse proxy serves: requests for `host` under `path` go to a workload's host port. */
export interface ProxyRoute {
  host: string;
  path: string;
  app: string;
  env: string;
  workload: string;
  hostPort: number;
}

/** An environment that owns a route host: only its routes may use any path of that host. */
export interface RouteHostOwner {
  app: string;
  env: string;
}

/**
 * The environment a host is reserved for: `<env>.<app>.localhost` and every host under it belong to that
 * app's environment (whether it exists yet or not). Undefined for any other host, which belongs to the
 * first environment that claims it.
 */
export function reservedHostOwner(host: string): RouteHostOwner | undefined {
  const labels = host.toLowerCase().split('.');
  if (labels.length < 3 || labels[labels.length - 1] !== 'localhost') return undefined;
  return { app: labels[labels.length - 2]!, env: labels[labels.length - 3]! };
}

/**
 * Claims `host` for the environment whose route resource (at `where`, e.g.
 * `workloads.web.resources.route.params.host`) uses it. A host belongs to one environment, whatever the
 * path: the claim is a unique row, so it holds across replicas and concurrent deployments. Resolves with
 * true when this call claimed it, false when the environment already owned it. Rejects with ConflictError
 * when the host is reserved for another environment (see reservedHostOwner) or another environment claimed
 * it first; the owner is named only when `target.actor` has a role on its app ("another app" otherwise).
 */
export async function claimRouteHost(
  db: Executor,
  target: ResourceTarget,
  host: string,
  where: string,
): Promise<boolean> {
  const name = host.toLowerCase();
  const own = `${target.app}/${target.env}`;
  const example = `e.g. <name>.${target.env}.${target.app}.localhost (the default of a \`dns\` resource)`;
  const reserved = reservedHostOwner(name);
  if (reserved && (reserved.app !== target.app || reserved.env !== target.env)) {
    // The owner is spelled in the host itself: naming it discloses nothing the caller did not write.
    throw new ConflictError(
      `${where}: host ${name} is reserved for environment "${reserved.env}" of app "${reserved.app}" ` +
        `(hosts under .${reserved.env}.${reserved.app}.localhost belong to it alone); ${own} cannot route it`,
      [{ path: where, message: `use a host of ${own}, ${example}, or a host no other environment routes` }],
    );
  }
  const inserted = await db
    .insertInto('route_hosts')
    .values({ host: name, app_id: target.app, env_id: target.env, claimed_at: now() })
    .onConflict((oc) => oc.column('host').doNothing())
    .executeTakeFirst();
  const owner = await db
    .selectFrom('route_hosts')
    .select(['app_id', 'env_id'])
    .where('host', '=', name)
    .executeTakeFirst();
  if (owner && owner.app_id === target.app && owner.env_id === target.env) {
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
  }
  const named = owner && target.actor ? await actorMaySee(db, target.actor, owner.app_id) : false;
  throw new ConflictError(
    named
      ? `${where}: host ${name} belongs to app "${owner!.app_id}", environment "${owner!.env_id}", which routed it first; ` +
          `a host belongs to one environment, whatever the path, so ${own} cannot route it`
      : `${where}: host ${name} is owned by another app; a host belongs to one environment, whatever the path`,
    [
      {
        path: where,
        message: named
          ? `use another host, ${example}, or remove the route from ${owner!.app_id}/${owner!.env_id} (or delete that environment) first`
          : `use another host, ${example}`,
      },
    ],
  );
}

/** Gives up the environment's claims on `hosts`. */
export async function releaseRouteHosts(
  db: Executor,
  target: Pick<ResourceTarget, 'app' | 'env'>,
  hosts: string[],
): Promise<void> {
  if (hosts.length === 0) return;
  await db
    .deleteFrom('route_hosts')
    .where('app_id', '=', target.app)
    .where('env_id', '=', target.env)
    .where(
      'host',
      'in',
      hosts.map((h) => h.toLowerCase()),
    )
    .execute();
}

/** Whether the user named `username` has a role on `app` (or is an org admin). */
async function actorMaySee(db: Executor, username: string, app: string): Promise<boolean> {
  const user = await db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst();
  return user ? canSeeApp(await loadGrants(db, user.id), app) : false;
}

/**
 * Records the routes of an environment after a successful deployment: every `route` resource a workload
 * uses sends its host and path to that workload's port. Provisioning has claimed each host for this
 * environment (claimRouteHost); the claims of hosts the environment no longer routes are given up here, and
 * routes other environments left on this environment's hosts are dropped. A host and path two workloads of
 * the environment both route is served by the first (in workload order). Resolves with the journal entries
 * of what it routed and did not, in order, for the caller to journal once `db` (a transaction, so that the
 * proxy never reads half of the routes) has committed.
 */
export async function writeRoutes(
  db: Executor,
  target: ResourceTarget,
  workloads: SetWorkloads,
  rendered: RenderedWorkload[],
  resources: WorkloadResourceOutputs,
): Promise<RouteNote[]> {
  const notes: RouteNote[] = [];
  const routes: ProxyRoute[] = [];
  for (const workload of Object.keys(workloads).sort()) {
    for (const [name, output] of resources.get(workload) ?? []) {
      if (output.type !== 'route') continue;
      const port = Number(output.values.port);
      const served = rendered
        .find((w) => w.name === workload)
        ?.ports.find((p) => p.port === port || p.targetPort === port);
      if (!served || !output.values.host) {
        notes.push({
          step: 'routes',
          workload,
          status: 'failed',
          message: `route ${name}: port ${output.values.port} is not a service port of ${workload}; the route is not served`,
        });
        continue;
      }
      routes.push({
        host: output.values.host.toLowerCase(),
        path: normalisePath(output.values.path ?? '/'),
        app: target.app,
        env: target.env,
        workload,
        hostPort: served.hostPort,
      });
    }
  }
  const hosts = [
    ...new Set(
      [...resources.values()].flatMap((outputs) =>
        [...outputs.values()].flatMap((o) =>
          o.type === 'route' && o.values.host ? [o.values.host.toLowerCase()] : [],
        ),
      ),
    ),
  ];
  const owned = (
    await db
      .selectFrom('route_hosts')
      .select('host')
      .where('app_id', '=', target.app)
      .where('env_id', '=', target.env)
      .execute()
  ).map((row) => row.host);
  await releaseRouteHosts(
    db,
    target,
    owned.filter((host) => !hosts.includes(host)),
  );
  await db.deleteFrom('routes').where('app_id', '=', target.app).where('env_id', '=', target.env).execute();
  const kept = owned.filter((host) => hosts.includes(host));
  if (kept.length) await db.deleteFrom('routes').where('host', 'in', kept).execute();
  const written = new Map<string, string>();
  // Lines name a route as host and path, not as a URL: the proxy serves it on whatever port Pave listens on.
  for (const route of routes) {
    if (!kept.includes(route.host)) {
      notes.push({
        step: 'routes',
        workload: route.workload,
        status: 'failed',
        message: `${route.host}${route.path}: the host is not claimed by ${target.app}/${target.env}; not routed (deploy again to claim it)`,
      });
      continue;
    }
    const first = written.get(`${route.host}${route.path}`);
    if (first) {
      notes.push({
        step: 'routes',
        workload: route.workload,
        status: 'failed',
        message: `${route.host}${route.path} is already routed to workload ${first} of this environment; not routed to ${route.workload}`,
      });
      continue;
    }
    written.set(`${route.host}${route.path}`, route.workload);
    await db
      .insertInto('routes')
      .values({
        host: route.host,
        path: route.path,
        app_id: route.app,
        env_id: route.env,
        workload: route.workload,
        host_port: route.hostPort,
      })
      .execute();
    notes.push({
      step: 'routes',
      workload: route.workload,
      status: 'info',
      message: `${route.host}${route.path} -> 127.0.0.1:${route.hostPort}`,
    });
  }
  return notes;
}

function normalisePath(path: string): string {
  const withSlash = path.startsWith('/') ? path : `/${path}`;
  return withSlash.length > 1 ? withSlash.replace(/\/+$/, '') : withSlash;
}

/**
 * The routes the reverse proxy serves, to select from: only the environment that owns a host is served on it,
 * whatever routes the table still holds.
 */
export function servedRoutes(db: Executor) {
  return db
    .selectFrom('routes')
    .innerJoin('route_hosts', (join) =>
      join
        .onRef('route_hosts.host', '=', 'routes.host')
        .onRef('route_hosts.app_id', '=', 'routes.app_id')
        .onRef('route_hosts.env_id', '=', 'routes.env_id'),
    );
}

/**
 * The routes the reverse proxy serves, read from the store at most once a second (so every replica sees a
 * deployment's changed routes within a second), and again at once for a host the cached table does not serve
 * (so a new route is served as soon as its deployment has succeeded).
 */
export class RouteTable {
  private cache: { at: number; routes: ProxyRoute[] } | undefined;

  constructor(
    private readonly db: Executor,
    private readonly maxAgeMs = 1_000,
  ) {}

  /**
   * The route for a request: the one for its host with the longest path prefix; undefined if none. A host
   * the cached table does not serve is looked up again in the store (at most every {@link MISS_REFRESH_MS}),
   * so a route is served as soon as the deployment that made it has succeeded.
   */
  async lookup(host: string, path: string): Promise<ProxyRoute | undefined> {
    return (
      bestRoute(await this.routes(), host, path) ??
      (this.mayRefresh() ? bestRoute(await this.routes(), host, path) : undefined)
    );
  }

  /** Whether any route serves `host` (so unknown hosts under .localhost get a clear 404). */
  async knowsHost(host: string): Promise<boolean> {
    const name = host.toLowerCase();
    const serves = (routes: ProxyRoute[]) => routes.some((route) => route.host === name);
    return serves(await this.routes()) || (this.mayRefresh() && serves(await this.routes()));
  }

  /** Drops the cached table when it is older than MISS_REFRESH_MS, so the next read goes to the store. */
  private mayRefresh(): boolean {
    if (!this.cache || Date.now() - this.cache.at < MISS_REFRESH_MS) return false;
    this.cache = undefined;
    return true;
  }

  private async routes(): Promise<ProxyRoute[]> {
    if (this.cache && Date.now() - this.cache.at < this.maxAgeMs) return this.cache.routes;
    const rows = await servedRoutes(this.db).selectAll('routes').execute();
    const routes = rows.map((row) => ({
      host: row.host,
      path: row.path,
      app: row.app_id,
      env: row.env_id,
      workload: row.workload,
      hostPort: Number(row.host_port),
    }));
    this.cache = { at: Date.now(), routes };
    return routes;
  }
}

/** How soon a host the cached route table does not serve makes the proxy read the store again. */
const MISS_REFRESH_MS = 100;

/** The route for `host` with the longest path prefix of `path`; undefined if none. */
function bestRoute(routes: readonly ProxyRoute[], host: string, path: string): ProxyRoute | undefined {
  const name = host.toLowerCase();
  let best: ProxyRoute | undefined;
  for (const route of routes) {
    if (route.host !== name) continue;
    const prefix = route.path === '/' ? '/' : `${route.path}`;
    const matches =
      path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`) || prefix === '/';
    if (matches && (!best || route.path.length > best.path.length)) best = route;
  }
  return best;
}
