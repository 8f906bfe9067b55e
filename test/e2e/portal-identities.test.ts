import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startPave, type PaveProcess } from '../support/pave.ts';
import { openSignedInTab, portalUrl } from '../support/portal.ts';

/** One more than a page of users and of role grants (100 each). */
const EXTRA_USERS = 101;

describe.skipIf(!hasChromium)('the portal pages through users and role grants', () => {
  let dataDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  let adminToken: string;
  const pageErrors: string[] = [];

  const api = async (path: string, body: object) => {
    const response = await fetch(`${server.url}/api/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status, await response.clone().text()).toBeLessThan(300);
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-identities-'));
    server = await startPave(['--data-dir', dataDir]);
    adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    await api('/apps', { id: 'shop' });
    for (let index = 0; index < EXTRA_USERS; index++) {
      const username = `u${String(index).padStart(3, '0')}`;
      await api('/users', { username, kind: 'service' });
      await api('/roles', { role: 'member', user: username });
    }
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(30_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  // Found by a review of the portal: each app's row polled its status every 5 s, environments or not (20
  // requests a second for 100 apps); and a 200-character name widened the page past the window.
  it('polls no status of apps without environments, and wraps a long app name', async () => {
    await api('/apps', { id: 'long', name: 'L'.repeat(200) });
    const page = await openSignedInTab(browser, portalUrl(server, 'apps'), { token: adminToken });
    const statusRequests: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/status')) statusRequests.push(request.url());
    });
    await page.getByRole('link', { name: 'L'.repeat(200) }).waitFor();
    await page.waitForTimeout(6_000);
    expect(statusRequests).toEqual([]);
    await page.goto(portalUrl(server, 'apps/long'));
    await page.getByRole('heading', { name: 'L'.repeat(200) }).waitFor();
    const widths = await page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]');
    const [scrollWidth, innerWidth] = widths as [number, number];
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    // An address the portal does not link to is no page, not environment "y" of `#/apps/shop/x/y`.
    await page.goto(portalUrl(server, 'apps/shop/x/y'));
    await page.getByRole('heading', { name: 'No such page' }).waitFor();
    expect(pageErrors).toEqual([]);
    await page.close();
    // Its owner grant would count among the role grants the next tests page through.
    const deleted = await fetch(`${server.url}/api/v1/apps/long`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(deleted.status).toBe(204);
  }, 60_000);

  it('shows a page of users, then the rest on "More users"', async () => {
    const page = await openSignedInTab(browser, portalUrl(server, 'apps'), { token: adminToken });
    await page.goto(portalUrl(server, 'platform/users'));
    const users = page.getByRole('region', { name: 'Users and service accounts' });
    await expect.poll(() => users.locator('tbody tr').count()).toBe(100);
    await users.getByRole('button', { name: 'More users' }).click();
    // admin and the extra users, each once.
    await expect.poll(() => users.locator('tbody tr').count()).toBe(EXTRA_USERS + 1);
    expect(await users.getByRole('button', { name: 'More users' }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);

  it('shows a page of role grants, the rest on "More role grants", and keeps them after a grant', async () => {
    const page = await openSignedInTab(browser, portalUrl(server, 'apps'), { token: adminToken });
    await page.goto(portalUrl(server, 'platform/roles'));
    const grants = page.getByRole('region', { name: 'Role grants' });
    await expect.poll(() => grants.locator('tbody tr').count()).toBe(100);
    await grants.getByRole('button', { name: 'More role grants' }).click();
    // admin's org admin and shop owner grants, and a member grant per extra user.
    const all = EXTRA_USERS + 2;
    await expect.poll(() => grants.locator('tbody tr').count()).toBe(all);

    await page.getByRole('combobox', { name: 'Role', exact: true }).selectOption('viewer');
    await page.getByLabel('Username', { exact: true }).fill('u000');
    await page.getByLabel('App', { exact: true }).fill('shop');
    await page.getByRole('button', { name: 'Grant role', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Granted viewer on app shop to user u000.' }).waitFor();
    // The reload keeps both pages shown, and the new grant at the end.
    await expect.poll(() => grants.locator('tbody tr').count()).toBe(all + 1);
    expect(await grants.locator('tbody tr').last().innerText()).toContain('u000');
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);
});
