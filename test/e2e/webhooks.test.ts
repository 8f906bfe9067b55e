import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  CreatedWebhook,
  EventPage,
  PaveEvent,
  Webhook,
  WebhookDelivery,
  WebhookTestResult,
} from '@pave/core';
import { makeAppDir } from '../support/app-dir.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { eventually } from '../support/processes.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/two-workloads', import.meta.url));
/** A secret value set before anything else: no webhook, event or delivery record may ever carry it. */
const CANARY = `webhook-canary-${process.pid}-${Date.now()}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('signed webhooks through the real CLI and server', () => {
  let dataDir: string;
  let appDir: string;
  let server: PaveProcess;
  const receivers: WebhookReceiver[] = [];
  const cliOutputs: string[] = [];
  const pave = async (...args: string[]) => {
    const result = await runPave(args, clientEnv(server.url, dataDir));
    cliOutputs.push(result.stdout, result.stderr);
    return result;
  };
  const ok = async (...args: string[]) => {
    const result = await pave(...args);
    expect(result.code, `pave ${args.join(' ')}\n${result.stderr}${result.stdout}`).toBe(0);
    return result;
  };
  const receiver = async () => {
    const started = await startWebhookReceiver();
    receivers.push(started);
    return started;
  };
  /** Creates a webhook of app shop to `to`, hands its secret to the receiver, and returns its id. */
  const createWebhook = async (name: string, to: WebhookReceiver, ...extra: string[]) => {
    const result = await ok(
      'webhooks',
      'create',
      name,
      '--url',
      to.url,
      '--app',
      'shop',
      ...extra,
      '-o',
      'json',
    );
    const created = JSON.parse(result.stdout) as CreatedWebhook;
    expect(created.secret).toMatch(/^whsec_/);
    to.secret = created.secret;
    return created.webhook.id;
  };
  const events = async (after?: string) =>
    (
      JSON.parse(
        (
          await ok(
            'events',
            '--app',
            'shop',
            '--limit',
            '1000',
            ...(after ? ['--after', after] : []),
            '-o',
            'json',
          )
        ).stdout,
      ) as EventPage
    ).items;
  const lastEventId = async () => (await events()).at(-1)?.id ?? '0';
  const deliveries = async (webhook: string) =>
    (
      JSON.parse((await ok('webhooks', 'deliveries', webhook, '--limit', '500', '-o', 'json')).stdout) as {
        items: WebhookDelivery[];
      }
    ).items;
  const ids = (list: readonly { id: string }[]) => list.map((event) => event.id);
  /** Waits until `to` has received every event of `expected` (by id), at most `ms`. */
  const receivedAll = (to: WebhookReceiver, expected: readonly PaveEvent[], ms: number) =>
    eventually(
      () => {
        const got = new Set(to.unique().map((r) => r.event.id));
        return expected.every((event) => got.has(event.id)) ? true : undefined;
      },
      ms,
      `events ${ids(expected).join(', ')} to arrive`,
    );

  /**
   * Waits until `to` has received every event of `expected`, for as long as webhook `webhook` announces its
   * next attempt (the latest `nextAttemptAt` of its pending deliveries) plus `graceMs`.
   */
  const receivedAllByNextAttempt = async (
    to: WebhookReceiver,
    expected: readonly PaveEvent[],
    webhook: string,
    graceMs: number,
  ) => {
    let deadline = Date.now() + graceMs;
    for (;;) {
      const got = new Set(to.unique().map((r) => r.event.id));
      if (expected.every((event) => got.has(event.id))) return;
      const next = (await deliveries(webhook))
        .filter((d) => d.status === 'pending' && d.nextAttemptAt !== null)
        .map((d) => Date.parse(d.nextAttemptAt!));
      deadline = Math.max(deadline, ...next.map((at) => at + graceMs));
      if (Date.now() > deadline) {
        throw new Error(
          `events ${ids(expected).join(', ')} had not all arrived ${graceMs} ms after the last announced attempt`,
        );
      }
      await sleep(1000);
    }
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-webhooks-'));
    appDir = makeAppDir('pave-webhooks-app-');
    cpSync(FIXTURE, appDir, { recursive: true });
    server = await startPave(['--data-dir', dataDir, '--webhook-allow', '127.0.0.1/32']);
    await shortenStabilityWindow(server.url, dataDir);
    await ok('apps', 'create', 'shop');
    await ok('values', 'set', `API_TOKEN=${CANARY}`, '--secret', '--app', 'shop');
    await ok('envs', 'create', 'dev', '--app', 'shop', '--type', 'development');
  }, 60_000);

  afterAll(async () => {
    if (server) await runPave(['apps', 'delete', 'shop', '--force'], clientEnv(server.url, dataDir));
    await server?.stop();
    for (const r of receivers) await r.stop();
    rmSync(appDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('delivers a deploy, a failed deploy, its automatic rollback and an environment deletion, signed, in order, each once', async () => {
    const everything = await receiver();
    const outcomes = await receiver();
    const allId = await createWebhook('everything', everything);
    await createWebhook(
      'outcomes',
      outcomes,
      '--events',
      'deployment.succeeded,deployment.failed,deployment.rolled-back,environment.deleted',
    );
    const tested = JSON.parse(
      (await ok('webhooks', 'test', allId, '-o', 'json')).stdout,
    ) as WebhookTestResult;
    expect(tested).toMatchObject({ ok: true, statusCode: 200 });
    const start = await lastEventId();

    const api = join(appDir, 'api.score.yaml');
    await ok('deploy', '-f', api, '--app', 'shop', '--env', 'dev', '--wait');
    writeFileSync(
      api,
      readFileSync(api, 'utf8').replace(
        'variables:',
        'variables:\n      FAIL_AT_START: "missing DATABASE_URL"',
      ),
    );
    const failed = await pave(
      'deploy',
      '-f',
      api,
      '--app',
      'shop',
      '--env',
      'dev',
      '--wait',
      '--timeout',
      '20s',
    );
    expect(failed.code, failed.stderr).toBe(1);
    await ok('envs', 'delete', 'dev', '--app', 'shop', '--force');

    const happened = await events(start);
    expect(happened.map((event) => event.type)).toEqual([
      'deployment.queued',
      'deployment.started',
      'deployment.succeeded',
      'deployment.queued',
      'deployment.started',
      'deployment.failed',
      'deployment.rolled-back',
      'environment.deleted',
    ]);
    await receivedAll(everything, happened, 30_000);
    await receivedAll(
      outcomes,
      happened.filter((event) => event.type !== 'deployment.queued' && event.type !== 'deployment.started'),
      30_000,
    );

    // Exactly once: one delivery (webhook-id) per event, and each as GET /events shows it, in commit order.
    const delivered = everything.unique().filter((r) => Number(r.event.id) > Number(start));
    expect(delivered.map((r) => r.event)).toEqual(happened);
    expect(new Set(delivered.map((r) => r.event.id)).size).toBe(delivered.length);
    expect(outcomes.unique().map((r) => r.event.type)).toEqual([
      'deployment.succeeded',
      'deployment.failed',
      'deployment.rolled-back',
      'environment.deleted',
    ]);
    expect(everything.rejected).toEqual([]);
    expect(outcomes.rejected).toEqual([]);
  }, 90_000);

  it('delivers every event of a minute the receiver answers 500 and then is down, in order, none lost; the attempts are recorded', async () => {
    await ok('envs', 'create', 'outage', '--app', 'shop', '--type', 'development');
    const flaky = await receiver();
    const start = await lastEventId();
    const id = await createWebhook('flaky', flaky, '--events', 'values.changed');
    flaky.status = 500;
    const began = Date.now();
    let n = 0;
    const changeValuesUntil = async (ms: number) => {
      while (Date.now() - began < ms) {
        await ok('values', 'set', `STEP=${++n}`, '--app', 'shop', '--env', 'outage');
        await sleep(2000);
      }
    };
    await changeValuesUntil(30_000);
    await flaky.stop();
    await changeValuesUntil(60_000);
    const happened = (await events(start)).filter((event) => event.type === 'values.changed');
    expect(happened.length).toBe(n);
    expect(flaky.unique()).toEqual([]);
    flaky.status = 200;
    await flaky.start();
    // The first delivery is retried with a backoff from 5 s, doubling, each wait jittered by up to 25 %: the
    // try that follows the receiver's return may come up to 100 s later. The delivery announces it
    // (nextAttemptAt), so the wait is that time plus 30 s, read again as it moves.
    await receivedAllByNextAttempt(flaky, happened, id, 30_000);

    const delivered = flaky.unique().filter((r) => r.event.type === 'values.changed');
    expect(delivered.map((r) => r.event.id)).toEqual(ids(happened));
    const record = await deliveries(id);
    expect(record.map((d) => d.eventId).reverse()).toEqual(ids(happened));
    expect(record.every((d) => d.status === 'succeeded')).toBe(true);
    const attempts = record.flatMap((d) => d.attemptLog);
    // The first delivery's attempts: 500s, then (if one fell in the down half-minute; retries are jittered)
    // connection errors, then 200. The test below sees connection errors for certain.
    expect(attempts.some((a) => a.statusCode === 500)).toBe(true);
    const failures = attempts.filter((a) => a.statusCode !== 200);
    expect(failures.every((a) => a.statusCode === 500 || (a.statusCode === null && a.error))).toBe(true);
    const first = record.at(-1)!;
    expect(first.attempts).toBeGreaterThanOrEqual(3);
    expect(first.attemptLog.at(-1)?.statusCode).toBe(200);
  }, 240_000);

  it('still delivers events committed before the control plane was killed with SIGKILL', async () => {
    const late = await receiver();
    const id = await createWebhook('late', late, '--events', 'values.changed');
    await late.stop();
    const start = await lastEventId();
    // The secret's value again, this time while a webhook listens: its event names the key only.
    await ok('values', 'set', `API_TOKEN=${CANARY}-outage`, '--secret', '--app', 'shop', '--env', 'outage');
    for (const step of ['one', 'two']) {
      await ok('values', 'set', `KILLED=${step}`, '--app', 'shop', '--env', 'outage');
    }
    const happened = await events(start);
    expect(happened.map((event) => event.type)).toEqual([
      'values.changed',
      'values.changed',
      'values.changed',
    ]);
    server.child.kill('SIGKILL');
    await server.stop();
    const port = new URL(server.url).port;
    server = await startPave(['--data-dir', dataDir, '--port', port, '--webhook-allow', '127.0.0.1/32']);
    await late.start();
    await receivedAll(late, happened, 45_000);
    expect(late.unique().map((r) => r.event.id)).toEqual(ids(happened));
    expect(late.unique()[0]!.event.data).toMatchObject({ set: ['API_TOKEN'] });
    const record = await deliveries(id);
    expect(record.every((d) => d.status === 'succeeded')).toBe(true);
    // Its first attempt found the receiver down: the connection error is recorded, with no status code.
    expect(record.at(-1)!.attemptLog[0]).toMatchObject({
      statusCode: null,
      error: expect.stringMatching(/ECONNREFUSED/),
    });
  }, 90_000);

  it('changes a webhook and rotates its secret: the next events go to the new URL, signed with the new secret', async () => {
    const before = await receiver();
    const after = await receiver();
    const id = await createWebhook('movable', before, '--events', 'values.changed');

    const nothing = await pave('webhooks', 'update', id);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain(
      'nothing to change: give --name NAME, --url URL, --events TYPE,… or --all-events',
    );
    const both = await pave('webhooks', 'update', id, '--events', 'values.changed', '--all-events');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--events and --all-events');
    const unknownType = await pave('webhooks', 'update', id, '--events', 'values.changd');
    expect(unknownType.code).toBe(2);
    expect(unknownType.stderr).toContain('"values.changd" is not an event type');
    const refused = await pave('webhooks', 'update', id, '--url', 'http://169.254.169.254/latest/meta-data/');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('pave up --webhook-allow 169.254.169.254/32');
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    const other = await receiver();
    const otherId = await createWebhook('taken', other, '--events', 'values.changed');
    const taken = await pave('webhooks', 'update', id, '--name', 'taken');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('a webhook named "taken" already exists for app shop');
    await ok('webhooks', 'delete', otherId);

    const updated = await ok('webhooks', 'update', id, '--name', 'moved', '--url', after.url, '--all-events');
    expect(updated.stdout).toContain(`Updated webhook moved (${id}).`);
    expect(updated.stdout).toContain(after.url);
    expect(updated.stdout).toMatch(/EVENTS\s+all/);
    const narrowed = JSON.parse(
      (await ok('webhooks', 'update', id, '--events', 'values.changed', '-o', 'json')).stdout,
    ) as Webhook;
    expect(narrowed).toMatchObject({
      id,
      name: 'moved',
      url: after.url,
      app: 'shop',
      events: ['values.changed'],
    });

    const rotated = await ok('webhooks', 'rotate-secret', id);
    expect(rotated.stdout).toContain(`Rotated the signing secret of webhook moved (${id}).`);
    expect(rotated.stdout).toContain('This secret is shown only now');
    // By default the old secret signs as well for 24 hours, so the receiver can switch over meanwhile.
    expect(rotated.stdout).toContain(
      'Until then every delivery is signed with both the old and the new secret',
    );
    const secret = /Signing secret: (whsec_\S+)/.exec(rotated.stdout)?.[1];
    expect(secret).toBeDefined();
    expect(secret).not.toBe(before.secret);
    after.secret = secret;

    const start = await lastEventId();
    await ok('values', 'set', 'MOVED=yes', '--app', 'shop');
    const happened = (await events(start)).filter((event) => event.type === 'values.changed');
    expect(happened).toHaveLength(1);
    await receivedAll(after, happened, 30_000);
    expect(after.rejected).toEqual([]);
    expect(before.received.map((r) => r.event.id)).not.toContain(happened[0]!.id);

    // -o json prints the whole answer, the new secret included; with 0s the one before it no longer verifies.
    const again = JSON.parse(
      (await ok('webhooks', 'rotate-secret', id, '--previous-valid-for', '0s', '-o', 'json')).stdout,
    ) as CreatedWebhook;
    expect(again.webhook).toMatchObject({ id, name: 'moved', previousSecretExpiresAt: null });
    expect(again.secret).toMatch(/^whsec_/);
    expect(again.secret).not.toBe(secret);
    const next = await lastEventId();
    await ok('values', 'set', 'MOVED=again', '--app', 'shop');
    const later = (await events(next)).filter((event) => event.type === 'values.changed');
    await eventually(
      () => (after.rejected.length > 0 ? true : undefined),
      30_000,
      'a delivery signed with the new secret',
    );
    after.secret = again.secret;
    await receivedAll(after, later, 60_000);
    await ok('webhooks', 'delete', id);
  }, 120_000);

  it('never sends or records the value of a secret', async () => {
    const everywhere = [
      ...receivers.flatMap((r) => r.raw),
      (await ok('events', '--limit', '1000', '-o', 'json')).stdout,
    ];
    const webhooks = JSON.parse((await ok('webhooks', 'list', '--app', 'shop', '-o', 'json')).stdout) as {
      items: { id: string }[];
    };
    for (const webhook of webhooks.items) {
      everywhere.push((await ok('webhooks', 'deliveries', webhook.id, '-o', 'json')).stdout);
    }
    expect(everywhere.join('\n')).toContain('values.changed');
    expect(everywhere.join('\n')).toContain('API_TOKEN');
    for (const text of [...everywhere, ...cliOutputs]) expect(text).not.toContain(CANARY);
  });
});

describe('webhooks to loopback, private and link-local addresses', () => {
  let dataDir: string;
  let server: PaveProcess;
  let local: WebhookReceiver;
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, dataDir));

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-webhooks-ssrf-'));
    server = await startPave(['--data-dir', dataDir]);
    local = await startWebhookReceiver();
    expect((await pave('apps', 'create', 'shop')).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await local?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('are refused unless pave up --webhook-allow admits them', async () => {
    // A literal address is refused at creation, saying which flag admits it.
    const metadata = await pave(
      ...['webhooks', 'create', 'metadata', '--url', 'http://169.254.169.254/latest/meta-data/'],
      ...['--app', 'shop'],
    );
    expect(metadata.code).not.toBe(0);
    expect(metadata.stderr).toContain('pave up --webhook-allow 169.254.169.254/32');

    // A name is resolved at send time: `test` and deliveries report the refusal; nothing reaches it.
    const port = new URL(local.url).port;
    const created = await pave(
      ...['webhooks', 'create', 'loopback', '--url', `http://localhost:${port}/hooks`],
      ...['--app', 'shop', '-o', 'json'],
    );
    expect(created.code, created.stderr).toBe(0);
    const { webhook, secret } = JSON.parse(created.stdout) as CreatedWebhook;
    local.secret = secret;
    const tested = await pave('webhooks', 'test', webhook.id, '-o', 'json');
    expect(tested.code).toBe(1);
    const result = JSON.parse(tested.stdout) as WebhookTestResult;
    expect(result).toMatchObject({ ok: false, statusCode: null });
    expect(result.error).toMatch(
      /^refused: .* loopback\/private\/link-local .*--webhook-allow (127\.0\.0\.1\/32|::1\/128)$/,
    );

    expect((await pave('envs', 'create', 'dev', '--app', 'shop', '--type', 'development')).code).toBe(0);
    const [delivery] = await eventually(
      async () => {
        const list = JSON.parse((await pave('webhooks', 'deliveries', webhook.id, '-o', 'json')).stdout) as {
          items: WebhookDelivery[];
        };
        return list.items.length > 0 ? list.items : undefined;
      },
      15_000,
      'the refused delivery to be recorded',
    );
    expect(delivery).toMatchObject({
      eventType: 'environment.created',
      status: 'pending',
      lastStatusCode: null,
    });
    expect(delivery!.lastError).toMatch(/^refused: /);
    expect(local.raw).toEqual([]);
  }, 60_000);
});
