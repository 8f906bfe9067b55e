import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { makeAppDir } from '../support/app-dir.ts';

/** A TCP port nothing listens on now (the OS picks it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A Score file of one workload running `script` with node. */
function score(name: string, script: string, greeting: string): string {
  return [
    'apiVersion: score.dev/v1b1',
    'metadata:',
    `  name: ${name}`,
    'containers:',
    '  main:',
    '    image: node:20',
    `    command: ['node', '-e', '${script}']`,
    '    variables:',
    `      GREETING: ${greeting}`,
    '',
  ].join('\n');
}

describe('a real Prometheus scraping pave up --metrics-port while deployments run', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl: string;
  let promDir: string;
  let appDir: string;
  let prometheusLog = '';
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));

  /** Runs a PromQL instant query through Prometheus' HTTP API. */
  const query = async (promql: string) => {
    const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as {
      status: string;
      data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    expect(body.status).toBe('success');
    return body.data.result;
  };

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    // Port 0: the OS picks the metrics port when pave up listens (a port picked here first and freed again
    // could be handed to pave up's own API listener before the metrics listener takes it).
    server = await startPave(['--data-dir', location.dataDir, '--metrics-port', '0']);
    const metricsUrl = /"metricsUrl":"(http:\/\/[^"]+)"/.exec(server.output())?.[1];
    expect(metricsUrl, server.output()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const metricsPort = new URL(metricsUrl!).port;
    await shortenStabilityWindow(server.url, location.dataDir);
    appDir = makeAppDir('pave-metrics-e2e-');
    expect((await pave('apps', 'create', 'shop')).code).toBe(0);
    expect((await pave('envs', 'create', 'dev', '--app', 'shop', '--type', 'development')).code).toBe(0);

    promDir = mkdtempSync(join(tmpdir(), 'pave-prometheus-'));
    const config = join(promDir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: pave',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${metricsPort}']`,
        '',
      ].join('\n'),
    );
    const prometheusPort = await freePort();
    prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(promDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${prometheusPort}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout!.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString()));
    prometheus.stderr!.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString()));
    prometheus.once('error', (error) => (prometheusLog += `\ncannot start prometheus: ${error.message}`));
    for (let attempt = 0; attempt < 100; attempt++) {
      const ready = await fetch(`${prometheusUrl}/-/ready`).catch(() => undefined);
      if (ready?.ok) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(
      `prometheus did not become ready in 20 s (apt-get install prometheus):\n${prometheusLog}`,
    );
  }, 90_000);
  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    if (server) await pave('apps', 'delete', 'shop', '--force');
    await server?.stop();
    await location?.cleanup();
    if (promDir) rmSync(promDir, { recursive: true, force: true });
    if (appDir) rmSync(appDir, { recursive: true, force: true });
  });

  it('counts 3 succeeded and 1 failed deployment, as PromQL over the scraped series says', async () => {
    const file = join(appDir, 'api.score.yaml');
    for (const greeting of ['one', 'two', 'three']) {
      writeFileSync(file, score('api', 'setInterval(() => {}, 1000)', greeting));
      const result = await pave('deploy', '-f', file, '--app', 'shop', '--env', 'dev', '--wait');
      expect(result.code, result.stderr + result.stdout).toBe(0);
    }
    writeFileSync(file, score('api', 'process.exit(3)', 'four'));
    const failed = await pave('deploy', '-f', file, '--app', 'shop', '--env', 'dev', '--wait');
    expect(failed.code, failed.stdout).not.toBe(0);

    // Prometheus scrapes every second: poll until it has seen the last deployment (bounded).
    let counts: Record<string, number> = {};
    for (let attempt = 0; attempt < 60; attempt++) {
      const result = await query('sum by (outcome) (pave_deployments_total{job="pave"})');
      counts = Object.fromEntries(result.map((sample) => [sample.metric.outcome!, Number(sample.value[1])]));
      if (counts.succeeded === 3 && counts.failed === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(counts).toEqual({ succeeded: 3, failed: 1 });

    const up = await query('up{job="pave"}');
    expect(up[0]?.value[1]).toBe('1');
    // Phase histograms and request histograms (by route pattern) are scraped too.
    const phases = await query(
      'sum by (phase) (pave_deployment_phase_duration_seconds_count{job="pave",outcome="succeeded"})',
    );
    expect(phases.map((sample) => sample.metric.phase)).toEqual(
      expect.arrayContaining(['plan', 'provision', 'render', 'start', 'wait ready', 'prune']),
    );
    const routes = await query('sum by (route) (pave_http_request_duration_seconds_count{job="pave"})');
    expect(routes.map((sample) => sample.metric.route)).toContain('/api/v1/apps/:app/envs/:env/deployments');
  });
});
