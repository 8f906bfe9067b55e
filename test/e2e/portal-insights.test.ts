import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { EDGE_SCORE, makeAppDir } from '../support/app-dir.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { runPaveOk } from '../support/portal.ts';

const VERA_PASSWORD = 'vera staple battery horse';

describe.skipIf(!hasChromium)('DORA insights in the portal', () => {
  let dataDir: string;
  let appDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  const pageErrors: string[] = [];
  const pave = (args: string[], input?: string) => runPaveOk(server, dataDir, args, input);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-insights-'));
    appDir = makeAppDir('pave-portal-insights-app-');
    writeFileSync(join(appDir, 'edge.score.yaml'), EDGE_SCORE);
    server = await startPave(['--data-dir', dataDir]);
    await shortenStabilityWindow(server.url, dataDir);
    await pave(['apps', 'create', 'shop']);
    await pave(['envs', 'create', 'dev', '--app', 'shop', '--type', 'development']);
    await pave(['users', 'create', 'vera', '--password-stdin'], `${VERA_PASSWORD}\n`);
    await pave(['roles', 'grant', 'viewer', '--user', 'vera', '--app', 'shop']);
    const commitTime = new Date(Date.now() - 3 * 3600_000).toISOString();
    await pave([
      ...['deploy', '-f', join(appDir, 'edge.score.yaml'), '--app', 'shop', '--env', 'dev', '--wait'],
      ...['--commit', 'abc1234', '--commit-time', commitTime],
    ]);
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(30_000);
  }, 180_000);

  afterAll(async () => {
    if (server) await runPave(['apps', 'delete', 'shop', '--force'], clientEnv(server.url, dataDir));
    await browser?.close();
    await server?.stop();
    rmSync(appDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('shows a viewer the four measures with their bands, a chart of each and the numbers by day', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/#/apps/shop`);
    await page.getByLabel('Username').fill('vera');
    await page.getByLabel('Password').fill(VERA_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Insights' }).click();

    const lead = page.getByRole('region', { name: 'Lead time for changes' });
    await expect.poll(() => lead.textContent()).toMatch(/3(\.0)?h\s*elite/);
    await expect
      .poll(() => page.getByRole('region', { name: 'Change failure rate' }).textContent())
      .toMatch(/0\.0 %\s*elite.*0 of 1 finished/);
    expect(await page.getByRole('img', { name: /by day/ }).count()).toBe(4);
    expect(await page.locator('.insights-chart canvas').count()).toBe(4);
    const today = new Date().toISOString().slice(0, 10);
    await expect
      .poll(() => page.getByRole('row', { name: new RegExp(`^${today}`) }).textContent())
      .toMatch(new RegExp(`^${today}1\\s*1\\s*0`));
    // The environments to choose from: every one of the app, however many pages the API answers them in.
    const envChoice = page.getByRole('combobox', { name: /^Environment/ });
    await expect
      .poll(() => envChoice.locator('option').allTextContents())
      .toEqual(['all you may read', 'dev']);
    await page.getByRole('combobox', { name: /^Window/ }).selectOption('7d');
    await expect.poll(() => page.locator('.command code').textContent()).toContain('--since 7d');
    expect(pageErrors).toEqual([]);
  });
});
