import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { WhoAmI } from '@pave/core';
import { runCli } from '../src/program.ts';
import { fakeIo, fakeServer } from './helpers.ts';

const identity: WhoAmI = {
  username: 'alice',
  kind: 'user',
  hasPassword: true,
  token: { id: 'tok_1', name: 'ci', expiresAt: null, scope: null },
  grants: [],
};

describe('pave whoami for scripts', () => {
  it('names the server it asked, here from PAVE_SERVER, in JSON and in YAML as the table does', async () => {
    const server = await fakeServer(() => ({ status: 200, body: identity }));
    const env = { PAVE_SERVER: server.url, PAVE_TOKEN: 'pave_test' };
    const json = fakeIo({ env });
    expect(await runCli(['node', 'pave', 'whoami', '-o', 'json'], json)).toBe(0);
    expect(JSON.parse(json.stdout.text)).toEqual({ ...identity, server: server.url });
    const yaml = fakeIo({ env });
    expect(await runCli(['node', 'pave', 'whoami', '-o', 'yaml'], yaml)).toBe(0);
    expect(parse(yaml.stdout.text)).toEqual({ ...identity, server: server.url });
  });
});
