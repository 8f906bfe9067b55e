import { describe, expect, it } from 'vitest';
import type { App } from '@pave/core';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

const app = (id: string): App => ({
  id,
  name: id,
  createdBy: 'alice',
  createdAt: '2025-01-31T09:30:00.000Z',
});

describe('pave apps list', () => {
  it('asks for the page it is given and prints how to get the next one', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: { items: [app('billing'), app('cart')], nextCursor: 'cart' },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'apps', 'list', '--limit', '2', '--cursor', 'api'), io)).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual(['/api/v1/apps?limit=2&cursor=api']);
    expect(io.stdout.text).toContain('billing');
    expect(io.stdout.text).toMatch(/\n\nMore apps: pave apps list --limit 2 --cursor cart\n$/);
  });

  it('prints no next-page hint on the last page, and the page as it is with -o json', async () => {
    const page = { items: [app('shop')], nextCursor: null };
    const server = await fakeServer(() => ({ status: 200, body: page }));
    const table = fakeIo();
    expect(await runCli(cliArgs(server.url, 'apps', 'list'), table)).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual(['/api/v1/apps']);
    expect(table.stdout.text).not.toContain('More apps');
    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, 'apps', 'list', '-o', 'json'), json)).toBe(0);
    expect(JSON.parse(json.stdout.text)).toEqual(page);
  });

  it('refuses a --limit that is not a whole number from 1, before sending anything (exit 2)', async () => {
    const server = await fakeServer(() => ({ status: 500 }));
    for (const limit of ['0', 'ten', '-3', '2.5']) {
      const io = fakeIo();
      expect(await runCli(cliArgs(server.url, 'apps', 'list', '--limit', limit), io), limit).toBe(2);
      expect(io.stderr.text).toBe(
        `pave: error: --limit: "${limit}" is not a number of apps; use a whole number from 1 to 500\n`,
      );
    }
    expect(server.requests).toEqual([]);
  });
});
