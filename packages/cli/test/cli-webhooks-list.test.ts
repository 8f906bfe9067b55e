import { describe, expect, it } from 'vitest';
import type { Webhook } from '@pave/core';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

const orgWide: Webhook = {
  id: 'wh_0456',
  name: 'audit-sink',
  url: 'https://siem.example.com/in',
  app: null,
  events: null,
  enabled: true,
  disabledReason: null,
  consecutiveFailures: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'olga',
  lastEventId: null,
  previousSecretExpiresAt: null,
};

describe('pave webhooks list', () => {
  it('without --app lists the org-wide webhooks, and says so when there are none', async () => {
    const server = await fakeServer(() => ({ status: 200, body: { items: [] } }));
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    expect(await runCli(cliArgs(server.url, 'webhooks', 'list'), io)).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual(['/api/v1/webhooks']);
    expect(io.stdout.text).toBe(
      'No org-wide webhooks (those that receive every app’s events); an app’s own are listed with ' +
        '`pave webhooks list --app APP`. Create one with `pave webhooks create NAME --url URL`.\n',
    );
  });

  it('with --app lists that app’s webhooks, and says how to create one for it', async () => {
    const server = await fakeServer(() => ({ status: 200, body: { items: [] } }));
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    expect(await runCli(cliArgs(server.url, 'webhooks', 'list', '--app', 'shop'), io)).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual(['/api/v1/webhooks?app=shop']);
    expect(io.stdout.text).toBe(
      'No webhooks of app shop. Create one with `pave webhooks create NAME --url URL --app shop`.\n',
    );
  });

  it('shows each webhook’s scope as `pave webhooks get` does, and who created it', async () => {
    const server = await fakeServer(() => ({ status: 200, body: { items: [orgWide] } }));
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    expect(await runCli(cliArgs(server.url, 'webhooks', 'list'), io)).toBe(0);
    const [header, row] = io.stdout.text.split('\n');
    expect(header).toMatch(/^ID\s+NAME\s+SCOPE\s+URL\s+EVENTS\s+STATE\s+LAST EVENT\s+CREATED BY$/);
    expect(row).toMatch(
      /^wh_0456\s+audit-sink\s+every app \(org-wide\)\s+https:\/\/siem\.example\.com\/in\s+all\s.*\solga$/,
    );
  });

  it('asks for the page it is given and prints how to get the next one, with the same --app', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: { items: [{ ...orgWide, app: 'shop' }], nextCursor: 'audit-sink' },
    }));
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    const args = ['webhooks', 'list', '--app', 'shop', '--limit', '1', '--cursor', 'alerts'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual([
      '/api/v1/webhooks?app=shop&limit=1&cursor=alerts',
    ]);
    expect(io.stdout.text).toMatch(
      /\n\nMore webhooks: pave webhooks list --app shop --limit 1 --cursor audit-sink\n$/,
    );
  });

  it('prints no next-page hint on the last page, and the page as it is with -o json', async () => {
    const page = { items: [orgWide], nextCursor: null };
    const server = await fakeServer(() => ({ status: 200, body: page }));
    const table = fakeIo({ env: { NO_COLOR: '1' } });
    expect(await runCli(cliArgs(server.url, 'webhooks', 'list'), table)).toBe(0);
    expect(table.stdout.text).not.toContain('More webhooks');
    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, 'webhooks', 'list', '-o', 'json'), json)).toBe(0);
    expect(JSON.parse(json.stdout.text)).toEqual(page);
  });

  it('says in its help what it lists without --app', async () => {
    const io = fakeIo();
    expect(await runCli(['node', 'pave', 'webhooks', 'list', '--help'], io)).toBe(0);
    const help = io.stdout.text.replace(/\s+/g, ' ');
    expect(help).toContain(
      'List an app’s webhooks, or without --app the org-wide ones (those that receive every app’s events)',
    );
    expect(help).toContain(
      '--app <app> list this app’s webhooks (default: the org-wide ones, not every app’s)',
    );
  });
});
