import { ProcessRuntime } from '@pave/runtime-process';
import type { BuildApiOptions } from '../../src/index.ts';
import type { TestEngine } from '../../../../test/support/stores.ts';
import { openDeployingApi, type DeployingApi } from './deploying-api.ts';

/** An in-process API with every route served, and the admin's token. */
export type FullApi = DeployingApi;

/**
 * Builds the API with all its parts real: a migrated store, encrypted values, the runtime router over the
 * process runtime (which also chooses each environment's runtime) and the resource drivers. The supervisor
 * and pglite scripts do not exist, so a deployment that got as far as starting a workload would fail rather
 * than run one; nothing here starts a worker.
 */
export function openFullApi(
  engine: TestEngine = 'sqlite',
  extra: Partial<BuildApiOptions> = {},
): Promise<FullApi> {
  return openDeployingApi(engine, {
    processRuntime: (dataDir) =>
      ProcessRuntime.fromConfig({ dataDir, supervisorScript: '/nonexistent/supervisor.js' }),
    api: extra,
  });
}
