import { describe, expect, it } from 'vitest';
import type { Webhook } from '@pave/core';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

const disabled: Webhook = {
  id: 'wh_0123',
  name: 'ci',
  url: 'https://ci.example.com/pave',
  app: 'shop',
  events: null,
  enabled: false,
  disabledReason: 'disabled by olga: receiver under maintenance',
  consecutiveFailures: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'olga',
  lastEventId: '41',
  previousSecretExpiresAt: null,
};

describe('pave webhooks disable', () => {
  it('disables a webhook with a reason, saying how to enable it again, and prints it with -o json', async () => {
    const server = await fakeServer(() => ({ status: 200, body: disabled }));
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    const args = ['webhooks', 'disable', 'wh_0123', '--reason', 'receiver under maintenance'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(0);
    expect(server.requests[0]).toMatchObject({
      method: 'POST',
      url: '/api/v1/webhooks/wh_0123/disable',
      body: { reason: 'receiver under maintenance' },
    });
    expect(io.stdout.text).toBe(
      'Disabled webhook ci (wh_0123); `pave webhooks enable wh_0123` sends what waited.\n',
    );
    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, 'webhooks', 'disable', 'wh_0123', '-o', 'json'), json)).toBe(0);
    expect(JSON.parse(json.stdout.text)).toEqual(disabled);
    // Without --reason, the body asks for nothing more.
    expect(server.requests[1]).toMatchObject({ method: 'POST', url: '/api/v1/webhooks/wh_0123/disable' });
    expect(server.requests[1]!.body ?? {}).toEqual({});
  });

  it('names --reason when the server refuses the reason', async () => {
    const server = await fakeServer(() => ({
      status: 400,
      body: {
        type: 'urn:pave:problem:400',
        title: 'Bad Request',
        status: 400,
        detail: 'invalid request',
        errors: [{ path: '/reason', message: 'must be at most 500 characters' }],
      },
    }));
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    const args = ['webhooks', 'disable', 'wh_0123', '--reason', 'x'.repeat(501)];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(1);
    expect(io.stderr.text).toContain('--reason');
    expect(io.stderr.text).toContain('must be at most 500 characters');
  });
});
