import { describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

/* The API takes minReadySeconds and recreateMissing on a promotion as on any deployment; `pave promote` did not. */
describe('pave promote --min-ready and --recreate-missing', () => {
  it('sends the stability window and the wish to recreate missing resources with the promotion', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: { envId: 'prod', fromEnvId: 'staging', changes: [], resources: [], policies: [] },
    }));
    const io = fakeIo();
    const args = ['promote', '--app', 'shop', '--from', 'staging', '--to', 'prod', '--plan'];
    await runCli(cliArgs(server.url, ...args, '--min-ready', '30s', '--recreate-missing'), io);
    expect(server.requests[0]).toMatchObject({
      method: 'POST',
      url: '/api/v1/apps/shop/envs/prod/deployments',
      body: { fromEnv: 'staging', minReadySeconds: 30, recreateMissing: true, plan: true },
    });
  });

  it('refuses a --min-ready that is not a duration before it asks the server', async () => {
    const server = await fakeServer(() => ({ status: 500 }));
    const io = fakeIo();
    const args = ['promote', '--app', 'shop', '--from', 'staging', '--to', 'prod', '--min-ready', 'soon'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(2);
    expect(io.stderr.text).toMatch(/^pave: error: --min-ready: "soon"/u);
    expect(server.requests).toEqual([]);
  });
});
