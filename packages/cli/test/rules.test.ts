import { describe, expect, it } from 'vitest';
import type { Rule } from '@pave/core';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

const rule = (id: string): Rule => ({
  id,
  app: 'shop',
  env: 'dev',
  branch: 'main',
  workload: null,
  createdBy: 'alice',
  createdAt: '2025-01-31T09:30:00.000Z',
});

describe('pave rules list', () => {
  it('asks for the page it is given and prints how to get the next one', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: { items: [rule('4'), rule('7')], nextCursor: '7' },
    }));
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    const args = ['rules', 'list', '--app', 'shop', '--limit', '2', '--cursor', '3'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual([
      '/api/v1/apps/shop/rules?limit=2&cursor=3',
    ]);
    expect(io.stdout.text).toMatch(/^ID\s+ENV\s+BRANCH/);
    expect(io.stdout.text).toMatch(/\n\nMore rules: pave rules list --app shop --limit 2 --cursor 7\n$/);
  });

  it('prints no next-page hint on the last page, and the page as it is with -o json', async () => {
    const page = { items: [rule('1')], nextCursor: null };
    const server = await fakeServer(() => ({ status: 200, body: page }));
    const table = fakeIo({ env: { NO_COLOR: '1' } });
    expect(await runCli(cliArgs(server.url, 'rules', 'list', '--app', 'shop'), table)).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual(['/api/v1/apps/shop/rules']);
    expect(table.stdout.text).not.toContain('More rules');
    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, 'rules', 'list', '--app', 'shop', '-o', 'json'), json)).toBe(0);
    expect(JSON.parse(json.stdout.text)).toEqual(page);
  });
});
