import { describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

describe('pave envs create --timeout', () => {
  it('without --wait is a usage error (exit 2) that says how to fix it, and sends nothing', async () => {
    const server = await fakeServer(() => ({ status: 500 }));
    const io = fakeIo();
    const args = ['envs', 'create', 'pr-42', '--app', 'shop', '--type', 'development', '--from', 'dev'];
    expect(await runCli(cliArgs(server.url, ...args, '--timeout', '2m'), io)).toBe(2);
    expect(io.stderr.text).toBe(
      'pave: error: --timeout goes with --wait: it only applies while --wait follows the clone deployment; ' +
        'add --wait, or leave --timeout out\n',
    );
    expect(server.requests).toEqual([]);
  });

  it('without --from says that nothing is deployed, rather than to add --wait (which needs --from too)', async () => {
    const server = await fakeServer(() => ({ status: 500 }));
    const io = fakeIo();
    const args = ['envs', 'create', 'pr-42', '--app', 'shop', '--type', 'development', '--timeout', '2m'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(2);
    expect(io.stderr.text).toBe(
      'pave: error: --timeout and --wait follow the clone deployment of --from; without --from nothing is ' +
        'deployed: leave --timeout out\n',
    );
    expect(server.requests).toEqual([]);
  });
});
