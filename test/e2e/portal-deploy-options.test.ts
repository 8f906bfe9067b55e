import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentPage, ResourcePage } from '@pave/core';
import { makeAppDir } from '../support/app-dir.ts';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { startPave, type PaveProcess } from '../support/pave.ts';
import { openSignedInTab, portalUrl, runPaveOk } from '../support/portal.ts';

const ALICE_PASSWORD = 'alice correct horse battery';

/** Workload `name` idling under node, with `resources` (Score YAML lines) if given. */
const score = (name: string, resources: string[] = []) =>
  [
    'apiVersion: score.dev/v1b1',
    'metadata:',
    `  name: ${name}`,
    'containers:',
    '  main:',
    '    image: node:20',
    "    command: ['node', '-e', 'setInterval(() => {}, 1000)']",
    ...(resources.length > 0 ? ['resources:', ...resources] : []),
    '',
  ].join('\n');

// Staging's images must come from CI: node:20 is refused there.
const POLICIES = `- id: ci-images
  criteria: [{ envType: staging }]
  severity: deny
  message: deploy images built by CI
  each: container
  rule: '!container.image.startsWith("node:")'
`;

/**
 * What the CLI's `pave promote` and `pave rollback` flags do, in the portal's dialogs: a message (`-m`), the
 * resources the promoted set no longer uses deleted (`--prune`, stateful ones with `--allow-data-loss`), and
 * a denying policy overridden by an org admin with a reason (`--override-policy ID --reason TEXT`), which a
 * developer is not offered. Each dialog shows the command with those flags; Chromium against a real `pave up`.
 */
describe.skipIf(!hasChromium)('promotion and rollback options in the portal', () => {
  let dataDir: string;
  let appDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  let adminToken: string;
  const pageErrors: string[] = [];

  const pave = (...args: string[]) => runPaveOk(server, dataDir, args);
  const deployments = async (env: string) =>
    (
      JSON.parse(
        (await pave('deployments', 'list', '--app', 'shop', '--env', env, '-o', 'json')).stdout,
      ) as DeploymentPage
    ).items;
  const resources = async (env: string) =>
    (
      JSON.parse(
        (await pave('resources', 'list', '--app', 'shop', '--env', env, '-o', 'json')).stdout,
      ) as ResourcePage
    ).items.map((resource) => resource.address);
  const history = (page: Page) => page.getByRole('table', { name: 'Deployment history' });
  const waitForSucceeded = async (page: Page, text: string) =>
    history(page).locator('tbody tr').filter({ hasText: text }).filter({ hasText: 'succeeded' }).waitFor({
      timeout: 60_000,
    });
  const commandOf = async (dialog: Locator) => dialog.locator('.command code').innerText();

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-deploy-options-'));
    appDir = makeAppDir('pave-portal-deploy-options-app-');
    server = await startPave(['--data-dir', dataDir]);
    adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    writeFileSync(join(appDir, 'api.score.yaml'), score('api'));
    // Only staging runs `old`, with a dns name (stateless) and a volume (data).
    writeFileSync(
      join(appDir, 'old.score.yaml'),
      score('old', ['  dns:', '    type: dns', '  files:', '    type: volume']),
    );
    await pave('apps', 'create', 'shop');
    await pave('envs', 'create', 'dev', '--app', 'shop', '--type', 'development');
    await pave('envs', 'create', 'staging', '--app', 'shop', '--type', 'staging');
    await pave('deploy', '-f', join(appDir, 'api.score.yaml'), '--app', 'shop', '--env', 'dev', '--wait');
    await pave('deploy', '-f', join(appDir, 'old.score.yaml'), '--app', 'shop', '--env', 'staging', '--wait');
    const policies = join(appDir, 'policies.yaml');
    writeFileSync(policies, POLICIES);
    await pave('policies', 'apply', '-f', policies);
    await runPaveOk(server, dataDir, ['users', 'create', 'alice', '--password-stdin'], `${ALICE_PASSWORD}\n`);
    await pave('roles', 'grant', 'developer', '--user', 'alice', '--app', 'shop');
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(15_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(appDir, { recursive: true, force: true });
  }, 60_000);

  /**
   * Opens the promotion of dev into staging on `page` and answers what refuses its plan: `old`'s volume, left
   * unused, is deleted only with --prune and --allow-data-loss (ticked one after the other, each planning
   * again); then the policy refuses it. Resolves with the dialog showing that.
   */
  const promoteUntilThePolicyRefuses = async (page: Page): Promise<Locator> => {
    await page.getByRole('combobox', { name: 'Promote from' }).selectOption('dev');
    await page.getByRole('button', { name: 'Promote', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Promote dev into staging?' });
    const refusal = dialog.getByRole('alert');
    await refusal.filter({ hasText: 'Volume resource old.files is no longer used by the set' }).waitFor();
    await dialog.getByRole('checkbox', { name: /Delete the resources of staging/ }).check();
    expect(await commandOf(dialog)).toBe('pave promote --app shop --from dev --to staging --prune');
    await refusal.filter({ hasText: 'deploy with --prune --allow-data-loss' }).waitFor();
    await dialog.getByRole('checkbox', { name: /^Accept losing data/ }).check();
    await refusal.filter({ hasText: 'Policy ci-images refuses this deployment to shop/staging' }).waitFor();
    expect(await refusal.innerText()).toContain('ci-images: deploy images built by CI');
    return dialog;
  };

  it('keeps a promotion dialog closed once cancelled, and what was typed while it planned', async () => {
    const page = await openSignedInTab(browser, portalUrl(server, 'apps/shop/envs/staging'), {
      username: 'alice',
      password: ALICE_PASSWORD,
    });
    await page.getByRole('combobox', { name: 'Promote from' }).selectOption('dev');
    await page.getByRole('button', { name: 'Promote', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Promote dev into staging?' });
    await dialog.getByRole('alert').filter({ hasText: 'Volume resource old.files' }).waitFor();
    // Plans answer a second late from now on.
    await page.route('**/api/v1/apps/shop/envs/staging/deployments', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await route.continue();
    });
    await dialog.getByRole('checkbox', { name: /Delete the resources of staging/ }).check();
    await dialog.getByRole('button', { name: 'Planning…' }).waitFor();
    await dialog.getByRole('textbox', { name: 'Message (optional)' }).fill('typed while it planned');
    await dialog.getByRole('alert').filter({ hasText: '--allow-data-loss' }).waitFor();
    expect(await dialog.getByRole('textbox', { name: 'Message (optional)' }).inputValue()).toBe(
      'typed while it planned',
    );
    // Cancelled while it plans again: the plan's answer does not open it again.
    await dialog.getByRole('checkbox', { name: /^Accept losing data/ }).check();
    await dialog.getByRole('button', { name: 'Planning…' }).waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await page.waitForTimeout(2000);
    expect(await page.getByRole('dialog').count()).toBe(0);
    await expect
      .poll(() => page.evaluate<string>("document.activeElement?.textContent ?? ''"))
      .toBe('Promote');
    await page.unroute('**/api/v1/apps/shop/envs/staging/deployments');
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);

  it('offers a developer no override when a policy refuses a promotion, and says why', async () => {
    const page = await openSignedInTab(browser, portalUrl(server, 'apps/shop/envs/staging'), {
      username: 'alice',
      password: ALICE_PASSWORD,
    });
    const dialog = await promoteUntilThePolicyRefuses(page);
    expect(await dialog.getByRole('textbox', { name: /^Override policy/ }).count()).toBe(0);
    expect(await dialog.getByRole('button', { name: 'Plan again' }).count()).toBe(1);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await deployments('staging')).toHaveLength(1);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);

  it('lets an admin prune what the set no longer uses, override the policy with a reason, and leave a message', async () => {
    const page = await openSignedInTab(browser, portalUrl(server, 'apps/shop/envs/staging'), {
      token: adminToken,
    });
    const dialog = await promoteUntilThePolicyRefuses(page);
    await dialog.getByRole('textbox', { name: /^Override policy ci-images/ }).fill('hotfix, images rebuilt');
    expect(await commandOf(dialog)).toBe(
      'pave promote --app shop --from dev --to staging --prune --allow-data-loss ' +
        "--override-policy ci-images --reason 'hotfix, images rebuilt'",
    );
    expect(await deployments('staging')).toHaveLength(1);
    await dialog.getByRole('button', { name: 'Plan again, overriding' }).click();
    const changes = dialog.getByRole('table', { name: 'Resource changes' });
    await changes.waitFor();
    expect(await changes.innerText()).toMatch(/old\.dns\s+dns\s+delete/);
    expect(await changes.innerText()).toMatch(/old\.files\s+volume\s+delete/);
    await dialog.getByRole('textbox', { name: 'Message (optional)' }).fill('release 42');
    expect(await commandOf(dialog)).toBe(
      "pave promote --app shop --from dev --to staging --prune --allow-data-loss -m 'release 42' " +
        "--override-policy ci-images --reason 'hotfix, images rebuilt'",
    );
    await dialog.getByRole('button', { name: 'Promote dev to staging, overriding' }).click();
    await dialog.waitFor({ state: 'detached' });
    await waitForSucceeded(page, 'promote from dev');

    const [promoted] = await deployments('staging');
    expect(promoted).toMatchObject({
      kind: 'promote',
      message: 'release 42',
      actor: 'admin',
      policyOverrides: [{ id: 'ci-images', reason: 'hotfix, images rebuilt', by: 'admin' }],
    });
    expect(await resources('staging')).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 120_000);

  it('lets an admin roll back with a message, overriding the policy that refuses it', async () => {
    const page = await openSignedInTab(browser, portalUrl(server, 'apps/shop/envs/staging'), {
      token: adminToken,
    });
    const [promoted, first] = await deployments('staging');
    await page.getByRole('button', { name: 'Rollback', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: `Roll back shop/staging to deployment #${first!.id}?` });
    await dialog.getByRole('textbox', { name: 'Message (optional)' }).fill("checkout broke; it's back");
    expect(await commandOf(dialog)).toBe(
      `pave rollback ${first!.id} --app shop --env staging -m 'checkout broke; it'\\''s back'`,
    );
    await dialog.getByRole('button', { name: `Roll back to #${first!.id}` }).click();
    // Refused by the policy: said in the dialog, which stays open with what was typed.
    await dialog.getByText('Policy ci-images refuses this deployment to shop/staging').waitFor();
    expect(await dialog.getByRole('textbox', { name: 'Message (optional)' }).inputValue()).toBe(
      "checkout broke; it's back",
    );
    expect((await deployments('staging'))[0]?.id).toBe(promoted!.id);
    await dialog.getByRole('textbox', { name: /^Override policy ci-images/ }).fill('restore the old set');
    await dialog.getByRole('button', { name: `Roll back to #${first!.id}, overriding` }).click();
    await dialog.waitFor({ state: 'detached' });
    await waitForSucceeded(page, `rollback to #${first!.id}`);
    expect((await deployments('staging'))[0]).toMatchObject({
      kind: 'rollback',
      message: "checkout broke; it's back",
      policyOverrides: [{ id: 'ci-images', reason: 'restore the old set', by: 'admin' }],
    });
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 120_000);

  it('says which values set since the running deployment a rollback undoes', async () => {
    const set = (...assignments: string[]) =>
      pave('values', 'set', ...assignments, '--app', 'shop', '--env', 'dev');
    const deployDev = () =>
      pave('deploy', '-f', join(appDir, 'api.score.yaml'), '--app', 'shop', '--env', 'dev', '--wait');
    await set('GREETING=one');
    await deployDev();
    await set('GREETING=two');
    await set('TOKEN=s3cret-value', '--secret');
    await deployDev();
    // Set, not deployed: the rollback sets the values back to what the earlier deployment ran with.
    await set('EXTRA=x');
    const [running, earlier] = await deployments('dev');
    expect([running?.valuesVersion, earlier?.valuesVersion]).toEqual([3, 1]);

    const page = await openSignedInTab(browser, portalUrl(server, 'apps/shop/envs/dev'), {
      username: 'alice',
      password: ALICE_PASSWORD,
    });
    await page.getByRole('button', { name: 'Rollback', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: `Roll back shop/dev to deployment #${earlier!.id}?` });
    const notice = dialog.getByRole('note', { name: 'Values set since the running deployment' });
    await notice.waitFor();
    expect((await notice.innerText()).replace(/\s+/g, ' ')).toBe(
      `The values were changed after deployment #${running!.id} ran (they are at version 4 now). The ` +
        `rollback sets them back to version 1, the one deployment #${earlier!.id} ran with, so it also ` +
        'changes what is set now: EXTRA removed GREETING changed TOKEN removed (secret)',
    );
    expect(await dialog.innerText()).not.toContain('s3cret-value');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // Once what is set runs, there is nothing undeployed to undo: no notice.
    await deployDev();
    await page.reload();
    await page.getByRole('button', { name: 'Rollback', exact: true }).click();
    const again = page.getByRole('dialog', { name: /^Roll back shop\/dev to deployment/ });
    await again.getByRole('button', { name: /^Roll back to #/ }).waitFor();
    expect(await again.getByRole('note').count()).toBe(0);
    await again.getByRole('button', { name: 'Cancel' }).click();

    // A rollback stores the values it restores as a new version: the same values, so nothing is undeployed.
    await pave('rollback', '--app', 'shop', '--env', 'dev', '--wait');
    await page.reload();
    await page.getByRole('button', { name: 'Rollback', exact: true }).click();
    const afterRollback = page.getByRole('dialog', { name: /^Roll back shop\/dev to deployment/ });
    await afterRollback.getByRole('button', { name: /^Roll back to #/ }).waitFor();
    expect(await afterRollback.getByRole('note').count()).toBe(0);
    await afterRollback.getByRole('button', { name: 'Cancel' }).click();

    // The first deployment ran with no values: a rollback to it runs without any and leaves what is set.
    await set('LATE=1');
    const oldest = (await deployments('dev')).at(-1)!;
    expect(oldest.valuesVersion).toBeNull();
    await page.goto(portalUrl(server, `apps/shop/envs/dev/deployments/${oldest.id}`));
    await page.getByRole('button', { name: `Roll back to #${oldest.id}` }).click();
    const toOldest = page.getByRole('dialog', { name: `Roll back shop/dev to deployment #${oldest.id}?` });
    const keep = toOldest.getByRole('note', { name: 'Values set since the running deployment' });
    await keep.waitFor();
    expect((await keep.innerText()).replace(/\s+/g, ' ')).toContain(
      `Deployment #${oldest.id} ran with no values: the rollback runs without any and changes none, so ` +
        'they stay set for the next deployment.',
    );
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 120_000);
});
