import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DriverRegistry,
  type DriverContext,
  type ResourceDriver,
  type RuntimeTarget,
} from '@pave/plugin-api';
import { FAKE_NEVER_READY, FakeRuntime } from '@pave/plugin-api/testing';
import type { DeploymentDetail, JournalEntry, ScoreWorkload } from '@pave/core';
import { runDeployment, type OrchestratorDeps } from '../src/domain/deployments/orchestrator.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const secret = `s3cret-${Math.random().toString(36).slice(2)}`;

/**
 * A fake runtime whose status says why a workload is not ready the way the process runtime's does: the probe
 * and what it got, here with the workload's token in the probe's URL (a secret Pave gave it).
 */
class ProbingRuntime extends FakeRuntime {
  override async status(target: RuntimeTarget, ctx: DriverContext) {
    return (await super.status(target, ctx)).map((status) => ({
      ...status,
      detail: `readiness probe GET /healthz?token=${secret} on port 21069: ECONNREFUSED`,
    }));
  }
}

/** A workload the fake runtime runs; `neverReady` makes it wait for its readiness until the timeout. */
function web(neverReady: boolean): ScoreWorkload {
  return {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'web' },
    containers: {
      main: {
        image: 'fake',
        command: ['serve'],
        readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
        variables: {
          TOKEN: '${resources.env.TOKEN}',
          ...(neverReady ? { [FAKE_NEVER_READY]: '1' } : {}),
        },
      },
    },
    service: { ports: { http: { port: 8080 } } },
    resources: { env: { type: 'environment' } },
  };
}

/*
 * `pave deploy --wait` of a workload whose readiness probe never passes printed the `start` line and then
 * nothing until the timeout: the journal said nothing while the wait ready phase waited.
 */
describe.each(storeEngines)('the journal while workloads are not ready yet, on %s', (engine) => {
  let api: DeployingApi;
  const runtime = new ProbingRuntime({ serveHttp: false });
  const deps = (): OrchestratorDeps => ({
    store: api.store,
    runtime,
    box: api.box,
    resourceDrivers: new DriverRegistry<ResourceDriver>('resource'),
    logger: pino({ level: 'silent' }),
    readyProgressMs: 150,
  });
  /** Queues a deployment of `workload`, runs it to its end and resolves with its record. */
  const deploy = async (workload: ScoreWorkload, minReadySeconds = 0): Promise<DeploymentDetail> => {
    const queued = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [{ spec: workload, dir: '/srv/app' }],
      timeoutSeconds: 1,
      minReadySeconds,
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const id = Number(queued.json().id);
    await runDeployment(deps(), id, new AbortController().signal, false);
    return (await api.call('GET', `/apps/shop/envs/dev/deployments/${id}`)).json();
  };
  const progressOf = (journal: JournalEntry[]) =>
    journal.filter((entry) => entry.step === 'wait ready' && entry.status === 'info');

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: new FakeRuntime({ serveHttp: false }) });
    for (const [method, url, body] of [
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['PATCH', '/apps/shop/envs/dev/values', { set: { TOKEN: { value: secret, secret: true } } }],
    ] as const) {
      const response = await api.call(method, url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('says every interval which workload is still not ready, how long it waited and why, secrets masked', async () => {
    const deployment = await deploy(web(true));
    expect(deployment.status).toBe('failed');
    const progress = progressOf(deployment.journal);
    // One line per interval, not per poll: about 1 s of waiting at 150 ms.
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.length).toBeLessThanOrEqual(8);
    for (const entry of progress) {
      expect(entry.workload).toBe('web');
      expect(entry.message).toMatch(
        /^not ready yet after \d+ s of the 1 s timeout: readiness probe GET \/healthz\?token=\*\*\* on port 21069: ECONNREFUSED$/,
      );
    }
    // They come between the start and the failure.
    const ids = deployment.journal.map((entry) => entry.id);
    const started = deployment.journal.find((entry) => entry.step === 'start');
    const failed = deployment.journal.find(
      (entry) => entry.step === 'wait ready' && entry.status === 'failed',
    );
    expect(ids.indexOf(progress[0]!.id)).toBeGreaterThan(ids.indexOf(started!.id));
    expect(ids.indexOf(progress.at(-1)!.id)).toBeLessThan(ids.indexOf(failed!.id));
    expect(JSON.stringify(deployment)).not.toContain(secret);
  });

  it('ends a timed-out wait saying what to try: a longer --timeout, or listening on the probed port', async () => {
    const deployment = await deploy(web(true));
    expect(deployment.status).toBe('failed');
    const failed = deployment.journal.find(
      (entry) => entry.step === 'wait ready' && entry.status === 'failed',
    );
    for (const text of [deployment.reason, failed?.message]) {
      expect(text).toContain('--timeout (e.g. --timeout 5m)');
      expect(text).toContain('listens on the port its readiness probe names');
    }
  });

  it('says a timed-out wait ran out of the timeout and the stability window, not of seconds of its own', async () => {
    // The wait may take the timeout plus the window: `--timeout 40s` used to read "timed out after 45 s".
    const deployment = await deploy(web(true), 1);
    expect(deployment.status).toBe('failed');
    const failed = deployment.journal.find(
      (entry) => entry.step === 'wait ready' && entry.status === 'failed',
    );
    expect(failed?.message).toMatch(
      /^timed out after the 1 s timeout and the 1 s stability window: FAKE_NEVER_READY is set\n/,
    );
  });

  it('ends a timed-out wait of a workload without a probe saying it must listen on $PORT', async () => {
    const spec = web(true);
    const { readinessProbe: _probe, ...main } = spec.containers.main!;
    const deployment = await deploy({
      ...spec,
      containers: { main },
      service: { ports: { 'web-api': { port: 80, targetPort: 3000 } } },
    });
    expect(deployment.status).toBe('failed');
    const failed = deployment.journal.find(
      (entry) => entry.step === 'wait ready' && entry.status === 'failed',
    );
    for (const text of [deployment.reason, failed?.message]) {
      expect(text).toContain(
        'if it needs longer to start, deploy again with a longer --timeout (e.g. --timeout 5m); if not, check that it ' +
          'listens on its port web-api: without a readiness probe, Pave waits until that port accepts ' +
          'connections (on the process runtime: on $PORT, also $PORT_WEB_API, the host port Pave gives it; ' +
          'in a container: on port 3000)',
      );
    }
  });

  it('says so when the Score file sets PORT itself, which on the process runtime replaces the port Pave gives', async () => {
    // A Heroku habit: PORT set in the Score file. The process listened there and the probe never reached it.
    const spec = web(true);
    const main = spec.containers.main!;
    const deployment = await deploy({
      ...spec,
      containers: { main: { ...main, variables: { ...main.variables, PORT: '47466', PORT_HTTP: '47467' } } },
    });
    expect(deployment.status).toBe('failed');
    const failed = deployment.journal.find(
      (entry) => entry.step === 'wait ready' && entry.status === 'failed',
    );
    for (const text of [deployment.reason, failed?.message]) {
      expect(text).toContain(
        '; container main sets PORT and PORT_HTTP itself: on the process runtime these replace ' +
          'the host ports Pave gives it, which its probes and routes use; remove them from the Score file',
      );
    }
  });

  it('says nothing more for a workload that is ready at once', async () => {
    const deployment = await deploy(web(false));
    expect(deployment.status).toBe('succeeded');
    expect(progressOf(deployment.journal)).toEqual([]);
  });
});
