import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvType, Resource, Team } from '@pave/core';
import { makeAppDir } from '../support/app-dir.ts';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { openSignedInTab, portalUrl, runPaveOk } from '../support/portal.ts';

const VERA_PASSWORD = 'vera staple battery horse';

// One workload with two volumes, which the embedded defaults provision as directories (volume-dir).
const SCORE = [
  'apiVersion: score.dev/v1b1',
  'metadata:',
  '  name: api',
  'containers:',
  '  main:',
  '    image: .',
  "    command: ['node', '-e', 'setInterval(() => {}, 1000)']",
  'resources:',
  '  data:',
  '    type: volume',
  '  cache:',
  '    type: volume',
  '',
].join('\n');

/**
 * What the CLI alone could change until now, in the portal: editing an environment type (`pave env-types
 * update`) and a team's SSO group (`pave teams update`) on the Platform page, and moving a resource (`pave
 * resources move`) from its details beside the resource graph. Driven in Chromium against one real `pave up`,
 * each outcome checked through the CLI; a viewer sees none of these controls.
 */
describe.skipIf(!hasChromium)(
  'editing environment types and teams, and moving resources, in the portal',
  () => {
    let dataDir: string;
    let appDir: string;
    let server: PaveProcess;
    let browser: TestBrowser;
    let adminToken: string;
    const pageErrors: string[] = [];
    const pave = (args: string[], input?: string) => runPaveOk(server, dataDir, args, input);
    const json = async <T>(args: string[]) => JSON.parse((await pave([...args, '-o', 'json'])).stdout) as T;
    const envType = (id: string) => json<EnvType>(['env-types', 'get', id]);
    const team = async (id: string) =>
      (await json<{ items: Team[] }>(['teams', 'list'])).items.find((t) => t.id === id);
    const resources = async () =>
      (await json<{ items: Resource[] }>(['resources', 'list', '--app', 'shop', '--env', 'dev'])).items;
    const admin = (route: string) =>
      openSignedInTab(browser, portalUrl(server, route), { token: adminToken });

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-platform-edits-'));
      appDir = makeAppDir('pave-portal-platform-edits-app-');
      writeFileSync(join(appDir, 'api.score.yaml'), SCORE);
      server = await startPave(['--data-dir', dataDir]);
      adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
      await shortenStabilityWindow(server.url, dataDir);
      await pave(['apps', 'create', 'shop']);
      await pave(['envs', 'create', 'dev', '--app', 'shop', '--type', 'development']);
      await pave(['deploy', '-f', join(appDir, 'api.score.yaml'), '--app', 'shop', '--env', 'dev', '--wait']);
      await pave(['teams', 'create', 'web', '--oidc-group', 'web-devs']);
      await pave(['users', 'create', 'vera', '--password-stdin'], `${VERA_PASSWORD}\n`);
      await pave(['roles', 'grant', 'viewer', '--user', 'vera', '--app', 'shop']);
      browser = await launchBrowser({ errors: pageErrors });
      browser.context.setDefaultTimeout(30_000);
    }, 180_000);

    afterAll(async () => {
      // Deleting the app stops its workloads; stopping the control plane alone would leave them running.
      if (server) await runPave(['apps', 'delete', 'shop', '--force'], clientEnv(server.url, dataDir));
      await browser?.close();
      await server?.stop();
      if (appDir) rmSync(appDir, { recursive: true, force: true });
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    it('edits an environment type from its current values, sending only what changed', async () => {
      const before = await envType('staging');
      const page = await admin('platform/env-types');
      const list = page.getByRole('region', { name: 'Environment types' });
      await list.getByRole('button', { name: 'Edit environment type staging' }).click();
      const form = page.getByRole('region', { name: 'Edit environment type staging' });
      const description = form.getByRole('textbox', { name: 'Description (optional)' });
      const window = form.getByRole('spinbutton', { name: /^Stability window/ });
      const approval = form.getByRole('checkbox', { name: /^Requires approval/ });
      // The form starts from what the server has, and the focus is in its first field.
      expect(await description.inputValue()).toBe(before.description);
      expect(await window.inputValue()).toBe(String(before.minReadySeconds));
      expect(await approval.isChecked()).toBe(false);
      await expect.poll(() => page.evaluate('document.activeElement?.tagName')).toBe('INPUT');
      expect(await form.locator('.command code').innerText()).toBe('pave env-types update staging');

      await description.fill('Pre-production, reset nightly');
      await approval.check();
      await window.fill('30');
      expect(await form.locator('.command code').innerText()).toBe(
        "pave env-types update staging --description 'Pre-production, reset nightly' --requires-approval " +
          '--min-ready 30s',
      );
      await form.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved environment type staging.' }).waitFor();
      expect(await form.count()).toBe(0);
      expect(await envType('staging')).toMatchObject({
        description: 'Pre-production, reset nightly',
        requiresApproval: true,
        minReadySeconds: 30,
        restricted: false,
      });
      // The list is loaded again and shows the change.
      const row = list.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'staging' }) });
      await expect.poll(async () => (await row.innerText()).replace(/\s+/g, ' ')).toContain('Pre-production');
      expect((await row.innerText()).replace(/\s+/g, ' ')).toMatch(/required 30s/);
      expect(pageErrors).toEqual([]);
      await page.close();
    }, 60_000);

    it('shows a refused edit of an environment type under its field, and changes nothing', async () => {
      const before = await envType('staging');
      const page = await admin('platform/env-types');
      await page.getByRole('button', { name: 'Edit environment type staging' }).click();
      const form = page.getByRole('region', { name: 'Edit environment type staging' });
      const window = form.getByRole('spinbutton', { name: /^Stability window/ });
      await window.fill('7200');
      await form.getByRole('textbox', { name: 'Description (optional)' }).fill('Longer than an hour');
      expect(await form.locator('.command code').innerText()).toBe(
        "pave env-types update staging --description 'Longer than an hour' --min-ready 7200s",
      );
      await form.getByRole('button', { name: 'Save' }).click();
      const error = form.locator('#edit-env-type-min-ready-error');
      await error.waitFor();
      expect(await error.innerText()).toContain('3600');
      expect(await window.getAttribute('aria-invalid')).toBe('true');
      // The form stays open with what was typed; the server kept every setting as it was.
      expect(await window.inputValue()).toBe('7200');
      expect(await envType('staging')).toEqual(before);

      // Something in the field that is no number (a window half typed) is said there and never sent: the
      // browser reports it as empty, which would otherwise reset the window to the default.
      await window.fill('');
      await window.pressSequentially('1e');
      await error
        .filter({ hasText: 'The stability window must be a whole number of seconds, e.g. 30.' })
        .waitFor();
      expect(await form.locator('.command code').innerText()).toBe(
        "pave env-types update staging --description 'Longer than an hour'",
      );
      await form.getByRole('button', { name: 'Save' }).click();
      expect(await form.count()).toBe(1);
      expect(await envType('staging')).toEqual(before);

      // Cancel closes the form and gives the focus back to its Edit button.
      await form.getByRole('button', { name: 'Cancel' }).click();
      expect(await form.count()).toBe(0);
      expect(await page.evaluate('document.activeElement?.getAttribute("aria-label")')).toBe(
        'Edit environment type staging',
      );
      expect(pageErrors).toEqual([]);
      await page.close();
    }, 60_000);

    it("changes and then clears a team's SSO group, a refused group standing under the field", async () => {
      const page = await admin('platform/teams');
      const list = page.getByRole('region', { name: 'Teams' });
      await list.getByRole('button', { name: 'Edit team web' }).click();
      const form = page.getByRole('region', { name: 'Edit team web' });
      const group = form.getByRole('textbox', { name: 'SSO group' });
      expect(await group.inputValue()).toBe('web-devs');

      // The server allows at most 256 characters: said under the field, nothing changes.
      await group.fill('x'.repeat(257));
      await form.getByRole('button', { name: 'Save' }).click();
      await form.locator('#edit-team-sso-error').waitFor();
      expect(await group.getAttribute('aria-invalid')).toBe('true');
      expect((await team('web'))?.oidcGroup).toBe('web-devs');

      await group.fill('frontend-devs');
      expect(await form.locator('.command code').innerText()).toBe(
        'pave teams update web --oidc-group frontend-devs',
      );
      await form.getByRole('button', { name: 'Save' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: 'Team web now follows SSO group frontend-devs' })
        .waitFor();
      expect((await team('web'))?.oidcGroup).toBe('frontend-devs');
      await list.getByRole('cell', { name: 'frontend-devs' }).waitFor();

      await list.getByRole('button', { name: 'Edit team web' }).click();
      await group.fill('');
      expect(await form.locator('.command code').innerText()).toBe('pave teams update web --no-oidc-group');
      await form.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('status').filter({ hasText: 'Team web follows no SSO group' }).waitFor();
      expect((await team('web'))?.oidcGroup).toBeNull();
      expect(pageErrors).toEqual([]);
      await page.close();
    }, 60_000);

    it('moves a resource to a new address from its details, keeping its data; a taken address is refused', async () => {
      const [before] = (await resources()).filter((r) => r.address === 'api.data');
      expect(before).toMatchObject({ type: 'volume', driver: 'volume-dir' });
      // Something in the volume, to find again after the move.
      const dir = before!.values.source!;
      writeFileSync(join(dir, 'kept.txt'), 'written before the move');

      const page = await admin('apps/shop/envs/dev');
      const graph = page.getByRole('region', { name: 'Resource graph' });
      await graph.getByRole('button', { name: /^api\.data: volume\. Show its details$/ }).click();
      const panel = page.getByRole('complementary', { name: 'Resource api.data' });
      const move = panel.getByRole('button', { name: 'Move api.data' });
      const dialog = page.getByRole('dialog', { name: 'Move api.data?' });
      // Escape cancels the dialog alone: the details stay open, with the focus back on Move….
      await move.click();
      await page.keyboard.press('Escape');
      expect(await dialog.count()).toBe(0);
      expect(await page.evaluate('document.activeElement?.getAttribute("aria-label")')).toBe('Move api.data');
      await move.click();
      expect(await dialog.innerText()).toContain('The resource and its data are kept');
      const to = dialog.getByRole('textbox', { name: 'New address' });
      expect(await to.inputValue()).toBe('api.');
      await to.fill('api.files');
      expect(await dialog.locator('.command code').innerText()).toBe(
        'pave resources move --app shop --env dev api.data api.files',
      );
      await browser.screenshot(page, 'resource-move');

      // The other volume's address is taken: the refusal stands in the dialog, which stays open.
      await to.fill('api.cache');
      await dialog.getByRole('button', { name: 'Move resource' }).click();
      await dialog.locator('#move-resource-to-error').waitFor();
      expect(await to.getAttribute('aria-invalid')).toBe('true');
      expect(await dialog.getByRole('alert').allInnerTexts()).toContainEqual(
        expect.stringContaining('already has a resource at api.cache'),
      );
      expect((await resources()).map((r) => r.address)).toEqual(['api.cache', 'api.data']);

      await to.fill('api.files');
      await dialog.getByRole('button', { name: 'Move resource' }).click();
      await panel.getByRole('status').filter({ hasText: 'Moved api.data to api.files' }).waitFor();
      expect(await dialog.count()).toBe(0);

      const after = await resources();
      expect(after.map((r) => r.address)).toEqual(['api.cache', 'api.files']);
      // The same volume with what was in it: only the address it is kept under changed.
      const moved = after.find((r) => r.address === 'api.files')!;
      expect(moved).toMatchObject({ type: 'volume', driverId: before!.driverId, resId: 'api.files' });
      expect(moved.values.source).toBe(dir);
      expect(readFileSync(join(dir, 'kept.txt'), 'utf8')).toBe('written before the move');
      // The graph is loaded again: the current Score file still names api.data, which now has no resource.
      await graph.getByRole('button', { name: /^api\.data: volume · not provisioned yet\./ }).waitFor();
      expect(pageErrors).toEqual([]);
      await page.close();
    }, 60_000);

    it('shows a viewer no Edit or Move controls', async () => {
      const page = await openSignedInTab(browser, portalUrl(server, 'platform/env-types'), {
        username: 'vera',
        password: VERA_PASSWORD,
      });
      const list = page.getByRole('region', { name: 'Environment types' });
      await list.getByRole('rowheader', { name: 'staging' }).waitFor();
      expect(await page.getByRole('tab').allInnerTexts()).not.toContain('Teams');
      expect(await page.getByRole('button', { name: /^Edit/ }).count()).toBe(0);

      await page.goto(portalUrl(server, 'apps/shop/envs/dev'));
      const graph = page.getByRole('region', { name: 'Resource graph' });
      await graph.getByRole('button', { name: /^api\.cache: volume\. Show its details$/ }).click();
      const panel = page.getByRole('complementary', { name: 'Resource api.cache' });
      // Once its record is shown (the check button comes with it) and the environment's type is known (its
      // badge then carries the type's description), a Move… button would stand beside it.
      await panel.getByRole('button', { name: 'Check with its driver' }).waitFor();
      await page.locator('.badge[title]').first().waitFor();
      expect(await panel.getByRole('button', { name: /^Move/ }).count()).toBe(0);
      expect(pageErrors).toEqual([]);
      await page.close();
    }, 60_000);
  },
);
