import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { EnvironmentStatus } from '@pave/core';
import { drawnOverDialog, hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { portalUrl, runPaveOk, signInToPortal } from '../support/portal.ts';
import { EDGE_SCORE, makeAppDir } from '../support/app-dir.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/two-workloads', import.meta.url));
const ALICE_PASSWORD = 'alice correct horse battery';
const VERA_PASSWORD = 'vera staple battery horse';
/** A secret value that must never reach a browser. */
const SECRET_MARKER = `pave-secret-marker-${process.pid}-${Date.now()}`;

describe.skipIf(!hasChromium)('the portal in a real browser, against a real `pave up`', () => {
  let dataDir: string;
  let appDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  let alice: Page;
  const pageErrors: string[] = [];
  const pave = (args: string[], input?: string) => runPaveOk(server, dataDir, args, input);
  const deploy = (message: string) =>
    pave([
      'deploy',
      '-f',
      join(appDir, 'api.score.yaml'),
      '-f',
      join(appDir, 'worker.score.yaml'),
      '--app',
      'shop',
      '--env',
      'dev',
      '-m',
      message,
      '--wait',
    ]);
  const setGreeting = (greeting: string) => {
    const file = join(appDir, 'api.score.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/GREETING: .*/, `GREETING: ${greeting}`));
  };
  const portal = (route: string) => portalUrl(server, route);

  /** The workloads table's row of `workload`, once its state reads exactly `state`. */
  const workloadIn = (page: Page, workload: string, state: string) =>
    page
      .getByRole('table', { name: 'Workloads' })
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: workload, exact: true }) })
      .filter({ has: page.getByText(state, { exact: true }) });

  const history = (page: Page) => page.getByRole('table', { name: 'Deployment history' });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-'));
    appDir = makeAppDir('pave-portal-app-');
    cpSync(FIXTURE, appDir, { recursive: true });
    server = await startPave(['--data-dir', dataDir]);
    await shortenStabilityWindow(server.url, dataDir);
    await pave(['apps', 'create', 'shop']);
    await pave(['users', 'create', 'alice', '--password-stdin'], `${ALICE_PASSWORD}\n`);
    await pave(['roles', 'grant', 'owner', '--user', 'alice', '--app', 'shop']);
    await pave(['users', 'create', 'vera', '--password-stdin'], `${VERA_PASSWORD}\n`);
    await pave(['roles', 'grant', 'viewer', '--user', 'vera', '--app', 'shop']);
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(30_000);
  }, 120_000);

  afterAll(async () => {
    // Deleting the app stops its workloads; stopping the control plane alone would leave them running.
    if (server) await runPave(['apps', 'delete', 'shop', '--force'], clientEnv(server.url, dataDir));
    await browser?.close();
    await server?.stop();
    rmSync(appDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('signs the admin in with the admin token and shows the apps and platform pages', async () => {
    const page = await browser.newPage();
    await page.goto(portal('apps'));
    await page.getByRole('tab', { name: 'Token' }).click();
    await page.getByLabel('Token').fill(readFileSync(join(dataDir, 'admin.token'), 'utf8').trim());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'shop', exact: true }).first().waitFor();
    await browser.screenshot(page, 'apps');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Platform' }).click();
    await page.getByRole('heading', { name: 'Platform', level: 1 }).waitFor();
    await page.getByRole('tablist', { name: 'Platform settings' }).waitFor();
    await page.getByRole('table').first().waitFor();
    await browser.screenshot(page, 'platform');
    await page.close();
  }, 60_000);

  it('signs alice in with her password; she creates an environment with the app page form', async () => {
    alice = await browser.newPage();
    await signInToPortal(alice, portal('apps'), { username: 'alice', password: ALICE_PASSWORD });
    await alice.goto(portal('apps/shop'));
    await alice.getByLabel('Environment id').fill('dev');
    await alice.getByRole('combobox', { name: 'Type', exact: true }).selectOption('development');
    // A time to live that is not one is said at its field (it was said under the button).
    await alice.getByLabel('Time to live (optional)').fill('0s');
    await alice.getByRole('button', { name: 'Create environment' }).click();
    await alice
      .locator('#create-env-ttl-error')
      .getByText('The time to live must be more than zero')
      .waitFor();
    await alice.getByLabel('Time to live (optional)').fill('');
    await alice.getByRole('button', { name: 'Create environment' }).click();
    await alice.getByRole('status').filter({ hasText: 'Created environment dev' }).waitFor();
    await browser.screenshot(alice, 'app');
    const envs = await pave(['envs', 'list', '--app', 'shop', '-o', 'json']);
    expect(JSON.parse(envs.stdout).items.map((e: { id: string }) => e.id)).toEqual(['dev']);
  }, 60_000);

  it('shows a deployment made with the CLI becoming ready, live, on the environment page', async () => {
    await alice.goto(portal('apps/shop/envs/dev'));
    await alice.getByText('Nothing deployed yet.').waitFor();
    // Deployment #1 runs with values version 1: rolling back to it restores them (see the rollback below).
    await pave(['values', 'set', 'BASE=one', '--app', 'shop', '--env', 'dev']);
    const deployed = deploy('first release');
    await workloadIn(alice, 'api', 'ready').waitFor({ timeout: 60_000 });
    await workloadIn(alice, 'worker', 'ready').waitFor();
    await deployed;
    await history(alice).locator('tbody tr').first().waitFor();
    expect(await history(alice).locator('tbody tr').count()).toBe(1);
    // The resource graph is drawn, with a summary for screen readers and a list behind it.
    const graph = alice.getByRole('img', { name: /Resource graph: 2 workloads, 1 resource/ });
    await graph.waitFor();
    expect(await graph.getAttribute('aria-label')).toContain('worker uses worker.api');
    await browser.screenshot(alice, 'environment');

    await alice.setViewportSize({ width: 390, height: 844 });
    await alice.getByRole('heading', { name: 'shop / dev' }).scrollIntoViewIfNeeded();
    await browser.screenshot(alice, 'environment-phone');
    // Nothing on the page is wider than the phone's screen except inside scrolling boxes.
    const overflow = await alice.evaluate<number>('document.documentElement.scrollWidth');
    expect(overflow).toBeLessThanOrEqual(390);
    await alice.setViewportSize({ width: 1280, height: 800 });
  }, 120_000);

  it('follows the logs, filters them by workload, and pauses and resumes them', async () => {
    const logs = alice.getByRole('log', { name: /^Log lines/ });
    await logs.scrollIntoViewIfNeeded();
    await logs.getByText('worker heard: hello from api').first().waitFor();

    await alice.getByRole('combobox', { name: 'Workload', exact: true }).selectOption('api');
    const apiLogs = alice.getByRole('log', { name: 'Log lines of api' });
    await apiLogs.getByText(/api listening on \d+/).waitFor();
    expect(await apiLogs.getByText('worker heard', { exact: false }).count()).toBe(0);
    expect(await alice.getByText('pave logs api --app shop --env dev -f').count()).toBe(1);

    await alice.getByRole('combobox', { name: 'Workload', exact: true }).selectOption('');
    await logs.getByText('worker heard: hello from api').first().waitFor();
    await alice.getByRole('button', { name: 'Pause' }).click();
    // The worker logs twice a second: lines arrive while paused, and are held (and counted), not shown.
    const state = alice.getByRole('status').filter({ hasText: /^Paused: / });
    const held = async () => Number(/(\d+) new lines? held/.exec(await state.innerText())?.[1] ?? -1);
    await expect.poll(held, { timeout: 10_000 }).toBeGreaterThan(0);
    const shown = await logs.locator('li').count();
    const heldBefore = await held();
    await expect.poll(held, { timeout: 10_000 }).toBeGreaterThan(heldBefore);
    expect(await logs.locator('li').count()).toBe(shown);
    await alice.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => logs.locator('li').count()).toBeGreaterThan(shown);
    await alice.getByRole('status').filter({ hasText: 'Following' }).waitFor();
    await alice.getByRole('region', { name: 'Logs' }).scrollIntoViewIfNeeded();
    await browser.screenshot(alice, 'logs');
  }, 60_000);

  it('compares any two deployments: the unified diff and the changes per workload', async () => {
    setGreeting('hello again');
    await deploy('second release');
    const second = history(alice).locator('tbody tr').filter({ hasText: 'second release' });
    await second.filter({ hasText: 'succeeded' }).waitFor();

    await alice.getByRole('combobox', { name: 'From', exact: true }).selectOption('1');
    await alice.getByRole('combobox', { name: 'To', exact: true }).selectOption('2');
    const compare = alice.getByRole('region', { name: 'Compare deployments' });
    await compare.getByText('pave diff 1 2 --app shop --env dev').waitFor();
    const unified = compare.getByLabel('Unified diff');
    await unified.getByText('shop/dev@2').waitFor();
    const text = await unified.innerText();
    expect(text).toMatch(/^-\s+GREETING: hello from \$\{metadata\.name\}$/m);
    expect(text).toMatch(/^\+\s+GREETING: hello again$/m);
    const changes = compare.getByRole('table', { name: 'Workload changes' });
    const api = changes.getByRole('row').filter({ hasText: 'api' });
    expect(await api.innerText()).toMatch(/changed[\s\S]*GREETING/);
    expect(await changes.getByRole('row').filter({ hasText: 'worker' }).innerText()).toContain('unchanged');
    await compare.scrollIntoViewIfNeeded();
    await browser.screenshot(alice, 'diff');
  }, 90_000);

  it('rolls back through the portal: shows the target and the diff first, then rolls back on confirm', async () => {
    // A value set after deployment #1: the rollback restores #1's values, and the panel must show that.
    await pave(['values', 'set', 'STALE_CHECK=one', '--app', 'shop', '--env', 'dev']);
    await alice.reload();
    const values = alice.getByRole('table', { name: 'Values' });
    await values.getByRole('rowheader', { name: 'STALE_CHECK' }).waitFor();
    await alice.getByRole('region', { name: 'Deployments', exact: true }).scrollIntoViewIfNeeded();
    await alice.getByText('pave rollback --app shop --env dev').waitFor();
    const rollback = alice.getByRole('button', { name: 'Rollback' });
    const focused = () => alice.evaluate<string>("document.activeElement?.textContent ?? ''");
    const dialog = alice.getByRole('dialog', { name: 'Roll back shop/dev to deployment #1?' });
    // Escape closes the plan without doing anything, and gives the focus back to the button. The keyboard
    // stays in the dialog meanwhile: Shift+Tab goes round its controls (it left them, and Escape then did
    // nothing; found by a review of the portal).
    await rollback.click();
    await dialog.waitFor();
    for (let press = 0; press < 4; press++) await alice.keyboard.press('Shift+Tab');
    expect(await alice.evaluate<boolean>("Boolean(document.activeElement?.closest('[role=dialog]'))")).toBe(
      true,
    );
    await alice.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await focused()).toBe('Rollback');
    // The keyboard alone opens the plan again; it names the target and shows the diff from the current set.
    await alice.keyboard.press('Enter');
    await dialog.waitFor();
    expect(await dialog.innerText()).toContain('Returns to deployment #1');
    await dialog.getByText('pave rollback 1 --app shop --env dev').waitFor();
    const unified = await dialog.getByLabel('Unified diff').innerText();
    expect(unified).toMatch(/^-\s+GREETING: hello again$/m);
    expect(unified).toMatch(/^\+\s+GREETING: hello from \$\{metadata\.name\}$/m);
    // The dialog is drawn over the whole page: the history's sticky header showed through it when the plan's
    // text scrolled past where the header stands.
    await dialog.getByText('STALE_CHECK').scrollIntoViewIfNeeded();
    expect(await drawnOverDialog(alice)).toEqual([]);
    await browser.screenshot(alice, 'rollback-plan');
    // Nothing is queued until the user confirms (the confirm button has the focus: Enter confirms).
    expect(await history(alice).locator('tbody tr').count()).toBe(2);
    expect(await focused()).toBe('Roll back to #1');
    await alice.keyboard.press('Enter');
    await alice.getByRole('status').filter({ hasText: 'Rollback queued as deployment #3.' }).waitFor();
    const row = history(alice).locator('tbody tr').filter({ hasText: 'rollback to #1' });
    await row.filter({ hasText: 'succeeded' }).waitFor({ timeout: 60_000 });
    await workloadIn(alice, 'api', 'ready').waitFor();
    // Without a reload: the values panel stayed at the version the rollback replaced.
    await values.getByRole('rowheader', { name: 'STALE_CHECK' }).waitFor({ state: 'detached' });

    const status = JSON.parse(
      (await pave(['status', '--app', 'shop', '--env', 'dev', '-o', 'json'])).stdout,
    ) as EnvironmentStatus;
    expect(status.currentDeployment).toMatchObject({ id: '3', kind: 'rollback', actor: 'alice' });
    const url = status.workloads.find((w) => w.workload === 'api')?.urls[0] ?? 'http://127.0.0.1:1';
    expect((await (await fetch(url)).text()).trim()).toBe('hello from api');
  }, 90_000);

  it("shows the rollback in the app's audit log page", async () => {
    await alice.goto(portal('audit/shop'));
    await alice.getByRole('heading', { name: 'Audit log of shop' }).waitFor();
    const entry = alice.getByRole('row').filter({ hasText: 'deployment.rollback' });
    await entry.first().waitFor();
    expect(await entry.first().innerText()).toContain('alice');
    await browser.screenshot(alice, 'audit');
  }, 60_000);

  it('promotes dev into another environment: plan first, then deploy on confirm', async () => {
    await pave(['envs', 'create', 'staging', '--app', 'shop', '--type', 'staging']);
    await alice.goto(portal('apps/shop/envs/staging'));
    await alice.getByText('Nothing deployed yet.').waitFor();
    await alice.getByRole('combobox', { name: 'Promote from' }).selectOption('dev');
    await alice.getByText('pave promote --app shop --from dev --to staging').first().waitFor();
    await alice.getByRole('button', { name: 'Promote', exact: true }).click();
    const dialog = alice.getByRole('dialog', { name: 'Promote dev into staging?' });
    const changes = dialog.getByRole('table', { name: 'Workload changes' });
    await changes.waitFor();
    expect(await changes.innerText()).toMatch(/api\s+added[\s\S]*worker\s+added/);
    expect(await history(alice).count()).toBe(0);
    await dialog.getByRole('button', { name: 'Promote dev to staging' }).click();
    await workloadIn(alice, 'api', 'ready').waitFor({ timeout: 60_000 });
    await workloadIn(alice, 'worker', 'ready').waitFor();
    await history(alice).locator('tbody tr').filter({ hasText: 'promote from dev' }).waitFor();
  }, 90_000);

  it('draws a resource that another depends on one column further right, with its list fallback', async () => {
    // A workload whose route takes its host from its dns resource: route depends on dns.
    const file = join(appDir, 'edge.score.yaml');
    // Serving its port, so the route serves it (its URL then shows on the app page below).
    const serves = `command: ['node', '-e', 'require("http").createServer((q, r) => r.end()).listen(process.env.PORT)']`;
    writeFileSync(
      file,
      `${EDGE_SCORE.replace(/command: .*/, serves)}service:\n  ports:\n    web:\n      port: 8080\n`,
    );
    await pave(['envs', 'create', 'edge', '--app', 'shop', '--type', 'development']);
    await pave(['deploy', '-f', file, '--app', 'shop', '--env', 'edge', '--wait']);
    await alice.goto(portal('apps/shop/envs/edge'));
    const graph = alice.getByRole('img', { name: /^Resource graph: 1 workload, 2 resources/ });
    await graph.waitFor();
    expect(await graph.getAttribute('aria-label')).toContain('edge.route depends on edge.dns');
    const x = async (address: string) =>
      Number(
        await graph
          .locator('g')
          .filter({ has: alice.getByText(address, { exact: true }) })
          .locator('rect')
          .getAttribute('x'),
      );
    expect(await x('edge')).toBeLessThan(await x('edge.route'));
    expect(await x('edge.route')).toBeLessThan(await x('edge.dns'));
    expect(await graph.locator('path.graph-edge-depends-on').count()).toBe(1);
    await alice.getByText('The graph as a list').click();
    const list = alice.getByRole('region', { name: 'Resource graph' }).getByRole('listitem');
    expect(await list.filter({ has: alice.getByText('edge.dns', { exact: true }) }).innerText()).toContain(
      'needed by edge.route',
    );

    // The app page lists each environment's addresses as `pave status` does: the route first.
    const status = JSON.parse(
      (await pave(['status', '--app', 'shop', '--env', 'edge', '-o', 'json'])).stdout,
    ) as EnvironmentStatus;
    const routes = status.workloads.flatMap((workload) => workload.routes ?? []);
    expect(routes).toHaveLength(1);
    await alice.goto(portal('apps/shop'));
    const edgeRow = alice
      .getByRole('row')
      .filter({ has: alice.getByRole('link', { name: 'edge', exact: true }) });
    await edgeRow.getByRole('link', { name: routes[0] }).waitFor();
  }, 90_000);

  it('shows a viewer no rollback or promote button, and no secret value to anyone', async () => {
    await pave(['values', 'set', `API_TOKEN=${SECRET_MARKER}`, '--app', 'shop', '--secret']);
    const vera = await browser.newPage();
    await signInToPortal(vera, portal('apps'), { username: 'vera', password: VERA_PASSWORD });
    await vera.goto(portal('apps/shop/envs/dev'));
    await workloadIn(vera, 'api', 'ready').waitFor();
    await history(vera).locator('tbody tr').nth(2).waitFor();
    const values = vera.getByRole('table', { name: 'Values' });
    await values.getByRole('rowheader', { name: 'API_TOKEN' }).waitFor();
    expect(await values.innerText()).toContain('secret');
    await vera
      .getByRole('log', { name: /^Log lines/ })
      .getByText('worker heard')
      .first()
      .waitFor();
    expect(await vera.getByRole('button', { name: 'Rollback' }).count()).toBe(0);
    expect(await vera.getByRole('button', { name: 'Promote' }).count()).toBe(0);
    expect(await vera.getByText('pave rollback').count()).toBe(0);
    expect(await vera.content()).not.toContain(SECRET_MARKER);

    // The owner may reveal secrets, but the portal never asks to: her page does not hold it either.
    await alice.goto(portal('apps/shop/envs/dev'));
    await alice
      .getByRole('table', { name: 'Values' })
      .getByRole('rowheader', { name: 'API_TOKEN' })
      .waitFor();
    expect(await alice.content()).not.toContain(SECRET_MARKER);
    await vera.close();
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('tries a failed load again: with the environment types refused once, the actions appear a moment later', async () => {
    // The page loads the environment types once; the actions that depend on them stayed hidden for good when
    // that one request failed.
    let asked = 0;
    // The second try waits until the test has seen the first one's error.
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    await alice.route('**/api/v1/env-types', async (route) => {
      asked += 1;
      if (asked > 1) {
        await released;
        return route.continue();
      }
      return route.fulfill({
        status: 503,
        contentType: 'application/problem+json',
        body: JSON.stringify({
          type: 'about:blank',
          title: 'Service Unavailable',
          status: 503,
          detail: 'the store is busy',
          requestId: 'test',
          errors: [],
        }),
      });
    });
    try {
      // From another page, so that the environment page mounts afresh.
      await alice.goto(portal('apps'));
      await alice.getByRole('heading', { name: 'Apps', exact: true }).waitFor();
      await alice.goto(portal('apps/shop/envs/dev'));
      // The failure shows while the page waits to try again…
      await alice
        .getByRole('alert')
        .filter({ hasText: /store is busy/i })
        .waitFor();
      release();
      // …and the second try brings the actions.
      await alice.getByText('pave rollback --app shop --env dev').waitFor();
      expect(
        await alice
          .getByRole('alert')
          .filter({ hasText: /store is busy/i })
          .count(),
      ).toBe(0);
      expect(asked).toBe(2);
    } finally {
      release();
      await alice.unroute('**/api/v1/env-types');
    }
  }, 60_000);
});
