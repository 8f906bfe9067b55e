import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';
import { portalUrl, runPaveOk, signInToPortal } from '../support/portal.ts';

const ALICE_PASSWORD = 'alice correct horse battery';
const VERA_PASSWORD = 'vera staple battery horse';

describe.skipIf(!hasChromium)('a new app from a template in the portal', () => {
  let dataDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  const pageErrors: string[] = [];
  const pave = (args: string[], input?: string) => runPaveOk(server, dataDir, args, input);
  const portal = (route: string) => portalUrl(server, route);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-templates-'));
    server = await startPave(['--data-dir', dataDir]);
    await pave(['users', 'create', 'alice', '--password-stdin'], `${ALICE_PASSWORD}\n`);
    await pave(['roles', 'grant', 'member', '--user', 'alice']);
    await pave(['users', 'create', 'vera', '--password-stdin'], `${VERA_PASSWORD}\n`);
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(30_000);
  }, 120_000);

  afterAll(async () => {
    if (server) await runPave(['apps', 'delete', 'site-one', '--force'], clientEnv(server.url, dataDir));
    await browser?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('creates an app from static-site: a bad name is marked at its field, then the app, its files and the pave init command', async () => {
    const alice = await browser.newPage();
    await signInToPortal(alice, portal('apps'), { username: 'alice', password: ALICE_PASSWORD });
    await alice.getByRole('link', { name: 'New app from template' }).click();

    const list = alice.getByRole('region', { name: 'Templates' });
    for (const title of ['Static website', 'Node.js HTTP API', 'Background worker']) {
      await list.getByRole('link', { name: title }).waitFor();
    }
    expect((await list.innerText()).replace(/\s+/g, ' ')).toContain('static-site static http');
    await list.getByRole('link', { name: 'Static website' }).click();

    const form = alice.getByRole('region', { name: 'New app from Static website' });
    const name = form.getByLabel(/^Name/);
    // The field: its label, input, description and problems.
    const nameField = name.locator('xpath=..');
    await name.fill('My Site');
    await form.getByRole('button', { name: 'Create app' }).click();
    await expect.poll(() => nameField.innerText()).toContain('must match pattern');
    expect(await name.getAttribute('aria-describedby')).toContain('root_answers_name__error');
    await browser.screenshot(alice, 'new-app-from-template-form');
    // Nothing was sent: the form checked the answers against the template's parameters first.
    expect(JSON.parse((await pave(['apps', 'list', '-o', 'json'])).stdout)).toMatchObject({ items: [] });

    // Corrected, the problem goes as it is typed.
    await name.fill('site-one');
    await expect.poll(() => nameField.innerText()).not.toContain('must match pattern');
    await form.getByLabel(/^Title/).fill('Our site');
    await form.getByRole('button', { name: 'Create app' }).click();

    const created = alice.getByRole('region', { name: 'App created' });
    await created.getByRole('status').filter({ hasText: 'Created app site-one' }).waitFor();
    expect(await created.getByRole('link', { name: 'site-one', exact: true }).getAttribute('href')).toBe(
      '#/apps/site-one',
    );
    expect(await created.getByRole('link', { name: 'dev', exact: true }).getAttribute('href')).toBe(
      '#/apps/site-one/envs/dev',
    );
    expect(await created.locator('.command code').innerText()).toBe(
      "pave init static-site site-one --set 'title=Our site'",
    );
    await browser.screenshot(alice, 'new-app-from-template');

    const [download] = await Promise.all([
      alice.waitForEvent('download'),
      created.getByRole('link', { name: 'Download the files (site-one.tar.gz)' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('site-one.tar.gz');
    const tar = gunzipSync(readFileSync(await download.path()));
    expect(tar.length).toBeGreaterThan(0);
    expect(tar.toString('latin1')).toContain('site-one/score.yaml');
    expect(tar.toString('latin1')).toContain('Our site');

    // Through the API: the app exists with the template's environment, and alice, who created it, owns it.
    const app = JSON.parse((await pave(['apps', 'get', 'site-one', '-o', 'json'])).stdout) as {
      id: string;
      createdBy: string;
      environments: { id: string; type: string }[];
    };
    expect(app).toMatchObject({ id: 'site-one', createdBy: 'alice' });
    expect(app.environments.map((env) => [env.id, env.type])).toEqual([['dev', 'development']]);
    const roles = JSON.parse((await pave(['roles', 'list', '--app', 'site-one', '-o', 'json'])).stdout) as {
      items: { role: string; subject: { name: string } }[];
    };
    expect(roles.items.map((grant) => [grant.role, grant.subject.name])).toContainEqual(['owner', 'alice']);

    // The server's refusal (the app exists now) stands above the form.
    await created.getByRole('button', { name: 'Create another app' }).click();
    await name.fill('site-one');
    await form.getByRole('button', { name: 'Create app' }).click();
    await form.getByRole('alert').filter({ hasText: 'App "site-one" already exists.' }).waitFor();
    await alice.getByRole('link', { name: 'Apps', exact: true }).first().click();
    await alice.getByRole('link', { name: 'site-one', exact: true }).click();

    await alice.getByRole('region', { name: 'Environments' }).getByRole('link', { name: 'dev' }).waitFor();
    await alice.close();
  }, 90_000);

  it('offers no New app from template to someone who may not create apps', async () => {
    const vera = await browser.newPage();
    await signInToPortal(vera, portal('apps'), { username: 'vera', password: VERA_PASSWORD });
    await vera.getByRole('heading', { name: 'Apps', exact: true }).waitFor();
    expect(await vera.getByRole('link', { name: 'New app from template' }).count()).toBe(0);
    await vera.close();
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
