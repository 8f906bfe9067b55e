import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { makeAppDir } from '../support/app-dir.ts';
import { startPave, type PaveProcess } from '../support/pave.ts';
import { openSignedInTab, portalUrl, runPaveOk } from '../support/portal.ts';

/** More deployments than the API gives in one page (500 at most). */
const DEPLOYMENTS = 520;

describe.skipIf(!hasChromium)('the environment page’s deployment history and its commands', () => {
  let dataDir: string;
  let appDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  let adminToken: string;
  const pageErrors: string[] = [];
  const pave = (args: string[]) => runPaveOk(server, dataDir, args);
  const portal = (route: string) => portalUrl(server, route);

  const history = (page: Page) => page.getByRole('table', { name: 'Deployment history' });

  /** Asks for deployment `release <n>` of prod through the API; it awaits approval, superseding the last. */
  async function requestDeployment(n: number) {
    const response = await fetch(`${server.url}/api/v1/apps/shop/envs/prod/deployments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        message: `release ${n}`,
        workloads: [
          {
            dir: appDir,
            spec: {
              apiVersion: 'score.dev/v1b1',
              metadata: { name: 'idle' },
              containers: {
                main: { image: 'node:20', command: ['node', '-e', 'setInterval(() => {}, 1000)'] },
              },
            },
          },
        ],
      }),
    });
    expect(response.status, await response.text()).toBe(202);
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-history-'));
    appDir = makeAppDir('pave-portal-history-app-');
    server = await startPave(['--data-dir', dataDir]);
    adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    // Into prod, deployments await approval: each new one supersedes the last, and none runs.
    await pave(['env-types', 'update', 'production', '--requires-approval']);
    await pave(['apps', 'create', 'shop']);
    await pave(['envs', 'create', 'dev', '--app', 'shop', '--type', 'development']);
    await pave(['envs', 'create', 'staging', '--app', 'shop', '--type', 'staging']);
    await pave(['envs', 'create', 'prod', '--app', 'shop', '--type', 'production']);
    for (let n = 1; n <= DEPLOYMENTS; n++) await requestDeployment(n);
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(30_000);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(appDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('pages through every deployment with "Show older", past the 500 the API gives at once', async () => {
    const page = await openSignedInTab(browser, portal('apps'), { token: adminToken });
    await page.goto(portal('apps/shop/envs/prod'));
    const rows = history(page).locator('tbody tr');
    await rows.filter({ hasText: `release ${DEPLOYMENTS}` }).waitFor();
    const older = page.getByRole('button', { name: 'Show older deployments' });
    for (let clicks = 0; clicks < 20 && (await older.isVisible()); clicks++) {
      const shown = await rows.count();
      await older.click();
      await expect.poll(() => rows.count(), { timeout: 10_000 }).toBeGreaterThan(shown);
    }
    expect(await older.count()).toBe(0);
    const messages = () => rows.locator('td:nth-child(4)').allInnerTexts();
    const newestFirst = (newest: number) => Array.from({ length: newest }, (_, i) => `release ${newest - i}`);
    expect(await messages()).toEqual(newestFirst(DEPLOYMENTS));

    // A new deployment refreshes the history: it comes on top, and the older ones paged to stay.
    await requestDeployment(DEPLOYMENTS + 1);
    await rows
      .first()
      .filter({ hasText: `release ${DEPLOYMENTS + 1}` })
      .waitFor();
    expect(await messages()).toEqual(newestFirst(DEPLOYMENTS + 1));
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 120_000);

  it('shows the pave promote command of the source the user picked', async () => {
    const page = await openSignedInTab(browser, portal('apps'), { token: adminToken });
    await page.goto(portal('apps/shop/envs/prod'));
    const commands = page.getByRole('region', { name: 'Deployments', exact: true }).locator('.command');
    const promote = commands.filter({ hasText: 'pave promote' });
    await expect.poll(() => promote.innerText()).toContain('pave promote --app shop --from dev --to prod');
    await page.getByRole('combobox', { name: 'Promote from' }).selectOption('staging');
    await expect
      .poll(() => promote.innerText(), { timeout: 5000 })
      .toContain('pave promote --app shop --from staging --to prod');
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);
});
