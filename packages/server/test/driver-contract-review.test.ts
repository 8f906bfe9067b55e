import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DriverRegistry,
  type DriverContext,
  type ResourceDriver,
  type ResourceInputs,
  type RuntimeDriver,
} from '@pave/plugin-api';
import { FakeResourceDriver, FakeRuntime } from '@pave/plugin-api/testing';
import type { ScoreWorkload } from '@pave/core';
import { runDeployment, type EnvironmentTargets } from '../src/domain/deployments/orchestrator.ts';
import { openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/** One line the control plane's logger wrote, as JSON. */
type LogRecord = Record<string, unknown> & { msg?: string };

/** A fake resource driver that logs one line, through its context, on every create and delete. */
class LoggingResourceDriver extends FakeResourceDriver {
  override async create(inputs: ResourceInputs, ctx: DriverContext) {
    ctx.logger.info('driver line: create', { address: inputs.scope.address });
    return super.create(inputs, ctx);
  }

  override async delete(id: string, inputs: ResourceInputs, ctx: DriverContext) {
    ctx.logger.info('driver line: delete', { address: inputs.scope.address });
    return super.delete(id, inputs, ctx);
  }
}

/** A fake runtime that logs one line, through its context, on every call a deployment makes. */
function loggingRuntime(fake: FakeRuntime): RuntimeDriver {
  return {
    name: fake.name,
    check: (workload) => fake.check(workload),
    status: (target, ctx) => {
      ctx.logger.info('driver line: status');
      return fake.status(target, ctx);
    },
    deploy: (target, workload, ctx) => {
      ctx.logger.info('driver line: deploy');
      return fake.deploy(target, workload, ctx);
    },
    waitReady: (target, workload, ctx, options) => {
      ctx.logger.info('driver line: waitReady');
      return fake.waitReady(target, workload, ctx, options);
    },
    remove: (target, workload, ctx) => {
      ctx.logger.info('driver line: remove');
      return fake.remove(target, workload, ctx);
    },
    destroy: (target, ctx) => fake.destroy(target, ctx),
  };
}

const web = (resources: ScoreWorkload['resources']): ScoreWorkload => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'web' },
  containers: { main: { image: 'fake', command: ['serve'] } },
  resources,
});

const worker: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'worker' },
  containers: { main: { image: 'fake', command: ['work'] } },
};

/**
 * DriverLogger (packages/plugin-api/src/context.ts) promises that "the control plane adds the deployment and
 * step to every line" a driver writes. A deployment that provisions, removes, starts, waits for and prunes
 * through drivers that log on each call must hand each of those lines to its logger with both.
 */
describe('driver calls of a deployment keep the DriverContext promises', () => {
  let api: DeployingApi;
  const records: LogRecord[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          records.push(JSON.parse(line) as LogRecord);
        }
        done();
      },
    }),
  );
  const runtime = loggingRuntime(new FakeRuntime({ serveHttp: false }));
  const resources = new LoggingResourceDriver();
  const targets: EnvironmentTargets = {
    plan: async () => ({ runtime, moving: false }),
    commit: async () => undefined,
  };

  /** Queues a deployment through the API and runs it to its end with the logging drivers. */
  const deploy = async (workloads: ScoreWorkload[], body: object = {}): Promise<number> => {
    const queued = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: workloads.map((spec) => ({ spec, dir: '/srv/app' })),
      minReadySeconds: 0,
      ...body,
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const id = Number(queued.json().id);
    await runDeployment(
      {
        store: api.store,
        runtime,
        box: api.box,
        resourceDrivers: new DriverRegistry<ResourceDriver>('resource').register(resources),
        targets,
        logger,
      },
      id,
      new AbortController().signal,
      false,
    );
    const detail = (await api.call('GET', `/apps/shop/envs/dev/deployments/${id}`)).json();
    expect(detail.status, detail.reason ?? '').toBe('succeeded');
    return id;
  };

  beforeAll(async () => {
    api = await openDeployingApi('sqlite', {
      runtime: new FakeRuntime({ serveHttp: false }),
      resourceDrivers: [new FakeResourceDriver()],
    });
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    expect((await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(
      201,
    );
    const applied = await api.call('POST', '/resource-definitions/apply', {
      definitions: [
        {
          id: 'fake-redis',
          type: 'redis',
          driver: 'fake',
          driverInputs: { values: {} },
          criteria: [{ appId: 'shop' }],
        },
      ],
    });
    expect(applied.statusCode, applied.body).toBe(200);
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('hands every line a driver logs to the control plane’s log with its deployment and step', async () => {
    const first = await deploy([web({ cache: { type: 'redis' } }), worker]);
    // Removes the worker and prunes the cache the set no longer uses.
    const second = await deploy([web({})], { remove: ['worker'], prune: true, allowDataLoss: true });

    const lines = records.filter((record) => record.msg?.startsWith('driver line: '));
    const seen = (deployment: number) =>
      lines
        .filter((line) => line.deployment === deployment)
        .map((line) => `${String(line.step)} ${line.msg!.slice('driver line: '.length)}`);
    expect(new Set(seen(first))).toEqual(
      new Set(['provision create', 'reach target status', 'start deploy', 'wait ready waitReady']),
    );
    expect(new Set(seen(second))).toEqual(
      new Set([
        'reach target status',
        'remove remove',
        'start deploy',
        'wait ready waitReady',
        'prune delete',
      ]),
    );
    expect(lines.filter((line) => line.deployment === undefined || line.step === undefined)).toEqual([]);
  });
});
