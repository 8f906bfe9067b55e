import { describe, expect, it } from 'vitest';
import type { ResourceCheck } from '@pave/core';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

const check = (fields: Partial<ResourceCheck> = {}): ResourceCheck => ({
  address: 'api.db',
  type: 'postgres',
  driver: 'postgres-embedded',
  status: 'ok',
  detail: '',
  driftedOutputs: [],
  ...fields,
});

describe('pave resources check', () => {
  const env = ['--app', 'shop', '--env', 'dev'];

  it('prints ADDRESS, TYPE, STATUS, DETAIL and exits 0 when every resource is ok', async () => {
    const server = await fakeServer(() => ({ status: 200, body: { items: [check()] } }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'resources', 'check', ...env), io)).toBe(0);
    expect(io.stdout.text).toMatch(/^ADDRESS\s+TYPE\s+STATUS\s+DETAIL\napi\.db\s+postgres\s+ok\s+-\n$/);
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /api/v1/apps/shop/envs/dev/resources/check',
    ]);
  });

  it('exits 3 when a resource is missing, drifted or unreadable, naming them on stderr; -o json prints the list', async () => {
    const items = [
      check({
        status: 'missing',
        detail: 'recorded, but gone; `pave deploy --recreate-missing` creates it again',
      }),
      check({
        address: 'api.web',
        type: 'route',
        status: 'drifted',
        driftedOutputs: ['host'],
        detail: 'outputs differ: host',
      }),
      check({ address: 'api.dns', type: 'dns', status: 'ok' }),
    ];
    const server = await fakeServer(() => ({ status: 200, body: { items } }));
    const table = fakeIo();
    expect(await runCli(cliArgs(server.url, 'resources', 'check', ...env), table)).toBe(3);
    expect(table.stdout.text).toMatch(/api\.db\s+postgres\s+missing\s+recorded, but gone/);
    expect(table.stdout.text).toMatch(/api\.web\s+route\s+drifted\s+outputs differ: host/);
    expect(table.stderr.text).toBe(
      'pave: error: 2 of 3 resources of shop/dev are not ok: api.db missing, api.web drifted\n',
    );

    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, 'resources', 'check', ...env, '-o', 'json'), json)).toBe(3);
    expect(JSON.parse(json.stdout.text)).toEqual({ items });
  });
});
