import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreWorkload, WorkloadSource } from '@pave/core';
import type { Store } from '../src/index.ts';
import { renderSet } from '../src/domain/deployments/render.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

/*
 * Found by a Score-conformance review: `containers.*.before` (a container that must start, be healthy or
 * complete before others of the workload start) and `metadata.annotations` were accepted and then dropped
 * on the way to the runtime, so no runtime could honour them.
 */

const spec = (
  containers: ScoreWorkload['containers'],
  extra: Partial<ScoreWorkload> = {},
): ScoreWorkload => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers,
  ...extra,
});
const main = { image: 'node:20', command: ['node', 'server.js'] };
const source = (workload: ScoreWorkload, file?: string): WorkloadSource => ({
  spec: workload,
  dir: '/srv/app',
  ...(file ? { file } : {}),
});

describe.each(storeEngines)('rendering before and annotations on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let deployment = 0;
  const render = (workload: ScoreWorkload, file?: string) =>
    renderSet(
      store.db,
      { app: 'shop', env: 'dev', deploymentId: String((deployment += 1)) },
      { api: source(workload, file) },
    );

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it("hands each container's before to the runtime, and the workload's annotations", async () => {
    const [api] = await render(
      spec(
        {
          main,
          migrate: { ...main, command: ['node', 'migrate.js'], before: { main: { ready: 'complete' } } },
        },
        {
          metadata: {
            name: 'api',
            annotations: { 'prometheus.io/scrape': 'true', 'example.com/team': 'payments' },
          },
        },
      ),
    );
    expect(api!.containers.find((container) => container.name === 'migrate')?.before).toEqual({
      main: { ready: 'complete' },
    });
    expect(api!.containers.find((container) => container.name === 'main')).not.toHaveProperty('before');
    expect(api!.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'example.com/team': 'payments' });
  });

  it('keeps the hash of a workload without before or annotations as it was, and changes it with them', async () => {
    const plain = spec({ main });
    const [first] = await render(plain);
    const [again] = await render(plain);
    expect(again!.hash).toBe(first!.hash);
    expect(first).not.toHaveProperty('annotations');
    const [annotated] = await render({ ...plain, metadata: { name: 'api', annotations: { 'a.io/b': 'c' } } });
    expect(annotated!.hash).not.toBe(first!.hash);
  });

  it('refuses before naming a container the workload lacks, the container itself, or a cycle', async () => {
    await expect(
      render(
        spec({
          main,
          migrate: { ...main, before: { mian: { ready: 'complete' } } },
          proxy: { ...main, before: { proxy: { ready: 'started' } } },
        }),
        'score.yaml',
      ),
    ).rejects.toMatchObject({
      name: 'InputError',
      errors: expect.arrayContaining([
        {
          path: 'score.yaml: workloads.api.containers.migrate.before.mian',
          message: expect.stringMatching(/no container "mian".*main, migrate, proxy/),
        },
        {
          path: 'score.yaml: workloads.api.containers.proxy.before.proxy',
          message: expect.stringMatching(/itself/),
        },
      ]),
    });
    await expect(
      render(
        spec({
          main,
          a: { ...main, before: { b: { ready: 'started' } } },
          b: { ...main, before: { a: { ready: 'complete' } } },
        }),
      ),
    ).rejects.toMatchObject({
      name: 'InputError',
      errors: [
        {
          path: 'workloads.api.containers.a.before',
          message: expect.stringContaining('a → b → a'),
        },
      ],
    });
  });

  it('refuses ready: healthy on a container without a readiness or liveness probe', async () => {
    await expect(
      render(spec({ main, cache: { ...main, before: { main: { ready: 'healthy' } } } })),
    ).rejects.toMatchObject({
      name: 'InputError',
      errors: [
        {
          path: 'workloads.api.containers.cache.before.main.ready',
          message: expect.stringMatching(/readinessProbe or livenessProbe/),
        },
      ],
    });
    const [api] = await render(
      spec({
        main,
        cache: {
          ...main,
          livenessProbe: { exec: { command: ['true'] } },
          before: { main: { ready: 'healthy' } },
        },
      }),
    );
    expect(api!.containers.find((container) => container.name === 'cache')?.before).toEqual({
      main: { ready: 'healthy' },
    });
  });
});
