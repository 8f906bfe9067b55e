import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedWebhook } from '@pave/core';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { EDGE_SCORE, makeAppDir } from '../support/app-dir.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { portalUrl, runPaveOk, signInToPortal } from '../support/portal.ts';
import { eventually } from '../support/processes.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const ALICE_PASSWORD = 'alice correct horse battery';
const VERA_PASSWORD = 'vera staple battery horse';

describe.skipIf(!hasChromium)('webhooks and their deliveries in the portal', () => {
  let dataDir: string;
  let appDir: string;
  let server: PaveProcess;
  let receiver: WebhookReceiver;
  let browser: TestBrowser;
  const pageErrors: string[] = [];
  const pave = (args: string[], input?: string) => runPaveOk(server, dataDir, args, input);
  const portal = (route: string) => portalUrl(server, route);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-webhooks-'));
    appDir = makeAppDir('pave-portal-webhooks-app-');
    writeFileSync(join(appDir, 'edge.score.yaml'), EDGE_SCORE);
    server = await startPave(['--data-dir', dataDir, '--webhook-allow', '127.0.0.1/32']);
    await shortenStabilityWindow(server.url, dataDir);
    receiver = await startWebhookReceiver();
    await pave(['apps', 'create', 'shop']);
    await pave(['envs', 'create', 'dev', '--app', 'shop', '--type', 'development']);
    await pave(['users', 'create', 'alice', '--password-stdin'], `${ALICE_PASSWORD}\n`);
    await pave(['roles', 'grant', 'owner', '--user', 'alice', '--app', 'shop']);
    await pave(['users', 'create', 'vera', '--password-stdin'], `${VERA_PASSWORD}\n`);
    await pave(['roles', 'grant', 'viewer', '--user', 'vera', '--app', 'shop']);
    const created = JSON.parse(
      (
        await pave([
          ...['webhooks', 'create', 'deploys', '--url', receiver.url, '--app', 'shop'],
          ...['--events', 'deployment.succeeded', '-o', 'json'],
        ])
      ).stdout,
    ) as CreatedWebhook;
    receiver.secret = created.secret;
    await pave(['deploy', '-f', join(appDir, 'edge.score.yaml'), '--app', 'shop', '--env', 'dev', '--wait']);
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(30_000);
  }, 180_000);

  afterAll(async () => {
    // Deleting the app stops its workloads; stopping the control plane alone would leave them running.
    if (server) await runPave(['apps', 'delete', 'shop', '--force'], clientEnv(server.url, dataDir));
    await browser?.close();
    await server?.stop();
    await receiver?.stop();
    rmSync(appDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('shows an owner the app’s webhooks and their deliveries, and redelivers one: the receiver gets the same event again', async () => {
    const [first] = await eventually(
      () => (receiver.unique().length > 0 ? receiver.unique() : undefined),
      30_000,
      'the deployment.succeeded delivery',
    );
    expect(first!.event).toMatchObject({ type: 'deployment.succeeded', app: 'shop', env: 'dev' });

    const alice = await browser.newPage();
    await signInToPortal(alice, portal('apps'), { username: 'alice', password: ALICE_PASSWORD });
    await alice.goto(portal('apps/shop'));
    const section = alice.getByRole('region', { name: 'Webhooks' });
    const webhookRow = section
      .getByRole('table', { name: 'Webhooks' })
      .getByRole('row')
      .filter({ has: alice.getByRole('rowheader', { name: /^deploys/ }) });
    await webhookRow.waitFor();
    const rowText = (await webhookRow.innerText()).replace(/\s+/g, ' ');
    expect(rowText).toContain(receiver.url);
    expect(rowText).toContain('deployment.succeeded');
    expect(rowText).toContain('enabled');
    const createdBy = section.getByRole('table', { name: 'Webhooks' }).getByRole('columnheader');
    expect(await createdBy.allInnerTexts()).toContain('Created by');
    expect(rowText).toMatch(/ enabled .*\badmin /);

    const deliveries = section.getByRole('table', { name: 'Deliveries of deploys' });
    const rows = deliveries.getByRole('row').filter({ hasText: 'deployment.succeeded' });
    await expect.poll(() => rows.count()).toBe(1);
    expect((await rows.first().innerText()).replace(/\s+/g, ' ')).toMatch(
      new RegExp(`deployment\\.succeeded #${first!.event.id} succeeded 1 HTTP 200`),
    );
    await section.scrollIntoViewIfNeeded();
    await browser.screenshot(alice, 'webhooks');

    await deliveries
      .getByRole('button', { name: `Redeliver event ${first!.event.id} (deployment.succeeded) to deploys` })
      .click();
    await section
      .getByRole('status')
      .filter({
        hasText: new RegExp(`^Event ${first!.event.id} \\(deployment\\.succeeded\\) is queued again`),
      })
      .waitFor();
    const again = await eventually(
      () => {
        const copies = receiver.unique().filter((r) => r.event.id === first!.event.id);
        return copies.length === 2 ? copies : undefined;
      },
      30_000,
      'the redelivery',
    );
    // The same event, as a new delivery (its own webhook-id), verified with the same secret.
    expect(again[1]!.event).toEqual(first!.event);
    expect(again[1]!.id).not.toBe(first!.id);
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(2);
    expect(receiver.rejected).toEqual([]);
    await alice.close();
  }, 90_000);

  it('shows the newest deliveries of a webhook and older ones a page at a time on "More deliveries"', async () => {
    const values = await startWebhookReceiver();
    try {
      const created = JSON.parse(
        (
          await pave([
            ...['webhooks', 'create', 'values', '--url', values.url, '--app', 'shop'],
            ...['--events', 'values.changed', '-o', 'json'],
          ])
        ).stdout,
      ) as CreatedWebhook;
      values.secret = created.secret;
      // 12 events: more than the 10 the portal shows before "More deliveries".
      for (let n = 1; n <= 12; n++) {
        await pave(['values', 'set', `KEY_${n}=${n}`, '--app', 'shop', '--env', 'dev']);
      }
      await eventually(
        () => (values.unique().length >= 12 ? true : undefined),
        30_000,
        'the 12 values.changed deliveries',
      );

      const alice = await browser.newPage();
      await signInToPortal(alice, portal('apps'), { username: 'alice', password: ALICE_PASSWORD });
      await alice.goto(portal('apps/shop'));
      const section = alice.getByRole('region', { name: 'Webhooks' });
      const panel = section
        .locator('.webhook-deliveries')
        .filter({ has: alice.getByRole('heading', { name: 'Deliveries of values' }) });
      const rows = panel.getByRole('table', { name: 'Deliveries of values' }).getByRole('row');
      // The header row and the 10 newest deliveries.
      await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(11);
      const events = async () =>
        (await rows.allInnerTexts()).slice(1).map((text) => Number(/#(\d+)/.exec(text)?.[1]));
      const newest = await events();
      expect(newest).toEqual([...newest].sort((a, b) => b - a));

      await panel.getByRole('button', { name: 'More deliveries' }).click();
      await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(13);
      const all = await events();
      expect(all.slice(0, 10)).toEqual(newest);
      expect(new Set(all).size).toBe(12);
      expect(all).toEqual([...all].sort((a, b) => b - a));
      expect(await panel.getByRole('button', { name: 'More deliveries' }).count()).toBe(0);
      await alice.close();
      expect(values.rejected).toEqual([]);
    } finally {
      await values.stop();
    }
  }, 120_000);

  it('lets an owner edit a webhook and rotate its secret: the next event goes to the new URL, signed with the new secret', async () => {
    const first = await startWebhookReceiver();
    const second = await startWebhookReceiver();
    try {
      const created = JSON.parse(
        (
          await pave([
            ...['webhooks', 'create', 'editable', '--url', first.url, '--app', 'shop'],
            ...['--events', 'values.changed', '-o', 'json'],
          ])
        ).stdout,
      ) as CreatedWebhook;
      first.secret = created.secret;

      const alice = await browser.newPage();
      await signInToPortal(alice, portal('apps'), { username: 'alice', password: ALICE_PASSWORD });
      await alice.goto(portal('apps/shop'));
      const section = alice.getByRole('region', { name: 'Webhooks' });
      await section.getByRole('button', { name: 'Edit webhook editable' }).click();
      const form = section.getByRole('form', { name: 'Edit webhook editable' });
      const url = form.getByRole('textbox', { name: 'New URL' });
      // The URL starts empty (the shown one has its credentials masked): left so, it stays.
      expect(await url.inputValue()).toBe('');

      // A refused address stands under the URL field, saying how to allow it.
      await url.fill('http://169.254.169.254/latest');
      await form.getByRole('button', { name: 'Save' }).click();
      const urlError = form.locator('.field-error').filter({ hasText: '--webhook-allow 169.254.169.254/32' });
      await urlError.waitFor();
      expect(await url.getAttribute('aria-invalid')).toBe('true');
      expect(await form.getByRole('alert').filter({ hasText: '--webhook-allow' }).count()).toBe(1);

      await form.getByRole('textbox', { name: 'Name' }).fill('edited');
      await url.fill(second.url);
      await form.getByRole('checkbox', { name: 'deployment.succeeded' }).check();
      expect(await form.locator('.command code').innerText()).toBe(
        `pave webhooks update ${created.webhook.id} --name edited --url URL ` +
          '--events deployment.succeeded,values.changed',
      );
      await form.getByRole('button', { name: 'Save' }).click();
      await section.getByRole('status').filter({ hasText: 'Saved webhook edited.' }).waitFor();
      expect(await form.count()).toBe(0);
      const row = section
        .getByRole('table', { name: 'Webhooks' })
        .getByRole('row')
        .filter({ has: alice.getByRole('rowheader', { name: /^edited/ }) });
      await row.waitFor();
      const rowText = (await row.innerText()).replace(/\s+/g, ' ');
      expect(rowText).toContain(second.url);
      expect(rowText).toContain('deployment.succeeded, values.changed');
      const shown = JSON.parse((await pave(['webhooks', 'get', created.webhook.id, '-o', 'json'])).stdout);
      expect(shown).toMatchObject({
        name: 'edited',
        url: second.url,
        events: ['deployment.succeeded', 'values.changed'],
      });

      await section.getByRole('button', { name: 'Rotate the secret of webhook edited' }).click();
      const dialog = alice.getByRole('dialog', { name: 'Rotate the secret of edited?' });
      // The old secret stays valid 24 hours unless the owner chooses otherwise; the command follows the choice.
      const validity = dialog.getByRole('combobox', { name: 'The old secret stays valid' });
      expect(await validity.inputValue()).toBe('24h');
      await validity.selectOption({ label: '1 hour' });
      expect(await dialog.locator('.command code').innerText()).toBe(
        `pave webhooks rotate-secret ${created.webhook.id} --previous-valid-for 1h`,
      );
      await dialog.getByRole('button', { name: 'Rotate secret', exact: true }).click();
      const newSecret = section.getByRole('status', { name: 'New secret of edited' });
      await newSecret.waitFor();
      expect(await newSecret.innerText()).toContain('This secret is shown only now');
      expect(await newSecret.innerText()).toContain('Until then every delivery is signed with both');
      const secret = await newSecret.locator('code').innerText();
      expect(secret).toMatch(/^whsec_/);
      expect(secret).not.toBe(created.secret);
      second.secret = secret;

      await pave(['values', 'set', 'EDITED=yes', '--app', 'shop', '--env', 'dev']);
      const [delivered] = await eventually(
        () => (second.unique().length > 0 ? second.unique() : undefined),
        30_000,
        'the values.changed delivery to the new URL',
      );
      expect(delivered!.event).toMatchObject({ type: 'values.changed', app: 'shop', env: 'dev' });
      expect(second.rejected).toEqual([]);
      expect(first.raw).toEqual([]);

      // Shown once: gone after Done, and not there after a reload.
      await newSecret.getByRole('button', { name: 'Done' }).click();
      expect(await section.getByRole('status', { name: 'New secret of edited' }).count()).toBe(0);
      await alice.reload();
      await section.getByRole('table', { name: 'Webhooks' }).waitFor();
      expect(await alice.content()).not.toContain(secret);
      await alice.close();
      await pave(['webhooks', 'delete', created.webhook.id]);
    } finally {
      await first.stop();
      await second.stop();
    }
  }, 120_000);

  it('shows an app’s environments and webhooks a page at a time, with "More" buttons, kept across a refresh', async () => {
    const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const call = async (path: string, body: object) => {
      const response = await fetch(`${server.url}/api/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status, await response.text()).toBe(201);
    };
    // One more of each than a page of the API holds (100).
    const COUNT = 101;
    const label = (n: number) => `n${String(n).padStart(3, '0')}`;
    await call('/apps', { id: 'many' });
    for (let n = 1; n <= COUNT; n++) {
      await call('/apps/many/envs', { id: label(n), type: 'development' });
      await call('/webhooks', {
        name: label(n),
        url: receiver.url,
        app: 'many',
        events: ['deployment.failed'],
      });
    }
    const page = await browser.newPage();
    try {
      await signInToPortal(page, portal('apps'), { token: admin });
      await page.goto(portal('apps/many'));
      const environments = page.getByRole('region', { name: 'Environments' });
      const envRows = environments.getByRole('table').first().getByRole('row');
      // The header row and the first 100 environments, by id.
      await expect.poll(() => envRows.count(), { timeout: 30_000 }).toBe(101);
      expect(await environments.getByRole('link', { name: label(COUNT) }).count()).toBe(0);
      await environments.getByRole('button', { name: 'More environments' }).click();
      await environments.getByRole('link', { name: label(COUNT) }).waitFor();
      expect(await envRows.count()).toBe(COUNT + 1);
      expect(await environments.getByRole('button', { name: 'More environments' }).count()).toBe(0);

      const webhooks = page.getByRole('region', { name: 'Webhooks' });
      const hookRows = webhooks.getByRole('table', { name: 'Webhooks' }).getByRole('row');
      await expect.poll(() => hookRows.count(), { timeout: 30_000 }).toBe(101);
      await webhooks.getByRole('button', { name: 'More webhooks' }).click();
      await expect.poll(() => hookRows.count(), { timeout: 15_000 }).toBe(COUNT + 1);
      expect(await webhooks.getByRole('button', { name: 'More webhooks' }).count()).toBe(0);
      // The list is fetched again every 5 s: the page the user asked for stays.
      await page.waitForTimeout(6_000);
      expect(await hookRows.count()).toBe(COUNT + 1);
      await webhooks.getByRole('rowheader', { name: new RegExp(`^${label(COUNT)}`) }).waitFor();
    } finally {
      await page.close();
      await runPave(['apps', 'delete', 'many', '--force'], clientEnv(server.url, dataDir));
    }
  }, 180_000);

  it('lets an owner create a webhook, whose secret is shown once and signs its deliveries, and delete it', async () => {
    const made = await startWebhookReceiver();
    try {
      const alice = await browser.newPage();
      await signInToPortal(alice, portal('apps'), { username: 'alice', password: ALICE_PASSWORD });
      await alice.goto(portal('apps/shop'));
      const section = alice.getByRole('region', { name: 'Webhooks' });
      const form = section.getByRole('form', { name: 'Create webhook' });
      const name = form.getByRole('textbox', { name: 'Name' });

      // A name already taken stands under the name field.
      await name.fill('deploys');
      await form.getByRole('textbox', { name: 'URL' }).fill(made.url);
      await form.getByRole('button', { name: 'Create webhook' }).click();
      await form.locator('#create-webhook-name-error').waitFor();
      expect(await name.getAttribute('aria-invalid')).toBe('true');

      await name.fill('from-portal');
      await form.getByRole('radio', { name: 'Only these:' }).check();
      await form.getByRole('checkbox', { name: 'values.changed' }).check();
      expect(await section.locator('.webhook-create .command code').innerText()).toBe(
        'pave webhooks create from-portal --url URL --app shop --events values.changed',
      );
      await form.getByRole('button', { name: 'Create webhook' }).click();
      const secret = section.getByRole('status', { name: 'Signing secret of from-portal' });
      await secret.waitFor();
      expect(await secret.innerText()).toContain('shown only this once');
      made.secret = (await secret.locator('code').innerText()).trim();
      expect(made.secret).toMatch(/^whsec_/);
      const row = section
        .getByRole('table', { name: 'Webhooks' })
        .getByRole('row')
        .filter({ has: alice.getByRole('rowheader', { name: /^from-portal/ }) });
      await row.waitFor();
      const id = (await row.getByRole('rowheader').locator('code').innerText()).trim();
      expect(JSON.parse((await pave(['webhooks', 'get', id, '-o', 'json'])).stdout)).toMatchObject({
        name: 'from-portal',
        app: 'shop',
        url: made.url,
        events: ['values.changed'],
      });

      // The secret the page showed verifies the deliveries.
      await pave(['values', 'set', 'FROM_PORTAL=1', '--app', 'shop', '--env', 'dev']);
      await eventually(
        () => (made.unique().some((r) => r.event.type === 'values.changed') ? true : undefined),
        30_000,
        'the values.changed delivery to the webhook made in the portal',
      );
      expect(made.rejected).toEqual([]);
      await secret.getByRole('button', { name: 'Done' }).click();
      expect(await alice.content()).not.toContain(made.secret);

      await row.getByRole('button', { name: 'Delete webhook from-portal' }).click();
      const dialog = alice.getByRole('dialog', { name: 'Delete webhook from-portal?' });
      expect(await dialog.locator('.command code').innerText()).toBe(`pave webhooks delete ${id}`);
      await dialog.getByRole('button', { name: 'Delete webhook' }).click();
      await section.getByRole('status').filter({ hasText: 'Deleted webhook from-portal.' }).waitFor();
      await expect.poll(() => row.count()).toBe(0);
      const gone = await runPave(['webhooks', 'get', id], clientEnv(server.url, dataDir));
      expect(gone.code, gone.stderr).not.toBe(0);
      expect(gone.stderr).toContain('not found');
      expect(pageErrors).toEqual([]);
      await alice.close();
    } finally {
      await made.stop();
    }
  }, 90_000);

  it('shows a viewer neither the webhooks nor a Redeliver button', async () => {
    const vera = await browser.newPage();
    await signInToPortal(vera, portal('apps'), { username: 'vera', password: VERA_PASSWORD });
    await vera.goto(portal('apps/shop'));
    await vera.getByRole('region', { name: 'Environments' }).getByRole('link', { name: 'dev' }).waitFor();
    expect(await vera.getByRole('region', { name: 'Webhooks' }).count()).toBe(0);
    expect(
      await vera
        .getByRole('button', {
          name: /Redeliver|Edit webhook|Rotate the secret|Delete webhook|Create webhook/,
        })
        .count(),
    ).toBe(0);
    await vera.close();
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
