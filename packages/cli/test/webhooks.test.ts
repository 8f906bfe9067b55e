import { describe, expect, it } from 'vitest';
import type { CreatedWebhook, Webhook, WebhookDelivery } from '@pave/core';
import { parseCidrs } from '../src/commands/up.ts';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

const webhook: Webhook = {
  id: 'wh_0123',
  name: 'ci',
  url: 'https://ci.example.com/pave',
  app: 'shop',
  events: ['deployment.failed'],
  enabled: true,
  disabledReason: null,
  consecutiveFailures: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'olga',
  lastEventId: null,
  previousSecretExpiresAt: null,
};
const created: CreatedWebhook = { webhook, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' };
const delivery: WebhookDelivery = {
  id: 'msg_0123_7',
  webhookId: 'wh_0123',
  eventId: '7',
  eventType: 'deployment.failed',
  status: 'pending',
  attempts: 2,
  createdAt: '2026-01-01T00:00:00.000Z',
  nextAttemptAt: '2026-01-01T00:00:10.000Z',
  lastStatusCode: 503,
  lastError: 'the receiver answered 503',
  attemptLog: [],
};

describe('pave webhooks', () => {
  it('creates a webhook and prints its secret once, saying it is shown only now', async () => {
    const server = await fakeServer(() => ({ status: 201, body: created }));
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    const args = ['webhooks', 'create', 'ci', '--url', webhook.url, '--app', 'shop'];
    expect(await runCli(cliArgs(server.url, ...args, '--events', 'deployment.failed'), io)).toBe(0);
    expect(server.requests[0]).toMatchObject({
      method: 'POST',
      url: '/api/v1/webhooks',
      body: { name: 'ci', url: webhook.url, app: 'shop', events: ['deployment.failed'] },
    });
    expect(io.stdout.text).toContain('wh_0123');
    expect(io.stdout.text).toContain(`Signing secret: ${created.secret}`);
    expect(io.stdout.text).toContain('shown only now');
    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, ...args, '-o', 'json'), json)).toBe(0);
    expect(JSON.parse(json.stdout.text)).toEqual(created);
  });

  it('refuses an unknown event type in --events as a usage error listing the valid ones', async () => {
    const server = await fakeServer(() => ({ status: 201, body: created }));
    const io = fakeIo();
    const args = ['webhooks', 'create', 'ci', '--url', webhook.url, '--events', 'deployment.failed,nope'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(2);
    expect(io.stderr.text).toContain(
      '--events: "nope" is not an event type; use one or more of deployment.queued',
    );
    expect(server.requests).toHaveLength(0);
  });

  it('prints the test result, and exits 1 when the receiver did not answer 2xx', async () => {
    const ok = await fakeServer(() => ({
      status: 200,
      body: { ok: true, statusCode: 204, latencyMs: 12.3, error: null, responseBody: '' },
    }));
    const passed = fakeIo();
    expect(await runCli(cliArgs(ok.url, 'webhooks', 'test', 'wh_0123'), passed)).toBe(0);
    expect(passed.stdout.text).toContain('OK: status 204 after 12 ms');
    const refused = 'refused: http://10.0.0.5/ resolves to 10.0.0.5, a loopback/private/link-local address';
    const failing = await fakeServer(() => ({
      status: 200,
      body: { ok: false, statusCode: null, latencyMs: 0, error: refused, responseBody: '' },
    }));
    const failed = fakeIo();
    expect(await runCli(cliArgs(failing.url, 'webhooks', 'test', 'wh_0123'), failed)).toBe(1);
    expect(failed.stdout.text).toContain(`Error: ${refused}`);
    expect(failed.stderr.text).toContain('the test message to webhook wh_0123 failed');
  });

  it('rotates a secret with --previous-valid-for, saying until when the old one signs as well', async () => {
    const until = '2026-01-02T00:00:00.000Z';
    const rotated = {
      webhook: { ...webhook, previousSecretExpiresAt: until },
      secret: 'whsec_NewSecretNewSecretNewSecretNewSecret0=',
    };
    const server = await fakeServer(() => ({ status: 200, body: rotated }));
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    const args = ['webhooks', 'rotate-secret', 'wh_0123', '--previous-valid-for', '1h'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(0);
    expect(server.requests[0]).toMatchObject({
      method: 'POST',
      url: '/api/v1/webhooks/wh_0123/rotate-secret',
      body: { previousValidFor: '1h' },
    });
    expect(io.stdout.text).toContain(`Signing secret: ${rotated.secret}`);
    expect(io.stdout.text).toContain(
      'put it in the receiver before 2026-01-02T00:00:00Z. Until then every delivery is signed with both',
    );
  });

  it('rotates with the server’s default overlap without the flag, and cuts over at once with 0s', async () => {
    const server = await fakeServer(() => ({ status: 200, body: { webhook, secret: created.secret } }));
    expect(await runCli(cliArgs(server.url, 'webhooks', 'rotate-secret', 'wh_0123'), fakeIo())).toBe(0);
    expect(server.requests[0]!.body).toEqual({});
    const io = fakeIo();
    const args = ['webhooks', 'rotate-secret', 'wh_0123', '--previous-valid-for', '0s'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(0);
    expect(server.requests[1]!.body).toEqual({ previousValidFor: '0s' });
    expect(io.stdout.text).toContain('signed with it alone');
  });

  it('refuses a --previous-valid-for that is not a duration up to 7d, sending nothing', async () => {
    const server = await fakeServer(() => ({ status: 200, body: { webhook, secret: created.secret } }));
    for (const text of ['8d', 'soon', '1w']) {
      const io = fakeIo();
      const args = ['webhooks', 'rotate-secret', 'wh_0123', '--previous-valid-for', text];
      expect(await runCli(cliArgs(server.url, ...args), io)).toBe(2);
      expect(io.stderr.text).toContain(`--previous-valid-for: "${text}" is not a duration from 0s to 7d`);
    }
    expect(server.requests).toHaveLength(0);
  });

  it('lists deliveries as a table with their last code or error', async () => {
    const server = await fakeServer(() => ({ status: 200, body: { items: [delivery], nextCursor: null } }));
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    expect(await runCli(cliArgs(server.url, 'webhooks', 'deliveries', 'wh_0123', '--limit', '5'), io)).toBe(
      0,
    );
    expect(server.requests[0]!.url).toBe('/api/v1/webhooks/wh_0123/deliveries?limit=5');
    expect(io.stdout.text).toMatch(/^ID +EVENT +TYPE +STATUS +ATTEMPTS +LAST CODE\/ERROR +TIME\n/);
    expect(io.stdout.text).toContain('503 the receiver answered 503');
  });
});

describe('pave up --webhook-allow', () => {
  it('takes comma-separated CIDRs and refuses anything else naming the flag', () => {
    expect(parseCidrs('10.0.0.0/8,127.0.0.1/32, fd00::/8', '--webhook-allow')).toEqual([
      '10.0.0.0/8',
      '127.0.0.1/32',
      'fd00::/8',
    ]);
    expect(() => parseCidrs('10.0.0.0/8,localhost', '--webhook-allow')).toThrow(
      '--webhook-allow: not a CIDR: localhost',
    );
    expect(() => parseCidrs('10.0.0.0/40', 'PAVE_WEBHOOK_ALLOW')).toThrow('PAVE_WEBHOOK_ALLOW: not a CIDR');
  });
});
