import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RuntimeRegistry, type DriverContext, type RuntimeDriver } from '@pave/plugin-api';
import { FakeRuntime } from '@pave/plugin-api/testing';
import { ProcessRuntime } from '@pave/runtime-process';
import type { Store } from '../src/index.ts';
import { createApp } from '../src/domain/apps.ts';
import { systemContext } from '../src/domain/context.ts';
import { DeploymentInterrupted } from '../src/domain/deployments/phases/phase.ts';
import { leaseFence } from '../src/domain/deployments/records.ts';
import { createEnvironment } from '../src/domain/environments.ts';
import { applyTargets } from '../src/domain/targets.ts';
import { instrumentRuntimes } from '../src/observability/telemetry.ts';
import { RuntimeRouter } from '../src/runtime-router.ts';
import { runtimeRegistry } from '../src/runtimes.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

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

describe('the runtime router adopting a runtime several targets share', () => {
  it('asks it once per control-plane start, however many targets run on it', async () => {
    const { store, cleanup, location } = await openTestStore('sqlite');
    try {
      // Two process targets besides the built-in `local`: all three run on the one local process runtime,
      // each seen at its own isolation level, timed and traced, as the server wires it.
      await applyTargets(store, systemContext('alice', 'req-test'), {
        targets: [
          {
            id: 'team-a',
            type: 'process',
            config: { isolation: 'none' },
            criteria: [{ envType: 'staging' }],
          },
          { id: 'team-b', type: 'process', config: {}, criteria: [{ envType: 'production' }] },
        ],
      });
      const local = ProcessRuntime.fromConfig({
        dataDir: location.dataDir,
        supervisorScript: '/nonexistent/supervisor.js',
      });
      const adopt = vi.spyOn(local, 'adopt');
      const runtimes = instrumentRuntimes(runtimeRegistry({ local, dataDir: location.dataDir }));
      await new RuntimeRouter(store, runtimes).adopt(recordingContext());
      expect(adopt).toHaveBeenCalledTimes(1);
    } finally {
      await cleanup();
    }
  });
});

/**
 * Moving an environment between runtime targets is part of a deployment's run: only the replica holding the
 * environment's lease removes its workloads from the target it leaves and records the new one.
 */
describe.each(storeEngines)('the runtime router moving an environment on %s', (engine) => {
  const target = { app: 'shop', env: 'dev' };
  const context = systemContext('alice', 'req-test');
  let store: Store;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    await createApp(store, context, { id: 'shop' });
    await createEnvironment(store, context, 'shop', { id: 'dev', type: 'development' });
    await applyTargets(store, context, {
      targets: [{ id: 'east', type: 'docker', config: {}, criteria: [{ envId: 'dev' }] }],
    });
  });
  afterAll(() => cleanup());

  const recordedTarget = async () =>
    (
      await store.db
        .selectFrom('environments')
        .select('runtime_target')
        .where('app_id', '=', 'shop')
        .where('id', '=', 'dev')
        .executeTakeFirstOrThrow()
    ).runtime_target;

  it('leaves the environment, and its workloads on the target it runs on, to the replica holding the lease', async () => {
    const local = new FakeRuntime({ serveHttp: false });
    const east = new FakeRuntime({ name: 'east', serveHttp: false });
    const router = new RuntimeRouter(
      store,
      new RuntimeRegistry()
        .register({ type: 'process', fromConfig: () => local })
        .register({ type: 'docker', fromConfig: () => east }),
    );
    await store.db
      .updateTable('environments')
      .set({ runtime_target: 'local', lease_owner: 'replica-b' })
      .where('app_id', '=', 'shop')
      .where('id', '=', 'dev')
      .execute();
    const move = await router.plan({ ...target, envType: 'development' });
    expect(move.moving).toBe(true);
    const note = async () => undefined;

    const stale = router.commit(
      target,
      move,
      recordingContext(),
      note,
      leaseFence(store, target, 'replica-a'),
    );
    await expect(stale).rejects.toBeInstanceOf(DeploymentInterrupted);
    await expect(stale).rejects.toMatchObject({ leaseLost: true });
    expect(local.calls.filter((call) => call.method === 'destroy')).toEqual([]);
    expect(await recordedTarget()).toBe('local');

    await router.commit(target, move, recordingContext(), note, leaseFence(store, target, 'replica-b'));
    expect(local.calls.filter((call) => call.method === 'destroy')).toHaveLength(1);
    expect(await recordedTarget()).toBe('east');
  });
});
