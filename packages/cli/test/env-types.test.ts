import { describe, expect, it } from 'vitest';
import type { EnvType } from '@pave/core';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

const OFFLINE = 'http://127.0.0.1:9';

const envType = (fields: Partial<EnvType> = {}): EnvType => ({
  id: 'production',
  description: 'Live',
  restricted: true,
  requiresApproval: false,
  minReadySeconds: null,
  createdBy: 'admin',
  createdAt: '2025-01-31T09:30:00.000Z',
  ...fields,
});

describe('pave env-types and restriction', () => {
  it('creates a restricted type with --restricted, and an unrestricted one without', async () => {
    const server = await fakeServer((request) => ({
      status: 201,
      body: envType({ restricted: (request.body as { restricted?: boolean }).restricted === true }),
    }));
    const restricted = fakeIo();
    expect(
      await runCli(cliArgs(server.url, 'env-types', 'create', 'production', '--restricted'), restricted),
    ).toBe(0);
    expect(restricted.stdout.text).toBe(
      'Created environment type production, restricted: changing its environments needs the deployer role ' +
        'on it as well (`pave roles grant deployer --user USER --env-type production`)\n',
    );
    const open = fakeIo();
    expect(await runCli(cliArgs(server.url, 'env-types', 'create', 'production'), open)).toBe(0);
    expect(open.stdout.text).toBe('Created environment type production\n');
    expect(server.requests.map((request) => request.body)).toEqual([
      { id: 'production', restricted: true },
      { id: 'production' },
    ]);
  });

  it('lists whether each type is restricted and its stability window, the default marked', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: {
        items: [
          envType({ id: 'development', description: '', restricted: false, minReadySeconds: 0 }),
          envType({ minReadySeconds: 30, requiresApproval: true }),
          envType({ id: 'staging', description: '', restricted: false }),
        ],
      },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'env-types', 'list'), io)).toBe(0);
    expect(io.stdout.text).toBe(
      [
        'ID           DESCRIPTION  RESTRICTED  APPROVAL  MIN READY     CREATED BY  CREATED AT',
        'development               -           -         0s            admin       2025-01-31T09:30:00Z',
        'production   Live         yes         required  30s           admin       2025-01-31T09:30:00Z',
        'staging                   -           -         5s (default)  admin       2025-01-31T09:30:00Z',
        '',
      ].join('\n'),
    );
  });
});

describe('pave env-types --min-ready', () => {
  it('sends --min-ready of create as whole seconds, 0s and 0 as 0', async () => {
    const server = await fakeServer((request) => ({ status: 201, body: envType(request.body as object) }));
    for (const duration of ['30s', '2m', '0s', '0']) {
      expect(
        await runCli(cliArgs(server.url, 'env-types', 'create', 'qa', '--min-ready', duration), fakeIo()),
      ).toBe(0);
    }
    expect(server.requests.map((request) => request.body)).toEqual([
      { id: 'qa', minReadySeconds: 30 },
      { id: 'qa', minReadySeconds: 120 },
      { id: 'qa', minReadySeconds: 0 },
      { id: 'qa', minReadySeconds: 0 },
    ]);
  });

  it('changes the window with update, `default` resetting it to null, and says what it is now', async () => {
    const server = await fakeServer((request) => ({ status: 200, body: envType(request.body as object) }));
    const set = fakeIo();
    expect(
      await runCli(cliArgs(server.url, 'env-types', 'update', 'production', '--min-ready', '30s'), set),
    ).toBe(0);
    expect(set.stdout.text).toBe('Updated environment type production: min ready 30s\n');
    const reset = fakeIo();
    expect(
      await runCli(cliArgs(server.url, 'env-types', 'update', 'production', '--min-ready', 'default'), reset),
    ).toBe(0);
    expect(reset.stdout.text).toBe('Updated environment type production: min ready 5s (default)\n');
    const off = fakeIo();
    expect(
      await runCli(cliArgs(server.url, 'env-types', 'update', 'production', '--min-ready', '0s'), off),
    ).toBe(0);
    expect(off.stdout.text).toBe('Updated environment type production: min ready 0s\n');
    expect(server.requests).toEqual([
      { method: 'PATCH', url: '/api/v1/env-types/production', body: { minReadySeconds: 30 } },
      { method: 'PATCH', url: '/api/v1/env-types/production', body: { minReadySeconds: null } },
      { method: 'PATCH', url: '/api/v1/env-types/production', body: { minReadySeconds: 0 } },
    ]);
  });

  it('refuses a window that is not a duration or longer than 1h, naming the flag, before asking the server', async () => {
    for (const [duration, message] of [
      ['soon', '--min-ready: "soon" is not a duration'],
      ['30', '--min-ready: "30" is not a duration'],
      ['-5s', '--min-ready: "-5s" is not a duration'],
      ['2h', '--min-ready: "2h" is too long; use at most 1h'],
    ] as const) {
      const update = fakeIo();
      expect(
        await runCli(cliArgs(OFFLINE, 'env-types', 'update', 'production', '--min-ready', duration), update),
      ).toBe(2);
      expect(update.stderr.text).toContain(message);
      const create = fakeIo();
      expect(
        await runCli(cliArgs(OFFLINE, 'env-types', 'create', 'qa', '--min-ready', duration), create),
      ).toBe(2);
      expect(create.stderr.text).toContain(message);
    }
  });

  it('refuses an update that changes nothing', async () => {
    const io = fakeIo();
    expect(await runCli(cliArgs(OFFLINE, 'env-types', 'update', 'production'), io)).toBe(2);
    expect(io.stderr.text).toContain('nothing to change: give --min-ready DURATION (or `default`)');
  });

  it('shows one type with get, as a table or as the JSON the API returned', async () => {
    const body = envType({ minReadySeconds: 30 });
    const server = await fakeServer(() => ({ status: 200, body }));
    const table = fakeIo();
    expect(await runCli(cliArgs(server.url, 'env-types', 'get', 'production'), table)).toBe(0);
    expect(table.stdout.text).toBe(
      [
        'ID          DESCRIPTION  RESTRICTED  APPROVAL  MIN READY  CREATED BY  CREATED AT',
        'production  Live         yes         -         30s        admin       2025-01-31T09:30:00Z',
        '',
      ].join('\n'),
    );
    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, 'env-types', 'get', 'production', '-o', 'json'), json)).toBe(0);
    expect(JSON.parse(json.stdout.text)).toEqual(body);
    expect(server.requests.map((request) => request.url)).toEqual([
      '/api/v1/env-types/production',
      '/api/v1/env-types/production',
    ]);
  });
});
