import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DefinitionPage, TargetPage } from '@pave/core';
import { makeAppDir } from '../support/app-dir.ts';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';
import { openSignedInTab, portalUrl, runPaveOk } from '../support/portal.ts';

const REDIS_PASSWORD = 'r3dis-s3cret-in-the-definition';

// A redis the platform team runs, entered once: its password is a secret input.
const DEFINITIONS = `- id: shop-redis
  type: redis
  driver: static
  driverInputs:
    values: { host: cache.internal, port: "6379", username: default }
    secrets:
      password: ${REDIS_PASSWORD}
      url: redis://default:${REDIS_PASSWORD}@cache.internal:6379
  criteria:
    - appId: shop
`;
const DEFINITIONS_CHANGED = DEFINITIONS.replace('cache.internal, port', 'cache2.internal, port');

// A driver the server does not have: only the server knows its drivers.
const DEFINITIONS_UNKNOWN_DRIVER = `- id: odd-redis
  type: redis
  driver: nosuch
`;

const TARGETS = `- id: podman
  type: docker
  config:
    socketPath: /run/podman/podman.sock
  criteria:
    - envType: staging
`;

// A setting a docker target does not take: only the server checks a type's config keys.
const TARGETS_BAD_SETTING = `- id: podman
  type: docker
  config:
    socketPath: /run/podman/podman.sock
    kubeconfig: /etc/kubeconfig
`;

/** Workload `api` idling under node, with a redis. */
const SCORE = [
  'apiVersion: score.dev/v1b1',
  'metadata:',
  '  name: api',
  'containers:',
  '  main:',
  '    image: node:20',
  "    command: ['node', '-e', 'setInterval(() => {}, 1000)']",
  '    variables:',
  '      REDIS_HOST: ${resources.cache.host}',
  'resources:',
  '  cache:',
  '    type: redis',
  '',
].join('\n');

/**
 * Resource definitions and runtime targets in the portal, as `pave defs apply|delete` and `pave targets
 * apply|delete` manage them: an admin plans and applies a YAML text, sees the file's and the server's problems
 * at their line and column, and deletes one after confirming (a definition resources use only with "delete
 * anyway", as `--force`). Chromium against one real `pave up`.
 */
describe.skipIf(!hasChromium)('resource definitions and runtime targets in the portal', () => {
  let dataDir: string;
  let appDir: string | undefined;
  let server: PaveProcess;
  let browser: TestBrowser;
  let adminToken: string;
  const pageErrors: string[] = [];

  const pave = (...args: string[]) => runPaveOk(server, dataDir, args);
  const definitions = async () =>
    (JSON.parse((await pave('defs', 'list', '-o', 'json')).stdout) as DefinitionPage).items.filter(
      (definition) => !definition.builtIn,
    );
  const targets = async () =>
    (JSON.parse((await pave('targets', 'list', '-o', 'json')).stdout) as TargetPage).items.filter(
      (target) => !target.builtIn,
    );

  /** Types `text` into the Apply YAML form and presses Plan. */
  const plan = async (form: Locator, text: string) => {
    await form.getByRole('textbox', { name: 'Or its text' }).fill(text);
    await form.getByRole('button', { name: 'Plan', exact: true }).click();
  };
  /** The plan table's rows as `id change fields`, once it shows. */
  const planRows = async (form: Locator) => {
    const table = form.getByRole('table', { name: 'Plan' });
    await table.waitFor();
    return (await table.locator('tbody tr').allInnerTexts()).map((row) => row.replace(/\s+/g, ' ').trim());
  };
  const openAdminTab = (route: string): Promise<Page> =>
    openSignedInTab(browser, portalUrl(server, route), { token: adminToken });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-defs-targets-'));
    server = await startPave(['--data-dir', dataDir]);
    adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    await pave('apps', 'create', 'shop');
    await pave('envs', 'create', 'dev', '--app', 'shop', '--type', 'development');
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(15_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    if (appDir) rmSync(appDir, { recursive: true, force: true });
  }, 60_000);

  it('lets an admin plan and apply definitions, shows the server’s problems, and delete one in use only anyway', async () => {
    const page = await openAdminTab('platform/definitions');
    const list = page.getByRole('region', { name: 'Resource definitions' });
    await list.getByRole('rowheader', { name: /^default-postgres/ }).waitFor();
    // A built-in definition cannot be deleted: it has no button.
    expect(await list.getByRole('button', { name: /^Delete definition default-/ }).count()).toBe(0);
    const form = page.getByRole('region', { name: 'Apply YAML' });
    expect(await form.locator('.command code').innerText()).toBe('pave defs apply -f defs.yaml');

    // The plan is a dry run: nothing exists until Apply.
    await plan(form, DEFINITIONS);
    expect(await planRows(form)).toEqual(['shop-redis create new definition']);
    expect(await definitions()).toEqual([]);
    await form.getByRole('button', { name: 'Apply 1 change' }).click();
    await form
      .getByRole('status')
      .filter({ hasText: 'Applied 1 change: created shop-redis. The text was cleared: it held secrets.' })
      .waitFor();
    // Applied, the secret inputs are no longer anywhere in the page.
    expect(await form.getByRole('textbox', { name: 'Or its text' }).inputValue()).toBe('');
    expect(await page.content()).not.toContain(REDIS_PASSWORD);
    const applied = await definitions();
    expect(applied).toEqual([
      expect.objectContaining({
        id: 'shop-redis',
        type: 'redis',
        driver: 'static',
        driverInputs: {
          values: { host: 'cache.internal', port: '6379', username: 'default' },
          secrets: ['password', 'url'],
        },
      }),
    ]);
    const row = list.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /^shop-redis/ }) });
    await row.waitFor();
    const rowText = (await row.innerText()).replace(/\s+/g, ' ');
    expect(rowText).toContain('appId=shop');
    expect(rowText).toContain('password, url');

    // A change of a plain value: an update of driverInputs.values; the secrets, the same, are not.
    await plan(form, DEFINITIONS_CHANGED);
    expect(await planRows(form)).toEqual(['shop-redis update driverInputs.values']);
    await form.getByRole('button', { name: 'Apply 1 change' }).click();
    await form.getByRole('status').filter({ hasText: 'Applied 1 change: updated shop-redis.' }).waitFor();
    expect((await definitions())[0]?.driverInputs.values).toEqual({
      host: 'cache2.internal',
      port: '6379',
      username: 'default',
    });

    // An unknown key is found before sending, at its line and column.
    const textbox = form.getByRole('textbox', { name: 'Or its text' });
    await textbox.fill(DEFINITIONS.replace('  driver: static', '  driver: static\n  drivr: static'));
    const problems = form.getByRole('alert', { name: 'Problems in the text' });
    await problems.filter({ hasText: 'Line 4, column 3: [0].drivr: unknown key' }).waitFor();
    expect(await form.getByRole('button', { name: 'Plan', exact: true }).isDisabled()).toBe(true);

    // A driver only the server knows it does not have: said at its line and column, as the CLI says it.
    await plan(form, DEFINITIONS_UNKNOWN_DRIVER);
    const refused = form.getByRole('alert').filter({ hasText: 'Nothing was applied.' });
    await refused.waitFor();
    const file = join(dataDir, 'unknown-driver.yaml');
    writeFileSync(file, DEFINITIONS_UNKNOWN_DRIVER);
    const cli = await runPave(['defs', 'apply', '-f', file, '--yes'], clientEnv(server.url, dataDir));
    expect(cli.code).not.toBe(0);
    const cliProblem = /:(\d+):(\d+): (odd-redis\.driver: no resource driver "nosuch".*)/u.exec(cli.stderr);
    expect(cliProblem, cli.stderr).not.toBeNull();
    const [, line, column, rest] = cliProblem!;
    expect(line).toBe('3');
    expect((await refused.innerText()).split('\n')).toContain(`Line ${line}, column ${column}: ${rest}`);
    expect((await definitions()).map((definition) => definition.id)).toEqual(['shop-redis']);

    // A resource provisioned by it: deleting is refused, naming it, until "delete anyway".
    appDir = makeAppDir('pave-portal-defs-app-');
    const scoreFile = join(appDir, 'api.score.yaml');
    writeFileSync(scoreFile, SCORE);
    await pave('deploy', '-f', scoreFile, '--app', 'shop', '--env', 'dev', '--wait');
    await list.getByRole('button', { name: 'Delete definition shop-redis' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete resource definition?' });
    expect(await dialog.locator('.command code').innerText()).toBe('pave defs delete shop-redis');
    await dialog.getByRole('button', { name: 'Delete definition' }).click();
    await dialog.getByText('still provisions 1 resource(s)').waitFor();
    expect(await dialog.innerText()).toContain('shop/dev');
    expect((await definitions()).map((definition) => definition.id)).toEqual(['shop-redis']);
    await dialog.getByRole('checkbox', { name: /Delete it even while resources use it/ }).check();
    expect(await dialog.locator('.command code').innerText()).toBe('pave defs delete shop-redis --force');
    await dialog.getByRole('button', { name: 'Delete anyway' }).click();
    await list.getByRole('status').filter({ hasText: 'Deleted resource definition shop-redis.' }).waitFor();
    await expect.poll(() => list.getByRole('rowheader', { name: /^shop-redis/ }).count()).toBe(0);
    expect(await definitions()).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 120_000);

  it('lets an admin plan and apply runtime targets, shows the server’s problems, and delete one', async () => {
    const page = await openAdminTab('platform/targets');
    const list = page.getByRole('region', { name: 'Runtime targets' });
    await list.getByRole('rowheader', { name: /^local/ }).waitFor();
    expect(await list.getByRole('button', { name: 'Delete target local' }).count()).toBe(0);
    const form = page.getByRole('region', { name: 'Apply YAML' });
    expect(await form.locator('.command code').innerText()).toBe('pave targets apply -f targets.yaml');

    await plan(form, TARGETS);
    expect(await planRows(form)).toEqual(['podman create new target']);
    expect(await targets()).toEqual([]);
    await form.getByRole('button', { name: 'Apply 1 change' }).click();
    await form.getByRole('status').filter({ hasText: 'Applied 1 change: created podman.' }).waitFor();
    expect(await targets()).toEqual([
      expect.objectContaining({
        id: 'podman',
        type: 'docker',
        config: { socketPath: '/run/podman/podman.sock' },
        criteria: [{ envType: 'staging' }],
      }),
    ]);
    const row = list.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /^podman/ }) });
    await row.waitFor();
    expect((await row.innerText()).replace(/\s+/g, ' ')).toContain('envType=staging');

    // A setting a docker target does not take: the server's problem at its line and column.
    await plan(form, TARGETS_BAD_SETTING);
    const refused = form.getByRole('alert').filter({ hasText: 'Nothing was applied.' });
    await refused.waitFor();
    expect(await refused.innerText()).toContain(
      'Line 5, column 17: podman.config.kubeconfig: a docker target takes',
    );
    expect((await targets())[0]?.config).toEqual({ socketPath: '/run/podman/podman.sock' });

    await list.getByRole('button', { name: 'Delete target podman' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete runtime target?' });
    expect(await dialog.locator('.command code').innerText()).toBe('pave targets delete podman');
    await dialog.getByRole('button', { name: 'Delete target' }).click();
    await list.getByRole('status').filter({ hasText: 'Deleted runtime target podman.' }).waitFor();
    await expect.poll(() => list.getByRole('rowheader', { name: /^podman/ }).count()).toBe(0);
    expect(await targets()).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 90_000);
});
