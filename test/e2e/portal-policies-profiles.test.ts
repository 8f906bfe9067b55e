import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyPage, ProfileMatch, ProfilePage } from '@pave/core';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';
import { openSignedInTab, portalUrl, runPaveOk } from '../support/portal.ts';

const VERA_PASSWORD = 'vera correct horse battery';

const POLICIES = `- id: no-latest-images
  description: Images are pinned in production
  criteria:
    - envType: production
  severity: deny
  message: pin container images to a tag other than latest
  each: container
  rule: '!container.image.endsWith(":latest")'
`;

// The message of no-latest-images changes, and a promotion gate is new.
const POLICIES_CHANGED = `${POLICIES.replace('pin container images to a tag other than latest', 'use a pinned image tag, not latest')}- id: staging-first
  criteria:
    - envType: production
  severity: warn
  message: deploy it to staging first
  promotionGate:
    from: staging
    within: 7d
`;

// An unclosed flow sequence: a YAML syntax error on line 3.
const POLICIES_BROKEN = `- id: broken
  severity: deny
  message: [never
  rule: 'true'
`;

// A rule that does not compile, found in the portal as \`pave policies apply -f\` finds it; once it is fixed,
// what only the server knows: an environment type that does not exist.
const POLICIES_BAD_RULE = `- id: bad-rule
  severity: deny
  message: never
  rule: 'deployment.kind =='
- id: wrong-env
  criteria:
    - envType: prodution
  severity: warn
  message: a typo
  rule: 'true'
`;
const POLICIES_REFUSED = POLICIES_BAD_RULE.replace("'deployment.kind =='", "'true'");

const PROFILES = `- id: prod-hardening
  description: Three replicas and a disruption budget
  criteria: [{ envType: production }]
  patches:
    - target: { kind: Deployment }
      ops:
        - { op: add, path: /spec/replicas, value: 3 }
        - { op: add, path: /spec/template/spec/securityContext, value: { runAsNonRoot: true } }
  objects:
    - apiVersion: policy/v1
      kind: PodDisruptionBudget
      metadata: { name: "\${workload.name}" }
      spec: { minAvailable: 1 }
- id: team-labels
  criteria: []
  patches:
    - target: { kind: Deployment }
      ops:
        - { op: add, path: /metadata/annotations/example.com~1team, value: shop }
`;

const PROFILES_CHANGED = PROFILES.replace('value: 3 }', 'value: 4 }');

// A patch that cannot apply to what Pave renders: `replace` needs the key to exist.
const PROFILES_BROKEN_PATCH = `- id: broken-patch
  criteria: [{ envType: production }]
  patches:
    - target: { kind: Deployment }
      ops:
        - { op: replace, path: /spec/template/spec/securityContext, value: { runAsNonRoot: true } }
`;

describe.skipIf(!hasChromium)('policies and workload profiles in the portal', () => {
  let dataDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  let adminToken: string;
  const pageErrors: string[] = [];

  const pave = (...args: string[]) => runPaveOk(server, dataDir, args);
  const policies = async () =>
    (JSON.parse((await pave('policies', 'list', '-o', 'json')).stdout) as PolicyPage).items;
  const profiles = async () =>
    (JSON.parse((await pave('profiles', 'list', '-o', 'json')).stdout) as ProfilePage).items;

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
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-policies-profiles-'));
    server = await startPave(['--data-dir', dataDir]);
    adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    await pave('apps', 'create', 'shop');
    await pave('envs', 'create', 'prod', '--app', 'shop', '--type', 'production');
    // Vera views the shop: like everyone signed in she may read policies and profiles, and change neither.
    await runPaveOk(server, dataDir, ['users', 'create', 'vera', '--password-stdin'], `${VERA_PASSWORD}\n`);
    await pave('roles', 'grant', 'viewer', '--user', 'vera', '--app', 'shop');
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(15_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('lets an admin plan and apply policies from YAML, shows YAML and server problems, and delete one', async () => {
    const page = await openAdminTab('platform/policies');
    const list = page.getByRole('region', { name: 'Policies' });
    await list.getByText('No policies yet.').waitFor();
    const form = page.getByRole('region', { name: 'Apply YAML' });
    expect(await form.locator('.command code').innerText()).toBe('pave policies apply -f policies.yaml');

    // The plan is a dry run: it says "create", and nothing exists until Apply.
    await plan(form, POLICIES);
    expect(await planRows(form)).toEqual(['no-latest-images create new policy']);
    expect(await policies()).toEqual([]);
    await form.getByRole('button', { name: 'Apply 1 change' }).click();
    await form
      .getByRole('status')
      .filter({ hasText: 'Applied 1 change: created no-latest-images.' })
      .waitFor();
    expect(await policies()).toEqual([
      expect.objectContaining({
        id: 'no-latest-images',
        severity: 'deny',
        message: 'pin container images to a tag other than latest',
        each: 'container',
      }),
    ]);
    const row = list
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: /^no-latest-images/ }) });
    await row.waitFor();
    const rowText = (await row.innerText()).replace(/\s+/g, ' ');
    expect(rowText).toContain('envType=production');
    expect(rowText).toContain('rule, each container: !container.image.endsWith(":latest")');

    // A changed file: an update of the message and a new promotion gate.
    await plan(form, POLICIES_CHANGED);
    expect(await planRows(form)).toEqual([
      'no-latest-images update message',
      'staging-first create new policy',
    ]);
    // The screenshot for docs/portal.md: the list, and under it the plan of the changed file.
    await page.setViewportSize({ width: 1280, height: 1100 });
    await list.evaluate((element) => element.scrollIntoView({ block: 'start' }));
    await browser.screenshot(page, 'policies');
    await page.setViewportSize({ width: 1280, height: 800 });
    await form.getByRole('button', { name: 'Apply 2 changes' }).click();
    await form
      .getByRole('status')
      .filter({ hasText: 'Applied 2 changes: created staging-first; updated no-latest-images.' })
      .waitFor();
    const applied = await policies();
    expect(applied.map((p) => [p.id, p.message])).toEqual([
      ['no-latest-images', 'use a pinned image tag, not latest'],
      ['staging-first', 'deploy it to staging first'],
    ]);
    await list.getByRole('rowheader', { name: /^staging-first/ }).waitFor();
    expect(await list.getByRole('row').filter({ hasText: 'staging-first' }).innerText()).toContain(
      'promotion gate: succeeded in staging within 7d',
    );

    // A YAML syntax error is shown at its line and column (the key where the parser found it: the `[` of
    // `message` is never closed), and Plan sends nothing while it is there.
    const textbox = form.getByRole('textbox', { name: 'Or its text' });
    await textbox.fill(POLICIES_BROKEN);
    const problems = form.getByRole('alert', { name: 'Problems in the text' });
    await problems.waitFor();
    expect(await problems.innerText()).toContain(
      'Line 4, column 3: [0].rule: YAML syntax error: Flow sequence in block collection must be ' +
        'sufficiently indented and end with a ]',
    );
    expect(await form.getByRole('button', { name: 'Plan', exact: true }).isDisabled()).toBe(true);
    expect(await policies()).toEqual(applied);

    // A rule that does not compile: the portal says what `pave policies apply -f` says, at the same place.
    await textbox.fill(POLICIES_BAD_RULE);
    await problems.filter({ hasText: 'bad-rule.rule' }).waitFor();
    const file = join(dataDir, 'bad-rule.yaml');
    writeFileSync(file, POLICIES_BAD_RULE);
    const cli = await runPave(['policies', 'apply', '-f', file], clientEnv(server.url, dataDir));
    expect(cli.code).not.toBe(0);
    const cliProblem = /:(\d+):(\d+): (bad-rule\.rule: .*)/u.exec(cli.stderr);
    expect(cliProblem).not.toBeNull();
    const [, line, column, rest] = cliProblem!;
    expect(line).toBe('4');
    expect((await problems.innerText()).split('\n')).toContain(`Line ${line}, column ${column}: ${rest}`);
    expect(await form.getByRole('button', { name: 'Plan', exact: true }).isDisabled()).toBe(true);
    expect(await policies()).toEqual(applied);

    // What only the server checks: each problem is said at its line and column, with its policy and field,
    // as the CLI says it; nothing changes.
    await plan(form, POLICIES_REFUSED);
    const refused = form.getByRole('alert').filter({ hasText: 'Nothing was applied.' });
    await refused.waitFor();
    expect(await refused.innerText()).toContain(
      'Line 7, column 16: wrong-env.criteria[0].envType: environment type "prodution" does not exist',
    );
    expect(await form.getByRole('textbox', { name: 'Or its text' }).getAttribute('aria-invalid')).toBe(
      'true',
    );
    expect(await form.getByRole('table', { name: 'Plan' }).count()).toBe(0);
    expect(await policies()).toEqual(applied);

    // A chosen file fills the text, and the command names it; applying it again changes nothing.
    await form.getByLabel('YAML file').setInputFiles({
      name: 'guardrails.yaml',
      mimeType: 'application/yaml',
      buffer: Buffer.from(POLICIES_CHANGED),
    });
    await expect
      .poll(() => form.getByRole('textbox', { name: 'Or its text' }).inputValue())
      .toBe(POLICIES_CHANGED);
    expect(await form.locator('.command code').innerText()).toBe('pave policies apply -f guardrails.yaml');
    await form.getByRole('button', { name: 'Plan', exact: true }).click();
    await form
      .getByRole('status')
      .filter({ hasText: 'No changes: every policy in guardrails.yaml is applied already.' })
      .waitFor();
    expect(await form.getByRole('button', { name: /^Apply \d/ }).count()).toBe(0);

    // Deleting asks first, with the command that does the same.
    await list.getByRole('button', { name: 'Delete policy no-latest-images' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete policy?' });
    expect(await dialog.locator('.command code').innerText()).toBe('pave policies delete no-latest-images');
    await dialog.getByRole('button', { name: 'Delete policy' }).click();
    await list.getByRole('status').filter({ hasText: 'Deleted policy no-latest-images.' }).waitFor();
    await expect.poll(() => list.getByRole('rowheader', { name: /^no-latest-images/ }).count()).toBe(0);
    expect((await policies()).map((p) => p.id)).toEqual(['staging-first']);
    const gone = await runPave(['policies', 'get', 'no-latest-images'], clientEnv(server.url, dataDir));
    expect(gone.code).not.toBe(0);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 90_000);

  it('lets an admin plan and apply workload profiles, explain which apply to an environment, and delete one', async () => {
    const page = await openAdminTab('platform/profiles');
    const list = page.getByRole('region', { name: 'Workload profiles' });
    await list.getByText('No workload profiles yet.').waitFor();
    const form = page.getByRole('region', { name: 'Apply YAML' });

    await plan(form, PROFILES);
    expect(await planRows(form)).toEqual([
      'prod-hardening create new profile',
      'team-labels create new profile',
    ]);
    expect(await profiles()).toEqual([]);
    await form.getByRole('button', { name: 'Apply 2 changes' }).click();
    await form.getByRole('status').filter({ hasText: 'Applied 2 changes' }).waitFor();
    expect((await profiles()).map((p) => [p.id, p.version])).toEqual([
      ['prod-hardening', 1],
      ['team-labels', 1],
    ]);
    const row = list
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: /^prod-hardening/ }) });
    await row.waitFor();
    const rowText = (await row.innerText()).replace(/\s+/g, ' ');
    expect(rowText).toContain('envType=production');
    expect(rowText).toContain('Deployment: 2 operations');
    expect(rowText).toContain('PodDisruptionBudget/${workload.name}');
    expect(await list.getByRole('row').filter({ hasText: 'team-labels' }).innerText()).toContain(
      'everywhere',
    );

    await plan(form, PROFILES_CHANGED);
    expect(await planRows(form)).toEqual(['prod-hardening update patches', 'team-labels unchanged -']);
    await form.getByRole('button', { name: 'Apply 1 change' }).click();
    await form.getByRole('status').filter({ hasText: 'Applied 1 change: updated prod-hardening.' }).waitFor();
    const applied = await profiles();
    expect(applied.map((p) => [p.id, p.version])).toEqual([
      ['prod-hardening', 2],
      ['team-labels', 1],
    ]);
    expect(applied[0]?.patches[0]?.ops[0]).toEqual({ op: 'add', path: '/spec/replicas', value: 4 });

    // A YAML syntax error: nothing is sent.
    const textbox = form.getByRole('textbox', { name: 'Or its text' });
    await textbox.fill('- id: x\n  criteria: [\n');
    const problems = form.getByRole('alert', { name: 'Problems in the text' });
    await problems.filter({ hasText: 'Line 2, column 13: [0].criteria: YAML syntax error' }).waitFor();
    expect(await form.getByRole('button', { name: 'Plan', exact: true }).isDisabled()).toBe(true);
    expect(await profiles()).toEqual(applied);

    // A patch that cannot apply is found before sending, as `pave profiles apply -f` finds it: at the
    // operation's line and column, naming the profile, the patch and the operation.
    await textbox.fill(PROFILES_BROKEN_PATCH);
    await problems
      .filter({
        hasText:
          'Line 6, column 32: broken-patch.patches[0].ops[0].path: profile broken-patch, patch 0, operation 0 ' +
          '(replace /spec/template/spec/securityContext): the path does not exist',
      })
      .waitFor();
    expect(await form.getByRole('button', { name: 'Plan', exact: true }).isDisabled()).toBe(true);
    expect(await profiles()).toEqual(applied);

    // The match explainer answers as `pave profiles match` does: most specific first.
    const match = page.getByRole('region', { name: 'Explain which profiles apply' });
    await match.getByRole('textbox', { name: 'App' }).fill('shop');
    await match.getByRole('textbox', { name: 'Environment' }).fill('prod');
    expect(await match.locator('.command code').innerText()).toBe(
      'pave profiles match --app shop --env prod',
    );
    await match.getByRole('button', { name: 'Explain match' }).click();
    await match
      .getByRole('status')
      .filter({ hasText: '2 profiles apply to shop/prod (type production)' })
      .waitFor();
    const matched = (
      await match.getByRole('table', { name: 'Matching profiles' }).locator('tbody tr').allInnerTexts()
    ).map((text) => text.replace(/\s+/g, ' ').trim());
    const cli = JSON.parse(
      (await pave('profiles', 'match', '--app', 'shop', '--env', 'prod', '-o', 'json')).stdout,
    ) as ProfileMatch;
    expect(cli.matches.map((m) => m.id)).toEqual(['prod-hardening', 'team-labels']);
    expect(matched).toEqual([
      `prod-hardening envType=production ${cli.matches[0]?.specificity}`,
      `team-labels no criteria: applies everywhere ${cli.matches[1]?.specificity}`,
    ]);
    // An environment that does not exist is said as the server says it.
    await match.getByRole('textbox', { name: 'Environment' }).fill('nowhere');
    await match.getByRole('button', { name: 'Explain match' }).click();
    await match.getByRole('alert').filter({ hasText: 'nowhere' }).waitFor();

    await list.getByRole('button', { name: 'Delete profile team-labels' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete profile?' });
    expect(await dialog.locator('.command code').innerText()).toBe('pave profiles delete team-labels');
    await dialog.getByRole('button', { name: 'Delete profile' }).click();
    await list.getByRole('status').filter({ hasText: 'Deleted profile team-labels.' }).waitFor();
    expect((await profiles()).map((p) => p.id)).toEqual(['prod-hardening']);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 90_000);

  it('shows a user without write roles the policies, the profiles and the match explainer, and no controls', async () => {
    // Whatever ran before: one policy and one profile to see.
    const file = join(dataDir, 'viewer.yaml');
    writeFileSync(file, POLICIES);
    await pave('policies', 'apply', '-f', file);
    writeFileSync(file, PROFILES);
    await pave('profiles', 'apply', '-f', file);

    const page = await openSignedInTab(browser, portalUrl(server, 'platform/policies'), {
      username: 'vera',
      password: VERA_PASSWORD,
    });
    const policiesList = page.getByRole('region', { name: 'Policies' });
    await policiesList.getByRole('rowheader', { name: /^no-latest-images/ }).waitFor();
    expect(await policiesList.getByRole('columnheader', { name: 'Actions' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /Delete|Plan|Apply/ }).count()).toBe(0);
    expect(await page.getByRole('region', { name: 'Apply YAML' }).count()).toBe(0);

    await page.getByRole('tab', { name: 'Workload profiles' }).click();
    const profilesList = page.getByRole('region', { name: 'Workload profiles' });
    await profilesList.getByRole('rowheader', { name: /^prod-hardening/ }).waitFor();
    expect(await page.getByRole('button', { name: /Delete|Plan|Apply/ }).count()).toBe(0);
    expect(await page.getByRole('region', { name: 'Apply YAML' }).count()).toBe(0);
    const match = page.getByRole('region', { name: 'Explain which profiles apply' });
    await match.getByRole('textbox', { name: 'App' }).fill('shop');
    await match.getByRole('textbox', { name: 'Environment' }).fill('prod');
    await match.getByRole('button', { name: 'Explain match' }).click();
    await match
      .getByRole('table', { name: 'Matching profiles' })
      .getByRole('rowheader', { name: 'prod-hardening' })
      .waitFor();
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);
});
