import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventPage } from '@pave/core';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startPave, type PaveProcess } from '../support/pave.ts';
import { openSignedInTab, portalUrl, runPaveOk } from '../support/portal.ts';

const VERA_PASSWORD = 'vera correct horse battery';
/** A secret's value: the events name its key, and the page must never show the value. */
const SECRET = `events-page-secret-${process.pid}-${Date.now()}`;

/**
 * The portal's Events page (`#/events`), the portal's `pave events`: the same events, newest first, the same
 * filters, older events page by page, following new ones live, and only the events the user may read; in
 * Chromium against one real `pave up`, checked against `pave events -o json`.
 */
describe.skipIf(!hasChromium)('the Events page of the portal', () => {
  let dataDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  let adminToken: string;
  const pageErrors: string[] = [];

  const pave = (...args: string[]) => runPaveOk(server, dataDir, args);
  /** Every event `pave events` lists with these flags, oldest first, as `id type` lines. */
  const cliEvents = async (...flags: string[]) =>
    (
      JSON.parse((await pave('events', ...flags, '--limit', '1000', '-o', 'json')).stdout) as EventPage
    ).items.map((event) => `${event.id} ${event.type}`);
  const rows = (page: Page) => page.getByRole('table', { name: 'Events, newest first' }).locator('tbody tr');
  /** The page's rows as `id type` lines, top to bottom. */
  const shownRows = async (page: Page) =>
    Promise.all(
      (await rows(page).all()).map(async (row) => {
        const cells = await row.getByRole('cell').allInnerTexts();
        return `${cells[0]} ${cells[2]}`;
      }),
    );
  /** Presses "Older events" until there are none older. */
  const showAll = async (page: Page) => {
    const older = page.getByRole('button', { name: 'Older events' });
    while (await older.isVisible()) {
      const shown = await rows(page).count();
      await older.click();
      await expect.poll(() => rows(page).count()).toBeGreaterThan(shown);
    }
  };
  /** The app/env column of every row. */
  const placesOf = (page: Page) =>
    page
      .getByRole('table', { name: 'Events, newest first' })
      .locator('tbody tr td:nth-child(4)')
      .allInnerTexts();
  const openAdminTab = (route: string) =>
    openSignedInTab(browser, portalUrl(server, route), { token: adminToken });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-events-'));
    server = await startPave(['--data-dir', dataDir]);
    adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    await pave('apps', 'create', 'shop');
    await pave('envs', 'create', 'dev', '--app', 'shop', '--type', 'development');
    await pave('envs', 'create', 'prod', '--app', 'shop', '--type', 'production');
    await pave('values', 'set', 'LOG_LEVEL=debug', '--app', 'shop', '--env', 'dev');
    await runPaveOk(
      server,
      dataDir,
      ['values', 'import', '-', '--secret', '--app', 'shop', '--env', 'dev'],
      `DB_PASSWORD=${SECRET}\n`,
    );
    // Blog: three environments, and app-wide values that change all three at once (an event each), so that
    // there are more events than the page shows at first.
    await pave('apps', 'create', 'blog');
    for (const env of ['dev', 'staging', 'prod']) {
      await pave('envs', 'create', env, '--app', 'blog', '--type', 'development');
    }
    for (let n = 0; n < 35; n++) await pave('values', 'set', `REVISION=${n}`, '--app', 'blog');
    // Vera views the shop only.
    await runPaveOk(server, dataDir, ['users', 'create', 'vera', '--password-stdin'], `${VERA_PASSWORD}\n`);
    await pave('roles', 'grant', 'viewer', '--user', 'vera', '--app', 'shop');
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(15_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('lists the events `pave events` lists, newest first, older ones on request, and never a secret value', async () => {
    const all = await cliEvents();
    // More than a page of 100, which the page's search for the newest reads at a time.
    expect(all.length).toBeGreaterThan(100);
    const page = await openAdminTab('apps');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Events' }).click();
    expect(page.url()).toMatch(/#\/events$/);
    await page.getByRole('heading', { level: 1, name: 'Events', exact: true }).waitFor();
    await page.getByRole('table', { name: 'Events, newest first' }).waitFor();
    const newestFirst = [...all].reverse();
    // The newest 50 at least (the search for them reads pages of 100), in the CLI's order reversed.
    const first = await shownRows(page);
    expect(first.length).toBeGreaterThanOrEqual(50);
    expect(first.length).toBeLessThan(all.length);
    expect(first).toEqual(newestFirst.slice(0, first.length));
    expect(await page.locator('.command code').innerText()).toBe('pave events --newest --limit 50');

    await showAll(page);
    expect(await shownRows(page)).toEqual(newestFirst);

    // The secret's key, never its value; the summaries say what the CLI's do.
    const text = await page.locator('main').innerText();
    expect(text).toContain('DB_PASSWORD');
    expect(text).not.toContain(SECRET);
    expect(await page.content()).not.toContain(SECRET);
    const secretRow = rows(page).filter({ hasText: 'DB_PASSWORD' });
    const summary = await secretRow.getByRole('cell').nth(5).innerText();
    expect(summary).toMatch(/^version \d+: DB_PASSWORD$/);
    const table = (await pave('events', '--app', 'shop', '--type', 'values.changed')).stdout;
    expect(
      table
        .split('\n')
        .find((line) => line.includes('DB_PASSWORD'))
        ?.endsWith(`  ${summary}`),
    ).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('narrows the events as the CLI flags do, kept in the address', async () => {
    const page = await openAdminTab('events');
    const filter = page.getByRole('search', { name: 'Filter the events' });
    await filter.getByRole('textbox', { name: 'App' }).fill('shop');
    await filter.getByRole('combobox', { name: 'Type' }).selectOption('values.changed');
    await filter.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('heading', { name: 'Events of shop' }).waitFor();
    expect(page.url()).toMatch(/#\/events\/shop\?type=values.changed$/);
    await page
      .getByText('pave events --newest --limit 50 --app shop --type values.changed', { exact: true })
      .waitFor();
    const expected = [...(await cliEvents('--app', 'shop', '--type', 'values.changed'))].reverse();
    expect(expected.length).toBeGreaterThanOrEqual(2);
    await expect.poll(() => shownRows(page)).toEqual(expected);

    // The environment too; the view survives a reload, as a link to it would.
    await filter.getByRole('textbox', { name: 'App' }).fill('blog');
    await filter.getByRole('textbox', { name: 'Environment' }).fill('staging');
    await filter.getByRole('combobox', { name: 'Type' }).selectOption('');
    await filter.getByRole('button', { name: 'Filter' }).click();
    await page
      .getByText('pave events --newest --limit 50 --app blog --env staging', { exact: true })
      .waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Events of blog' }).waitFor();
    expect(await page.getByRole('search').getByRole('textbox', { name: 'Environment' }).inputValue()).toBe(
      'staging',
    );
    const staging = [...(await cliEvents('--app', 'blog', '--env', 'staging'))].reverse();
    expect(staging.length).toBeGreaterThan(35);
    await rows(page).first().waitFor();
    await showAll(page);
    expect(await shownRows(page)).toEqual(staging);

    // No such app: what the server says.
    await filter.getByRole('textbox', { name: 'App' }).fill('nothing-here');
    await filter.getByRole('textbox', { name: 'Environment' }).fill('');
    await filter.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('alert').filter({ hasText: 'nothing-here' }).waitFor();

    await filter.getByRole('button', { name: 'Show all events' }).click();
    await page.getByRole('heading', { level: 1, name: 'Events', exact: true }).waitFor();
    expect(page.url()).toMatch(/#\/events$/);
    expect(pageErrors).toEqual([]);
  });

  it('follows new events: one made after the page opened shows at the top without a reload', async () => {
    const page = await openAdminTab('events/shop');
    await page.getByRole('table', { name: 'Events, newest first' }).waitFor();
    const before = await shownRows(page);
    // A reload would lose this.
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    const follow = page.getByRole('button', { name: 'Follow' });
    await follow.click();
    expect(await follow.getAttribute('aria-pressed')).toBe('true');
    await page.getByText('pave events --app shop -f', { exact: true }).waitFor();

    await pave('values', 'set', 'FEATURE_FLAG=on', '--app', 'shop', '--env', 'prod');
    await pave('envs', 'create', 'qa', '--app', 'shop', '--type', 'development');
    // Another app's event does not show in shop's.
    await pave('values', 'set', 'REVISION=late', '--app', 'blog', '--env', 'dev');
    const cli = [...(await cliEvents('--app', 'shop'))].reverse();
    expect(cli.slice(0, 2).map((line) => line.split(' ')[1])).toEqual([
      'environment.created',
      'values.changed',
    ]);
    await expect.poll(() => shownRows(page)).toEqual(cli);
    expect(cli.slice(2)).toEqual(before);
    await page.getByRole('status').filter({ hasText: 'Following' }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(
      true,
    );

    await follow.click();
    expect(await follow.getAttribute('aria-pressed')).toBe('false');
    expect(pageErrors).toEqual([]);
  });

  it('shows a viewer of one app no event of another', async () => {
    const page = await openSignedInTab(browser, portalUrl(server, 'events'), {
      username: 'vera',
      password: VERA_PASSWORD,
    });
    await page.getByRole('table', { name: 'Events, newest first' }).waitFor();
    await rows(page).first().waitFor();
    await showAll(page);
    const places = await placesOf(page);
    expect(places.filter((place) => place !== '-' && !/^shop(\/|$)/.test(place))).toEqual([]);
    // Every event of the shop, as the admin's CLI lists them.
    const shop = [...(await cliEvents('--app', 'shop'))].reverse();
    const shown = await shownRows(page);
    expect(shown.filter((row) => shop.includes(row))).toEqual(shop);
    expect(await page.locator('main').innerText()).not.toContain('blog');

    // Asking for the other app by name: refused as not found, as the CLI is.
    await page.goto(portalUrl(server, 'events/blog'));
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('table').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
