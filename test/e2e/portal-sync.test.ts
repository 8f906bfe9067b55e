import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment } from '@pave/core';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { makeAppDir } from '../support/app-dir.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { openSignedInTab, portalUrl, runPaveOk } from '../support/portal.ts';

/** A Score file of one workload `api` running `script` with node. */
function score(script: string): string {
  return [
    'apiVersion: score.dev/v1b1',
    'metadata:',
    '  name: api',
    'containers:',
    '  main:',
    '    image: node:20',
    `    command: ['node', '-e', '${script}']`,
    '',
  ].join('\n');
}

/** The browser's document, as far as these tests use it (tests are type-checked without the DOM library). */
type BrowserDocument = { documentElement: { scrollWidth: number; clientWidth: number } };

describe.skipIf(!hasChromium)('the portal shows how the latest deployment went, beside health', () => {
  let dataDir: string;
  let appDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  let adminToken: string;
  const pageErrors: string[] = [];
  const pave = (args: string[]) => runPaveOk(server, dataDir, args);
  const portal = (route: string) => portalUrl(server, route);
  /** The newest deployment of `env`, as the CLI lists it. */
  const latestOf = async (env: string) =>
    (
      JSON.parse(
        (await pave(['deployments', 'list', '--app', 'shop', '--env', env, '--limit', '1', '-o', 'json']))
          .stdout,
      ) as { items: Deployment[] }
    ).items[0]!;
  /** Deploys `script` to `env`; resolves with the CLI's result, which fails when the deployment does. */
  const deploy = (env: string, script: string) => {
    const file = join(appDir, `${env}.score.yaml`);
    writeFileSync(file, score(script));
    return runPave(
      ['deploy', '-f', file, '--app', 'shop', '--env', env, '--wait', '--timeout', '30s'],
      clientEnv(server.url, dataDir),
    );
  };
  let devFailed: Deployment;
  let qaFailed: Deployment;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-sync-'));
    appDir = makeAppDir('pave-portal-sync-app-');
    server = await startPave(['--data-dir', dataDir]);
    adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    await shortenStabilityWindow(server.url, dataDir);
    await pave(['apps', 'create', 'shop']);
    for (const env of ['dev', 'qa', 'staging']) {
      await pave([
        'envs',
        'create',
        env,
        '--app',
        'shop',
        '--type',
        env === 'staging' ? 'staging' : 'development',
      ]);
    }
    // dev: its only deployment failed, so nothing runs there. qa: a later deployment failed and the previous
    // set was restored. staging: never deployed.
    expect((await deploy('dev', 'process.exit(3)')).code).toBe(1);
    const good = await deploy('qa', 'setInterval(() => {}, 1000)');
    expect(good.code, good.stderr + good.stdout).toBe(0);
    expect((await deploy('qa', 'process.exit(3)')).code).toBe(1);
    devFailed = await latestOf('dev');
    qaFailed = await latestOf('qa');
    expect(devFailed).toMatchObject({ status: 'failed' });
    expect(qaFailed).toMatchObject({ status: 'failed', rolledBack: true });
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(30_000);
  }, 180_000);

  afterAll(async () => {
    // Deleting the app stops its workloads; stopping the control plane alone would leave them running.
    if (server) await runPave(['apps', 'delete', 'shop', '--force'], clientEnv(server.url, dataDir));
    await browser?.close();
    await server?.stop();
    rmSync(appDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('writes each environment’s latest deployment result beside its health on the apps list', async () => {
    const page = await openSignedInTab(browser, portal('apps'), { token: adminToken });
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'shop', exact: true }) });
    const env = (name: string) =>
      row.getByRole('listitem').filter({ has: page.getByRole('link', { name, exact: true }) });
    await env('qa').getByText('healthy', { exact: true }).waitFor();

    // A failed first deployment is not the same grey "unknown" as an environment never deployed to.
    await env('dev').getByText(`deployment #${devFailed.id} failed`, { exact: true }).waitFor();
    expect(await env('dev').getByText('unknown', { exact: true }).count()).toBe(1);
    await env('staging').getByText('not deployed yet', { exact: true }).waitFor();
    expect(await env('staging').innerText()).not.toContain('failed');
    // Healthy, yet its latest deployment failed: the previous set still runs.
    await env('qa')
      .getByText(`deployment #${qaFailed.id} failed (previous set restored)`, { exact: true })
      .waitFor();
    expect(
      await env('dev')
        .getByText(/failed$/)
        .getAttribute('title'),
    ).toBe(devFailed.reason);

    // The app page's environments table says it too, instead of "nothing deployed yet".
    await page.goto(portal('apps/shop'));
    const devRow = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'dev' }) });
    await devRow.getByText(`deployment #${devFailed.id} failed`, { exact: true }).waitFor();
    expect(await devRow.innerText()).not.toContain('nothing deployed yet');
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);

  it('says on the environment page that its only deployment failed, and why, at desktop and phone width', async () => {
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 390, height: 844 },
    ]) {
      const page = await openSignedInTab(browser, portal('apps/shop/envs/dev'), { token: adminToken });
      await page.setViewportSize(viewport);
      const workloads = page.getByRole('region', { name: 'Workloads', exact: true });
      const line = workloads.getByRole('status').filter({ hasText: `Deployment #${devFailed.id} failed` });
      await line.waitFor();
      expect(await line.innerText()).toMatch(
        new RegExp(
          `^Deployment #${devFailed.id} failed: wait ready failed .+ — nothing runs here yet\\.`,
          's',
        ),
      );
      expect(await line.innerText()).toContain(devFailed.reason!.split('\n')[0]!);
      // The health's own "nothing deployed yet" would contradict it: the badge stands alone.
      expect(await workloads.innerText()).not.toMatch(/nothing deployed yet/i);
      await workloads.getByText(`pave deployments get ${devFailed.id} --app shop --env dev`).waitFor();
      // Nothing spills sideways at phone width.
      const overflow = await page.evaluate(() => {
        const root = (globalThis as unknown as { document: BrowserDocument }).document.documentElement;
        return root.scrollWidth - root.clientWidth;
      });
      expect(overflow).toBe(0);
      await page.close();
    }

    // Where a later deployment failed, the page says so beside the one that runs.
    const page = await openSignedInTab(browser, portal('apps/shop/envs/qa'), { token: adminToken });
    const workloads = page.getByRole('region', { name: 'Workloads', exact: true });
    await workloads
      .getByRole('status')
      .filter({ hasText: `Deployment #${qaFailed.id} failed (previous set restored): wait ready failed` })
      .waitFor();
    // Never deployed: nothing to say but that.
    await page.goto(portal('apps/shop/envs/staging'));
    await page.getByText('Nothing deployed yet.').waitFor();
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 90_000);

  it('tells a values writer the truth about secrets: not shown here again, revealed only through the audited CLI', async () => {
    const page = await openSignedInTab(browser, portal('apps/shop/envs/dev'), { token: adminToken });
    const form = page.getByRole('form', { name: 'Set a value' });
    await form.waitFor();
    const text = await form.innerText();
    expect(text).not.toMatch(/never shown again|anywhere/);
    expect(text).toContain('pave values list --app shop --env dev --reveal (recorded in the audit log)');
    expect(text).toContain('audit log');
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);
});
