import type { EnvironmentStatus } from '@pave/core';
import type { RuntimeDriver, WorkloadStatus } from '@pave/plugin-api';
import type { SecretBox } from '../../secrets/secret-box.ts';
import type { Store } from '../../store/index.ts';
import { environmentMasker } from '../logs.ts';
import { environmentRow } from '../environments.ts';
import { LOCAL_TARGET } from '../targets.ts';
import { servedRoutes } from '../resources/routes.ts';
import { environmentHealth } from './health.ts';
import { driverContext, type LevelLogger } from './orchestrator.ts';
import { pendingDeployment, toDeployment } from './records.ts';
import { loadSet } from './sets.ts';

/** How long `status` waits for a runtime before it reports the target as unreachable. */
const STATUS_TIMEOUT_MS = 10_000;

/** Options of {@link environmentStatus}. */
export interface EnvironmentStatusOptions {
  /**
   * The port Pave's reverse proxy listens on (the API's own): workloads' `route` resources are reported as
   * `http://<host>:<port><path>`. Without it (a server not listening yet), no route URLs are reported.
   */
  proxyPort?: number | undefined;
  /**
   * Opens the environment's secrets, to mask them in what the runtime says (its error, workloads' details),
   * which may quote the environment the workloads were given. Without it (no encrypted values), nothing is.
   */
  box?: SecretBox | undefined;
}

/**
 * The live status of an environment: its current, pending and latest deployments, the runtime target it runs
 * on, what that runtime reports about its workloads, and the health of each and of the environment (see
 * environmentHealth). A target that cannot be reached (a docker socket that is gone, a kubeconfig context that
 * was deleted) is reported as unreachable with the runtime's words, no workloads and health unknown: the
 * environment can still be looked at, deployed elsewhere or deleted.
 */
export async function environmentStatus(
  store: Store,
  runtime: RuntimeDriver,
  target: { app: string; env: string },
  logger: LevelLogger,
  options: EnvironmentStatusOptions = {},
): Promise<EnvironmentStatus> {
  const { app, env } = target;
  const environment = await environmentRow(store.db, app, env);
  const current = environment.current_deployment_id
    ? await store.db
        .selectFrom('deployments')
        .selectAll()
        .where('id', '=', Number(environment.current_deployment_id))
        .executeTakeFirst()
    : undefined;
  const pending = await pendingDeployment(store.db, app, env, 'desc');
  const latest = await store.db
    .selectFrom('deployments')
    .selectAll()
    .where('app_id', '=', app)
    .where('env_id', '=', env)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const targetId = environment.runtime_target ?? LOCAL_TARGET.id;
  const ctx = driverContext(logger, AbortSignal.timeout(STATUS_TIMEOUT_MS));
  let workloads: Awaited<ReturnType<RuntimeDriver['status']>> = [];
  let unreachable: string | null = null;
  try {
    workloads = await runtime.status(target, ctx);
  } catch (error) {
    unreachable = (error as Error).message;
  } finally {
    ctx.dispose();
  }
  // The runtime's words about the workloads may quote their environment: masked, for everyone who may read
  // the status (whoever may reveal the secrets reads them elsewhere). Looked up only when there are some.
  if (options.box && (unreachable !== null || workloads.some(quotesAnything))) {
    const mask = await environmentMasker(options.box, store.db, target);
    if (unreachable !== null) unreachable = mask(unreachable);
    workloads = workloads.map((w) => ({
      ...w,
      ...(w.detail ? { detail: mask(w.detail) } : {}),
      containers: w.containers.map((c) => ({
        ...c,
        ...(c.lastExit ? { lastExit: mask(c.lastExit) } : {}),
      })),
    }));
  }
  if (unreachable !== null) {
    logger.warn({ app, env, target: targetId, error: unreachable }, 'the runtime target cannot be reached');
  }
  const expected = environment.current_set_id
    ? Object.keys((await loadSet(store.db, environment.current_set_id)).workloads)
    : [];
  const health = environmentHealth({
    unreachable: unreachable ?? undefined,
    deploying: pending !== undefined,
    deployed: Boolean(environment.current_set_id),
    expected,
    workloads,
  });
  const routes = options.proxyPort ? await routeUrls(store, target, options.proxyPort) : new Map();
  return {
    appId: app,
    envId: env,
    currentDeployment: current ? toDeployment(current) : null,
    pendingDeployment: pending ? toDeployment(pending) : null,
    latestDeployment: latest ? toDeployment(latest) : null,
    health: health.environment.health,
    ...(health.environment.detail ? { healthDetail: health.environment.detail } : {}),
    target: {
      id: targetId,
      reachable: unreachable === null,
      ...(unreachable ? { detail: unreachable } : {}),
    },
    workloads: workloads.map((w) => {
      const assessment = health.workloads.get(w.workload);
      return {
        workload: w.workload,
        state: w.state,
        restarts: w.restarts,
        deploymentId: w.deploymentId,
        ports: w.ports.map((p) => ({ name: p.name, port: p.port, hostPort: p.hostPort })),
        urls: w.ports.filter((p) => p.protocol === 'TCP').map((p) => `http://127.0.0.1:${p.hostPort}`),
        routes: routes.get(w.workload) ?? [],
        ...(w.detail ? { detail: w.detail } : {}),
        ...(assessment ? { health: assessment.health } : {}),
        ...(assessment?.detail ? { healthDetail: assessment.detail } : {}),
        containers: w.containers.map((c) => ({
          name: c.name,
          state: c.state,
          restarts: c.restarts,
          ...(c.pid !== undefined ? { pid: c.pid } : {}),
          ...(c.lastExit ? { lastExit: c.lastExit } : {}),
        })),
      };
    }),
  };
}

/** Whether the runtime says something in its own words about `workload`: its detail, how a container ended. */
function quotesAnything(workload: WorkloadStatus): boolean {
  return Boolean(workload.detail) || workload.containers.some((c) => c.lastExit !== undefined);
}

/**
 * The URLs the reverse proxy serves for each workload of the environment, on `port`: the routes of hosts the
 * environment owns, as the proxy serves them, sorted.
 */
async function routeUrls(
  store: Store,
  target: { app: string; env: string },
  port: number,
): Promise<Map<string, string[]>> {
  const rows = await servedRoutes(store.db)
    .select(['routes.host', 'routes.path', 'routes.workload'])
    .where('routes.app_id', '=', target.app)
    .where('routes.env_id', '=', target.env)
    .orderBy('routes.host')
    .orderBy('routes.path')
    .execute();
  const urls = new Map<string, string[]>();
  for (const row of rows) {
    const list = urls.get(row.workload) ?? [];
    list.push(`http://${row.host}:${port}${row.path}`);
    urls.set(row.workload, list);
  }
  return urls;
}
