import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { ValueList, ValuesVersion } from '@pave/core';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { EDGE_SCORE, makeAppDir } from '../support/app-dir.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { portalUrl, runPaveOk, signInToPortal } from '../support/portal.ts';

const ALICE_PASSWORD = 'alice correct horse battery';
const VERA_PASSWORD = 'vera staple battery horse';
/** The secret typed into the portal: it must never come back to a browser. */
const SECRET = `portal-typed-secret-${process.pid}-${Date.now()}`;

describe.skipIf(!hasChromium)('values, resource details, audit lines and errors in the portal', () => {
  let dataDir: string;
  let appDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  let alice: Page;
  const pageErrors: string[] = [];
  const pave = (args: string[], input?: string) => runPaveOk(server, dataDir, args, input);
  const portal = (route: string) => portalUrl(server, route);
  const history = async () =>
    (
      JSON.parse(
        (await pave(['values', 'history', '--app', 'shop', '--env', 'dev', '-o', 'json'])).stdout,
      ) as {
        items: ValuesVersion[];
      }
    ).items;

  /** The message a field points at with aria-describedby, or '' when it points at none. */
  const fieldMessage = async (page: Page, label: string) => {
    const id = await page.getByLabel(label, { exact: true }).getAttribute('aria-describedby');
    return id ? page.locator(`[id="${id}"]`).innerText() : '';
  };

  const valuesRow = (page: Page, key: string) =>
    page
      .getByRole('table', { name: 'Values', exact: true })
      .getByRole('row')
      .filter({
        has: page.getByRole('rowheader', { name: key, exact: true }),
      });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-values-'));
    appDir = makeAppDir('pave-portal-values-app-');
    writeFileSync(join(appDir, 'edge.score.yaml'), EDGE_SCORE);
    server = await startPave(['--data-dir', dataDir]);
    await shortenStabilityWindow(server.url, dataDir);
    await pave(['apps', 'create', 'shop']);
    await pave(['envs', 'create', 'dev', '--app', 'shop', '--type', 'development']);
    await pave(['users', 'create', 'alice', '--password-stdin'], `${ALICE_PASSWORD}\n`);
    await pave(['roles', 'grant', 'owner', '--user', 'alice', '--app', 'shop']);
    await pave(['users', 'create', 'vera', '--password-stdin'], `${VERA_PASSWORD}\n`);
    await pave(['roles', 'grant', 'viewer', '--user', 'vera', '--app', 'shop']);
    await pave(['deploy', '-f', join(appDir, 'edge.score.yaml'), '--app', 'shop', '--env', 'dev', '--wait']);
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(30_000);
    alice = await browser.newPage();
    await signInToPortal(alice, portal('apps'), { username: 'alice', password: ALICE_PASSWORD });
  }, 180_000);

  afterAll(async () => {
    // Deleting the app stops its workloads; stopping the control plane alone would leave them running.
    if (server) await runPave(['apps', 'delete', 'shop', '--force'], clientEnv(server.url, dataDir));
    await browser?.close();
    await server?.stop();
    rmSync(appDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('sets a plain value and a secret and unsets one; each is a new version, and the secret never comes back', async () => {
    await alice.goto(portal('apps/shop/envs/dev'));
    const form = alice.getByRole('form', { name: 'Set a value' });
    await form.waitFor();
    await form.getByText('pave values set KEY=VALUE --app shop --env dev').waitFor();
    const status = alice.getByRole('status').filter({ hasText: /saved as version/ });

    await alice.getByLabel('Key', { exact: true }).fill('GREETING');
    await form.getByText('pave values set GREETING=VALUE --app shop --env dev').waitFor();
    await alice.getByLabel('Value', { exact: true }).fill('hello from the portal');
    await alice.getByRole('button', { name: 'Save value' }).click();
    await status.filter({ hasText: 'Set GREETING: saved as version 1.' }).waitFor();
    await valuesRow(alice, 'GREETING').getByText('hello from the portal').waitFor();

    await alice.getByLabel('Key', { exact: true }).fill('API_TOKEN');
    await alice.getByLabel('Secret', { exact: true }).check();
    expect(await alice.getByLabel('Value', { exact: true }).getAttribute('type')).toBe('password');
    // The CLI equivalent of a secret reads it from stdin: it never echoes what was typed.
    await form.getByText('pave values import - --secret --app shop --env dev < secrets.env').waitFor();
    await alice.getByLabel('Value', { exact: true }).fill(SECRET);
    await form.evaluate((element) => element.scrollIntoView({ block: 'center' }));
    await browser.screenshot(alice, 'values');
    await alice.getByRole('button', { name: 'Save value' }).click();
    await status.filter({ hasText: 'Set API_TOKEN (secret): saved as version 2.' }).waitFor();
    expect(await alice.getByLabel('Value', { exact: true }).inputValue()).toBe('');
    expect(await valuesRow(alice, 'API_TOKEN').innerText()).toContain('secret, hidden');
    expect(await alice.content()).not.toContain(SECRET);

    // The secret reached the server as typed: an admin may reveal it with the CLI.
    const revealed = JSON.parse(
      (await pave(['values', 'list', '--app', 'shop', '--env', 'dev', '--reveal', '-o', 'json'])).stdout,
    ) as ValueList;
    expect(revealed.items.find((item) => item.key === 'API_TOKEN')).toMatchObject({
      value: SECRET,
      secret: true,
    });

    // Unsetting asks first, as every removal does; cancelling changes nothing.
    await alice.getByRole('button', { name: 'Unset GREETING' }).click();
    const confirm = alice.getByRole('dialog', { name: 'Unset GREETING in shop/dev?' });
    await confirm.getByText('pave values unset GREETING --app shop --env dev').waitFor();
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    await valuesRow(alice, 'GREETING').waitFor();
    await alice.getByRole('button', { name: 'Unset GREETING' }).click();
    await confirm.getByRole('button', { name: 'Unset GREETING' }).click();
    await status.filter({ hasText: 'Unset GREETING: saved as version 3.' }).waitFor();
    await valuesRow(alice, 'GREETING').waitFor({ state: 'detached' });

    const versions = await history();
    expect(versions.map((v) => [v.version, v.actor])).toEqual([
      [3, 'alice'],
      [2, 'alice'],
      [1, 'alice'],
    ]);
    expect(versions[0]?.changes).toEqual([
      { key: 'GREETING', action: 'removed', secret: false, from: 'hello from the portal' },
    ]);
    expect(versions[1]?.changes).toEqual([{ key: 'API_TOKEN', action: 'added', secret: true }]);

    // After a reload, in the history and in a comparison, the secret is named but never shown.
    await alice.reload();
    const versionsTable = alice.getByRole('table', { name: 'Versions', exact: true });
    await versionsTable.getByRole('rowheader', { name: '3', exact: true }).waitFor();
    expect(await versionsTable.getByRole('row').filter({ hasText: 'alice' }).count()).toBe(3);
    expect(await versionsTable.innerText()).toContain('+API_TOKEN (secret)');
    await alice.getByRole('combobox', { name: 'From version' }).selectOption('1');
    await alice.getByRole('combobox', { name: 'To version' }).selectOption('3');
    const changes = alice.getByRole('table', { name: 'Key changes' });
    const change = (key: string) =>
      changes.getByRole('row').filter({ has: alice.getByRole('rowheader', { name: key, exact: true }) });
    // The server compares the two versions: the table shows once its answer is in.
    await alice.getByText('pave values diff --app shop --env dev --from 1 --to 3').waitFor();
    expect(await change('GREETING').innerText()).toMatch(/removed\s+hello from the portal\s+-/);
    expect(await change('API_TOKEN').innerText()).toMatch(/added \(secret\)\s+-\s+secret, hidden/);
    await alice.getByRole('combobox', { name: 'From version' }).selectOption('2');
    await expect.poll(() => change('API_TOKEN').innerText()).toMatch(/unchanged \(secret\)/);
    expect(await alice.content()).not.toContain(SECRET);

    await changes.scrollIntoViewIfNeeded();
    await browser.screenshot(alice, 'values-history');
  }, 90_000);

  it('says what is wrong next to the field that caused it: a bad key, a refused value, a bad or taken environment id', async () => {
    await alice.getByLabel('Key', { exact: true }).fill('1BAD');
    await alice.getByLabel('Value', { exact: true }).fill('x');
    await alice.getByRole('button', { name: 'Save value' }).click();
    await expect
      .poll(() => fieldMessage(alice, 'Key'))
      .toBe(
        '"1BAD" is not an environment variable name: use letters, digits and "_", not starting with a digit.',
      );
    expect(await alice.getByLabel('Key', { exact: true }).getAttribute('aria-invalid')).toBe('true');

    // A value longer than the server takes: its refusal lands next to the value, as a sentence.
    await alice.getByLabel('Key', { exact: true }).fill('BIG');
    await alice.getByLabel('Value', { exact: true }).fill('x'.repeat(70_000));
    await alice.getByRole('button', { name: 'Save value' }).click();
    await expect.poll(() => fieldMessage(alice, 'Value')).toMatch(/^Too big: .*65536.*\.$/);
    const banner = await alice
      .getByRole('form', { name: 'Set a value' })
      .getByRole('alert')
      .first()
      .innerText();
    expect(banner).not.toMatch(/\/set|\/body|^\//m);
    expect((await history()).length).toBe(3);

    // The same on the app page: the server's problem with the id stands under it, the banner says why.
    await alice.goto(portal('apps/shop'));
    await alice.getByLabel('Environment id').fill('Bad_Env');
    await alice.getByRole('button', { name: 'Create environment' }).click();
    await expect
      .poll(() => fieldMessage(alice, 'Environment id'))
      .toMatch(/^The environment id must be a DNS label/);
    expect(await alice.getByText('Correct the marked fields.').count()).toBe(1);
    await alice.getByLabel('Environment id').fill('dev');
    await alice.getByRole('button', { name: 'Create environment' }).click();
    await expect
      .poll(() => fieldMessage(alice, 'Environment id'))
      .toBe('The environment id is taken in this app; choose another id.');
    const banner2 = await alice.getByRole('alert').filter({ hasText: 'already has' }).innerText();
    expect(banner2.trim()).toBe('App "shop" already has an environment "dev".');
  }, 60_000);

  it('shows a viewer the values and their history, but no control to change them', async () => {
    const vera = await browser.newPage();
    await signInToPortal(vera, portal('apps'), { username: 'vera', password: VERA_PASSWORD });
    await vera.goto(portal('apps/shop/envs/dev'));
    await valuesRow(vera, 'API_TOKEN').waitFor();
    await vera.getByRole('table', { name: 'Versions', exact: true }).waitFor();
    expect(await vera.getByRole('form', { name: 'Set a value' }).count()).toBe(0);
    expect(await vera.getByRole('button', { name: /^(Save value|Unset)/ }).count()).toBe(0);
    expect(await vera.getByLabel('Key', { exact: true }).count()).toBe(0);
    expect(await vera.getByText('pave values set').count()).toBe(0);
    expect(await vera.content()).not.toContain(SECRET);
    await vera.close();
  }, 60_000);

  it('shows a resource graph node’s details in a side panel, by click and by keyboard', async () => {
    await alice.goto(portal('apps/shop/envs/dev'));
    const graph = alice.getByRole('region', { name: 'Resource graph' });
    await graph.scrollIntoViewIfNeeded();
    await graph.getByRole('button', { name: /^edge\.dns: dns/ }).click();
    const panel = alice.getByRole('complementary', { name: 'Resource edge.dns' });
    await panel.waitFor();
    const text = async () => (await panel.innerText()).replace(/\s+/g, ' ');
    await expect.poll(text).toMatch(/Driver \S+/);
    expect(await text()).toMatch(/Type dns Class default Id edge\.dns/);
    expect(await text()).toMatch(/Definition \S+/);
    expect(await text()).toContain('Status provisioned');
    await panel.getByRole('list', { name: 'Outputs' }).getByText('host', { exact: true }).waitFor();
    await browser.screenshot(alice, 'resource-details');
    // At phone width the panel goes under the drawing; nothing is wider than the screen but the drawing's box.
    await alice.setViewportSize({ width: 390, height: 844 });
    expect(await alice.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await alice.setViewportSize({ width: 1280, height: 800 });

    // Tab to another node and open it with Enter; Escape closes the panel and gives the focus back, also
    // when it comes before the focus has moved into the panel (the next frame).
    const route = graph.getByRole('button', { name: /^edge\.route: route/ });
    const routePanel = alice.getByRole('complementary', { name: 'Resource edge.route' });
    const focused = () => alice.evaluate<string>("document.activeElement?.getAttribute('aria-label') ?? ''");
    await route.focus();
    await alice.keyboard.press('Enter');
    await alice.keyboard.press('Escape');
    await routePanel.waitFor({ state: 'detached' });
    expect(await focused()).toMatch(/^edge\.route: route/);
    await alice.keyboard.press('Enter');
    await routePanel.waitFor();
    expect(await routePanel.innerText()).toMatch(/Depends on\s+edge\.dns/);
    await expect.poll(focused).toBe('Resource edge.route');
    await alice.keyboard.press('Escape');
    await routePanel.waitFor({ state: 'detached' });
    expect(await focused()).toMatch(/^edge\.route: route/);
  }, 60_000);

  it('reads audit entries as sentences, not JSON', async () => {
    await alice.goto(portal('audit/shop'));
    await alice.getByRole('heading', { name: 'Audit log of shop' }).waitFor();
    const row = (action: string) => alice.getByRole('row').filter({ hasText: action }).first();
    await row('values.set').waitFor();
    expect(await row('values.unset').innerText()).toContain('unset values GREETING on shop/dev');
    expect(
      await alice.getByRole('row').filter({ hasText: 'set values API_TOKEN (secret) on shop/dev' }).count(),
    ).toBe(1);
    expect(await row('deployment.deploy').innerText()).toMatch(/deployed shop\/dev \(deployment 1\)/);
    expect(await row('environment.create').innerText()).toContain(
      'created environment shop/dev of type development',
    );
    expect(await alice.getByRole('table').innerText()).not.toContain('{"');
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('compares two versions while older ones are not loaded yet', async () => {
    // 100 more versions (4 to 103): the first page of the history (100) no longer holds them all.
    const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    for (let n = 1; n <= 100; n += 1) {
      const response = await fetch(`${server.url}/api/v1/apps/shop/envs/dev/values`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ set: { COUNTER: { value: String(n) } } }),
      });
      expect(response.status).toBe(200);
    }
    await alice.goto(portal('apps/shop/envs/dev'));
    const versionsTable = alice.getByRole('table', { name: 'Versions', exact: true });
    await versionsTable.getByRole('rowheader', { name: '103', exact: true }).waitFor();
    await alice.getByRole('button', { name: 'More versions' }).waitFor();
    expect(await versionsTable.getByRole('rowheader', { name: '3', exact: true }).count()).toBe(0);
    await alice.getByRole('combobox', { name: 'From version' }).selectOption('4');
    const changes = alice.getByRole('table', { name: 'Key changes' });
    const counter = changes
      .getByRole('row')
      .filter({ has: alice.getByRole('rowheader', { name: 'COUNTER', exact: true }) });
    await expect.poll(() => counter.innerText()).toMatch(/changed\s+1\s+100/);
    expect(await changes.getByRole('row').filter({ hasText: 'API_TOKEN' }).innerText()).toMatch(
      /unchanged \(secret\)/,
    );
    expect(await alice.content()).not.toContain(SECRET);
    expect(pageErrors).toEqual([]);
  }, 90_000);

  // Found by a review of the portal: a new value typed for a secret key was stored as plain text, shown to
  // every viewer of the app; the form neither knew the key was a secret nor masked what was typed.
  it('keeps a secret a secret when its new value is set: the box is ticked, the value masked', async () => {
    await alice.goto(portal('apps/shop/envs/dev'));
    const form = alice.getByRole('form', { name: 'Set a value' });
    await valuesRow(alice, 'API_TOKEN').waitFor();
    await alice.getByLabel('Key', { exact: true }).fill('API_TOKEN');
    const box = form.getByRole('checkbox');
    await expect.poll(() => box.isChecked()).toBe(true);
    expect(await box.isDisabled()).toBe(true);
    expect(await alice.getByLabel('Value', { exact: true }).getAttribute('type')).toBe('password');
    await alice.getByLabel('Value', { exact: true }).fill(`${SECRET}-rotated`);
    await alice.getByRole('button', { name: 'Save value' }).click();
    await alice.getByRole('status').filter({ hasText: 'Set API_TOKEN (secret): saved as version' }).waitFor();
    expect(await valuesRow(alice, 'API_TOKEN').innerText()).toContain('secret, hidden');
    expect(await alice.content()).not.toContain(SECRET);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('downloads the values as the .env file pave values export writes, secrets left out and named', async () => {
    await pave(['values', 'set', 'LOG_LEVEL=debug', 'MOTD=hello "world"', '--app', 'shop', '--env', 'dev']);
    await pave(
      ['values', 'import', '-', '--secret', '--app', 'shop', '--env', 'dev'],
      `DB_PASSWORD=${SECRET}\n`,
    );
    await alice.goto(portal('apps/shop/envs/dev'));
    // What the page shows is what it downloads: values set meanwhile come with a reload.
    await alice.reload();
    const link = alice.getByRole('link', { name: /^Download as \.env \(\d+ values?\)$/ });
    await link.waitFor();
    const exported = await pave(['values', 'export', '--app', 'shop', '--env', 'dev']);
    const [download] = await Promise.all([alice.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe('shop-dev.env');
    const text = readFileSync((await download.path())!, 'utf8');
    expect(text).toBe(exported.stdout);
    expect(text).toContain('LOG_LEVEL=debug');
    expect(text).not.toContain(SECRET);
    const hint = alice.getByText(/^Secrets are left out \(/);
    expect(await hint.innerText()).toContain('DB_PASSWORD');
    await alice
      .getByText('pave values export --app shop --env dev --reveal -f shop-dev.env', { exact: true })
      .waitFor();
    expect(await alice.content()).not.toContain(SECRET);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
