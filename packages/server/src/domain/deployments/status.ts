import type { EnvironmentStatus } from '@pave/core';
import type { RuntimeDriver } from '@pave/plugin-api';
import type { Store } from '../../store/index.ts';
import { environmentRow } from '../environments.ts';
import { LOCAL_TARGET } from '../targets.ts';
import { driverContext, type LevelLogger } from './orchestrator.ts';
import { toDeployment } from './records.ts';

/** How long `status` waits for a runtime before it reports the target as unreachable. */
const STATUS_TIMEOUT_MS = 10_000;

/**
 * The live status of an environment: its current and pending deployments, the runtime target it runs on,
 * and what that runtime reports about its workloads. A target that cannot be reached (a docker socket that is
 * gone, a kubeconfig context that was deleted) is reported as unreachable with the runtime's words, and no
 * workloads: the environment can still be looked at, deployed elsewhere or deleted.
 */
export async function environmentStatus(
  store: Store,
  runtime: RuntimeDriver,
  target: { app: string; env: string },
  logger: LevelLogger,
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
  const pending = await store.db
    .selectFrom('deployments')
    .selectAll()
    .where('app_id', '=', app)
    .where('env_id', '=', env)
    .where('status', 'in', ['queued', 'running'])
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
    logger.warn({ app, env, target: targetId, error: unreachable }, 'the runtime target cannot be reached');
  } finally {
    ctx.dispose();
  }
  return {
    appId: app,
    envId: env,
    currentDeployment: current ? toDeployment(current) : null,
    pendingDeployment: pending ? toDeployment(pending) : null,
    target: {
      id: targetId,
      reachable: unreachable === null,
      ...(unreachable ? { detail: unreachable } : {}),
    },
    workloads: workloads.map((w) => ({
      workload: w.workload,
      state: w.state,
      restarts: w.restarts,
      deploymentId: w.deploymentId,
      ports: w.ports.map((p) => ({ name: p.name, port: p.port, hostPort: p.hostPort })),
      urls: w.ports.filter((p) => p.protocol === 'TCP').map((p) => `http://127.0.0.1:${p.hostPort}`),
      ...(w.detail ? { detail: w.detail } : {}),
    })),
  };
}
