import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { DeploymentPage, PushedArtifact, RulePage } from '@pave/core';
import { makeAppDir } from '../support/app-dir.ts';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { portalUrl, runPaveOk, signInToPortal } from '../support/portal.ts';

const ALICE_PASSWORD = 'alice correct horse battery';
const VERA_PASSWORD = 'vera staple battery horse';

// A workload whose container runs the image CI built (`.`); the process runtime runs its command.
const SCORE = [
  'apiVersion: score.dev/v1b1',
  'metadata:',
  '  name: api',
  'containers:',
  '  main:',
  '    image: .',
  "    command: ['node', '-e', 'setInterval(() => {}, 1000)']",
  '',
].join('\n');

const MAIN_COMMIT = '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c';
const FEATURE_COMMIT = 'abcdef1234567890abcdef1234567890abcdef12';

/**
 * The app page's Delivery view: the build artifacts CI pushed (deploying one through its dialog) and the
 * automation rules (creating and deleting one), driven in Chromium against one real `pave up`, each outcome
 * checked through the CLI; and a viewer who sees both lists without a control to change anything.
 */
describe.skipIf(!hasChromium)('build artifacts and rules in the portal', () => {
  let dataDir: string;
  let appDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  let alice: Page;
  let older: PushedArtifact;
  let newest: PushedArtifact;
  const pageErrors: string[] = [];
  const pave = (args: string[], input?: string) => runPaveOk(server, dataDir, args, input);
  const json = async <T>(args: string[]) => JSON.parse((await pave([...args, '-o', 'json'])).stdout) as T;
  const portal = (route: string) => portalUrl(server, route);
  const oneLine = async (locator: { innerText(): Promise<string> }) =>
    (await locator.innerText()).replace(/\s+/g, ' ').trim();
  const push = (commit: string, branch: string, tag: string) =>
    json<PushedArtifact>([
      ...['artifacts', 'push', '--app', 'shop', '-f', join(appDir, 'api.score.yaml')],
      ...['--image', `registry.test/shop/api:${tag}`, '--commit', commit, '--branch', branch],
    ]);
  /** Opens the Delivery view afresh: going to the address a tab is already at would not load it again. */
  const openDelivery = async (page: Page) => {
    await page.goto(portal('apps/shop/delivery'));
    await page.reload();
  };
  const row = (page: Page, table: string, id: string) =>
    page
      .getByRole('table', { name: table })
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: id, exact: true }) });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-delivery-'));
    appDir = makeAppDir('pave-portal-delivery-app-');
    writeFileSync(join(appDir, 'api.score.yaml'), SCORE);
    server = await startPave(['--data-dir', dataDir]);
    await shortenStabilityWindow(server.url, dataDir);
    await pave(['env-types', 'create', 'gated', '--requires-approval']);
    await pave(['apps', 'create', 'shop']);
    await pave(['envs', 'create', 'dev', '--app', 'shop', '--type', 'development']);
    await pave(['envs', 'create', 'qa', '--app', 'shop', '--type', 'gated']);
    await pave(['envs', 'create', 'scratch', '--app', 'shop', '--type', 'development']);
    // Restricted: deploying there needs `deployer` on production, which alice does not hold.
    await pave(['envs', 'create', 'prod', '--app', 'shop', '--type', 'production']);
    await pave(['users', 'create', 'alice', '--password-stdin'], `${ALICE_PASSWORD}\n`);
    await pave(['roles', 'grant', 'owner', '--user', 'alice', '--app', 'shop']);
    await pave(['users', 'create', 'vera', '--password-stdin'], `${VERA_PASSWORD}\n`);
    await pave(['roles', 'grant', 'viewer', '--user', 'vera', '--app', 'shop']);
    older = await push(FEATURE_COMMIT, 'feature/x', 'feat');
    newest = await push(MAIN_COMMIT, 'main', '1f2e3d');
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(30_000);
    alice = await browser.newPage();
    await signInToPortal(alice, portal('apps'), { username: 'alice', password: ALICE_PASSWORD });
  }, 120_000);

  afterAll(async () => {
    // Deleting the app stops its workloads; stopping the control plane alone would leave them running.
    if (server) await runPave(['apps', 'delete', 'shop', '--force'], clientEnv(server.url, dataDir));
    await browser?.close();
    await server?.stop();
    if (appDir) rmSync(appDir, { recursive: true, force: true });
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('lists the artifacts CI pushed, newest first, on the app’s Delivery tab', async () => {
    await alice.goto(portal('apps/shop'));
    const tabs = alice.getByRole('navigation', { name: 'Views of shop' });
    await tabs.getByRole('link', { name: 'Delivery' }).click();
    await alice.waitForURL(/#\/apps\/shop\/delivery$/);
    expect(await tabs.getByRole('link', { name: 'Delivery' }).getAttribute('aria-current')).toBe('page');

    const artifacts = alice.getByRole('region', { name: 'Artifacts' });
    const table = artifacts.getByRole('table', { name: 'Artifacts' });
    await row(alice, 'Artifacts', older.id).waitFor();
    const headers = await table.getByRole('columnheader').allInnerTexts();
    expect(headers.slice(0, 6)).toEqual(['ID', 'Commit', 'Workloads', 'Image', 'Pushed by', 'When']);
    const rowHeads = await table.getByRole('rowheader').allInnerTexts();
    expect(rowHeads).toEqual([newest.id, older.id]);
    const cells = await row(alice, 'Artifacts', newest.id).getByRole('cell').allInnerTexts();
    expect(cells.slice(0, 4).map((cell) => cell.replace(/\s+/g, ' ').trim())).toEqual([
      `${MAIN_COMMIT.slice(0, 12)} on main`,
      'api',
      'registry.test/shop/api:1f2e3d',
      'admin',
    ]);
    expect(await row(alice, 'Artifacts', newest.id).locator('time').getAttribute('datetime')).toBe(
      newest.createdAt,
    );
    expect(await artifacts.locator('.command code').innerText()).toBe('pave artifacts list --app shop');
    const rules = alice.getByRole('region', { name: 'Rules' });
    expect(await oneLine(rules.locator('p.muted'))).toBe(
      'No rules: pushed artifacts are deployed only by hand (pave deploy --artifact).',
    );
  }, 60_000);

  it('deploys an artifact to an environment picked in its dialog, and says when it awaits approval', async () => {
    await openDelivery(alice);
    const artifacts = alice.getByRole('region', { name: 'Artifacts' });
    // The Deploy… buttons come once the page knows where alice may deploy: wait for the first.
    const deploy = row(alice, 'Artifacts', newest.id).getByRole('button', {
      name: `Deploy artifact ${newest.id}`,
    });
    await deploy.click();
    const dialog = alice.getByRole('dialog', { name: `Deploy artifact ${newest.id}?` });
    expect(await oneLine(dialog.locator('p').first())).toBe(
      `Deploys the workloads of artifact ${newest.id} (api; commit ${MAIN_COMMIT.slice(0, 12)} on main) with ` +
        'the image CI built, registry.test/shop/api:1f2e3d: they replace their namesakes in the environment, ' +
        'whose other workloads stay.',
    );
    const env = dialog.getByRole('combobox', { name: 'Environment' });
    // Only the environments alice may deploy to: not prod, whose restricted type needs `deployer`.
    expect(
      await env.locator('option').evaluateAll((options) => options.map((o) => o.getAttribute('value'))),
    ).toEqual(['dev', 'qa', 'scratch']);
    expect(await dialog.locator('.command code').innerText()).toBe(
      `pave deploy --artifact ${newest.id} --app shop --env dev`,
    );
    await env.selectOption('qa');
    expect(await dialog.locator('.command code').innerText()).toBe(
      `pave deploy --artifact ${newest.id} --app shop --env qa`,
    );
    await env.selectOption('dev');
    await dialog.getByRole('button', { name: 'Deploy', exact: true }).click();

    const notice = artifacts.getByRole('status');
    await notice.filter({ hasText: 'to dev is queued.' }).waitFor();
    expect(await dialog.count()).toBe(0);
    const [toDev] = (await json<DeploymentPage>(['deployments', 'list', '--app', 'shop', '--env', 'dev']))
      .items;
    expect(toDev).toMatchObject({
      artifactId: newest.id,
      commit: MAIN_COMMIT,
      actor: 'alice',
      kind: 'deploy',
    });
    expect(await oneLine(notice)).toBe(`Deployment #${toDev!.id} of artifact ${newest.id} to dev is queued.`);
    expect(await notice.getByRole('link', { name: 'dev' }).getAttribute('href')).toBe('#/apps/shop/envs/dev');

    // Into an environment whose type requires approval, the deployment waits: the notice says so.
    await row(alice, 'Artifacts', older.id)
      .getByRole('button', { name: `Deploy artifact ${older.id}` })
      .click();
    const olderDialog = alice.getByRole('dialog', { name: `Deploy artifact ${older.id}?` });
    await olderDialog.getByRole('combobox', { name: 'Environment' }).selectOption('qa');
    expect(await oneLine(olderDialog.locator('.hint'))).toBe(
      'Deployments to qa wait for someone else to approve them before they run.',
    );
    await olderDialog.getByRole('button', { name: 'Deploy', exact: true }).click();
    await notice.filter({ hasText: 'awaits approval' }).waitFor();
    const [toQa] = (await json<DeploymentPage>(['deployments', 'list', '--app', 'shop', '--env', 'qa']))
      .items;
    expect(toQa).toMatchObject({ artifactId: older.id, commit: FEATURE_COMMIT, status: 'awaiting-approval' });
    expect(await oneLine(notice)).toBe(
      `Deployment #${toQa!.id} of artifact ${older.id} to qa awaits approval: someone else must approve it ` +
        'before it runs.',
    );

    // A refusal stands in the dialog as a sentence, which stays open: here the environment went meanwhile.
    await deploy.click();
    await dialog.getByRole('combobox', { name: 'Environment' }).selectOption('scratch');
    await pave(['envs', 'delete', 'scratch', '--app', 'shop', '--force']);
    await dialog.getByRole('button', { name: 'Deploy', exact: true }).click();
    const refusal = dialog.getByRole('alert');
    await refusal.waitFor();
    expect(await refusal.locator('p').innerText()).toBe('Environment "scratch" of app "shop" not found.');
    expect(await refusal.innerText()).not.toMatch(/[{}]/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await dialog.count()).toBe(0);
    expect(await alice.evaluate('document.activeElement?.getAttribute("aria-label")')).toBe(
      `Deploy artifact ${newest.id}`,
    );
  }, 60_000);

  it('creates a rule through its form, showing a bad branch glob’s problem under the field', async () => {
    await openDelivery(alice);
    const rules = alice.getByRole('region', { name: 'Rules' });
    const form = rules.getByRole('form', { name: 'New rule' });
    const env = form.getByRole('combobox', { name: 'Environment' });
    const branch = form.getByRole('textbox', { name: 'Branch glob' });
    await env.waitFor();
    expect(
      await env.locator('option').evaluateAll((options) => options.map((o) => o.getAttribute('value'))),
    ).toEqual(['dev', 'qa']);
    expect(await rules.locator('.command code').last().innerText()).toBe(
      'pave rules create --app shop --env dev --branch GLOB',
    );

    // A glob with a space: the server's problem stands under the field, and nothing is created.
    await branch.fill('release x');
    await form.getByRole('button', { name: 'Create rule' }).click();
    const problem = form.locator('#create-rule-branch-error');
    await problem.waitFor();
    expect(await problem.innerText()).toBe(
      'The branch must be a branch glob without spaces, e.g. main or release/*.',
    );
    expect(await branch.getAttribute('aria-invalid')).toBe('true');
    expect((await json<RulePage>(['rules', 'list', '--app', 'shop'])).items).toEqual([]);

    await branch.fill('release/*');
    await form.getByRole('textbox', { name: 'Workload (optional)' }).fill('api');
    expect(await rules.locator('.command code').last().innerText()).toBe(
      "pave rules create --app shop --env dev --branch 'release/*' --workload api",
    );
    await form.getByRole('button', { name: 'Create rule' }).click();
    await rules.getByRole('status').filter({ hasText: 'Created rule' }).waitFor();
    const [rule] = (await json<RulePage>(['rules', 'list', '--app', 'shop'])).items;
    expect(rule).toMatchObject({ env: 'dev', branch: 'release/*', workload: 'api', createdBy: 'alice' });
    expect(await oneLine(rules.getByRole('status'))).toBe(
      `Created rule ${rule!.id}: artifacts of release/* with workload api are deployed to dev when pushed.`,
    );
    expect(await problem.count()).toBe(0);
    expect(await branch.inputValue()).toBe('');
    const cells = await row(alice, 'Rules', rule!.id).getByRole('cell').allInnerTexts();
    expect(cells.slice(0, 4)).toEqual(['dev', 'release/*', 'api', 'alice']);
    await browser.screenshot(alice, 'delivery');
  }, 60_000);

  it('deletes a rule after confirming', async () => {
    const [rule] = (await json<RulePage>(['rules', 'list', '--app', 'shop'])).items;
    await openDelivery(alice);
    const rules = alice.getByRole('region', { name: 'Rules' });
    await row(alice, 'Rules', rule!.id)
      .getByRole('button', { name: `Delete rule ${rule!.id}` })
      .click();
    const dialog = alice.getByRole('dialog', { name: `Delete rule ${rule!.id}?` });
    expect(await dialog.locator('.command code').innerText()).toBe(
      `pave rules delete ${rule!.id} --app shop`,
    );
    // Cancelling deletes nothing.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await dialog.count()).toBe(0);
    expect((await json<RulePage>(['rules', 'list', '--app', 'shop'])).items).toHaveLength(1);

    await row(alice, 'Rules', rule!.id)
      .getByRole('button', { name: `Delete rule ${rule!.id}` })
      .click();
    await dialog.getByRole('button', { name: 'Delete rule' }).click();
    await rules
      .getByRole('status')
      .filter({ hasText: `Deleted rule ${rule!.id}.` })
      .waitFor();
    await rules.getByText('No rules: pushed artifacts are deployed only by hand').waitFor();
    expect(await rules.getByRole('table', { name: 'Rules' }).count()).toBe(0);
    expect((await json<RulePage>(['rules', 'list', '--app', 'shop'])).items).toEqual([]);
  }, 60_000);

  it('loads older artifacts with More artifacts, 50 at a time', async () => {
    // 51 in all (the API's page holds 50); pushed a few at a time, on a branch no rule matches.
    for (let batch = 0; batch < 7; batch++) {
      await Promise.all(
        Array.from({ length: 7 }, (_, i) => push(`c0ffee${batch}${i}`, 'feature/y', `y${batch}${i}`)),
      );
    }
    await openDelivery(alice);
    const artifacts = alice.getByRole('region', { name: 'Artifacts' });
    const table = artifacts.getByRole('table', { name: 'Artifacts' });
    await row(alice, 'Artifacts', newest.id).waitFor();
    expect(await table.getByRole('rowheader').count()).toBe(50);
    expect(await row(alice, 'Artifacts', older.id).count()).toBe(0);
    await artifacts.getByRole('button', { name: 'More artifacts' }).click();
    await row(alice, 'Artifacts', older.id).waitFor();
    expect(await table.getByRole('rowheader').count()).toBe(51);
    expect(await artifacts.getByRole('button', { name: 'More artifacts' }).count()).toBe(0);
  }, 120_000);

  it('shows a viewer the artifacts and rules without a control to change them', async () => {
    const rule = await json<{ id: string }>([
      'rules',
      'create',
      '--app',
      'shop',
      '--env',
      'dev',
      '--branch',
      'main',
    ]);
    const vera = await browser.newPage();
    try {
      await signInToPortal(vera, portal('apps'), { username: 'vera', password: VERA_PASSWORD });
      // What the controls depend on: the app's environments and their types (the permission check).
      const loaded = Promise.all([
        vera.waitForResponse((response) => response.url().endsWith('/api/v1/apps/shop')),
        vera.waitForResponse((response) => new URL(response.url()).pathname === '/api/v1/env-types'),
      ]);
      await vera.goto(portal('apps/shop/delivery'));
      await loaded;
      await row(vera, 'Artifacts', newest.id).waitFor();
      await row(vera, 'Rules', rule.id).waitFor();
      expect(await row(vera, 'Rules', rule.id).getByRole('cell').allInnerTexts()).toEqual(
        expect.arrayContaining(['dev', 'main', 'any', 'admin']),
      );
      expect(await vera.getByRole('button', { name: /^Deploy artifact|^Delete rule/ }).count()).toBe(0);
      expect(await vera.getByRole('columnheader', { name: 'Actions' }).count()).toBe(0);
      expect(await vera.getByRole('form', { name: 'New rule' }).count()).toBe(0);
      expect(await vera.locator('main').innerText()).not.toMatch(/[{}]/);
    } finally {
      await vera.close();
    }
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
