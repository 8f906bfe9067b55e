import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { TestBrowser } from './browser.ts';
import { clientEnv, runPave, type CliResult, type PaveProcess } from './pave.ts';

/**
 * Runs the CLI against `server` as its admin (the admin token in `dataDir`) and expects it to exit 0; the
 * test fails with the command and its output otherwise.
 */
export async function runPaveOk(
  server: PaveProcess,
  dataDir: string,
  args: string[],
  input?: string,
): Promise<CliResult> {
  const result = await runPave(args, clientEnv(server.url, dataDir), input);
  expect(result.code, `pave ${args.join(' ')}\n${result.stderr}${result.stdout}`).toBe(0);
  return result;
}

/** The address of the portal's page `route` (a hash route such as `apps/shop/envs/dev`) on `server`. */
export function portalUrl(server: PaveProcess, route: string): string {
  return `${server.url}/#/${route}`;
}

/** What a test signs in to the portal with: a password user, or a token pasted on the Token tab. */
export type PortalCredentials = { username: string; password: string } | { token: string };

/**
 * Opens `url` in `page` and signs in on the portal's sign-in form with `credentials`; resolves once the
 * portal shows "Sign out", and times out (the page's default timeout) when the sign-in fails.
 */
export async function signInToPortal(page: Page, url: string, credentials: PortalCredentials): Promise<void> {
  await page.goto(url);
  if ('token' in credentials) {
    await page.getByRole('tab', { name: 'Token' }).click();
    await page.getByLabel('Token').fill(credentials.token);
  } else {
    await page.getByLabel('Username').fill(credentials.username);
    await page.getByLabel('Password').fill(credentials.password);
  }
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** A new tab of `browser` (its own portal session) signed in at `url` with `credentials`, as signInToPortal does. */
export async function openSignedInTab(
  browser: TestBrowser,
  url: string,
  credentials: PortalCredentials,
): Promise<Page> {
  const page = await browser.newPage();
  await signInToPortal(page, url, credentials);
  return page;
}
