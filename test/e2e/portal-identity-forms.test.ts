import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedToken, Team, TokenInfo, User } from '@pave/core';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startPave, type PaveProcess } from '../support/pave.ts';
import { openSignedInTab, portalUrl } from '../support/portal.ts';

const ALICE_PASSWORD = 'alice correct horse battery';

describe.skipIf(!hasChromium)('teams, API tokens and user deletion in the portal', () => {
  let dataDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  let adminToken: string;
  const pageErrors: string[] = [];

  /** Calls the API with `token` (the admin's unless given); resolves with the status and the parsed body. */
  const api = async (method: string, path: string, body?: object, token = adminToken) => {
    const response = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  const teams = async () => ((await api('GET', '/teams')).body as { items: Team[] }).items;
  const whoamiStatus = async (token: string) => (await api('GET', '/whoami', undefined, token)).status;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-identity-forms-'));
    server = await startPave(['--data-dir', dataDir]);
    adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    for (const body of [
      { username: 'alice', password: ALICE_PASSWORD },
      { username: 'carol' },
      { username: 'deploy-bot', kind: 'service' },
    ]) {
      expect((await api('POST', '/users', body)).status).toBe(201);
    }
    expect((await api('POST', '/roles', { role: 'member', user: 'alice' })).status).toBe(201);
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(15_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('lets an admin create a team, add and remove a member and delete it, each change visible through the API', async () => {
    const page = await openSignedInTab(browser, portalUrl(server, 'platform/teams'), { token: adminToken });
    const create = page.getByRole('region', { name: 'Create team' });
    const teamId = create.getByRole('textbox', { name: 'Team id' });

    // The server's problem with the id stands under the id field.
    await teamId.fill('Web Team');
    await create.getByRole('button', { name: 'Create team' }).click();
    await create.locator('#create-team-id-error').waitFor();
    expect(await teamId.getAttribute('aria-invalid')).toBe('true');

    await teamId.fill('web');
    await create.getByRole('button', { name: 'Create team' }).click();
    await page.getByRole('status').filter({ hasText: 'Created team web' }).waitFor();
    expect(await teamId.inputValue()).toBe('');
    expect(await teams()).toEqual([expect.objectContaining({ id: 'web', members: [], createdBy: 'admin' })]);
    const list = page.getByRole('region', { name: 'Teams' });
    await list.getByRole('rowheader', { name: 'web' }).waitFor();

    const add = page.getByRole('region', { name: 'Add a team member' });
    await add.getByRole('combobox', { name: 'Team' }).fill('web');
    const username = add.getByRole('textbox', { name: 'Username' });
    // No such user: said under the username, not in a banner.
    await username.fill('nobody');
    await add.getByRole('button', { name: 'Add to team' }).click();
    await add.locator('#add-member-username-error').waitFor();
    expect(await add.getByRole('alert').filter({ hasText: 'user "nobody" not found' }).count()).toBe(1);
    expect(await username.getAttribute('aria-invalid')).toBe('true');
    expect(await add.locator('.command code').innerText()).toBe('pave teams add web nobody');

    await username.fill('alice');
    await add.getByRole('button', { name: 'Add to team' }).click();
    await page.getByRole('status').filter({ hasText: 'Added alice to team web.' }).waitFor();
    expect((await teams())[0]?.members).toEqual(['alice']);

    await list.getByRole('button', { name: 'Remove alice from team web' }).click();
    const removeDialog = page.getByRole('dialog', { name: 'Remove team member?' });
    expect(await removeDialog.locator('.command code').innerText()).toBe('pave teams remove web alice');
    await removeDialog.getByRole('button', { name: 'Remove member' }).click();
    await page.getByRole('status').filter({ hasText: 'Removed alice from team web.' }).waitFor();
    expect((await teams())[0]?.members).toEqual([]);

    await list.getByRole('button', { name: 'Delete team web' }).click();
    const deleteDialog = page.getByRole('dialog', { name: 'Delete team?' });
    // Cancelling changes nothing and gives the focus back to the button.
    await deleteDialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.evaluate('document.activeElement?.getAttribute("aria-label")')).toBe('Delete team web');
    expect(await teams()).toHaveLength(1);
    await list.getByRole('button', { name: 'Delete team web' }).click();
    await deleteDialog.getByRole('button', { name: 'Delete team' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted team web.' }).waitFor();
    expect(await teams()).toEqual([]);
    await page.getByText('No teams yet.').waitFor();
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);

  it('creates an API token shown once, which works until it is revoked in the portal', async () => {
    const page = await openSignedInTab(browser, portalUrl(server, 'apps'), {
      username: 'alice',
      password: ALICE_PASSWORD,
    });
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Tokens and password' })
      .click();
    await page.getByRole('heading', { name: 'Tokens and password' }).waitFor();
    const create = page.getByRole('region', { name: 'Create token' });
    // A member may not create tokens for others: no such field.
    expect(await create.getByRole('textbox', { name: /For user/ }).count()).toBe(0);
    // A password sign-in lasts 12 hours, and a token cannot outlive the sign-in that creates it.
    const expires = create.getByRole('combobox', { name: 'Expires' });
    expect(await expires.locator('option').first().innerText()).toMatch(/^When this sign-in ends/);
    expect(await expires.locator('option').allInnerTexts()).not.toContain('In 1 day');

    // A scope beyond alice's roles is refused under its field.
    await create.getByRole('textbox', { name: 'Name' }).fill('ci');
    const scope = create.getByRole('combobox', { name: 'Limit to (optional)' });
    await scope.fill('org:admin');
    await create.getByRole('button', { name: 'Create token' }).click();
    await create.locator('#create-token-scope-error').waitFor();
    expect(await scope.getAttribute('aria-invalid')).toBe('true');

    await scope.fill('org:member');
    await expires.selectOption({ label: 'In 1 hour' });
    expect(await create.locator('.command code').innerText()).toBe(
      'pave tokens create ci --expires-in 1h --scope org:member',
    );
    await create.getByRole('button', { name: 'Create token' }).click();
    const shown = create.getByRole('status', { name: 'New token ci' });
    await shown.waitFor();
    expect(await shown.innerText()).toContain('Copy it now');
    const token = await shown.getByRole('textbox', { name: 'Token' }).inputValue();
    expect(token).toMatch(/^pave_/);
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await shown.getByRole('button', { name: 'Copy' }).click();
    await shown.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(token);
    const whoami = (await api('GET', '/whoami', undefined, token)).body as {
      username: string;
      token: { name: string; expiresAt: string };
    };
    expect(whoami.username).toBe('alice');
    expect(whoami.token.name).toBe('ci');
    const lifetime = Date.parse(whoami.token.expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(50 * 60_000);
    expect(lifetime).toBeLessThanOrEqual(60 * 60_000);

    // Shown once: after Done the page holds it nowhere, and the list shows only its first characters.
    await shown.getByRole('button', { name: 'Done' }).click();
    expect(await page.content()).not.toContain(token);
    const tokens = page.getByRole('table', { name: 'Your tokens' });
    const row = tokens.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /^ci / }) });
    await row.waitFor();
    expect((await row.innerText()).replace(/\s+/g, ' ')).toMatch(/org:member active/);

    await row.getByRole('button', { name: /^Revoke token ci/ }).click();
    await page
      .getByRole('dialog', { name: 'Revoke token?' })
      .getByRole('button', { name: 'Revoke token' })
      .click();
    await page.getByRole('status').filter({ hasText: 'Revoked token ci; it no longer works.' }).waitFor();
    expect(await whoamiStatus(token)).toBe(401);
    await expect.poll(async () => (await row.innerText()).includes('revoked')).toBe(true);
    expect(await row.getByRole('button', { name: /^Revoke/ }).count()).toBe(0);

    // Revoking the token this tab signed in with signs the tab out.
    const own = String(await page.evaluate('window.sessionStorage.getItem("pave.token")'));
    const ownRow = tokens.getByRole('row').filter({ hasText: 'this sign-in' });
    await ownRow.getByRole('button', { name: /^Revoke/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke token?' });
    expect(await dialog.innerText()).toContain('revoking it signs you out here');
    await dialog.getByRole('button', { name: 'Revoke token' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await whoamiStatus(own)).toBe(401);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);

  it('lets an admin create a token for a service account', async () => {
    const page = await openSignedInTab(browser, portalUrl(server, 'tokens'), { token: adminToken });
    const create = page.getByRole('region', { name: 'Create token' });
    await create.getByRole('textbox', { name: 'Name' }).fill('deploys');
    await create.getByRole('textbox', { name: /For user/ }).fill('deploy-bot');
    await create.getByRole('button', { name: 'Create token' }).click();
    const shown = create.getByRole('status', { name: 'New token deploys' });
    await shown.waitFor();
    expect(await shown.innerText()).toContain('of deploy-bot');
    const token = await shown.getByRole('textbox', { name: 'Token' }).inputValue();
    const whoami = (await api('GET', '/whoami', undefined, token)).body as { username: string };
    expect(whoami.username).toBe('deploy-bot');
    // The admin's own list does not hold it.
    const listed = (await api('GET', '/tokens')).body as { items: TokenInfo[] };
    expect(listed.items.map((t) => t.name)).not.toContain('deploys');
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);

  it('lets an admin delete a user after confirming: their token stops working; the admin has no Delete of their own', async () => {
    const created = await api('POST', '/tokens', { name: 'laptop', user: 'carol' });
    const carolToken = (created.body as CreatedToken).token;
    expect(await whoamiStatus(carolToken)).toBe(200);

    const page = await openSignedInTab(browser, portalUrl(server, 'platform/users'), { token: adminToken });
    const users = page.getByRole('region', { name: 'Users and service accounts' });
    await users.getByRole('rowheader', { name: 'carol' }).waitFor();
    expect(await users.getByRole('button', { name: 'Delete user admin' }).count()).toBe(0);
    await users.getByRole('button', { name: 'Delete user carol' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete user?' });
    expect(await dialog.locator('.command code').innerText()).toBe('pave users delete carol --yes');
    await dialog.getByRole('button', { name: 'Delete user' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted user carol' }).waitFor();
    await expect.poll(() => users.getByRole('rowheader', { name: 'carol' }).count()).toBe(0);
    const listed = (await api('GET', '/users')).body as { items: User[] };
    expect(listed.items.map((u) => u.username)).not.toContain('carol');
    expect(await whoamiStatus(carolToken)).toBe(401);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);

  it('lets an admin clear the failed logins that hold a user back: she signs in again at once', async () => {
    const login = async (password: string) =>
      (
        await fetch(`${server.url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'alice', password }),
        })
      ).status;
    for (let attempt = 1; attempt <= 5; attempt++) expect(await login(`wrong ${attempt}`)).toBe(401);
    expect(await login(ALICE_PASSWORD)).toBe(429);

    const page = await openSignedInTab(browser, portalUrl(server, 'platform/users'), { token: adminToken });
    const users = page.getByRole('region', { name: 'Users and service accounts' });
    await users.getByRole('rowheader', { name: 'alice' }).waitFor();
    // Service accounts have no password to fail, and the admin is not held back while signed in.
    expect(await users.getByRole('button', { name: 'Clear failed logins of deploy-bot' }).count()).toBe(0);
    expect(await users.getByRole('button', { name: 'Clear failed logins of admin' }).count()).toBe(0);
    await users.getByRole('button', { name: 'Clear failed logins of alice' }).click();
    await users
      .getByRole('status')
      .filter({ hasText: 'Cleared 5 failed logins of alice; they can sign in again now.' })
      .waitFor();
    expect(await users.locator('.command code').first().innerText()).toBe('pave users unlock alice');
    expect(await login(ALICE_PASSWORD)).toBe(200);

    // Nothing left to clear: said so, and nothing changes.
    await users.getByRole('button', { name: 'Clear failed logins of alice' }).click();
    await users
      .getByRole('status')
      .filter({ hasText: 'alice had no failed logins to clear; nothing was changed.' })
      .waitFor();
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);

  it('shows a member the tokens and password page and no team or user forms', async () => {
    const page = await openSignedInTab(browser, portalUrl(server, 'platform/teams'), {
      username: 'alice',
      password: ALICE_PASSWORD,
    });
    // Everyone may read the environment types, policies and profiles: the platform page shows those tabs
    // alone, not the teams.
    await page.getByRole('tab', { name: 'Environment types' }).waitFor();
    expect(await page.getByRole('tab').allInnerTexts()).toEqual([
      'Environment types',
      'Policies',
      'Workload profiles',
    ]);
    const nav = page.getByRole('navigation', { name: 'Main' });
    // The navigation links to the platform page, as she may read some of its tabs.
    expect(await nav.getByRole('link', { name: 'Platform' }).count()).toBe(1);
    expect(await nav.getByRole('link', { name: 'Tokens and password' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: /Create team|Add to team|Delete/ }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);
});
