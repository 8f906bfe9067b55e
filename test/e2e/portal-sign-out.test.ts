import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startPave, type PaveProcess } from '../support/pave.ts';
import { openSignedInTab, runPaveOk } from '../support/portal.ts';

const ALICE_PASSWORD = 'alice correct horse battery';
/** The portal's token kept for the browser tab (null when none). */
const STORED_TOKEN = 'window.sessionStorage.getItem("pave.token")';

describe.skipIf(!hasChromium)('signing out of the portal', () => {
  let dataDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  const pageErrors: string[] = [];

  /** What `GET /whoami` answers with `token`: 200 while it works, 401 once revoked. */
  const whoamiStatus = async (token: string) =>
    (await fetch(`${server.url}/api/v1/whoami`, { headers: { authorization: `Bearer ${token}` } })).status;

  /** A new tab signed in as alice with her password; resolves with the tab and the token it got. */
  async function signInWithPassword(): Promise<{ page: Page; token: string }> {
    const page = await openSignedInTab(browser, `${server.url}/`, {
      username: 'alice',
      password: ALICE_PASSWORD,
    });
    return { page, token: String(await page.evaluate(STORED_TOKEN)) };
  }

  async function signOut(page: Page): Promise<void> {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(STORED_TOKEN)).toBeNull();
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-sign-out-'));
    server = await startPave(['--data-dir', dataDir]);
    await runPaveOk(server, dataDir, ['users', 'create', 'alice', '--password-stdin'], `${ALICE_PASSWORD}\n`);
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(15_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('revokes the token a password sign-in got, also after the page was reloaded', async () => {
    const first = await signInWithPassword();
    expect(await whoamiStatus(first.token)).toBe(200);
    await signOut(first.page);
    expect(await whoamiStatus(first.token)).toBe(401);

    const second = await signInWithPassword();
    await second.page.reload();
    await second.page.getByRole('button', { name: 'Sign out' }).waitFor();
    await signOut(second.page);
    expect(await whoamiStatus(second.token)).toBe(401);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('only forgets a token pasted on the Token tab: the admin token keeps working for the CLI', async () => {
    const adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const page = await openSignedInTab(browser, `${server.url}/`, { token: adminToken });
    // Reloaded, the tab still knows the token was pasted.
    await page.reload();
    await signOut(page);
    expect(await whoamiStatus(adminToken)).toBe(200);
    expect(await page.getByText('could not be revoked').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('signs the tab out when the server cannot revoke the token, and says so', async () => {
    const { page, token } = await signInWithPassword();
    await page.route('**/api/v1/tokens/**', (route) => route.abort('connectionrefused'));
    await signOut(page);
    await page
      .getByRole('status')
      .getByText(/^Signed out, but the token could not be revoked/)
      .waitFor();
    expect(await page.getByRole('status').innerText()).toContain('pave tokens revoke');
    // The message is honest: the token still works until it expires or is revoked.
    expect(await whoamiStatus(token)).toBe(200);
    // Signing in again clears the message.
    await page.unroute('**/api/v1/tokens/**');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(ALICE_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await signOut(page);
    expect(await page.getByRole('status').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  // Found by a review of the portal: a revoked token left the tab "signed in", every section failing with 401
  // and polling on, until a reload.
  it('ends the session and shows the sign-in page, saying why, once the server refuses the token', async () => {
    const { page, token } = await signInWithPassword();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    const revoked = await fetch(`${server.url}/api/v1/whoami`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const id = ((await revoked.json()) as { token: { id: string } }).token.id;
    const revocation = await fetch(`${server.url}/api/v1/tokens/${id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(revocation.status).toBe(204);
    // The next page the tab loads gets a 401.
    await page.evaluate("window.location.hash = '#/templates'");
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page
      .getByRole('status')
      .getByText(/no longer accepts this tab's token/)
      .waitFor();
    expect(await page.evaluate(STORED_TOKEN)).toBeNull();
    expect(pageErrors).toEqual([]);
  }, 60_000);

  // Found by a review of the portal: the sign-in tabs are a tab list, but the arrow keys did nothing.
  it('moves between the sign-in tabs with the arrow keys', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/`);
    const password = page.getByRole('tab', { name: 'Username and password' });
    const token = page.getByRole('tab', { name: 'Token' });
    await password.focus();
    await page.keyboard.press('ArrowRight');
    expect(await token.getAttribute('aria-selected')).toBe('true');
    expect(await page.evaluate("document.activeElement?.textContent ?? ''")).toBe('Token');
    await page.getByLabel('Token').first().waitFor();
    await page.keyboard.press('ArrowLeft');
    expect(await password.getAttribute('aria-selected')).toBe('true');
    await page.close();
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
