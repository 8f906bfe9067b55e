import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import type { ValueList, ValuesVersionPage } from '@pave/core';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';
import { portalUrl, runPaveOk, signInToPortal } from '../support/portal.ts';

const ALICE_PASSWORD = 'alice correct horse battery';
const VERA_PASSWORD = 'vera staple battery horse';
/** Secrets imported through the portal: neither may come back to the browser. */
const PASTED_SECRET = `pasted-secret-${process.pid}-${Date.now()}`;
const FILE_SECRET = `file-secret-${process.pid}-${Date.now()}`;
/** The description of the seeded `development` type, which the page shows once it knows the types. */
const DEVELOPMENT_DESCRIPTION = 'Where developers try changes; anyone on the app may deploy.';

/**
 * The portal's "Import from a .env file", the counterpart of `pave values import`, driven in Chromium against
 * one real `pave up`; what it wrote is checked through the CLI.
 */
describe.skipIf(!hasChromium)('importing values from a .env file in the portal', () => {
  let dataDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  let alice: Page;
  const pageErrors: string[] = [];
  /** The bodies of every API answer alice's page got. */
  const answers: Promise<string>[] = [];
  /** The import requests alice's page sent. */
  const imports: string[] = [];
  const pave = (args: string[], input?: string) => runPaveOk(server, dataDir, args, input);
  const json = async <T>(args: string[]) => JSON.parse((await pave([...args, '-o', 'json'])).stdout) as T;
  const listValues = (...flags: string[]) =>
    json<ValueList>(['values', 'list', '--app', 'shop', '--env', 'dev', ...flags]);
  const portal = (route: string) => portalUrl(server, route);
  /** What an element shows as one line, to match sentences that wrap. */
  const text = async (locator: Locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();

  /** Opens shop/dev afresh and the import form, which comes once the page knows alice may write values. */
  const openImport = async () => {
    await alice.goto(portal('apps/shop/envs/dev'));
    await alice.reload();
    const values = alice.getByRole('region', { name: 'Values' });
    const disclosure = values.getByRole('button', { name: 'Import from a .env file' });
    await disclosure.click();
    expect(await disclosure.getAttribute('aria-expanded')).toBe('true');
    const form = values.getByRole('form', { name: 'Import values' });
    await form.waitFor();
    return { values, form };
  };
  const previewRow = (form: Locator, key: string) =>
    form
      .getByRole('table', { name: 'Import preview' })
      .getByRole('row')
      .filter({ has: alice.getByRole('rowheader', { name: key, exact: true }) });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-values-import-'));
    server = await startPave(['--data-dir', dataDir]);
    await pave(['users', 'create', 'alice', '--password-stdin'], `${ALICE_PASSWORD}\n`);
    await pave(['users', 'create', 'vera', '--password-stdin'], `${VERA_PASSWORD}\n`);
    await pave(['apps', 'create', 'shop']);
    await pave(['envs', 'create', 'dev', '--app', 'shop', '--type', 'development']);
    await pave(['roles', 'grant', 'owner', '--user', 'alice', '--app', 'shop']);
    await pave(['roles', 'grant', 'viewer', '--user', 'vera', '--app', 'shop']);
    // What the environment holds before any import: an app default, two plain values and a secret.
    await pave(['values', 'set', 'LOG_LEVEL=info', '--app', 'shop']);
    await pave(['values', 'set', 'GREETING=hello', 'COLOR=blue', '--app', 'shop', '--env', 'dev']);
    await pave(['values', 'set', 'API_TOKEN=old-token', '--secret', '--app', 'shop', '--env', 'dev']);
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(30_000);
    alice = await browser.newPage();
    // Once its body is in (a log stream still open is left out; it carries no values).
    alice.on('requestfinished', (request) => {
      if (!new URL(request.url()).pathname.startsWith('/api/')) return;
      answers.push(
        request
          .response()
          .then((response) => response?.text() ?? '')
          .catch(() => ''),
      );
    });
    alice.on('request', (request) => {
      if (request.url().endsWith('/values/import')) imports.push(request.method());
    });
    await signInToPortal(alice, portal('apps'), { username: 'alice', password: ALICE_PASSWORD });
  }, 120_000);

  afterAll(async () => {
    if (server) await runPave(['apps', 'delete', 'shop', '--force'], clientEnv(server.url, dataDir));
    await browser?.close();
    await server?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('previews pasted text against the values shown, then imports it as one new version', async () => {
    const before = await listValues();
    expect(before.version).toBe(3);
    const { values, form } = await openImport();
    const command = form.locator('.command code');
    expect(await command.innerText()).toBe('pave values import FILE --app shop --env dev');

    await form
      .getByLabel('Or paste its text', { exact: true })
      .fill(
        [
          '# shop settings',
          'GREETING=hello',
          'COLOR="green"',
          'export NEW_FLAG=on',
          `API_TOKEN=${PASTED_SECRET}`,
          '',
        ].join('\n'),
      );
    // Against what the page shows: an equal plain value is unchanged, a secret is only named.
    await previewRow(form, 'NEW_FLAG').waitFor();
    expect(await text(form.locator('.import-preview > p').first())).toBe(
      'The pasted text sets 4 keys: 1 added, 1 changed, 1 unchanged, 1 secret set again. ' +
        '1 other value shown above stays as it is: an import removes nothing.',
    );
    expect(await text(previewRow(form, 'GREETING'))).toBe('GREETING unchanged hello hello');
    expect(await text(previewRow(form, 'COLOR'))).toBe('COLOR changed blue green');
    expect(await text(previewRow(form, 'NEW_FLAG'))).toBe('NEW_FLAG added - on');
    expect(await text(previewRow(form, 'API_TOKEN'))).toBe(
      'API_TOKEN set again (secret, not compared) secret, hidden secret, hidden',
    );
    expect(await form.getByRole('table', { name: 'Import preview' }).innerText()).not.toContain(
      PASTED_SECRET,
    );
    expect(await alice.content()).not.toContain(PASTED_SECRET);
    expect(imports).toEqual([]);

    await form.getByRole('button', { name: 'Import 4 keys' }).click();
    await values
      .getByRole('status')
      .filter({
        hasText:
          'Imported 4 keys from the pasted text: saved as version 4. Values take effect on the next deployment.',
      })
      .waitFor();
    // The form closes and takes what was pasted with it; the history shows the new version.
    expect(await form.count()).toBe(0);
    const versions = values.getByRole('table', { name: 'Versions' });
    const newest = versions
      .getByRole('row')
      .filter({ has: alice.getByRole('rowheader', { name: '4', exact: true }) });
    await newest.waitFor();
    expect(await text(newest)).toMatch(/ alice import ~API_TOKEN \(secret\) ~COLOR \+NEW_FLAG current$/);
    expect(imports).toEqual(['POST']);

    const after = await listValues();
    expect(after.version).toBe(4);
    expect(after.items.map((item) => [item.key, item.value, item.secret, item.source])).toEqual([
      ['API_TOKEN', null, true, 'env'],
      ['COLOR', 'green', false, 'env'],
      ['GREETING', 'hello', false, 'env'],
      ['LOG_LEVEL', 'info', false, 'app'],
      ['NEW_FLAG', 'on', false, 'env'],
    ]);
    // The secret reached the server as pasted: an admin may reveal it with the CLI.
    const revealed = await listValues('--reveal');
    expect(revealed.items.find((item) => item.key === 'API_TOKEN')?.value).toBe(PASTED_SECRET);
    const history = await json<ValuesVersionPage>(['values', 'history', '--app', 'shop', '--env', 'dev']);
    expect(history.items[0]).toMatchObject({ version: 4, actor: 'alice', reason: 'import' });

    expect(await alice.content()).not.toContain(PASTED_SECRET);
    for (const answer of await Promise.all(answers)) expect(answer).not.toContain(PASTED_SECRET);
  }, 90_000);

  it('imports a chosen file with every key secret, showing the command with --secret', async () => {
    const { values, form } = await openImport();
    const command = form.locator('.command code');
    // Ticked first, so that the file's values are never shown: every key it sets becomes a secret.
    await form.getByRole('checkbox', { name: 'Mark every imported key secret' }).check();
    expect(await command.innerText()).toBe('pave values import FILE --secret --app shop --env dev');
    await form.getByLabel('.env file', { exact: true }).setInputFiles({
      name: 'prod.env',
      mimeType: 'text/plain',
      buffer: Buffer.from(`DB_PASSWORD='${FILE_SECRET}'\nGREETING=hello\n`),
    });
    await previewRow(form, 'DB_PASSWORD').waitFor();
    expect(await command.innerText()).toBe('pave values import prod.env --secret --app shop --env dev');
    expect(await text(previewRow(form, 'DB_PASSWORD'))).toBe('DB_PASSWORD added (secret) - secret, hidden');
    expect(await text(previewRow(form, 'GREETING'))).toBe(
      'GREETING changed (becomes a secret) hello secret, hidden',
    );
    expect(await text(form.locator('.import-preview > p').first())).toBe(
      'prod.env sets 2 keys: 1 added, 1 changed. 4 other values shown above stay as they are: an import removes nothing.',
    );
    expect(await form.innerText()).not.toContain(FILE_SECRET);
    expect(await alice.content()).not.toContain(FILE_SECRET);
    await form.evaluate((element) => element.scrollIntoView({ block: 'center' }));
    await browser.screenshot(alice, 'values-import');

    await form.getByRole('button', { name: 'Import 2 keys' }).click();
    await values
      .getByRole('status')
      .filter({ hasText: 'Imported 2 keys from prod.env as secrets: saved as version 5.' })
      .waitFor();
    const after = await listValues();
    expect(after.version).toBe(5);
    expect(after.items.filter((item) => item.secret).map((item) => item.key)).toEqual([
      'API_TOKEN',
      'DB_PASSWORD',
      'GREETING',
    ]);
    const revealed = await listValues('--reveal');
    expect(revealed.items.find((item) => item.key === 'DB_PASSWORD')?.value).toBe(FILE_SECRET);
    expect(revealed.items.find((item) => item.key === 'GREETING')?.value).toBe('hello');
    expect(await alice.content()).not.toContain(FILE_SECRET);
    for (const answer of await Promise.all(answers)) expect(answer).not.toContain(FILE_SECRET);
  }, 60_000);

  it('names each bad line of a malformed file and sends nothing', async () => {
    const sent = imports.length;
    const { form } = await openImport();
    const textarea = form.getByLabel('Or paste its text', { exact: true });
    await textarea.fill(['GREETING=hi', '# fine', 'oops no equals', "COLOR='unterminated", ''].join('\n'));
    const problems = form.getByRole('alert', { name: 'Problems in the pasted text' });
    await problems.waitFor();
    expect(await text(problems)).toBe(
      '2 problems in the pasted text: nothing is sent until they are fixed. ' +
        'line 3: expected KEY=VALUE, found "oops no equals" line 4: unterminated single quote',
    );
    expect(await form.getByRole('table', { name: 'Import preview' }).count()).toBe(0);
    const submit = form.getByRole('button', { name: 'Import', exact: true });
    expect(await submit.isDisabled()).toBe(true);
    // A file of secrets does not have its text quoted back, as with the CLI and the server.
    await form.getByRole('checkbox', { name: 'Mark every imported key secret' }).check();
    await problems.filter({ hasText: 'line 3: expected KEY=VALUE, found "…"' }).waitFor();
    expect(imports.length).toBe(sent);
    expect((await listValues()).version).toBe(5);

    // Fixed, the preview replaces the problems; Cancel closes the form and sends nothing.
    await textarea.fill('GREETING=hi\n');
    await previewRow(form, 'GREETING').waitFor();
    expect(await problems.count()).toBe(0);
    await form.getByRole('button', { name: 'Cancel' }).click();
    expect(await form.count()).toBe(0);
    expect(await alice.evaluate('document.activeElement?.textContent')).toBe('Import from a .env file');
    expect(imports.length).toBe(sent);
    expect((await listValues()).version).toBe(5);
  }, 60_000);

  it('shows the server’s refusal of a file with too many keys in the form, and keeps the values', async () => {
    const { form } = await openImport();
    const lines = Array.from({ length: 1_001 }, (_, i) => `KEY_${i}=value`);
    await form.getByLabel('Or paste its text', { exact: true }).fill(lines.join('\n'));
    await form.getByRole('button', { name: 'Import 1001 keys' }).click();
    const textarea = form.getByLabel('Or paste its text', { exact: true });
    await expect.poll(() => textarea.getAttribute('aria-invalid')).toBe('true');
    const id = await textarea.getAttribute('aria-describedby');
    expect(await text(form.locator(`[id="${id}"]`))).toBe(
      'Would give shop/dev 1001 keys, and it may hold at most 1000: unset keys it no longer needs ' +
        '(`pave values unset KEY...`) or send fewer (the file).',
    );
    const refusal = form.locator('.error');
    expect(await text(refusal)).toBe('Shop/dev would hold 1001 keys; a scope of values holds at most 1000.');
    expect(await form.innerText()).not.toMatch(/\/dotenv|[{}]/);
    expect((await listValues()).version).toBe(5);
  }, 60_000);

  it('shows a viewer no import', async () => {
    const vera = await browser.newPage();
    try {
      await signInToPortal(vera, portal('apps'), { username: 'vera', password: VERA_PASSWORD });
      await vera.goto(portal('apps/shop/envs/dev'));
      // Whether she may write the values is decided once the page knows the environment's type.
      await vera.getByTitle(DEVELOPMENT_DESCRIPTION).waitFor();
      const values = vera.getByRole('region', { name: 'Values' });
      await values.getByRole('table', { name: 'Values', exact: true }).waitFor();
      await values.getByRole('table', { name: 'Versions' }).getByRole('row').nth(1).waitFor();
      expect(await values.getByRole('button', { name: 'Import from a .env file' }).count()).toBe(0);
      expect(await vera.getByRole('form', { name: 'Import values' }).count()).toBe(0);
      expect(await values.getByText('pave values import').count()).toBe(0);
    } finally {
      await vera.close();
    }
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
