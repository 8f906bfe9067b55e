import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Insights } from '@pave/core';
import { runCli } from '../src/program.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from '../../server/test/support/deploying-api.ts';
import { fakeIo, temporaryDir } from './helpers.ts';

describe('pave insights against a real server', () => {
  let api: DeployingApi;
  let server: string;
  const pave = async (...args: string[]) => {
    const io = fakeIo();
    const code = await runCli(['node', 'pave', ...args, '--server', server, '--token', api.token], io);
    return { code, stdout: io.stdout.text, stderr: io.stderr.text };
  };

  beforeAll(async () => {
    api = await openDeployingApi('sqlite', { runtime: idleRuntime, worker: true });
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, response.body).toBeLessThan(300);
    }
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('deploys with --commit and --commit-time, and shows the lead time and bands of the app', async () => {
    const dir = temporaryDir();
    const file = join(dir, 'score.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: score.dev/v1b1',
        'metadata:',
        '  name: web',
        'containers:',
        '  main:',
        '    image: nginx',
        '',
      ].join('\n'),
    );
    const commitTime = new Date(Date.now() - 2 * 3600_000).toISOString();
    const deployed = await pave(
      'deploy',
      '-f',
      file,
      '--app',
      'shop',
      '--env',
      'dev',
      '--commit',
      'abc1234',
      '--commit-time',
      commitTime,
      '--wait',
    );
    expect(deployed.code, deployed.stderr).toBe(0);

    const json = await pave('insights', '--app', 'shop', '--since', '7d', '-o', 'json');
    expect(json.code, json.stderr).toBe(0);
    const insights = JSON.parse(json.stdout) as Insights;
    expect(insights.envs).toEqual(['dev']);
    expect(insights.deploymentFrequency.deployments).toBe(1);
    expect(insights.leadTime.count).toBe(1);
    // About two hours from the commit to the deployment's success: under a day, elite.
    expect(insights.leadTime.medianSeconds).toBeGreaterThanOrEqual(2 * 3600);
    expect(insights.leadTime.medianSeconds).toBeLessThan(2 * 3600 + 120);
    expect(insights.leadTime.band).toBe('elite');
    expect(insights.changeFailureRate).toMatchObject({ finished: 1, failures: 0, rate: 0, band: 'elite' });

    const table = await pave('insights', '--app', 'shop', '--env', 'dev');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('shop (dev)');
    expect(table.stdout).toMatch(/Lead time for changes\s+2(\.0)?h\s+elite/);
    expect(table.stdout).toMatch(/Change failure rate\s+0\.0 %\s+elite\s+0 of 1 finished/);
  });

  it('refuses a malformed window and a commit time without its commit before calling the server', async () => {
    const window = await pave('insights', '--app', 'shop', '--since', '30days');
    expect(window.code).not.toBe(0);
    expect(window.stderr).toMatch(/--since: "30days" is not a window.*30d/);
    const alone = await pave(
      'deploy',
      '--remove',
      'web',
      '--app',
      'shop',
      '--env',
      'dev',
      '--commit-time',
      'x',
    );
    expect(alone.code).not.toBe(0);
    expect(alone.stderr).toMatch(/--commit-time is the time of a commit: give --commit SHA too/);
  });
});
