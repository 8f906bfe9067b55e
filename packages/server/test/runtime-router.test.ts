import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeRegistry, type DriverContext, type RuntimeDriver } from '@pave/plugin-api';
import { ProcessRuntime } from '@pave/runtime-process';
import type { Store } from '../src/index.ts';
import { systemContext } from '../src/domain/context.ts';
import { applyTargets } from '../src/domain/targets.ts';
import { RuntimeRouter } from '../src/runtime-router.ts';
import { runtimeRegistry } from '../src/runtimes.ts';
import { openTestStore } from '../../../test/support/stores.ts';

/** A driver context whose logger keeps what it is told. */
function recordingContext(): DriverContext & { warnings: Array<Record<string, unknown>> } {
  const warnings: Array<Record<string, unknown>> = [];
  const ignore = () => undefined;
  return {
    warnings,
    logger: {
      debug: ignore,
      info: ignore,
      error: ignore,
      warn: (message, fields) => warnings.push({ message, ...fields }),
    },
    signal: new AbortController().signal,
    scratchDir: '/nonexistent',
    dryRun: false,
  };
}

/** A runtime that only records adopt calls (or fails them). */
function adoptingRuntime(name: string, adopted: string[], fail?: string): RuntimeDriver {
  const unused = () => Promise.reject(new Error('not used'));
  return {
    name,
    deploy: unused,
    waitReady: unused,
    remove: unused,
    status: unused,
    destroy: unused,
    adopt: () => (fail ? Promise.reject(new Error(fail)) : Promise.resolve(void adopted.push(name))),
  };
}

describe('the runtime router after a control-plane start', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let dataDir: string;

  beforeAll(async () => {
    const opened = await openTestStore('sqlite');
    store = opened.store;
    cleanup = opened.cleanup;
    dataDir = opened.location.dataDir;
    await applyTargets(store, systemContext('alice', 'req-test'), {
      targets: [
        {
          id: 'engine',
          type: 'docker',
          config: { socketPath: '/nonexistent/docker.sock' },
          criteria: [{ envType: 'staging' }],
        },
        { id: 'cluster', type: 'kubernetes', config: {}, criteria: [{ envType: 'production' }] },
      ],
    });
  });
  afterAll(() => cleanup());

  it("asks every target's runtime to take back its workloads, and logs one it cannot reach", async () => {
    const adopted: string[] = [];
    const runtimes = new RuntimeRegistry()
      .register({ type: 'process', fromConfig: () => adoptingRuntime('process', adopted) })
      .register({ type: 'docker', fromConfig: () => adoptingRuntime('docker', adopted, 'no socket') })
      .register({ type: 'kubernetes', fromConfig: () => adoptingRuntime('kubernetes', adopted) });
    const ctx = recordingContext();
    await new RuntimeRouter(store, runtimes).adopt(ctx);
    expect(adopted.sort()).toEqual(['kubernetes', 'process']);
    expect(ctx.warnings).toEqual([
      expect.objectContaining({ target: 'engine', type: 'docker', error: 'no socket' }),
    ]);
  });

  it('starts with a docker target whose socket is missing: the shipped runtimes adopt without throwing', async () => {
    const local = ProcessRuntime.fromConfig({ dataDir, supervisorScript: '/nonexistent/supervisor.js' });
    const ctx = recordingContext();
    await expect(
      new RuntimeRouter(store, runtimeRegistry({ local, dataDir })).adopt(ctx),
    ).resolves.toBeUndefined();
    expect(JSON.stringify(ctx.warnings)).toContain('/nonexistent/docker.sock');
  });
});
