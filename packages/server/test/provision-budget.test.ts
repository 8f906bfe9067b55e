import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ScoreWorkload } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { PROVISION_TIMEOUT_MS, provisionBudgetMs } from '../src/domain/deployments/phases/provision.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/** The driver calls provisioning one resource may make, each of which gets the driver's whole timeout. */
const CALLS = 6;

describe('the provisioning budget', () => {
  it('gives every call of a driver with its own timeout the whole of it, on top of ten minutes', () => {
    expect(provisionBudgetMs([])).toBe(PROVISION_TIMEOUT_MS);
    expect(PROVISION_TIMEOUT_MS).toBe(600_000);
    expect(
      provisionBudgetMs([
        { driver: 'terraform', values: { timeout: 2400 } },
        { driver: 'exec', values: { timeoutSeconds: 900 } },
        { driver: 'postgres', values: { timeout: 5000 } },
      ]),
    ).toBe(600_000 + CALLS * 2_400_000 + CALLS * 900_000);
  });

  it('counts the drivers’ default timeouts, also for a timeout they would refuse', () => {
    expect(provisionBudgetMs([{ driver: 'terraform', values: {} }])).toBe(600_000 + CALLS * 600_000);
    expect(provisionBudgetMs([{ driver: 'exec', values: { timeoutSeconds: 'soon' } }])).toBe(
      600_000 + CALLS * 300_000,
    );
    // Over a day, which the drivers refuse: the default, not weeks of budget.
    expect(provisionBudgetMs([{ driver: 'terraform', values: { timeout: 10_000_000 } }])).toBe(
      600_000 + CALLS * 600_000,
    );
  });

  it('never exceeds what a timer can wait (a longer one would fire at once)', () => {
    const many = Array.from({ length: 10 }, () => ({ driver: 'terraform', values: { timeout: 86_400 } }));
    expect(provisionBudgetMs(many)).toBe(2 ** 31 - 1);
  });
});

/** A workload with one exec-provisioned resource. */
const workload: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image: 'node:20' } },
  resources: { bucket: { type: 's3' } },
};

describe.each(storeEngines)('a deployment’s provisioning on %s', (engine) => {
  let api: DeployingApi;

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
    const script = join(api.dataDir, 'bucket.mjs');
    writeFileSync(
      script,
      'for await (const _ of process.stdin);\nconsole.log(JSON.stringify({ values: { name: "b" }, secrets: {} }));\n',
    );
    chmodSync(script, 0o644);
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
      [
        '/resource-definitions/apply',
        {
          definitions: [
            {
              id: 'slow-bucket',
              type: 's3',
              driver: 'exec',
              driverInputs: { values: { command: [process.execPath, script], timeoutSeconds: 1800 } },
              criteria: [{ appId: 'shop' }],
            },
            {
              // Provisions nothing of this set: it adds nothing.
              id: 'other-bucket',
              type: 's3',
              driver: 'exec',
              driverInputs: { values: { command: [process.execPath, script], timeoutSeconds: 7200 } },
              criteria: [{ appId: 'elsewhere' }],
            },
          ],
        },
      ],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, response.body).toBeLessThan(300);
    }
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('may take as long as the timeout the matched definition gives its driver needs', async () => {
    const timeouts = vi.spyOn(AbortSignal, 'timeout');
    const deployed = await api.deploy('shop', 'dev', { workloads: [{ spec: workload, dir: '/srv/app' }] });
    expect(deployed.status, deployed.reason ?? '').toBe('succeeded');
    expect(timeouts).toHaveBeenCalledWith(600_000 + CALLS * 1_800_000);
  });
});
