import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Deployment, DeploymentDetail } from '@pave/core';
import { hasChromium, launchBrowser, type TestBrowser } from '../support/browser.ts';
import { EDGE_SCORE, makeAppDir } from '../support/app-dir.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { portalUrl, runPaveOk, signInToPortal } from '../support/portal.ts';
import { eventually } from '../support/processes.ts';

const ALICE_PASSWORD = 'alice correct horse battery';
const BOB_PASSWORD = 'bob staple battery horse';

describe.skipIf(!hasChromium)('approving a deployment in the portal', () => {
  let dataDir: string;
  let appDir: string;
  let server: PaveProcess;
  let browser: TestBrowser;
  let pendingId: string;
  const pageErrors: string[] = [];
  const pave = (args: string[], input?: string) => runPaveOk(server, dataDir, args, input);
  const portal = (route: string) => portalUrl(server, route);

  /** Deploys edge to prod through the CLI with the token of `page`'s portal session; the deployment. */
  async function deployAs(page: Page): Promise<Deployment> {
    const token = String(await page.evaluate('window.sessionStorage.getItem("pave.token")'));
    const queued = await runPave(
      ['deploy', '-f', join(appDir, 'edge.score.yaml'), '--app', 'shop', '--env', 'prod', '-o', 'json'],
      { PAVE_SERVER: server.url, PAVE_TOKEN: token },
    );
    expect(queued.code, queued.stderr).toBe(0);
    return JSON.parse(queued.stdout) as Deployment;
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-portal-approvals-'));
    appDir = makeAppDir('pave-portal-approvals-app-');
    writeFileSync(join(appDir, 'edge.score.yaml'), EDGE_SCORE);
    server = await startPave(['--data-dir', dataDir]);
    await shortenStabilityWindow(server.url, dataDir);
    await pave(['env-types', 'update', 'production', '--requires-approval']);
    await pave(['apps', 'create', 'shop']);
    await pave(['envs', 'create', 'prod', '--app', 'shop', '--type', 'production']);
    await pave(['users', 'create', 'alice', '--password-stdin'], `${ALICE_PASSWORD}\n`);
    await pave(['roles', 'grant', 'developer', '--user', 'alice', '--app', 'shop']);
    await pave(['roles', 'grant', 'deployer', '--user', 'alice', '--env-type', 'production']);
    await pave(['users', 'create', 'bob', '--password-stdin'], `${BOB_PASSWORD}\n`);
    await pave(['roles', 'grant', 'viewer', '--user', 'bob', '--app', 'shop']);
    await pave(['roles', 'grant', 'approver', '--user', 'bob', '--env-type', 'production']);
    browser = await launchBrowser({ errors: pageErrors });
    browser.context.setDefaultTimeout(30_000);
  }, 180_000);

  afterAll(async () => {
    if (server) await runPave(['apps', 'delete', 'shop', '--force'], clientEnv(server.url, dataDir));
    await browser?.close();
    await server?.stop();
    rmSync(appDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('shows the requester the pending deployment and its diff, without Approve', async () => {
    const alice = await browser.newPage();
    await signInToPortal(alice, portal('apps'), { username: 'alice', password: ALICE_PASSWORD });
    const deployment = await deployAs(alice);
    expect(deployment.status).toBe('awaiting-approval');
    pendingId = deployment.id;

    await alice.goto(portal('apps/shop/envs/prod'));
    const panel = alice.getByRole('region', { name: 'Pending approval' });
    await panel.getByText(`#${pendingId}`).waitFor();
    await panel.getByRole('table', { name: 'Workload changes' }).waitFor();
    await panel.getByText('You asked for it').waitFor();
    expect(await panel.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await alice.close();
  }, 90_000);

  it('lets an approver reject only with a comment, and approve: the deployment then runs', async () => {
    const bob = await browser.newPage();
    await signInToPortal(bob, portal('apps'), { username: 'bob', password: BOB_PASSWORD });
    await bob.goto(portal('apps/shop/envs/prod'));
    const panel = bob.getByRole('region', { name: 'Pending approval' });
    await panel.getByText('edge').first().waitFor();
    await panel.scrollIntoViewIfNeeded();
    await browser.screenshot(bob, 'approval');

    await panel.getByRole('button', { name: 'Reject' }).click();
    await panel.getByRole('alert').filter({ hasText: 'Say why it is rejected' }).waitFor();

    await panel.getByLabel('Comment (required to reject)').fill('checked the diff');
    await panel.getByRole('button', { name: 'Approve' }).click();
    await bob
      .getByRole('status')
      .filter({ hasText: `Deployment #${pendingId} is approved.` })
      .waitFor();
    const done = await eventually(
      async () => {
        const shown = await runPave(
          ['deployments', 'get', pendingId, '--app', 'shop', '--env', 'prod', '-o', 'json'],
          clientEnv(server.url, dataDir),
        );
        const detail = JSON.parse(shown.stdout) as DeploymentDetail;
        return detail.status === 'succeeded' || detail.status === 'failed' ? detail : undefined;
      },
      60_000,
      'the approved deployment to finish',
    );
    expect(done.status).toBe('succeeded');
    expect(done.journal.map((entry) => entry.message)).toContain('approved by bob: checked the diff');
    await expect.poll(() => panel.count(), { timeout: 15_000 }).toBe(0);
    await bob.close();
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('lets the requester withdraw a deployment awaiting approval, as pave deployments cancel does', async () => {
    const alice = await browser.newPage();
    await signInToPortal(alice, portal('apps'), { username: 'alice', password: ALICE_PASSWORD });
    const waiting = await deployAs(alice);
    expect(waiting.status).toBe('awaiting-approval');

    await alice.goto(portal('apps/shop/envs/prod'));
    const row = alice
      .getByRole('row')
      .filter({ has: alice.getByRole('rowheader', { name: waiting.id, exact: true }) });
    await row.getByRole('button', { name: 'Cancel' }).click();
    await alice
      .getByRole('status')
      .filter({ hasText: `Deployment #${waiting.id} is cancelled` })
      .waitFor();
    const shown = JSON.parse(
      (await pave(['deployments', 'get', waiting.id, '--app', 'shop', '--env', 'prod', '-o', 'json'])).stdout,
    ) as DeploymentDetail;
    expect(shown.status).toBe('cancelled');
    await alice.close();
    expect(pageErrors).toEqual([]);
  }, 90_000);

  // A promotion into an environment whose type needs approval was announced as "queued".
  it('says a promotion into production awaits approval, not that it is queued', async () => {
    await pave(['envs', 'create', 'dev', '--app', 'shop', '--type', 'development']);
    await pave(['deploy', '-f', join(appDir, 'edge.score.yaml'), '--app', 'shop', '--env', 'dev', '--wait']);
    const alice = await browser.newPage();
    await signInToPortal(alice, portal('apps'), { username: 'alice', password: ALICE_PASSWORD });
    await alice.goto(portal('apps/shop/envs/prod'));
    await alice.getByRole('combobox', { name: 'Promote from' }).selectOption('dev');
    await alice.getByRole('button', { name: 'Promote', exact: true }).click();
    const dialog = alice.getByRole('dialog', { name: 'Promote dev into prod?' });
    await dialog.getByRole('button', { name: 'Promote dev to prod' }).click();
    const notice = alice.getByRole('status').filter({ hasText: 'Promotion is deployment #' });
    await notice.waitFor();
    expect(await notice.innerText()).toMatch(
      /^Promotion is deployment #\d+, which awaits approval: someone else must approve it before it runs\.$/u,
    );
    await alice.close();
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
