import type { RenderedWorkload } from '@pave/plugin-api';
import type { Executor } from '../../store/index.ts';
import type { SetWorkloads } from '../deployments/sets.ts';
import type { JournalNote, ResourceTarget, WorkloadResourceOutputs } from './provision.ts';

/** One route Pave's reverse proxy serves: requests for `host` under `path` go to a workload's host port. */
export interface ProxyRoute {
  host: string;
  path: string;
  app: string;
  env: string;
  workload: string;
  hostPort: number;
}

/**
 * Records the routes of an environment after a successful deployment: every `route` resource a workload
 * uses sends its host and path to that workload's port. A host and path another environment already
 * serves is skipped with a journal note (the first environment keeps it).
 */
export async function writeRoutes(
  db: Executor,
  target: ResourceTarget,
  workloads: SetWorkloads,
  rendered: RenderedWorkload[],
  resources: WorkloadResourceOutputs,
  note: JournalNote,
): Promise<void> {
  const routes: ProxyRoute[] = [];
  for (const workload of Object.keys(workloads).sort()) {
    for (const [name, output] of resources.get(workload) ?? []) {
      if (output.type !== 'route') continue;
      const port = Number(output.values.port);
      const served = rendered
        .find((w) => w.name === workload)
        ?.ports.find((p) => p.port === port || p.targetPort === port);
      if (!served || !output.values.host) {
        await note({
          step: 'route',
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
  await db.deleteFrom('routes').where('app_id', '=', target.app).where('env_id', '=', target.env).execute();
  for (const route of routes) {
    const taken = await db
      .selectFrom('routes')
      .select(['app_id', 'env_id'])
      .where('host', '=', route.host)
      .where('path', '=', route.path)
      .executeTakeFirst();
    if (taken) {
      await note({
        step: 'route',
        workload: route.workload,
        status: 'failed',
        message: `http://${route.host}${route.path} is already served by ${taken.app_id}/${taken.env_id}; not routed here`,
      });
      continue;
    }
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
    await note({
      step: 'route',
      workload: route.workload,
      status: 'info',
      message: `http://${route.host}${route.path} -> 127.0.0.1:${route.hostPort}`,
    });
  }
}

function normalisePath(path: string): string {
  const withSlash = path.startsWith('/') ? path : `/${path}`;
  return withSlash.length > 1 ? withSlash.replace(/\/+$/, '') : withSlash;
}

/**
 * The routes the reverse proxy serves, read from the store at most once a second (so every replica sees a
 * deployment's routes within a second).
 */
export class RouteTable {
  private cache: { at: number; routes: ProxyRoute[] } | undefined;

  constructor(
    private readonly db: Executor,
    private readonly maxAgeMs = 1_000,
  ) {}

  /** The route for a request: the one for its host with the longest path prefix; undefined if none. */
  async lookup(host: string, path: string): Promise<ProxyRoute | undefined> {
    const routes = await this.routes();
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

  /** Whether any route serves `host` (so unknown hosts under .localhost get a clear 404). */
  async knowsHost(host: string): Promise<boolean> {
    return (await this.routes()).some((route) => route.host === host.toLowerCase());
  }

  private async routes(): Promise<ProxyRoute[]> {
    if (this.cache && Date.now() - this.cache.at < this.maxAgeMs) return this.cache.routes;
    const rows = await this.db.selectFrom('routes').selectAll().execute();
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
