import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';
import { openSignedInTab, portalUrl, runPaveOk } from '../support/portal.ts';

const ALICE_PASSWORD = 'alice correct horse battery';
const DAVE_PASSWORD = 'dave staple battery horse';
const MIA_PASSWORD = 'mia staple horse battery';
const ADA_PASSWORD = 'ada horse staple battery';
/** The portal's token kept for the browser tab (null when none). */
const STORED_TOKEN = 'window.sessionStorage.getItem("pave.token")';

describe.skipIf(!hasChromium)('the portal under review: failures, permissions, field errors', () => {
  let dataDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  const pageErrors: string[] = [];
  const pave = (args: string[], input?: string) => runPaveOk(server, dataDir, args, input);
  const portal = (route: string) => portalUrl(server, route);
  /** A new tab signed in on the portal as `username`. */
  const signIn = (username: string, password: string) =>
    openSignedInTab(browser, portal('apps'), { username, password });

  /** The messages a field points at with aria-describedby, or '' when it points at none. */
  const fieldMessage = async (page: Page, label: string) => {
    const ids = await page.getByLabel(label, { exact: true }).getAttribute('aria-describedby');
    const texts = await Promise.all(
      (ids ?? '')
        .split(' ')
        .filter(Boolean)
        .map((id) => page.locator(`[id="${id}"]`).innerText()),
    );
    return texts.join(' ');
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-review-'));
    server = await startPave(['--data-dir', dataDir]);
    await pave(['apps', 'create', 'shop']);
    await pave(['envs', 'create', 'dev', '--app', 'shop', '--type', 'development']);
    await pave(['envs', 'create', 'prod', '--app', 'shop', '--type', 'production']);
    await pave(['users', 'create', 'alice', '--password-stdin'], `${ALICE_PASSWORD}\n`);
    await pave(['roles', 'grant', 'owner', '--user', 'alice', '--app', 'shop']);
    await pave(['users', 'create', 'dave', '--password-stdin'], `${DAVE_PASSWORD}\n`);
    await pave(['roles', 'grant', 'developer', '--user', 'dave', '--app', 'shop']);
    await pave(['users', 'create', 'mia', '--password-stdin'], `${MIA_PASSWORD}\n`);
    await pave(['roles', 'grant', 'member', '--user', 'mia']);
    await pave(['users', 'create', 'ada', '--password-stdin'], `${ADA_PASSWORD}\n`);
    await pave(['roles', 'grant', 'admin', '--user', 'ada']);
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(30_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('keeps the user signed in when a reload cannot reach the server, says so, and tries again', async () => {
    const alice = await signIn('alice', ALICE_PASSWORD);
    await alice.goto(portal('apps/shop/envs/dev'));
    await alice.getByRole('heading', { name: 'shop / dev' }).waitFor();

    // The server is unreachable while the page reloads (restarting, or the network is down).
    await alice.route('**/api/v1/whoami', (route) => route.abort('connectionrefused'));
    await alice.reload();
    await alice
      .getByRole('alert')
      .filter({ hasText: /^Cannot reach Pave at / })
      .waitFor();
    expect(await alice.getByRole('button', { name: 'Sign in' }).count()).toBe(0);
    expect(await alice.evaluate(STORED_TOKEN)).toMatch(/\S/);

    // Once it answers again, the same page comes back without signing in again.
    await alice.unroute('**/api/v1/whoami');
    await alice.getByRole('button', { name: 'Try again' }).click();
    await alice.getByRole('heading', { name: 'shop / dev' }).waitFor();
    expect(await alice.getByRole('button', { name: 'Sign out' }).count()).toBe(1);

    // A token the server refuses is still forgotten: then the sign-in form shows.
    await alice.evaluate('window.sessionStorage.setItem("pave.token", "pave_not-a-real-token")');
    await alice.reload();
    await alice.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await alice.evaluate(STORED_TOKEN)).toBeNull();
    expect(pageErrors).toEqual([]);
    await alice.close();
  }, 60_000);

  it('says why a page could not be loaded instead of showing a blank page', async () => {
    const alice = await signIn('alice', ALICE_PASSWORD);
    // The insights page's code cannot be fetched (the server went away, or was upgraded since).
    await alice.route(/\/assets\/insights-[^/]*\.js$/, (route) => route.abort('connectionrefused'));
    await alice.goto(portal('apps/shop/insights'));
    await alice
      .getByRole('alert')
      .filter({ hasText: /dynamically imported module/ })
      .waitFor();
    // The rest of the portal stays usable.
    expect(await alice.getByRole('button', { name: 'Sign out' }).count()).toBe(1);
    await alice.getByRole('button', { name: 'Reload the page' }).waitFor();
    await alice.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Apps' }).click();
    await alice.getByRole('heading', { name: 'Apps', exact: true }).waitFor();
    expect(pageErrors).toEqual([]);
    await alice.close();
  }, 60_000);

  it('offers only the environment types and clone sources the user may create an environment from', async () => {
    // dave is a developer of shop: a production (restricted) environment, or a clone of one, needs deployer.
    const dave = await signIn('dave', DAVE_PASSWORD);
    await dave.goto(portal('apps/shop'));
    const form = dave.getByRole('region', { name: 'Create environment' });
    await form.getByRole('option', { name: 'development' }).waitFor({ state: 'attached' });
    const options = (label: string) =>
      form
        .getByLabel(label)
        .locator('option')
        .evaluateAll((all) => all.map((option) => (option as unknown as { value: string }).value));
    expect(await options('Type')).toEqual(['development', 'staging']);
    expect(await options('Clone from (optional)')).toEqual(['', 'dev']);
    // The server agrees: it refuses dave a production environment.
    const refused = await runPave(['envs', 'create', 'prod2', '--app', 'shop', '--type', 'production'], {
      ...clientEnv(server.url, dataDir),
      PAVE_TOKEN: await tokenOf('dave', DAVE_PASSWORD),
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('needs deployer on environment type production');
    await dave.close();
  }, 60_000);

  it('puts the create-app form’s problems under its fields and keeps what was typed', async () => {
    const mia = await signIn('mia', MIA_PASSWORD);
    await mia.goto(portal('apps'));
    await mia.getByLabel('App id').fill('Bad_Id');
    await mia.getByLabel('Display name (optional)').fill('Ünïcödé 名前');
    await mia.getByRole('button', { name: 'Create app' }).click();
    await expect.poll(() => fieldMessage(mia, 'App id')).toMatch(/^The app id must be a DNS label/);
    expect(await mia.getByLabel('App id').getAttribute('aria-invalid')).toBe('true');
    const form = mia.getByRole('region', { name: 'Create app' });
    expect(await form.getByText('Correct the marked fields.').count()).toBe(1);
    expect(await mia.getByLabel('App id').inputValue()).toBe('Bad_Id');
    expect(await mia.getByLabel('Display name (optional)').inputValue()).toBe('Ünïcödé 名前');

    await mia.getByLabel('App id').fill('shop');
    await mia.getByRole('button', { name: 'Create app' }).click();
    await expect
      .poll(() => fieldMessage(mia, 'App id'))
      .toMatch(/^The app id is taken; choose another id or use the existing app\. /);
    expect((await form.getByRole('alert').filter({ hasText: 'already exists' }).innerText()).trim()).toBe(
      'App "shop" already exists.',
    );
    expect(pageErrors).toEqual([]);
    await mia.close();
  }, 60_000);

  it('puts the platform forms’ problems under their fields and keeps what was typed', async () => {
    const ada = await signIn('ada', ADA_PASSWORD);
    /** Submits a form with `button`; the server's problem stands under `label`, whose value is kept. */
    const refused = async (button: string, label: string, typed: string, problem: RegExp) => {
      await ada.getByRole('button', { name: button, exact: true }).click();
      await expect.poll(() => fieldMessage(ada, label)).toMatch(problem);
      expect(await ada.getByLabel(label, { exact: true }).getAttribute('aria-invalid')).toBe('true');
      expect(await ada.getByLabel(label, { exact: true }).inputValue()).toBe(typed);
    };

    await ada.goto(portal('platform/users'));
    await ada.getByLabel('Username', { exact: true }).fill('Bad_Name');
    await ada.getByLabel('Password (optional)').fill(ADA_PASSWORD);
    await refused('Create user', 'Username', 'Bad_Name', /^The username must be a DNS label/);
    expect(await ada.getByLabel('Password (optional)').inputValue()).toBe(ADA_PASSWORD);
    const users = ada.getByRole('region', { name: 'Create user or service account' });
    expect(await users.getByText('Correct the marked fields.').count()).toBe(1);

    await ada.goto(portal('platform/env-types'));
    await ada.getByLabel('Environment type id').fill('production');
    await ada.getByLabel('Description (optional)').fill('Ünïcödé 名前');
    await refused(
      'Create environment type',
      'Environment type id',
      'production',
      /^The environment type id is taken; /,
    );
    expect(await ada.getByLabel('Description (optional)').inputValue()).toBe('Ünïcödé 名前');
    const envTypes = ada.getByRole('region', { name: 'Create environment type' });
    await envTypes.getByRole('alert').filter({ hasText: 'already exists' }).waitFor();

    await ada.goto(portal('platform/roles'));
    await ada.getByRole('combobox', { name: 'Role', exact: true }).selectOption('viewer');
    await ada.getByLabel('Username', { exact: true }).fill('Bad_Name');
    await ada.getByLabel('App', { exact: true }).fill('shop');
    await refused('Grant role', 'Username', 'Bad_Name', /^The username must be a DNS label/);
    expect(await ada.getByLabel('App', { exact: true }).inputValue()).toBe('shop');
    expect(await ada.getByLabel('App', { exact: true }).getAttribute('aria-invalid')).not.toBe('true');
    expect(pageErrors).toEqual([]);
    await ada.close();
  }, 60_000);

  it('says once that an app does not exist', async () => {
    const alice = await signIn('alice', ALICE_PASSWORD);
    // Every request of the page has been answered before the messages are counted.
    const answered = Promise.all([
      alice.waitForResponse((response) => response.url().endsWith('/api/v1/apps/nosuch')),
      alice.waitForResponse((response) => response.url().endsWith('/api/v1/apps/nosuch/envs')),
    ]);
    await alice.goto(portal('apps/nosuch'));
    await answered;
    const notFound = alice.getByRole('alert').filter({ hasText: 'App "nosuch" not found.' });
    await notFound.first().waitFor();
    // Two frames: React has drawn what the last answer brought.
    await alice.evaluate(
      'new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))',
    );
    expect(await alice.getByText('not found', { exact: false }).count()).toBe(1);
    expect(pageErrors).toEqual([]);
    await alice.close();
  }, 60_000);

  it('shows an audit filter’s CLI equivalent quoted for the shell', async () => {
    const alice = await signIn('alice', ALICE_PASSWORD);
    await alice.goto(portal('audit/shop'));
    await alice.getByRole('heading', { name: 'Audit log of shop' }).waitFor();
    await alice.getByLabel('App', { exact: true }).fill("it's mine");
    await alice.getByRole('button', { name: 'Filter' }).click();
    await alice.getByRole('heading', { name: "Audit log of it's mine" }).waitFor();
    await alice.getByText(`pave audit --app 'it'\\''s mine'`, { exact: true }).waitFor();
    await alice.close();
  }, 60_000);

  /** A token of `username`, as `pave login` gets it. */
  async function tokenOf(username: string, password: string): Promise<string> {
    const response = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { token: string }).token;
  }
});
