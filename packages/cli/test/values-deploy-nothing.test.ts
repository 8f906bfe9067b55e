import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentPage } from '@pave/core';
import { runCli } from '../src/program.ts';
import { openFullApi, type FullApi } from '../../server/test/support/full-api.ts';
import { fakeIo } from './helpers.ts';

/**
 * `pave values set --deploy` on an environment that runs nothing and has no deployment on its way sets the
 * values and redeploys nothing (a redeploy recorded a deployment of nothing, which DORA insights counted),
 * saying its first deployment takes them; with a first deployment queued, it queues the redeploy after it.
 * Against a real API.
 */
describe('values set --deploy on an environment that runs nothing', () => {
  let api: FullApi;
  let server: string;
  /** The command line of `pave ARGS` against the API, as its admin. */
  const pave = (...args: string[]) => ['node', 'pave', ...args, '--server', server, '--token', api.token];
  const deployments = async () =>
    ((await api.call('GET', '/apps/shop/envs/dev/deployments')).json() as DeploymentPage).items;

  beforeAll(async () => {
    api = await openFullApi('sqlite');
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    expect((await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(
      201,
    );
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('sets the values, redeploys nothing, and says the first deployment takes them', async () => {
    const io = fakeIo();
    const code = await runCli(
      pave('values', 'set', 'GREETING=hi', '--app', 'shop', '--env', 'dev', '--deploy', '--wait'),
      io,
    );
    expect(code, io.stderr.text).toBe(0);
    expect(io.stdout.text.split('\n')).toEqual([
      'Changed shop/dev:',
      '  + GREETING: hi',
      'New values version: shop/dev 1',
      'shop/dev runs nothing yet, so nothing was redeployed: its first deployment uses these values ' +
        '(pave deploy -f score.yaml --app shop --env dev)',
      '',
    ]);
    expect(await deployments()).toEqual([]);

    const json = fakeIo();
    expect(
      await runCli(
        pave('values', 'set', 'GREETING=ho', '--app', 'shop', '--env', 'dev', '--deploy', '-o', 'json'),
        json,
      ),
    ).toBe(0);
    expect(JSON.parse(json.stdout.text)).toMatchObject({
      values: { versions: [{ envId: 'dev', version: 2 }] },
      deployment: null,
    });
    expect(await deployments()).toEqual([]);
  });

  it('queues the redeploy after a first deployment on its way', async () => {
    const first = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [
        {
          dir: '/srv/shop',
          spec: {
            apiVersion: 'score.dev/v1b1',
            metadata: { name: 'api' },
            containers: { main: { image: 'node:20', command: ['node', 'server.js'] } },
          },
        },
      ],
    });
    expect(first.statusCode, first.body).toBe(202);
    const io = fakeIo();
    expect(
      await runCli(
        pave('values', 'set', 'GREETING=hey', '--app', 'shop', '--env', 'dev', '--deploy', '-o', 'json'),
        io,
      ),
    ).toBe(0);
    const printed = JSON.parse(io.stdout.text) as { deployment: { id: string; message: string } | null };
    expect(printed.deployment).toMatchObject({ message: 'values changed: GREETING' });
    expect((await deployments()).map((deployment) => deployment.id)).toEqual([
      printed.deployment!.id,
      first.json().id,
    ]);
  });

  it('says a first deployment awaiting approval keeps the values it was asked with', async () => {
    for (const [url, body] of [
      ['/env-types', { id: 'gated', requiresApproval: true }],
      ['/apps/shop/envs', { id: 'prod', type: 'gated' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, response.body).toBe(201);
    }
    const first = await api.call('POST', '/apps/shop/envs/prod/deployments', {
      workloads: [
        {
          dir: '/srv/shop',
          spec: {
            apiVersion: 'score.dev/v1b1',
            metadata: { name: 'api' },
            containers: { main: { image: 'node:20', command: ['node', 'server.js'] } },
          },
        },
      ],
    });
    expect(first.json()).toMatchObject({ status: 'awaiting-approval' });
    const io = fakeIo();
    expect(
      await runCli(pave('values', 'set', 'GREETING=new', '--app', 'shop', '--env', 'prod', '--deploy'), io),
    ).toBe(0);
    expect(io.stdout.text).toContain(
      `shop/prod runs nothing yet, so nothing was redeployed: its first deployment (${first.json().id}) awaits ` +
        'approval with the values it was asked with, not these: they reach shop/prod with the deployment ' +
        'after it (pave deploy -f score.yaml --app shop --env prod)',
    );
  });
});
