import { describe, expect, it } from 'vitest';
import type { Artifact, ValuesVersion, WebhookDelivery } from '@pave/core';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

const artifact = (id: string): Artifact => ({
  id,
  app: 'shop',
  workloads: ['web'],
  image: null,
  commit: `c0ffee${id}`,
  branch: 'main',
  commitTime: null,
  createdAt: '2025-01-31T09:30:00.000Z',
  createdBy: 'ci',
});
const version = (n: number): ValuesVersion => ({
  version: n,
  actor: 'alice',
  createdAt: '2025-01-31T09:30:00.000Z',
  reason: 'set',
  changes: [{ key: `KEY_${n}`, action: 'added', secret: false, to: String(n) }],
});
const delivery = (id: string): WebhookDelivery => ({
  id,
  webhookId: 'wh_0123',
  eventId: '7',
  eventType: 'deployment.failed',
  status: 'succeeded',
  attempts: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  nextAttemptAt: null,
  lastStatusCode: 204,
  lastError: null,
  attemptLog: [],
});
const DELIVERY_CURSOR = 'WyIyMDI2LTAxLTAxVDAwOjAwOjAwLjAwMFoiLCI3IiwibXNnXzAxMjNfNyJd';

/** Each paged command: its arguments, the URL it asks, a page with more after it, and the hint it prints. */
const commands = [
  {
    name: 'pave artifacts list',
    args: ['artifacts', 'list', '--app', 'shop'],
    url: '/api/v1/apps/shop/artifacts',
    items: [artifact('12'), artifact('11')],
    shown: 'c0ffee12',
    cursor: '11',
    hint: 'More artifacts: pave artifacts list --app shop',
    noun: 'artifacts',
  },
  {
    name: 'pave values history',
    args: ['values', 'history', '--app', 'shop', '--env', 'dev'],
    url: '/api/v1/apps/shop/envs/dev/values/versions',
    items: [version(9), version(8)],
    shown: '+KEY_9',
    cursor: '8',
    hint: 'More versions: pave values history --app shop --env dev',
    noun: 'versions',
  },
  {
    name: 'pave webhooks deliveries',
    args: ['webhooks', 'deliveries', 'wh_0123'],
    url: '/api/v1/webhooks/wh_0123/deliveries',
    items: [delivery('msg_0123_8'), delivery('msg_0123_7')],
    shown: 'msg_0123_8',
    cursor: DELIVERY_CURSOR,
    hint: 'More deliveries: pave webhooks deliveries wh_0123',
    noun: 'deliveries',
  },
];

describe.each(commands)('$name pages with --limit and --cursor', (command) => {
  it('asks for the page it is given and prints how to get the next one', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: { items: command.items, nextCursor: command.cursor },
    }));
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    const args = [...command.args, '--limit', '2', '--cursor', 'previous'];
    expect(await runCli(cliArgs(server.url, ...args), io), io.stderr.text).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual([`${command.url}?limit=2&cursor=previous`]);
    expect(io.stdout.text).toContain(command.shown);
    expect(io.stdout.text.endsWith(`\n\n${command.hint} --limit 2 --cursor ${command.cursor}\n`)).toBe(true);
  });

  it('prints no next-page hint on the last page, and the page as it is with -o json', async () => {
    const page = { items: command.items, nextCursor: null };
    const server = await fakeServer(() => ({ status: 200, body: page }));
    const table = fakeIo({ env: { NO_COLOR: '1' } });
    expect(await runCli(cliArgs(server.url, ...command.args), table)).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual([command.url]);
    expect(table.stdout.text).toContain(command.shown);
    expect(table.stdout.text).not.toContain('More ');
    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, ...command.args, '-o', 'json'), json)).toBe(0);
    expect(JSON.parse(json.stdout.text)).toEqual(page);
  });

  it('prints a page from a server that answers no nextCursor without a hint', async () => {
    const server = await fakeServer(() => ({ status: 200, body: { items: command.items } }));
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    expect(await runCli(cliArgs(server.url, ...command.args), io)).toBe(0);
    expect(io.stdout.text).not.toContain('More ');
  });

  it('refuses a --limit that is not a whole number from 1, before sending anything (exit 2)', async () => {
    const server = await fakeServer(() => ({ status: 500 }));
    for (const limit of ['0', 'ten', '-3', '2.5']) {
      const io = fakeIo();
      expect(await runCli(cliArgs(server.url, ...command.args, '--limit', limit), io), limit).toBe(2);
      expect(io.stderr.text).toBe(
        `pave: error: --limit: "${limit}" is not a number of ${command.noun}; use a whole number from 1 to 500\n`,
      );
    }
    const over = fakeIo();
    expect(await runCli(cliArgs(server.url, ...command.args, '--limit', '501'), over)).toBe(2);
    expect(over.stderr.text).toBe(
      `pave: error: --limit: "501" is more ${command.noun} than a page holds; use at most 500\n`,
    );
    expect(server.requests).toEqual([]);
  });

  it('shows the server’s refusal of a cursor that is no page’s, naming the parameter', async () => {
    const server = await fakeServer(() => ({
      status: 400,
      body: {
        type: 'urn:pave:problem:400',
        title: 'Bad Request',
        status: 400,
        detail: 'the request querystring is invalid',
        errors: [{ path: 'query.cursor', message: 'must be the nextCursor value of a previous page' }],
      },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, ...command.args, '--cursor', 'bogus'), io)).not.toBe(0);
    expect(io.stderr.text).toContain('cursor');
    expect(io.stderr.text).toContain('must be the nextCursor value of a previous page');
  });
});

describe('pave webhooks deliveries --limit', () => {
  it('refuses more than a page holds before sending anything', async () => {
    const server = await fakeServer(() => ({ status: 500 }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'webhooks', 'deliveries', 'wh_0123', '--limit', '501'), io)).toBe(
      2,
    );
    expect(io.stderr.text).toContain('--limit: "501" is more deliveries than a page holds; use at most 500');
    expect(server.requests).toEqual([]);
  });
});
