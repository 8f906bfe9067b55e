import { describe, expect, it } from 'vitest';
import type { Resource } from '@pave/core';
import { formatOutputs, renderResource, renderResourceList } from '../src/commands/resources.ts';
import { colorsFor } from '../src/output/colors.ts';
import { runCli } from '../src/program.ts';
import { capture, cliArgs, fakeIo, fakeServer } from './helpers.ts';

const plain = colorsFor(capture(true), { NO_COLOR: '1' });

const resource = (fields: Partial<Resource> = {}): Resource => ({
  appId: 'shop',
  envId: 'dev',
  address: 'api.db',
  type: 'postgres',
  class: 'default',
  resId: 'api.db',
  definitionId: 'shop-postgres',
  driver: 'postgres',
  driverId: 'pg-1',
  values: { host: '127.0.0.1', port: '5432', database: 'shop_dev_api_db' },
  secrets: ['url', 'password'],
  createdAt: '2025-01-31T09:30:00.000Z',
  updatedAt: '2025-01-31T09:31:00.000Z',
  ...fields,
});

describe('resources output', () => {
  it('shows outputs as name=value sorted by name, secrets only by name', () => {
    expect(formatOutputs(resource())).toBe(
      'database=shop_dev_api_db, host=127.0.0.1, password=(secret), port=5432, url=(secret)',
    );
    expect(formatOutputs({ values: {}, secrets: [] })).toBe('-');
  });

  it('lists resources as ADDRESS, TYPE, CLASS, DEFINITION, DRIVER, OUTPUTS', () => {
    const text = renderResourceList(
      [
        resource(),
        resource({
          address: 'shared.dns',
          type: 'dns',
          definitionId: 'default-dns',
          driver: 'static',
          values: { host: 'shop.localhost' },
          secrets: [],
        }),
      ],
      'shop',
      'dev',
      plain,
    );
    expect(text).toBe(
      [
        'ADDRESS     TYPE      CLASS    DEFINITION     DRIVER    OUTPUTS',
        'api.db      postgres  default  shop-postgres  postgres  ' +
          'database=shop_dev_api_db, host=127.0.0.1, password=(secret), port=5432, url=(secret)',
        'shared.dns  dns       default  default-dns    static    host=shop.localhost',
      ].join('\n'),
    );
    expect(renderResourceList([], 'shop', 'dev', plain)).toMatch(/^No resources in shop\/dev yet\./);
  });

  it('shows one resource with its outputs one per line, never a secret value', () => {
    const text = renderResource(resource(), plain);
    expect(text).toContain('DEFINITION   shop-postgres\n');
    expect(
      text.endsWith(
        [
          'Outputs:',
          '  database  shop_dev_api_db',
          '  host      127.0.0.1',
          '  password  (secret)',
          '  port      5432',
          '  url       (secret)',
        ].join('\n'),
      ),
    ).toBe(true);
  });
});

describe('pave resources commands', () => {
  it('list, get, move and graph call the API of the environment', async () => {
    const server = await fakeServer((request) => {
      if (request.url.endsWith('/resources')) return { status: 200, body: { items: [resource()] } };
      if (request.url.endsWith('/resource-graph')) {
        return { status: 200, body: { nodes: [], edges: [], text: 'api --uses--> api.db (postgres)\n' } };
      }
      if (request.url.endsWith('/move')) return { status: 200, body: resource({ address: 'api.orders' }) };
      return { status: 200, body: resource() };
    });
    const env = ['--app', 'shop', '--env', 'dev'];
    const list = fakeIo();
    expect(await runCli(cliArgs(server.url, 'resources', 'list', ...env), list)).toBe(0);
    expect(list.stdout.text).toMatch(
      /^ADDRESS\s+TYPE\s+CLASS\s+DEFINITION\s+DRIVER\s+OUTPUTS\napi\.db\s+postgres/,
    );
    const get = fakeIo();
    expect(
      await runCli(cliArgs(server.url, 'resources', 'get', 'shared.my db', ...env, '-o', 'json'), get),
    ).toBe(0);
    expect(JSON.parse(get.stdout.text)).toEqual(resource());
    const move = fakeIo();
    expect(await runCli(cliArgs(server.url, 'resources', 'move', ...env, 'api.db', 'api.orders'), move)).toBe(
      0,
    );
    expect(move.stdout.text).toBe(
      'Moved the postgres resource api.db of shop/dev to api.orders; it keeps its data\n',
    );
    const graph = fakeIo();
    expect(await runCli(cliArgs(server.url, 'resources', 'graph', ...env), graph)).toBe(0);
    expect(graph.stdout.text).toBe('api --uses--> api.db (postgres)\n');
    expect(server.requests.map((request) => [request.method, request.url, request.body])).toEqual([
      ['GET', '/api/v1/apps/shop/envs/dev/resources', undefined],
      ['GET', '/api/v1/apps/shop/envs/dev/resources/shared.my%20db', undefined],
      ['POST', '/api/v1/apps/shop/envs/dev/resources/move', { from: 'api.db', to: 'api.orders' }],
      ['GET', '/api/v1/apps/shop/envs/dev/resource-graph', undefined],
    ]);
  });

  it('list asks for the page it is given and prints how to get the next one', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: { items: [resource()], nextCursor: 'api.db' },
    }));
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    const env = ['--app', 'shop', '--env', 'dev'];
    const paging = ['--limit', '1', '--cursor', 'api.cache'];
    expect(await runCli(cliArgs(server.url, 'resources', 'list', ...env, ...paging), io)).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual([
      '/api/v1/apps/shop/envs/dev/resources?limit=1&cursor=api.cache',
    ]);
    expect(io.stdout.text).toMatch(
      /\n\nMore resources: pave resources list --app shop --env dev --limit 1 --cursor api\.db\n$/,
    );
  });
});
