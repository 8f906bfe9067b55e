import type { RuntimeDriver } from '@pave/plugin-api';
import type { Store } from '../store/index.ts';
import { driverContext, type LevelLogger } from '../domain/deployments/orchestrator.ts';
import { LOCAL_TARGET } from '../domain/targets.ts';
import type { WorkloadSource } from './metrics.ts';

/** Environments asked for their status at once. */
const CONCURRENCY = 16;

/**
 * The workload gauge's source: the environments that have a deployed set (the first `limit` by app and
 * name), each asked for its status through `runtime()` (the runtime router), labelled with the runtime target
 * it runs on. An environment whose runtime fails or does not answer in time counts no workloads.
 */
export function runtimeWorkloads(
  store: Store,
  runtime: () => RuntimeDriver,
  logger: LevelLogger,
): WorkloadSource {
  return {
    async workloads(limit, signal) {
      const environments = await store.db
        .selectFrom('environments')
        .select(['app_id', 'id', 'runtime_target'])
        .where('current_set_id', 'is not', null)
        .orderBy('app_id')
        .orderBy('id')
        .limit(limit)
        .execute();
      const ctx = driverContext(logger, signal);
      const found: Awaited<ReturnType<WorkloadSource['workloads']>> = [];
      try {
        for (let start = 0; start < environments.length && !signal.aborted; start += CONCURRENCY) {
          const batch = environments.slice(start, start + CONCURRENCY);
          found.push(
            ...(await Promise.all(
              batch.map(async (row) => ({
                target: row.runtime_target ?? LOCAL_TARGET.id,
                states: (
                  await runtime()
                    .status({ app: row.app_id, env: row.id }, ctx)
                    .catch(() => [])
                ).map((workload) => workload.state),
              })),
            )),
          );
        }
      } finally {
        ctx.dispose();
      }
      return found;
    },
  };
}
