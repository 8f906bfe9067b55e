import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';
import { portalUrl, runPaveOk, signInToPortal } from '../support/portal.ts';

const FIRST_PASSWORD = 'alice correct horse battery';
const OWN_PASSWORD = 'alice chose this one herself';
const ADMIN_SET_PASSWORD = 'the admin set this for alice';

/**
 * Passwords in the portal, as `pave users set-password` does them: alice changes her own on the tokens and password
 * page, and an admin sets hers from the platform page's users table. Driven in Chromium against a real `pave
 * up`; each outcome is checked by logging in with the real CLI.
 */
describe.skipIf(!hasChromium)('passwords in the portal', () => {
  let dataDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  let adminToken: string;
  let alice: Page;
  const pageErrors: string[] = [];
  /** The password changes each tab sent (`PUT /users/{username}/password`), to show when nothing was sent. */
  const sent: string[] = [];
  const portal = (route: string) => portalUrl(server, route);
  /** alice's CLI environment: her own config file, which `pave login` writes her token into. */
  const aliceEnv = () => ({ ...clientEnv(server.url, dataDir), PAVE_CONFIG: join(dataDir, 'alice.json') });
  const loginAlice = (password: string) =>
    runPave(['login', '--username', 'alice', '--password-stdin'], aliceEnv(), `${password}\n`);
  const newTab = async () => {
    const page = await browser.newPage();
    page.on('request', (request) => {
      if (request.method() === 'PUT' && /\/users\/[^/]+\/password$/.test(request.url())) {
        sent.push(request.url());
      }
    });
    return page;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-passwords-'));
    server = await startPave(['--data-dir', dataDir]);
    adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    await runPaveOk(server, dataDir, ['users', 'create', 'alice', '--password-stdin'], `${FIRST_PASSWORD}\n`);
    await runPaveOk(server, dataDir, ['users', 'create', 'deploy-bot', '--service']);
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(30_000);
    alice = await newTab();
    await signInToPortal(alice, portal('tokens'), { username: 'alice', password: FIRST_PASSWORD });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('lets a user change their own password: a differing repeat and a wrong current one are refused at their fields', async () => {
    // alice is also logged in with the CLI: that token is revoked by the change, the tab's is not.
    expect((await loginAlice(FIRST_PASSWORD)).code).toBe(0);
    const form = alice.getByRole('form', { name: 'Change password' });
    const current = form.getByLabel('Current password', { exact: true });
    const password = form.getByLabel('New password', { exact: true });
    const repeat = form.getByLabel('Repeat new password', { exact: true });
    const submit = form.getByRole('button', { name: 'Change password' });
    expect(await current.getAttribute('autocomplete')).toBe('current-password');
    expect(await password.getAttribute('autocomplete')).toBe('new-password');
    expect(await repeat.getAttribute('autocomplete')).toBe('new-password');
    // The command never holds a password: the CLI asks for them.
    const section = alice.getByRole('region', { name: 'Your password' });
    expect(await section.locator('.command code').innerText()).toBe('pave users set-password');

    // The two new passwords differ: said under the repeat, and nothing is sent.
    await current.fill(FIRST_PASSWORD);
    await password.fill(OWN_PASSWORD);
    await repeat.fill(`${OWN_PASSWORD}!`);
    await submit.click();
    const differ = form.locator('#change-password-repeat-error');
    await differ.waitFor();
    expect(await differ.innerText()).toBe(
      'The two passwords differ; nothing was sent. Type the same new password twice.',
    );
    expect(await repeat.getAttribute('aria-invalid')).toBe('true');
    expect(sent).toEqual([]);

    // Too short: the server's rule stands under the new password.
    await password.fill('short');
    await repeat.fill('short');
    await submit.click();
    const weak = form.locator('#change-password-new-error');
    await weak.waitFor();
    expect(await weak.innerText()).toBe('The new password must be 12 to 1024 characters long.');
    expect(await password.getAttribute('aria-invalid')).toBe('true');
    expect(await repeat.getAttribute('aria-invalid')).toBe('false');

    // A wrong current password: the server's words under that field.
    await current.fill('not my password at all');
    await password.fill(OWN_PASSWORD);
    await repeat.fill(OWN_PASSWORD);
    await submit.click();
    const wrong = form.locator('#change-password-current-error');
    await wrong.waitFor();
    expect(await wrong.innerText()).toBe(
      'That is not your current password; after 5 wrong ones within 5 minutes, attempts wait.',
    );
    expect(await current.getAttribute('aria-invalid')).toBe('true');
    expect(await section.locator('.error').innerText()).toBe('The current password is wrong.');
    expect(sent).toHaveLength(2);
    // A repeat that differs next: only that is said; the wrong password's words, about an attempt before, go.
    await repeat.fill(`${OWN_PASSWORD}!`);
    await submit.click();
    await differ.waitFor();
    await wrong.waitFor({ state: 'detached' });
    expect(await section.locator('.error').count()).toBe(0);
    expect(sent).toHaveLength(2);

    await current.fill(FIRST_PASSWORD);
    await repeat.fill(OWN_PASSWORD);
    await submit.click();
    await section
      .getByRole('status')
      .filter({
        hasText: 'Changed your password; 1 other token of yours was revoked. This tab stays signed in.',
      })
      .waitFor();
    expect(await current.inputValue()).toBe('');
    expect(await password.inputValue()).toBe('');

    // The CLI's token was revoked; this tab's still works, after a reload too.
    const whoami = await runPave(['whoami'], aliceEnv());
    expect(whoami.code).toBe(1);
    await alice.reload();
    await alice.getByRole('button', { name: 'Sign out' }).waitFor();
    await alice.getByRole('form', { name: 'Change password' }).waitFor();

    // The old password no longer logs in; the new one does.
    const old = await loginAlice(FIRST_PASSWORD);
    expect(old.code).toBe(1);
    expect(old.stderr).toContain('pave: error:');
    expect((await loginAlice(OWN_PASSWORD)).code).toBe(0);
    expect((await runPave(['whoami'], aliceEnv())).stdout).toContain('alice');
  }, 90_000);

  it('lets an admin set a user’s password from the users table, never a service account’s', async () => {
    const admin = await newTab();
    await signInToPortal(admin, portal('platform/users'), { token: adminToken });
    const users = admin.getByRole('region', { name: 'Users and service accounts' });
    const setAlice = users.getByRole('button', { name: 'Set password of alice' });
    await setAlice.waitFor();
    // A service account has no password: it may only be deleted. Nor is the admin's own row offered (their
    // own password needs their current one: the tokens and password page changes it).
    await users.getByRole('button', { name: 'Delete service account deploy-bot' }).waitFor();
    expect(await users.getByRole('button', { name: 'Set password of deploy-bot' }).count()).toBe(0);
    expect(await users.getByRole('button', { name: 'Set password of admin' }).count()).toBe(0);
    expect(await users.getByRole('button', { name: /^Set password of / }).count()).toBe(1);

    await setAlice.click();
    const dialog = admin.getByRole('dialog', { name: 'Set password of alice' });
    expect(await dialog.innerText()).toContain('Every token of theirs is revoked at once');
    expect(await dialog.locator('.command code').innerText()).toBe('pave users set-password alice');
    const password = dialog.getByLabel('New password', { exact: true });
    const repeat = dialog.getByLabel('Repeat new password', { exact: true });
    expect(await password.getAttribute('autocomplete')).toBe('new-password');
    const confirm = dialog.getByRole('button', { name: 'Set password' });
    expect(await confirm.isDisabled()).toBe(true);

    // The two differ: said under the repeat, and nothing is sent.
    const sentBefore = sent.length;
    await password.fill(ADMIN_SET_PASSWORD);
    await repeat.fill(`${ADMIN_SET_PASSWORD}?`);
    await confirm.click();
    const differ = dialog.locator('#set-password-repeat-error');
    await differ.waitFor();
    expect(await differ.innerText()).toBe(
      'The two passwords differ; nothing was sent. Type the same new password twice.',
    );
    expect(sent).toHaveLength(sentBefore);

    await repeat.fill(ADMIN_SET_PASSWORD);
    await confirm.click();
    // alice's tokens: her portal sign-in and her last CLI login.
    await users
      .getByRole('status')
      .filter({
        hasText:
          'Set the password of alice; 2 tokens of theirs were revoked, so they sign in again with the new password.',
      })
      .waitFor();
    expect(await dialog.count()).toBe(0);
    expect(sent).toHaveLength(sentBefore + 1);

    // alice's tab was signed out with its token; her CLI token too.
    await alice.reload();
    await alice.getByRole('button', { name: 'Sign in' }).waitFor();
    expect((await runPave(['whoami'], aliceEnv())).code).toBe(1);

    // The password alice chose works no more; the admin's does, in the CLI and in the portal.
    expect((await loginAlice(OWN_PASSWORD)).code).toBe(1);
    expect((await loginAlice(ADMIN_SET_PASSWORD)).code).toBe(0);
    await signInToPortal(alice, portal('tokens'), { username: 'alice', password: ADMIN_SET_PASSWORD });
    await admin.close();
  }, 90_000);

  it('offers no one else’s password to a user who may not manage users', async () => {
    // alice holds no org role: the platform page shows her what every user may read, without the users.
    await alice.goto(portal('platform/users'));
    await alice.getByRole('tab', { name: 'Environment types' }).waitFor();
    await alice.getByRole('region', { name: 'Environment types' }).waitFor();
    expect(await alice.getByRole('tab', { name: 'Users' }).count()).toBe(0);
    expect(await alice.getByRole('button', { name: /^Set password of / }).count()).toBe(0);
    // Her own password she changes on the tokens and password page.
    await alice.goto(portal('tokens'));
    await alice.getByRole('form', { name: 'Change password' }).waitFor();
    expect(pageErrors).toEqual([]);
  }, 60_000);
  it('asks no current password of one who has none, and offers a service account no password form', async () => {
    // The first admin has no password (it signs in with its token): the form asks only for a new one.
    const admin = await newTab();
    await signInToPortal(admin, portal('tokens'), { token: adminToken });
    const form = admin.getByRole('form', { name: 'Change password' });
    await form.getByLabel('New password', { exact: true }).waitFor();
    expect(await form.getByLabel('Current password', { exact: true }).count()).toBe(0);

    // A service account signs in with a token and has no password to change.
    const created = await runPaveOk(server, dataDir, [
      'tokens',
      'create',
      'portal',
      '--user',
      'deploy-bot',
      '-o',
      'json',
    ]);
    const bot = await newTab();
    await signInToPortal(bot, portal('tokens'), {
      token: (JSON.parse(created.stdout) as { token: string }).token,
    });
    await bot
      .getByText('deploy-bot is a service account: it signs in with tokens only and has no password.')
      .waitFor();
    expect(await bot.getByRole('form', { name: 'Change password' }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
