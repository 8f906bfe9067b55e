import { describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

const at = '2025-01-31T09:30:00.000Z';

/** The platform team's list commands: the words that run each, its route, what it lists and one item. */
const LISTS = [
  {
    command: ['env-types', 'list'],
    route: '/api/v1/env-types',
    items: 'environment types',
    item: (id: string) => ({
      id,
      description: `${id} env`,
      restricted: false,
      requiresApproval: false,
      minReadySeconds: null,
      createdBy: 'alice',
      createdAt: at,
    }),
  },
  {
    command: ['policies', 'list'],
    route: '/api/v1/policies',
    items: 'policies',
    item: (id: string) => ({
      id,
      severity: 'warn',
      message: `${id} says so`,
      rule: 'true',
      createdAt: at,
      createdBy: 'alice',
      updatedAt: at,
      updatedBy: 'alice',
    }),
  },
  {
    command: ['profiles', 'list'],
    route: '/api/v1/profiles',
    items: 'profiles',
    item: (id: string) => ({
      id,
      criteria: [],
      patches: [],
      version: 1,
      createdAt: at,
      createdBy: 'alice',
      updatedAt: at,
      updatedBy: 'alice',
    }),
  },
  {
    command: ['defs', 'list'],
    route: '/api/v1/resource-definitions',
    items: 'definitions',
    item: (id: string) => ({
      id,
      type: 'postgres',
      driver: 'postgres-server',
      driverInputs: { values: {}, secrets: [] },
      criteria: [],
      builtIn: false,
      updatedBy: 'alice',
      updatedAt: at,
    }),
  },
  {
    command: ['targets', 'list'],
    route: '/api/v1/runtime-targets',
    items: 'targets',
    item: (id: string) => ({
      id,
      type: 'kubernetes',
      config: {},
      criteria: [],
      builtIn: false,
      updatedBy: 'alice',
      updatedAt: at,
    }),
  },
  {
    command: ['templates', 'list'],
    route: '/api/v1/templates',
    items: 'templates',
    item: (id: string) => ({
      id,
      title: `${id} title`,
      tags: [],
      version: 1,
      parameters: { type: 'object', properties: {} },
      createdAt: at,
      createdBy: 'alice',
    }),
  },
] as const;

describe.each(LISTS)('pave $command.0 list pages', ({ command, route, items, item }) => {
  it('asks for the page it is given and prints how to get the next one', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: { items: [item('beta'), item('gamma')], nextCursor: 'gamma' },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, ...command, '--limit', '2', '--cursor', 'alpha'), io)).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual([`${route}?limit=2&cursor=alpha`]);
    expect(io.stdout.text).toContain('beta');
    expect(io.stdout.text).toMatch(
      new RegExp(`\\n\\nMore ${items}: pave ${command.join(' ')} --limit 2 --cursor gamma\\n$`),
    );
  });

  it('prints no next-page hint on the last page, and the page as it is with -o json', async () => {
    const page = { items: [item('beta')], nextCursor: null };
    const server = await fakeServer(() => ({ status: 200, body: page }));
    const table = fakeIo();
    expect(await runCli(cliArgs(server.url, ...command), table)).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual([route]);
    expect(table.stdout.text).toContain('beta');
    expect(table.stdout.text).not.toContain('More ');
    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, ...command, '-o', 'json'), json)).toBe(0);
    expect(JSON.parse(json.stdout.text)).toEqual(page);
  });

  it('refuses a --limit that is not a whole number from 1, before sending anything (exit 2)', async () => {
    const server = await fakeServer(() => ({ status: 500 }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, ...command, '--limit', '0'), io)).toBe(2);
    expect(io.stderr.text).toBe(
      `pave: error: --limit: "0" is not a number of ${items}; use a whole number from 1 to 500\n`,
    );
    // The server answers at most 500 a page: more is refused here rather than by the server.
    const over = fakeIo();
    expect(await runCli(cliArgs(server.url, ...command, '--limit', '501'), over)).toBe(2);
    expect(over.stderr.text).toBe(
      `pave: error: --limit: "501" is more ${items} than a page holds; use at most 500\n`,
    );
    expect(server.requests).toEqual([]);
  });
});
