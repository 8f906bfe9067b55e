import type { DeploymentDetail } from '@pave/core';
import type { LogLine, ReadyResult, RenderedWorkload, RuntimeDriver, WorkloadStatus } from '@pave/plugin-api';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverContext } from '../src/domain/deployments/orchestrator.ts';
import { queueRestarts } from '../src/domain/deployments/restart.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const OLD = 'old-secret-hunter2-aaaa';
const NEW = 'new-secret-hunter3-bbbb';

const body = {
  workloads: [
    {
      spec: {
        apiVersion: 'score.dev/v1b1',
        metadata: { name: 'api' },
        containers: {
          main: {
            image: 'node:20',
            command: ['node', 'server.js'],
            variables: { DB_PASSWORD: '${resources.env.DB_PASSWORD}' },
          },
        },
        resources: { env: { type: 'environment' } },
      },
      dir: '/srv/app',
    },
  ],
};

/**
 * A runtime that quotes the environment it was last given wherever it says something, as a container
 * engine's inspect errors or a cluster's events may: in a status detail, in a status or logs error, in a
 * failure to remove a container. `fails` says which of its calls fail now.
 */
class QuotingRuntime implements RuntimeDriver {
  readonly name = 'quoting';
  lastEnv = '';
  hash = '';
  fails = { status: false, remove: false, ready: false, destroy: false };

  async deploy(_target: unknown, workload: RenderedWorkload): Promise<void> {
    this.lastEnv = JSON.stringify(workload.containers[0]?.env);
    this.hash = workload.hash;
  }
  async waitReady(): Promise<ReadyResult> {
    return this.fails.ready ? { ready: false, reason: 'not ready', lastLogs: [] } : { ready: true };
  }
  async remove(): Promise<void> {
    if (this.fails.remove) throw new Error(`cannot stop the container (env ${this.lastEnv})`);
  }
  async status(): Promise<WorkloadStatus[]> {
    if (this.fails.status) throw new Error(`cannot inspect the container (env ${this.lastEnv})`);
    if (!this.lastEnv) return [];
    return [
      {
        workload: 'api',
        state: 'running',
        restarts: 0,
        hash: this.hash,
        deploymentId: '1',
        ports: [],
        containers: [
          { name: 'main', state: 'running', restarts: 1, lastExit: `could not start: env ${this.lastEnv}` },
        ],
        detail: `readiness: container env ${this.lastEnv}`,
      },
    ];
  }
  async destroy(): Promise<void> {
    if (this.fails.destroy) throw new Error(`cannot remove the containers (env ${this.lastEnv})`);
  }
  async *logs(): AsyncIterable<LogLine> {
    yield* [];
    throw new Error(`cannot read the logs of the container (env ${this.lastEnv})`);
  }
}

/** Whether `text` holds either secret. */
const leaks = (text: string) => text.includes(OLD) || text.includes(NEW);

describe.each(storeEngines)('what a runtime says about workloads it was given secrets, on %s', (engine) => {
  let api: DeployingApi;
  let viewer: string;
  const runtime = new QuotingRuntime();
  /** What the server logs, a line a chunk. */
  const logged: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString('utf8'));
        done();
      },
    }),
  );

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime, worker: true, logger, api: { loggerInstance: logger } });
    for (const [method, url, payload] of [
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['POST', '/apps/shop/envs', { id: 'fresh', type: 'development' }],
      ['PATCH', '/apps/shop/values', { set: { DB_PASSWORD: { value: OLD, secret: true } } }],
    ] as const) {
      const response = await api.call(method, url, payload);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    viewer = await api.createUser('vera');
    const granted = await api.call('POST', '/roles', { role: 'viewer', user: 'vera', app: 'shop' });
    expect(granted.statusCode, granted.body).toBeLessThan(300);
    expect((await api.deploy('shop', 'dev', body)).status).toBe('succeeded');
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it("masks them in an environment's and an app's status: details, containers' exits and a runtime that cannot answer", async () => {
    for (const url of ['/apps/shop/envs/dev/status', '/apps/shop/status']) {
      const shown = await api.callAs(viewer, 'GET', url);
      expect(shown.statusCode, shown.body).toBe(200);
      expect(shown.body).toContain('readiness: container env');
      expect(shown.body).toContain('could not start: env');
      expect(leaks(shown.body), shown.body).toBe(false);
    }
    runtime.fails.status = true;
    try {
      const shown = await api.callAs(viewer, 'GET', '/apps/shop/envs/dev/status');
      expect(shown.json().target.detail).toContain('cannot inspect the container');
      expect(leaks(shown.body), shown.body).toBe(false);
    } finally {
      runtime.fails.status = false;
    }
  });

  it('masks them in the error that ends a log stream', async () => {
    const streamed = await api.callAs(viewer, 'GET', '/apps/shop/envs/dev/logs?tail=10');
    expect(streamed.body).toContain('cannot read the logs of the container');
    expect(leaks(streamed.body), streamed.body).toBe(false);
  });

  it('masks a secret of an earlier values version, which earlier containers were given', async () => {
    const rotated = await api.call('PATCH', '/apps/shop/values', {
      set: { DB_PASSWORD: { value: NEW, secret: true } },
    });
    expect(rotated.statusCode, rotated.body).toBe(200);
    // The runtime, asked what runs before the new set starts, quotes the containers of the old one.
    runtime.fails.status = true;
    let failed: DeploymentDetail;
    try {
      failed = await api.deploy('shop', 'dev', body);
    } finally {
      runtime.fails.status = false;
    }
    expect(failed.status).toBe('failed');
    expect(failed.reason).toContain('cannot inspect the container');
    const shown = await api.callAs(viewer, 'GET', `/apps/shop/envs/dev/deployments/${failed.id}`);
    const events = await api.callAs(viewer, 'GET', '/events?app=shop&type=deployment.failed');
    for (const text of [JSON.stringify(failed), shown.body, events.body])
      expect(leaks(text), text).toBe(false);
  });

  it("masks them in a failed first deployment's failure to stop what it started", async () => {
    runtime.fails.ready = true;
    runtime.fails.remove = true;
    let failed: DeploymentDetail;
    try {
      failed = await api.deploy('shop', 'fresh', { ...body, timeoutSeconds: 1 });
    } finally {
      runtime.fails.ready = false;
      runtime.fails.remove = false;
    }
    expect(failed.status).toBe('failed');
    const rollback = JSON.stringify(failed.journal.filter((entry) => entry.step === 'rollback'));
    expect(rollback).toContain('cannot stop the container');
    expect(leaks(JSON.stringify(failed)), rollback).toBe(false);
  });

  it('masks them in the server log when the runtime cannot tell what runs at start', async () => {
    runtime.fails.status = true;
    try {
      const ctx = driverContext(logger, AbortSignal.timeout(10_000));
      await queueRestarts(api.store, api.box, runtime, ctx, 'start:test');
      ctx.dispose();
    } finally {
      runtime.fails.status = false;
    }
    const lines = logged.filter((line) => line.includes('cannot tell whether the workloads'));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).toContain('cannot inspect the container');
    expect(leaks(logged.join('')), lines.join('')).toBe(false);
  });

  it('masks them in the answer and the server log when an environment is deleted and its workloads cannot be removed', async () => {
    runtime.fails.destroy = true;
    try {
      const refused = await api.call('DELETE', '/apps/shop/envs/dev');
      expect(refused.statusCode, refused.body).toBe(502);
      expect(refused.json().detail).toContain('cannot remove the containers');
      expect(leaks(refused.body), refused.body).toBe(false);
    } finally {
      runtime.fails.destroy = false;
    }
    const lines = logged.filter((line) => line.includes('could not remove workloads'));
    expect(lines.join('')).toContain('cannot remove the containers');
    expect(leaks(logged.join('')), lines.join('')).toBe(false);
    // Kept: deleted once the runtime can remove them.
    expect((await api.call('DELETE', '/apps/shop/envs/dev')).statusCode).toBe(204);
  });
});
