import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TemplatePage, TemplateRecord } from '@pave/core';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';
import { openSignedInTab, portalUrl, runPaveOk } from '../support/portal.ts';

const ALICE_PASSWORD = 'alice correct horse battery';
const PAT_PASSWORD = 'pat staple battery horse';

// A small template as one YAML file, its file inline.
const TEMPLATE = `id: hello-web
title: Hello web page
description: One page that greets.
tags: [web]
parameters:
  type: object
  properties:
    name: { type: string }
  required: [name]
files:
  - path: index.html
    content: <h1>Hello from {{ name }}</h1>
setup:
  environments:
    - { id: dev, type: development }
  deploy: dev
`;

// The same template with its page changed: a new version.
const TEMPLATE_CHANGED = TEMPLATE.replace('Hello from', 'Greetings from');

// Problems of the schema: a misspelt key, a tag that is not a DNS label, and (so) no title.
const TEMPLATE_BAD_SCHEMA = TEMPLATE.replace('title:', 'titel:').replace('tags: [web]', 'tags: [Web Pages]');

// A YAML syntax error: an unclosed flow sequence.
const TEMPLATE_BAD_YAML = TEMPLATE.replace('tags: [web]', 'tags: [web');

// What only the server checks: deploy names no environment of the template.
const TEMPLATE_REFUSED = TEMPLATE_CHANGED.replace('deploy: dev', 'deploy: prod');

describe.skipIf(!hasChromium)('applying and deleting templates in the portal', () => {
  let dataDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  let adminToken: string;
  const pageErrors: string[] = [];

  const pave = (...args: string[]) => runPaveOk(server, dataDir, args);
  const templateIds = async () =>
    (JSON.parse((await pave('templates', 'list', '-o', 'json')).stdout) as TemplatePage).items.map(
      (t) => `${t.id}@${t.version}`,
    );
  /** `pave templates apply -f` on `text` (as `name`): its problems, `file:line:column: rest`, as [line, column, rest]. */
  const cliProblems = async (name: string, text: string) => {
    const file = join(dataDir, name);
    writeFileSync(file, text);
    const cli = await runPave(['templates', 'apply', '-f', file], clientEnv(server.url, dataDir));
    expect(cli.code).not.toBe(0);
    const lines = cli.stderr
      .split('\n')
      .map((line) => /^.*?\.yaml:(\d+):(\d+): (.*)$/u.exec(line))
      .filter((match) => match !== null)
      .map(([, line, column, rest]) => `Line ${line}, column ${column}: ${rest}`);
    expect(lines.length, cli.stderr).toBeGreaterThan(0);
    return lines;
  };
  /** Types `text` into the Apply template form and presses Plan. */
  const plan = async (form: Locator, text: string) => {
    await form.getByRole('textbox', { name: 'Or its text' }).fill(text);
    await form.getByRole('button', { name: 'Plan', exact: true }).click();
  };
  /** The plan table's rows as `id change version`, once it shows. */
  const planRows = async (form: Locator) => {
    const table = form.getByRole('table', { name: 'Plan' });
    await table.waitFor();
    return (await table.locator('tbody tr').allInnerTexts()).map((row) => row.replace(/\s+/g, ' ').trim());
  };
  const openAdminTab = (route: string): Promise<Page> =>
    openSignedInTab(browser, portalUrl(server, route), { token: adminToken });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-templates-apply-'));
    server = await startPave(['--data-dir', dataDir]);
    adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    // Alice is a member: she may create apps from templates, not write them.
    await runPaveOk(server, dataDir, ['users', 'create', 'alice', '--password-stdin'], `${ALICE_PASSWORD}\n`);
    await pave('roles', 'grant', 'member', '--user', 'alice');
    // Pat is on the platform team: he may write templates, not create apps.
    await runPaveOk(server, dataDir, ['users', 'create', 'pat', '--password-stdin'], `${PAT_PASSWORD}\n`);
    await pave('roles', 'grant', 'platform', '--user', 'pat');
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(30_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('lets an admin plan and apply a template and a new version, shows problems where the CLI does, and delete it', async () => {
    const page = await openAdminTab('templates');
    const list = page.getByRole('region', { name: 'Templates' });
    await list.getByRole('link', { name: 'Static website' }).waitFor();
    const before = await templateIds();
    const form = page.getByRole('region', { name: 'Apply template' });
    expect(await form.locator('.command code').innerText()).toBe('pave templates apply -f template.yaml');

    // The plan is a dry run: it says what would be created, and nothing exists until Apply.
    await plan(form, TEMPLATE);
    expect(await planRows(form)).toEqual(['hello-web create would be version 1']);
    await form
      .getByRole('status')
      .filter({ hasText: 'Plan: 1 to create, 0 new versions, 0 unchanged.' })
      .waitFor();
    expect(await templateIds()).toEqual(before);
    await form.getByRole('button', { name: 'Apply 1 template' }).click();
    await form.getByRole('status').filter({ hasText: 'Template hello-web created: version 1.' }).waitFor();
    expect(await templateIds()).toContain('hello-web@1');
    await list.getByRole('link', { name: 'Hello web page' }).waitFor();

    // A changed template is a new version; the first stays.
    await plan(form, TEMPLATE_CHANGED);
    expect(await planRows(form)).toEqual(['hello-web new version would be version 2']);
    expect(await templateIds()).toContain('hello-web@1');
    await form.getByRole('button', { name: 'Apply 1 template' }).click();
    await form.getByRole('status').filter({ hasText: 'Template hello-web updated: version 2.' }).waitFor();
    const stored = JSON.parse(
      (await pave('templates', 'get', 'hello-web', '-o', 'json')).stdout,
    ) as TemplateRecord;
    expect(stored.version).toBe(2);
    expect(stored.files).toEqual([{ path: 'index.html', content: '<h1>Greetings from {{ name }}</h1>' }]);
    const first = JSON.parse(
      (await pave('templates', 'get', 'hello-web', '--version', '1', '-o', 'json')).stdout,
    ) as TemplateRecord;
    expect(first.files[0]?.content).toBe('<h1>Hello from {{ name }}</h1>');

    // A chosen file fills the text and names the command; applying it again changes nothing.
    await form.getByLabel('YAML file').setInputFiles({
      name: 'hello-web.yaml',
      mimeType: 'application/yaml',
      buffer: Buffer.from(TEMPLATE_CHANGED),
    });
    await expect
      .poll(() => form.getByRole('textbox', { name: 'Or its text' }).inputValue())
      .toBe(TEMPLATE_CHANGED);
    expect(await form.locator('.command code').innerText()).toBe('pave templates apply -f hello-web.yaml');
    await form.getByRole('button', { name: 'Plan', exact: true }).click();
    expect(await planRows(form)).toEqual(['hello-web unchanged stays version 2']);
    await form
      .getByRole('status')
      .filter({ hasText: 'No changes: every template in hello-web.yaml is applied already.' })
      .waitFor();
    expect(await form.getByRole('button', { name: /^Apply \d/ }).count()).toBe(0);

    // Schema problems: each at the line and column `pave templates apply -f` prints for the same text, and
    // Plan sends nothing while they are there.
    const textbox = form.getByRole('textbox', { name: 'Or its text' });
    const problems = form.getByRole('alert', { name: 'Problems in the text' });
    await textbox.fill(TEMPLATE_BAD_SCHEMA);
    const schemaProblems = await cliProblems('bad-schema.yaml', TEMPLATE_BAD_SCHEMA);
    expect(schemaProblems.join('\n')).toContain('titel');
    await problems.filter({ hasText: 'titel' }).waitFor();
    expect((await problems.locator('li').allInnerTexts()).map((line) => line.trim())).toEqual(schemaProblems);
    expect(await form.getByRole('button', { name: 'Plan', exact: true }).isDisabled()).toBe(true);

    // A YAML syntax error, likewise.
    await textbox.fill(TEMPLATE_BAD_YAML);
    const yamlProblems = await cliProblems('bad-yaml.yaml', TEMPLATE_BAD_YAML);
    expect(yamlProblems.join('\n')).toContain('YAML syntax error');
    await problems.filter({ hasText: 'YAML syntax error' }).waitFor();
    expect((await problems.locator('li').allInnerTexts()).map((line) => line.trim())).toEqual(yamlProblems);
    expect(await form.getByRole('button', { name: 'Plan', exact: true }).isDisabled()).toBe(true);

    // What only the server checks is said at the line and column the CLI says it at; nothing changes.
    await plan(form, TEMPLATE_REFUSED);
    const refused = form.getByRole('alert').filter({ hasText: 'Nothing was applied.' });
    await refused.waitFor();
    const serverProblems = await cliProblems('refused.yaml', TEMPLATE_REFUSED);
    expect(serverProblems).toEqual([
      expect.stringMatching(/^Line 16, column 11: \/setup\/deploy: must name/),
    ]);
    expect((await refused.locator('li').allInnerTexts()).map((line) => line.trim())).toEqual(serverProblems);
    expect(await textbox.getAttribute('aria-invalid')).toBe('true');
    expect(await form.getByRole('table', { name: 'Plan' }).count()).toBe(0);
    expect(await templateIds()).toContain('hello-web@2');

    // Two refused templates in one text: the plan lists both, as the CLI does, and stores neither.
    const twoRefused = `${TEMPLATE_REFUSED}---\n${TEMPLATE_REFUSED.replace('id: hello-web', 'id: hello-two')}`;
    await plan(form, twoRefused);
    const bothRefused = form.getByRole('alert').filter({ hasText: 'Nothing was applied.' });
    await expect.poll(() => bothRefused.count()).toBe(2);
    const bothProblems = await cliProblems('two-refused.yaml', twoRefused);
    expect(bothProblems).toEqual([
      expect.stringMatching(/^Line 16, column 11: \/setup\/deploy: must name/),
      expect.stringMatching(/^Line 33, column 11: \/setup\/deploy: must name/),
    ]);
    expect((await bothRefused.locator('li').allInnerTexts()).map((line) => line.trim())).toEqual(
      bothProblems,
    );
    expect(await bothRefused.nth(1).innerText()).toContain('hello-two');
    expect(await templateIds()).not.toContain('hello-two@1');

    // Its details, as `pave templates get` shows them.
    const item = list
      .getByRole('listitem')
      .filter({ has: page.getByRole('link', { name: 'Hello web page' }) });
    await item.getByText('Details', { exact: true }).click();
    const details = item.locator('dl');
    await details.waitFor();
    const detailsText = (await details.innerText()).replace(/\s+/g, ' ');
    expect(detailsText).toContain(`2 (applied`);
    expect(detailsText).toContain(`by ${stored.createdBy})`);
    expect(detailsText).toContain('Files index.html');
    expect(detailsText).toContain('Environments dev (development)');
    expect(detailsText).toContain('Deploys dev');
    expect(await item.locator('.command code').last().innerText()).toBe('pave templates get hello-web');

    // Deleting asks first, with the command that does the same.
    await list.getByRole('button', { name: 'Delete template hello-web' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete template?' });
    expect(await dialog.locator('.command code').innerText()).toBe('pave templates delete hello-web');
    await dialog.getByRole('button', { name: 'Delete template' }).click();
    await list.getByRole('status').filter({ hasText: 'Deleted template hello-web.' }).waitFor();
    await expect.poll(() => list.getByRole('link', { name: 'Hello web page' }).count()).toBe(0);
    expect(await templateIds()).toEqual(before);
    const gone = await runPave(['templates', 'get', 'hello-web'], clientEnv(server.url, dataDir));
    expect(gone.code).not.toBe(0);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 120_000);

  it('shows a member the templates and their details but no Apply template form and no Delete', async () => {
    const page = await openSignedInTab(browser, portalUrl(server, 'templates'), {
      username: 'alice',
      password: ALICE_PASSWORD,
    });
    const list = page.getByRole('region', { name: 'Templates' });
    await list.getByRole('link', { name: 'Static website' }).waitFor();
    await page.getByRole('heading', { name: 'New app from template' }).waitFor();
    // Templates are readable by everyone signed in: their details too, as `pave templates get` shows them.
    const item = list
      .getByRole('listitem')
      .filter({ has: page.getByRole('link', { name: 'Static website' }) });
    await item.getByText('Details', { exact: true }).click();
    await item.locator('dl').filter({ hasText: 'score.yaml' }).waitFor();
    expect(await item.locator('.command code').last().innerText()).toBe('pave templates get static-site');
    expect(await page.getByRole('region', { name: 'Apply template' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /Delete|Plan|Apply/ }).count()).toBe(0);
    expect(await page.getByRole('textbox', { name: 'Or its text' }).count()).toBe(0);
    await page.close();

    // The platform team writes templates without creating apps: the apps page links to them, and the page has
    // the form and Delete, no New app form.
    const platform = await openSignedInTab(browser, portalUrl(server, 'apps'), {
      username: 'pat',
      password: PAT_PASSWORD,
    });
    expect(await platform.getByRole('link', { name: 'New app from template' }).count()).toBe(0);
    await platform.getByRole('link', { name: 'Templates', exact: true }).click();
    await platform.getByRole('heading', { name: 'Templates', exact: true, level: 1 }).waitFor();
    await platform.getByRole('link', { name: 'Static website' }).click();
    await platform.getByRole('region', { name: 'Apply template' }).waitFor();
    await platform.getByRole('button', { name: 'Delete template static-site' }).waitFor();
    expect(await platform.getByRole('region', { name: /^New app from/ }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await platform.close();
  }, 60_000);
});
