import { describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { fakeIo, fakeServer } from './helpers.ts';

const EMPTY_PAGE = { status: 200, body: { items: [], nextCursor: null } };

describe('a server URL that ends in /api/v1', () => {
  it('is taken as the server itself from --server, so requests go to /api/v1/..., not /api/v1/api/v1/...', async () => {
    const server = await fakeServer(() => EMPTY_PAGE);
    const io = fakeIo();
    const args = ['node', 'pave', 'apps', 'list', '--server', `${server.url}/api/v1/`, '--token', 'pave_t'];
    expect(await runCli(args, io), io.stderr.text).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual(['/api/v1/apps']);
  });

  it('is taken as the server itself from PAVE_SERVER', async () => {
    const server = await fakeServer(() => EMPTY_PAGE);
    const io = fakeIo({ env: { PAVE_SERVER: `${server.url}/api/v1`, PAVE_TOKEN: 'pave_t' } });
    expect(await runCli(['node', 'pave', 'apps', 'list'], io), io.stderr.text).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual(['/api/v1/apps']);
  });

  it('keeps any other path prefix, for a server behind a proxy', async () => {
    const server = await fakeServer(() => EMPTY_PAGE);
    const io = fakeIo();
    const args = ['node', 'pave', 'apps', 'list', '--server', `${server.url}/pave`, '--token', 'pave_t'];
    expect(await runCli(args, io), io.stderr.text).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual(['/pave/api/v1/apps']);
  });
});
