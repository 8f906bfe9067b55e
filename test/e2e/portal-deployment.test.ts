import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { DeploymentDetail, PushedArtifact } from '@pave/core';
import { makeAppDir } from '../support/app-dir.ts';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { portalUrl, runPaveOk, signInToPortal } from '../support/portal.ts';

const ALICE_PASSWORD = 'alice correct horse battery';

/** Workload `name` running `code` under node; `image: .` takes the image CI built (an artifact's). */
const score = (name: string, image: string, code: string) =>
  [
    'apiVersion: score.dev/v1b1',
    'metadata:',
    `  name: ${name}`,
    'containers:',
    '  main:',
    `    image: ${image}`,
    `    command: ['node', '-e', '${code}']`,
    '',
  ].join('\n');

const COMMIT = '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c';

/**
 * One deployment's page (`#/apps/<app>/envs/<env>/deployments/<id>`), the portal's `pave deployments get`:
 * reached from the environment's history and from a failed deployment's notice, it shows what the CLI shows
 * (each workload with the artifact it came from, the journal step by step, why it failed), checked against
 * `pave deployments get -o json`, in Chromium against one real `pave up`.
 */
describe.skipIf(!hasChromium)('a deployment’s page in the portal', () => {
  let dataDir: string;
  let appDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  let alice: Page;
  let artifact: PushedArtifact;
  /** The deployment of the artifact to dev, before the worker was deployed there by hand. */
  let artifactDeployment: DeploymentDetail;
  let adminToken: string;
  const pageErrors: string[] = [];
  const pave = (args: string[], input?: string) => runPaveOk(server, dataDir, args, input);
  const portal = (route: string) => portalUrl(server, route);
  const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();
  const deploymentOf = async (id: string) =>
    JSON.parse(
      (await pave(['deployments', 'get', id, '--app', 'shop', '--env', 'dev', '-o', 'json'])).stdout,
    ) as DeploymentDetail;
  const latest = async () => {
    const page = JSON.parse(
      (await pave(['deployments', 'list', '--app', 'shop', '--env', 'dev', '-o', 'json'])).stdout,
    ) as { items: { id: string }[] };
    return deploymentOf(page.items[0]!.id);
  };
  /** The page's fields as `name: value` lines. */
  const fieldsOf = async (page: Page) => {
    const lines: string[] = [];
    for (const field of await page.locator('.deployment-fields > div').all()) {
      lines.push(
        `${await field.locator('dt').innerText()}: ${oneLine(await field.locator('dd').innerText())}`,
      );
    }
    return lines;
  };
  /** The journal table's rows as [step, workload, status, message]. */
  const journalOf = async (page: Page) =>
    (await page.getByRole('table', { name: 'Journal' }).locator('tbody tr').all()).map(async (row) =>
      (await row.getByRole('cell').allInnerTexts()).slice(1),
    );

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-deployment-'));
    appDir = makeAppDir('pave-portal-deployment-app-');
    const idle = 'setInterval(() => {}, 1000)';
    writeFileSync(join(appDir, 'api.score.yaml'), score('api', '.', idle));
    writeFileSync(join(appDir, 'worker.score.yaml'), score('worker', 'node:20', idle));
    writeFileSync(join(appDir, 'broken.score.yaml'), score('broken', 'node:20', 'process.exit(3)'));
    server = await startPave(['--data-dir', dataDir]);
    await shortenStabilityWindow(server.url, dataDir);
    await pave(['apps', 'create', 'shop']);
    await pave(['envs', 'create', 'dev', '--app', 'shop', '--type', 'development']);
    await pave(['users', 'create', 'alice', '--password-stdin'], `${ALICE_PASSWORD}\n`);
    await pave(['roles', 'grant', 'viewer', '--user', 'alice', '--app', 'shop']);
    // Into qa, a deployment awaits approval: one that alice may give.
    await pave(['env-types', 'create', 'gated', '--requires-approval']);
    await pave(['envs', 'create', 'qa', '--app', 'shop', '--type', 'gated']);
    await pave(['roles', 'grant', 'approver', '--user', 'alice', '--env-type', 'gated']);
    artifact = JSON.parse(
      (
        await pave([
          ...['artifacts', 'push', '--app', 'shop', '-f', join(appDir, 'api.score.yaml')],
          ...['--image', 'registry.test/shop/api:1', '--commit', COMMIT, '--branch', 'main', '-o', 'json'],
        ])
      ).stdout,
    ) as PushedArtifact;
    await pave(['deploy', '--artifact', artifact.id, '--app', 'shop', '--env', 'dev', '--wait']);
    artifactDeployment = await latest();
    adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    await pave([
      'deploy',
      '-f',
      join(appDir, 'worker.score.yaml'),
      '--app',
      'shop',
      '--env',
      'dev',
      '--wait',
    ]);
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(30_000);
    alice = await browser.newPage();
    await signInToPortal(alice, portal('apps'), { username: 'alice', password: ALICE_PASSWORD });
  }, 180_000);

  afterAll(async () => {
    // Deleting the app stops its workloads; stopping the control plane alone would leave them running.
    if (server) await runPave(['apps', 'delete', 'shop', '--force'], clientEnv(server.url, dataDir));
    await browser?.close();
    await server?.stop();
    if (appDir) rmSync(appDir, { recursive: true, force: true });
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('opens from the history and shows the artifact each workload came from and the whole journal', async () => {
    const shown = await latest();
    await alice.goto(portal('apps/shop/envs/dev'));
    await alice
      .getByRole('table', { name: 'Deployment history' })
      .getByRole('link', { name: shown.id, exact: true })
      .click();
    await alice.waitForURL(new RegExp(`#/apps/shop/envs/dev/deployments/${shown.id}$`));
    await alice.getByRole('heading', { name: `Deployment #${shown.id} of shop / dev` }).waitFor();
    await alice.getByRole('table', { name: 'Journal' }).waitFor();

    const fields = await fieldsOf(alice);
    expect(fields).toContain('Kind: deploy');
    expect(fields).toContain('Status: succeeded');
    expect(fields).toContain(`Set: ${shown.setId}`);
    expect(fields).toContain('By: admin');
    // The set holds the artifact's api (an earlier deployment) and the worker this one deployed by hand.
    expect(shown.workloadArtifacts).toEqual({ api: artifact.id, worker: null });
    expect(fields).toContain(
      `Workloads: api from artifact ${artifact.id} worker deployed without an artifact`,
    );
    expect(fields.some((field) => field.startsWith('Artifact:'))).toBe(false);

    const rows = await Promise.all(await journalOf(alice));
    expect(rows).toEqual(
      shown.journal.map((entry) => [entry.step, entry.workload ?? '-', entry.status, entry.message]),
    );
    expect(rows.length).toBeGreaterThan(3);
    expect(await alice.locator('.command code').innerText()).toBe(
      `pave deployments get ${shown.id} --app shop --env dev`,
    );

    // The deployment of the artifact names it and its commit.
    const first = artifactDeployment;
    expect(first.artifactId).toBe(artifact.id);
    await alice.goto(portal(`apps/shop/envs/dev/deployments/${first.id}`));
    await alice.getByRole('heading', { name: `Deployment #${first.id} of shop / dev` }).waitFor();
    await expect.poll(() => fieldsOf(alice)).toContain(`Artifact: artifact ${artifact.id}`);
    expect(await fieldsOf(alice)).toContain(`Commit: ${COMMIT}`);
    expect(await fieldsOf(alice)).toContain(`Workloads: api from artifact ${artifact.id}`);
    // A viewer may not roll back: no such control.
    expect(await alice.getByRole('button', { name: /^Roll back/ }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('links a failed deployment’s notice to its page, which says why it failed', async () => {
    const failed = await runPave(
      ['deploy', '-f', join(appDir, 'broken.score.yaml'), '--app', 'shop', '--env', 'dev', '--wait'],
      clientEnv(server.url, dataDir),
    );
    expect(failed.code, failed.stdout + failed.stderr).not.toBe(0);
    const shown = await latest();
    expect(shown.status).toBe('failed');
    expect(shown.reason).toBeTruthy();

    await alice.goto(portal('apps/shop/envs/dev'));
    await alice.getByRole('link', { name: `What deployment #${shown.id} did, step by step` }).click();
    await alice.waitForURL(new RegExp(`#/apps/shop/envs/dev/deployments/${shown.id}$`));
    const why = alice.getByRole('alert').filter({ hasText: 'Why it failed' });
    await why.waitFor();
    expect(await why.locator('pre').innerText()).toBe(shown.reason);
    expect(await fieldsOf(alice)).toContain('Status: failed (the previous successful set was restored)');
    expect(shown.rolledBack).toBe(true);
    const rows = await Promise.all(await journalOf(alice));
    expect(rows.map(([step, , status]) => `${step} ${status}`)).toEqual(
      shown.journal.map((entry) => `${entry.step} ${entry.status}`),
    );
    expect(rows.some(([, , status]) => status === 'failed')).toBe(true);
    await alice.screenshot({ path: join('docs', 'screenshots', 'deployment.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('follows a deployment that has not ended, without a reload, until it has', async () => {
    const call = async (token: string, path: string, body: unknown) => {
      const response = await fetch(`${server.url}/api/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      expect(response.status, text).toBeLessThan(300);
      return JSON.parse(text) as { id: string; status: string; token: string };
    };
    const requested = await call(adminToken, '/apps/shop/envs/qa/deployments', {
      workloads: [
        {
          dir: appDir,
          spec: {
            apiVersion: 'score.dev/v1b1',
            metadata: { name: 'worker' },
            containers: {
              main: { image: 'node:20', command: ['node', '-e', 'setInterval(() => {}, 1000)'] },
            },
          },
        },
      ],
    });
    expect(requested.status).toBe('awaiting-approval');
    await alice.goto(portal(`apps/shop/envs/qa/deployments/${requested.id}`));
    await expect.poll(() => fieldsOf(alice)).toContain('Status: awaiting-approval');
    expect(oneLine(await alice.locator('.deployment-page').innerText())).toContain(
      'No journal entries yet (the deployment has not started).',
    );
    // Alice may approve it (admin asked for it): the page offers it, as the environment's page does.
    const approval = alice.getByRole('region', { name: 'Pending approval' });
    await approval.getByRole('button', { name: 'Approve' }).waitFor();
    // She is no deployer of shop: she may not cancel it.
    expect(await alice.getByRole('button', { name: 'Cancel deployment' }).count()).toBe(0);

    // Alice approves it through the API: the page she has open follows it to its end.
    const { token } = await call('', '/auth/login', { username: 'alice', password: ALICE_PASSWORD });
    await call(token, `/approvals/${requested.id}/approve`, {});
    await expect.poll(() => fieldsOf(alice), { timeout: 30_000 }).toContain('Status: succeeded');
    const rows = await Promise.all(await journalOf(alice));
    expect(rows.some(([step, , status]) => step === 'finish' && status === 'succeeded')).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('cancels a deployment awaiting approval, and rolls back to an earlier one, from their pages', async () => {
    const admin = await browser.newPage();
    await signInToPortal(admin, portal('apps'), { token: adminToken });
    const requested = await pave([
      ...['deploy', '-f', join(appDir, 'worker.score.yaml'), '--app', 'shop', '--env', 'qa'],
      ...['-m', 'to cancel', '-o', 'json'],
    ]);
    const { id } = JSON.parse(requested.stdout) as { id: string };
    await admin.goto(portal(`apps/shop/envs/qa/deployments/${id}`));
    const cancel = admin.getByRole('button', { name: 'Cancel deployment' });
    await cancel.click();
    await admin
      .getByRole('status')
      .filter({ hasText: `Deployment #${id} is cancelled; it will not run.` })
      .waitFor();
    await expect.poll(() => fieldsOf(admin)).toContain('Status: cancelled');
    expect(await cancel.count()).toBe(0);
    const cancelled = JSON.parse(
      (await pave(['deployments', 'get', id, '--app', 'shop', '--env', 'qa', '-o', 'json'])).stdout,
    ) as DeploymentDetail;
    expect(cancelled.status).toBe('cancelled');
    // Nor ever started: what it would have run is not said to come.
    expect(await fieldsOf(admin)).toContain('Set: -');

    // dev runs the artifact's api and the worker; its first deployment ran the api alone.
    await admin.goto(portal(`apps/shop/envs/dev/deployments/${artifactDeployment.id}`));
    await admin.getByRole('button', { name: `Roll back to #${artifactDeployment.id}` }).click();
    const dialog = admin.getByRole('dialog', {
      name: `Roll back shop/dev to deployment #${artifactDeployment.id}?`,
    });
    await dialog.waitFor();
    expect(await dialog.locator('.command code').innerText()).toBe(
      `pave rollback ${artifactDeployment.id} --app shop --env dev`,
    );
    await dialog.getByRole('button', { name: `Roll back to #${artifactDeployment.id}` }).click();
    // The new deployment's page, saying what was queued.
    const notice = admin
      .getByRole('status')
      .filter({ hasText: `Rollback to #${artifactDeployment.id} queued` });
    await notice.waitFor();
    const queuedId = /as deployment #(\d+)\./.exec(await notice.innerText())?.[1];
    expect(queuedId).toBeDefined();
    expect(admin.url()).toMatch(new RegExp(`#/apps/shop/envs/dev/deployments/${queuedId}$`));
    await expect.poll(() => fieldsOf(admin), { timeout: 30_000 }).toContain('Status: succeeded');
    const rolledBack = await deploymentOf(queuedId!);
    expect(rolledBack).toMatchObject({ kind: 'rollback', source: { deploymentId: artifactDeployment.id } });
    expect(rolledBack.workloads).toEqual(['api']);
    expect(await fieldsOf(admin)).toContain(`Kind: rollback to #${artifactDeployment.id}`);
    expect(pageErrors).toEqual([]);
    await admin.close();
    await pave(['envs', 'delete', 'qa', '--app', 'shop', '--force']);
  }, 120_000);

  it('says so for a deployment that does not exist', async () => {
    await alice.goto(portal('apps/shop/envs/dev/deployments/999'));
    const error = alice.getByRole('alert');
    await error.waitFor();
    expect(oneLine(await error.innerText())).toContain('Deployment 999 of shop/dev not found.');
    expect(await alice.getByRole('table', { name: 'Journal' }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
