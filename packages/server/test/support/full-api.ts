import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { ProcessRuntime } from '@pave/runtime-process';
import { bootstrapAdmin, buildApi, type BuildApiOptions, type Store } from '../../src/index.ts';
import { keyringSource } from '../../src/secrets/keyring.ts';
import { SecretBox } from '../../src/secrets/secret-box.ts';
import { resourceDriverRegistry } from '../../src/resource-drivers.ts';
import { RuntimeRouter } from '../../src/runtime-router.ts';
import { runtimeRegistry } from '../../src/runtimes.ts';
import { openTestStore, type TestEngine } from '../../../../test/support/stores.ts';

/** An in-process API with every route served, and the admin's token. */
export interface FullApi {
  app: FastifyInstance;
  store: Store;
  dataDir: string;
  token: string;
  cleanup(): Promise<void>;
}

/**
 * Builds the API with all its parts real: a migrated store, encrypted values, the runtime router over the
 * process runtime (which also chooses each environment's runtime) and the resource drivers. The supervisor and pglite scripts do not exist, so a deployment
 * that got as far as starting a workload would fail rather than run one; nothing here starts a worker.
 */
export async function openFullApi(
  engine: TestEngine = 'sqlite',
  extra: Partial<BuildApiOptions> = {},
): Promise<FullApi> {
  const opened = await openTestStore(engine);
  const { store } = opened;
  const dataDir = opened.location.dataDir;
  const token = readFileSync((await bootstrapAdmin(store, dataDir))!, 'utf8').trim();
  const keyring = keyringSource(dataDir, {});
  const box = new SecretBox(store.db, keyring);
  await box.init();
  const local = ProcessRuntime.fromConfig({ dataDir, supervisorScript: '/nonexistent/supervisor.js' });
  const runtime = new RuntimeRouter(store, runtimeRegistry({ local, dataDir }));
  const app = await buildApi({
    store,
    secrets: { box, keyring },
    runtime,
    targets: runtime,
    renderer: runtime,
    resourceDrivers: resourceDriverRegistry({ dataDir, pgliteScript: '/nonexistent/pglite-server.js' }),
    ...extra,
  });
  await app.ready();
  return {
    app,
    store,
    dataDir,
    token,
    async cleanup() {
      await app.close();
      await opened.cleanup();
    },
  };
}
