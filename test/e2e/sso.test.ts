import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { signInAtProvider, startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.ts';
import { PAVE_BIN, clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';
import { runPaveOk } from '../support/portal.ts';

/**
 * From the portal's sign-in page: "Sign in with SSO", the provider's (development) login page as `login`, its
 * consent page if it asks, and back to the portal, signed in.
 */
async function signInWithSso(page: Page, login: string): Promise<void> {
  await page.getByRole('link', { name: 'Sign in with SSO' }).click();
  // The provider's own (development) sign-in page.
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.locator('button[type="submit"]').first().click();
  const consent = page.locator('input[name="prompt"][value="consent"]');
  // The provider's consent page, then back to the portal, signed in (a string: no DOM types here).
  await page.waitForFunction(
    `document.querySelector('input[name="prompt"][value="consent"]') || document.body.innerText.includes('Sign out')`,
  );
  if (await consent.count()) await page.locator('button[type="submit"]').first().click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** The portal's token kept for the browser tab (null when none). */
const STORED_TOKEN = 'window.sessionStorage.getItem("pave.token")';

/** Follows one redirect by hand; resolves with where it points. */
async function redirectOf(url: string): Promise<string> {
  const response = await fetch(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (response.status !== 302 || !location) {
    throw new Error(`expected a redirect from ${url}, got ${response.status}: ${await response.text()}`);
  }
  return new URL(location, url).toString();
}

describe('single sign-on through a real `pave up` and an OIDC provider', () => {
  let dataDir: string;
  let server: PaveProcess;
  let provider: TestOidcProvider;
  const pave = (args: string[], input?: string) => runPaveOk(server, dataDir, args, input);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-sso-'));
    provider = await startOidcProvider();
    provider.accounts.set('carol-sub', { preferredUsername: 'carol', groups: ['backend-devs'] });
    provider.accounts.set('dave-sub', { email: 'dave@example.com', groups: [] });
    const secretFile = join(dataDir, 'oidc-client-secret');
    writeFileSync(secretFile, `${provider.clientSecret}\n`, { mode: 0o600 });
    server = await startPave([
      ...['--data-dir', dataDir, '--oidc-issuer', provider.issuer],
      ...['--oidc-client-id', provider.clientId, '--oidc-client-secret-file', secretFile],
    ]);
    provider.setRedirectUri(`${server.url}/api/v1/auth/sso/callback`);
    await pave(['teams', 'create', 'backend', '--oidc-group', 'backend-devs']);
  });
  /** What `GET /whoami` answers with `token`: 200 while it works, 401 once revoked. */
  const whoamiStatus = async (token: string) =>
    (await fetch(`${server.url}/api/v1/whoami`, { headers: { authorization: `Bearer ${token}` } })).status;

  afterAll(async () => {
    await server?.stop();
    await provider?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it.skipIf(!hasChromium)(
    'signs in to the portal with "Sign in with SSO"',
    async () => {
      const errors: string[] = [];
      const browser: TestBrowser = await launchBrowser({ errors });
      try {
        const page = await browser.newPage();
        page.setDefaultTimeout(10_000);
        const where = async () => `at ${page.url()}: ${(await page.content()).slice(0, 1500)}`;
        try {
          // A refused sign-in comes back with its reason, which the sign-in page shows.
          await page.goto(`${server.url}/#/sso?error=${encodeURIComponent('the ID token has expired')}`);
          await page.getByRole('alert').getByText('SSO sign-in failed: the ID token has expired').waitFor();
          await signInWithSso(page, 'carol-sub');
          await expect(page.getByText('carol').first().isVisible()).resolves.toBe(true);
          // The token left the address bar.
          expect(page.url()).not.toContain('token=');
        } catch (error) {
          throw new Error(`${(error as Error).message}\n${await where()}`, { cause: error });
        }
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
      const teams = JSON.parse((await pave(['teams', 'list', '-o', 'json'])).stdout) as {
        items: Array<{ id: string; members: string[] }>;
      };
      expect(teams.items.find((team) => team.id === 'backend')?.members).toEqual(['carol']);
    },
    60_000,
  );

  it.skipIf(!hasChromium)(
    'shows a sign-in cancelled at the provider, and drops the user from the team when the provider drops its group',
    async () => {
      const members = async () => {
        const teams = JSON.parse((await pave(['teams', 'list', '-o', 'json'])).stdout) as {
          items: Array<{ id: string; members: string[] }>;
        };
        return teams.items.find((team) => team.id === 'backend')?.members;
      };
      // Carol joined the team at her first sign-in (the test above); now the provider drops the group.
      expect(await members()).toEqual(['carol']);
      provider.accounts.set('carol-sub', { preferredUsername: 'carol', groups: ['frontend-devs'] });
      const errors: string[] = [];
      const browser: TestBrowser = await launchBrowser({ errors });
      try {
        const page = await browser.newPage();
        page.setDefaultTimeout(10_000);
        const where = async () => `at ${page.url()}: ${(await page.content()).slice(0, 1500)}`;
        try {
          await page.goto(`${server.url}/`);
          // Cancelled at the provider's login page: the provider refuses, and the portal says so.
          await page.getByRole('link', { name: 'Sign in with SSO' }).click();
          await page.getByRole('link', { name: '[ Cancel ]' }).click();
          await page
            .getByRole('alert')
            .getByText(
              'SSO sign-in failed: the SSO provider refused the sign-in (access_denied: End-User aborted interaction)',
            )
            .waitFor();
          await signInWithSso(page, 'carol-sub');
          await expect(page.getByText('carol').first().isVisible()).resolves.toBe(true);
        } catch (error) {
          throw new Error(`${(error as Error).message}\n${await where()}`, { cause: error });
        }
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
      expect(await members()).toEqual([]);
    },
    60_000,
  );

  it.skipIf(!hasChromium)(
    'takes no token from a sign-in another browser started (login CSRF), and revokes it',
    async () => {
      // The attacker starts a sign-in, signs in at the provider as themselves and keeps Pave's callback URL.
      provider.accounts.set('mallory-sub', { preferredUsername: 'mallory', groups: [] });
      const attackers = await signInAtProvider(
        await redirectOf(`${server.url}/api/v1/auth/sso/start`),
        'mallory-sub',
      );
      const errors: string[] = [];
      const browser: TestBrowser = await launchBrowser({ errors });
      let token: string | null = null;
      try {
        const page = await browser.newPage();
        page.setDefaultTimeout(10_000);
        const where = async () => `at ${page.url()}: ${(await page.content()).slice(0, 1500)}`;
        try {
          // The victim opens the attacker's callback URL within the 10 minutes.
          const callback = page.waitForResponse((r) => r.url().startsWith(`${server.url}/api/v1/auth/sso/`));
          await page.goto(attackers);
          const handedOver = (await callback).headers().location ?? '';
          token = new URLSearchParams(handedOver.split('#/sso?')[1]).get('token');
          expect(token).toMatch(/^pave_/);
          await page
            .getByRole('alert')
            .getByText('This SSO sign-in was not started in this tab, so it was not used: start it again.')
            .waitFor();
          expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
          expect(await page.evaluate(STORED_TOKEN)).toBeNull();
          expect(page.url()).not.toContain('token=');
        } catch (error) {
          throw new Error(`${(error as Error).message}\n${await where()}`, { cause: error });
        }
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
      // The token the attacker's sign-in issued is revoked, so it is of no use to anyone.
      await expect.poll(() => whoamiStatus(token!)).toBe(401);
    },
    60_000,
  );

  it.skipIf(!hasChromium)(
    "revokes an SSO sign-in's token when the portal signs out",
    async () => {
      const browser: TestBrowser = await launchBrowser();
      try {
        const page = await browser.newPage();
        page.setDefaultTimeout(10_000);
        await page.goto(`${server.url}/`);
        await signInWithSso(page, 'carol-sub');
        const token = String(await page.evaluate(STORED_TOKEN));
        expect(await whoamiStatus(token)).toBe(200);
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByRole('button', { name: 'Sign in' }).waitFor();
        expect(await page.evaluate(STORED_TOKEN)).toBeNull();
        expect(await whoamiStatus(token)).toBe(401);
      } finally {
        await browser.close();
      }
    },
    60_000,
  );

  it('logs the CLI in with `pave login --sso`, and the saved token works', async () => {
    const env = { ...process.env, ...clientEnv(server.url, dataDir), NO_COLOR: '1' };
    const child = spawn(
      process.execPath,
      [PAVE_BIN, 'login', '--sso', '--no-browser', '--server', server.url],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const startUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no sign-in URL was printed:\n${stderr}`)), 15_000);
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /(http:\/\/\S+\/auth\/sso\/start\S*)/.exec(stderr);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    // The test is the browser: to the provider, sign in, back to Pave, on to the CLI's loopback server.
    const back = await signInAtProvider(await redirectOf(startUrl), 'dave-sub');
    const loopback = await redirectOf(back);
    expect(loopback).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\/[\w-]{32}\?token=pave_/);
    const page = await fetch(loopback);
    expect(await page.text()).toContain('Signed in to Pave');
    expect(await exited, `${stdout}${stderr}`).toBe(0);
    expect(stdout).toContain(`Logged in to ${server.url} as dave until`);

    const whoami = await runPave(['whoami', '-o', 'json'], {
      PAVE_CONFIG: clientEnv(server.url, dataDir).PAVE_CONFIG,
    });
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ username: 'dave' });
  });

  it('changes the group a team follows with `pave teams update` (admins)', async () => {
    // The saved config now holds dave's token (a member); the admin's is in the data dir.
    const asAdmin = { PAVE_TOKEN: readFileSync(join(dataDir, 'admin.token'), 'utf8').trim() };
    const update = (...args: string[]) =>
      runPave(['teams', 'update', 'backend', ...args], { ...clientEnv(server.url, dataDir), ...asAdmin });
    const follows = await update('--oidc-group', 'backend-team');
    expect(follows.stdout, follows.stderr).toBe('Team backend follows SSO group backend-team\n');
    const byHand = await update('--no-oidc-group');
    expect(byHand.stdout, byHand.stderr).toBe(
      'Team backend follows no SSO group; its members are managed by hand\n',
    );
    const asDave = await runPave(
      ['teams', 'update', 'backend', '--oidc-group', 'x'],
      clientEnv(server.url, dataDir),
    );
    expect(asDave.code).not.toBe(0);
  });

  it('shows a refused sign-in, replayed, as a clear problem', async () => {
    const back = await signInAtProvider(await redirectOf(`${server.url}/api/v1/auth/sso/start`), 'carol-sub');
    expect(await redirectOf(back)).toMatch(/\/#\/sso\?token=pave_/);
    const replayed = await fetch(back, { redirect: 'manual' });
    expect(replayed.status).toBe(401);
    expect(((await replayed.json()) as { detail: string }).detail).toBe(
      'this SSO sign-in is unknown or was used already (state)',
    );
  });
});

describe('a server with password login disabled', () => {
  let dataDir: string;
  let server: PaveProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-no-passwords-'));
    server = await startPave(['--data-dir', dataDir], { PAVE_DISABLE_PASSWORD_LOGIN: '1' });
  });
  afterAll(async () => {
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses `POST /auth/login` with 403 naming SSO, while the admin token keeps working', async () => {
    const env = clientEnv(server.url, dataDir);
    const created = await runPave(
      ['users', 'create', 'erin', '--password-stdin'],
      env,
      'erin has a long password\n',
    );
    expect(created.code, created.stderr).toBe(0);
    const login = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'erin', password: 'erin has a long password' }),
    });
    expect(login.status).toBe(403);
    expect(((await login.json()) as { detail: string }).detail).toBe(
      'password login is disabled on this server; sign in with SSO',
    );
    const cli = await runPave(
      ['login', '--username', 'erin', '--password-stdin'],
      env,
      'erin has a long password\n',
    );
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('password login is disabled');
    const whoami = await runPave(['whoami'], env);
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(whoami.stdout).toContain('admin');
  });
});
