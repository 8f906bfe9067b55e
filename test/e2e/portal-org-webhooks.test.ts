import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Webhook, WebhookPage } from '@pave/core';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';
import { portalUrl, runPaveOk, signInToPortal } from '../support/portal.ts';
import { eventually } from '../support/processes.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const PRIYA_PASSWORD = 'priya correct horse battery';
const ALICE_PASSWORD = 'alice correct horse battery';

describe.skipIf(!hasChromium)('org-wide webhooks in the portal', () => {
  let dataDir: string;
  let server: PaveProcess;
  let receiver: WebhookReceiver;
  let browser: TestBrowser;
  const pageErrors: string[] = [];
  const pave = (args: string[], input?: string) => runPaveOk(server, dataDir, args, input);
  const portal = (route: string) => portalUrl(server, route);
  /** The org-wide webhooks, as `pave webhooks list` (no --app) shows them. */
  const orgWebhooks = async () =>
    (JSON.parse((await pave(['webhooks', 'list', '-o', 'json'])).stdout) as WebhookPage).items;
  const webhook = async (id: string) =>
    JSON.parse((await pave(['webhooks', 'get', id, '-o', 'json'])).stdout) as Webhook;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-org-webhooks-'));
    server = await startPave(['--data-dir', dataDir, '--webhook-allow', '127.0.0.1/32']);
    receiver = await startWebhookReceiver();
    await pave(['apps', 'create', 'shop']);
    await pave(['users', 'create', 'priya', '--password-stdin'], `${PRIYA_PASSWORD}\n`);
    await pave(['roles', 'grant', 'platform', '--user', 'priya']);
    await pave(['users', 'create', 'alice', '--password-stdin'], `${ALICE_PASSWORD}\n`);
    await pave(['roles', 'grant', 'owner', '--user', 'alice', '--app', 'shop']);
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(30_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await receiver?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('lets a platform user create an org-wide webhook that receives an app’s and an org-wide event, test, disable, enable and delete it', async () => {
    const priya = await browser.newPage();
    await signInToPortal(priya, portal('platform/webhooks'), { username: 'priya', password: PRIYA_PASSWORD });
    expect(await priya.getByRole('tab', { name: 'Org-wide webhooks' }).getAttribute('aria-selected')).toBe(
      'true',
    );
    const section = priya.getByRole('region', { name: 'Org-wide webhooks' });
    await section.getByText('No webhooks yet.').waitFor();
    const intro = (await section.locator('p.muted').first().innerText()).replace(/\s+/g, ' ');
    expect(intro).toContain('receives the events of every app and the org-wide events');
    expect(intro).toContain("An app's own webhooks");
    expect(intro).toContain("are on each app's page");
    expect(await section.locator('.command code').allInnerTexts()).toContain('pave webhooks list');

    // An org-wide webhook may take the org-wide event types too.
    const form = section.getByRole('form', { name: 'Create webhook' });
    await form.getByRole('textbox', { name: 'Name' }).fill('everything');
    await form.getByRole('textbox', { name: 'URL' }).fill(receiver.url);
    await form.getByRole('radio', { name: 'Only these:' }).check();
    await form.getByRole('checkbox', { name: 'environment.created' }).check();
    await form.getByRole('checkbox', { name: 'env-type.changed' }).check();
    expect(await section.locator('.webhook-create .command code').innerText()).toBe(
      'pave webhooks create everything --url URL --events environment.created,env-type.changed',
    );
    await form.getByRole('button', { name: 'Create webhook' }).click();
    const secret = section.getByRole('status', { name: 'Signing secret of everything' });
    await secret.waitFor();
    expect(await secret.innerText()).toContain('shown only this once');
    receiver.secret = (await secret.locator('code').innerText()).trim();
    expect(receiver.secret).toMatch(/^whsec_/);

    const [listed] = (await orgWebhooks()).filter((w) => w.name === 'everything');
    expect(listed).toMatchObject({
      app: null,
      url: receiver.url,
      events: ['environment.created', 'env-type.changed'],
      enabled: true,
      createdBy: 'priya',
    });
    const id = listed!.id;
    const row = section
      .getByRole('table', { name: 'Webhooks' })
      .getByRole('row')
      .filter({ has: priya.getByRole('rowheader', { name: /^everything/ }) });
    await row.waitFor();
    expect(await row.getByRole('rowheader').locator('code').innerText()).toBe(id);
    await secret.getByRole('button', { name: 'Done' }).click();
    expect(await priya.content()).not.toContain(receiver.secret);

    // An event of an app and an org-wide event both reach it, signed with the secret the page showed.
    await pave(['envs', 'create', 'dev', '--app', 'shop', '--type', 'development']);
    await pave(['env-types', 'create', 'qa']);
    const received = await eventually(
      () => (receiver.unique().length >= 2 ? receiver.unique() : undefined),
      30_000,
      'the environment.created and env-type.changed deliveries',
    );
    expect(received.map((r) => r.event)).toMatchObject([
      { type: 'environment.created', app: 'shop', env: 'dev' },
      { type: 'env-type.changed', app: null },
    ]);
    const [created] = received;
    const deliveries = section.getByRole('table', { name: 'Deliveries of everything' });
    const createdRow = deliveries.getByRole('row').filter({ hasText: 'environment.created' });
    await expect
      .poll(async () => (await createdRow.allInnerTexts()).map((text) => text.replace(/\s+/g, ' ')), {
        timeout: 15_000,
      })
      .toEqual([
        expect.stringMatching(
          new RegExp(`^environment\\.created #${created!.event.id} succeeded 1 HTTP 200`),
        ),
      ]);
    await deliveries.getByRole('row').filter({ hasText: 'env-type.changed' }).waitFor();
    await section.getByRole('table', { name: 'Webhooks' }).scrollIntoViewIfNeeded();
    await browser.screenshot(priya, 'org-webhooks');

    // Send test: the receiver's answer is shown, and it got the signed webhook.test message.
    await row.getByRole('button', { name: 'Send a test event to webhook everything' }).click();
    const tested = section.getByRole('status', { name: 'Test of everything' });
    await tested.waitFor();
    expect(await tested.innerText()).toContain(
      'Sent a test event to everything: the receiver answered HTTP 200',
    );
    expect(receiver.unique().filter((r) => (r.event.type as string) === 'webhook.test')).toHaveLength(1);
    await tested.getByRole('button', { name: 'Done' }).click();

    // Disabled, it is sent nothing; an event meanwhile waits and arrives once it is enabled again.
    await row.getByRole('button', { name: 'Disable webhook everything' }).click();
    const disable = priya.getByRole('dialog', { name: 'Disable webhook everything?' });
    await disable.getByRole('textbox', { name: 'Reason (optional)' }).fill('maintenance');
    expect(await disable.locator('.command code').innerText()).toBe(
      `pave webhooks disable ${id} --reason maintenance`,
    );
    await disable.getByRole('button', { name: 'Disable webhook' }).click();
    await section.getByRole('status').filter({ hasText: 'Disabled webhook everything' }).waitFor();
    expect(await webhook(id)).toMatchObject({
      enabled: false,
      disabledReason: 'disabled by priya: maintenance',
    });
    await pave(['envs', 'create', 'review', '--app', 'shop', '--type', 'qa']);

    await row.getByRole('button', { name: 'Enable webhook everything' }).click();
    await section.getByRole('status').filter({ hasText: 'Enabled webhook everything' }).waitFor();
    expect(await webhook(id)).toMatchObject({ enabled: true, disabledReason: null });
    const review = await eventually(
      () => receiver.unique().find((r) => r.event.type === 'environment.created' && r.event.env === 'review'),
      30_000,
      'the environment.created delivery of the event recorded while the webhook was disabled',
    );
    expect(review.event).toMatchObject({ app: 'shop', env: 'review' });
    expect(receiver.rejected).toEqual([]);

    // Deleted only after confirming: the CLI no longer lists it.
    await row.getByRole('button', { name: 'Delete webhook everything' }).click();
    const dialog = priya.getByRole('dialog', { name: 'Delete webhook everything?' });
    expect(await dialog.locator('.command code').innerText()).toBe(`pave webhooks delete ${id}`);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await orgWebhooks()).map((w) => w.id)).toContain(id);
    await row.getByRole('button', { name: 'Delete webhook everything' }).click();
    await dialog.getByRole('button', { name: 'Delete webhook' }).click();
    await section.getByRole('status').filter({ hasText: 'Deleted webhook everything.' }).waitFor();
    await expect.poll(() => row.count()).toBe(0);
    expect((await orgWebhooks()).map((w) => w.id)).not.toContain(id);
    const gone = await runPave(['webhooks', 'get', id], clientEnv(server.url, dataDir));
    expect(gone.code, gone.stderr).not.toBe(0);
    expect(gone.stderr).toContain('not found');
    expect(pageErrors).toEqual([]);
    await priya.close();
  }, 120_000);

  it('shows an app owner no org-wide webhooks, and on the app’s page only the event types of app events', async () => {
    const alice = await browser.newPage();
    await signInToPortal(alice, portal('platform/webhooks'), { username: 'alice', password: ALICE_PASSWORD });
    // The tab is not there: the route shows the first tab she may read instead.
    const tabs = alice.getByRole('tablist', { name: 'Platform settings' });
    await tabs.waitFor();
    expect(await tabs.getByRole('tab', { name: 'Org-wide webhooks' }).count()).toBe(0);
    expect(await tabs.getByRole('tab', { selected: true }).innerText()).toBe('Environment types');
    expect(await alice.getByRole('region', { name: 'Org-wide webhooks' }).count()).toBe(0);

    // Her app's webhooks: created with --app, and none of the org-wide event types to choose from.
    await alice.goto(portal('apps/shop'));
    const section = alice.getByRole('region', { name: 'Webhooks' });
    const form = section.getByRole('form', { name: 'Create webhook' });
    await form.getByRole('checkbox', { name: 'environment.created' }).waitFor();
    expect(await form.getByRole('checkbox', { name: 'env-type.changed' }).count()).toBe(0);
    expect(await form.getByRole('checkbox', { name: 'target.changed' }).count()).toBe(0);
    expect(await section.locator('.webhook-create .command code').innerText()).toBe(
      'pave webhooks create NAME --url URL --app shop',
    );
    expect(await section.locator('.command code').allInnerTexts()).toContain('pave webhooks list --app shop');
    expect(pageErrors).toEqual([]);
    await alice.close();
  }, 60_000);
});
