import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '@pave/core';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import {
  clientEnv,
  runPave,
  shortenStabilityWindow,
  startPave,
  type CliResult,
  type PaveProcess,
} from '../support/pave.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/two-workloads', import.meta.url));
const PASSWORD = 'correct horse battery staple';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('four-eyes approvals through the real CLI and server', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let homes: string;
  const admin = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));
  /** Runs the CLI as `user`, with its own saved login and no admin token to fall back on. */
  const userEnv = (user: string) => ({
    PAVE_SERVER: server.url,
    PAVE_CONFIG: join(homes, `${user}.json`),
    PAVE_DATA_DIR: join(homes, 'no-data-dir'),
  });
  const as = (user: string, ...args: string[]) => runPave(args, userEnv(user));
  const ok = async (result: Promise<CliResult>) => {
    const done = await result;
    expect(done.code, done.stderr + done.stdout).toBe(0);
    return done;
  };
  const deploy = (...extra: string[]) =>
    as(
      'alice',
      ...['deploy', '-f', join(FIXTURE, 'api.score.yaml'), '--app', 'shop', '--env', 'prod', '--wait'],
      ...extra,
    );
  /** The deployments awaiting approval bob sees, once there are `count` (polled). */
  const pending = async (count: number): Promise<Approval[]> => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const listed = await ok(as('bob', 'approvals', 'list', '--app', 'shop', '-o', 'json'));
      const items = (JSON.parse(listed.stdout) as { items: Approval[] }).items;
      if (items.length === count) return items;
      await sleep(200);
    }
    throw new Error(`never saw ${count} deployment(s) awaiting approval`);
  };

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
    await shortenStabilityWindow(server.url, location.dataDir);
    homes = mkdtempSync(join(tmpdir(), 'pave-approvals-homes-'));
    await ok(admin('env-types', 'update', 'production', '--requires-approval'));
    await ok(admin('apps', 'create', 'shop'));
    await ok(admin('envs', 'create', 'prod', '--app', 'shop', '--type', 'production'));
    for (const user of ['alice', 'bob']) {
      await ok(
        runPave(
          ['users', 'create', user, '--password-stdin'],
          clientEnv(server.url, location.dataDir),
          PASSWORD,
        ),
      );
    }
    await ok(admin('roles', 'grant', 'developer', '--user', 'alice', '--app', 'shop'));
    await ok(admin('roles', 'grant', 'deployer', '--user', 'alice', '--env-type', 'production'));
    await ok(admin('roles', 'grant', 'viewer', '--user', 'bob', '--app', 'shop'));
    await ok(admin('roles', 'grant', 'approver', '--user', 'bob', '--env-type', 'production'));
    for (const user of ['alice', 'bob']) {
      await ok(
        runPave(
          ['login', '--server', server.url, '--username', user, '--password-stdin'],
          userEnv(user),
          PASSWORD,
        ),
      );
    }
  }, 120_000);
  afterAll(async () => {
    if (server) await admin('apps', 'delete', 'shop', '--force');
    await server?.stop();
    await location?.cleanup();
    if (homes) rmSync(homes, { recursive: true, force: true });
  }, 60_000);

  it('shows that production requires approval', async () => {
    const listed = await ok(admin('env-types', 'list'));
    expect(listed.stdout).toMatch(/^production .* yes +required /m);
  });

  it('holds alice’s deploy until bob approves it; her waiting deploy then finishes', async () => {
    const waiting = deploy();
    const [approval] = await pending(1);
    expect(approval).toMatchObject({ requestedBy: 'alice', summary: 'add api' });
    const own = await as('alice', 'approvals', 'approve', approval!.id);
    expect(own.code).toBe(1);
    expect(own.stderr).toContain('approver');
    // A page of one is all there is: no next page.
    const page = JSON.parse((await ok(as('bob', 'approvals', 'list', '--limit', '1', '-o', 'json'))).stdout);
    expect(page).toMatchObject({ items: [{ id: approval!.id }], nextCursor: null });

    // What bob reads before deciding: who asked, and the diff against what runs now.
    const shown = (await ok(as('bob', 'approvals', 'get', approval!.id))).stdout;
    expect(shown).toContain(`Deployment ${approval!.id} (deploy) of shop/prod awaits approval`);
    expect(shown).toMatch(/^ {2}requested by {6}alice, /m);
    expect(shown).toMatch(/^ {2}changes {11}add api$/m);
    expect(shown).toMatch(/^\+\+\+ .*shop\/prod@\d+ \(awaiting approval\)/m);
    expect(shown).toMatch(/^\+ +image: /m);
    const json = JSON.parse((await ok(as('bob', 'approvals', 'get', approval!.id, '-o', 'json'))).stdout);
    expect(json).toEqual(approval);
    const unknown = await as('bob', 'approvals', 'get', 'latest');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('ID: "latest" is not a deployment id');

    await ok(as('bob', 'approvals', 'approve', approval!.id, '--comment', 'looks right'));
    const done = await waiting;
    expect(done.code, done.stderr).toBe(0);
    // The progress of --wait is on stderr; how it ended, on stdout.
    expect(done.stderr.match(new RegExp(`waiting for approval ${approval!.id}`, 'g'))).toHaveLength(1);
    expect(done.stdout).toContain(`Deployment ${approval!.id} succeeded`);
  }, 120_000);

  it('ends alice’s wait with bob’s reason when he rejects it', async () => {
    const waiting = deploy();
    const [approval] = await pending(1);
    await ok(as('bob', 'approvals', 'reject', approval!.id, '--comment', 'not during the sale'));
    const done = await waiting;
    expect(done.code).toBe(1);
    expect(done.stderr).toContain(`waiting for approval ${approval!.id}`);
    expect(done.stderr).toContain('was rejected by bob: not during the sale; nothing of it ran');
  }, 120_000);

  it('gives up after --wait-timeout with exit code 4 and leaves the request pending', async () => {
    const timedOut = await deploy('--wait-timeout', '2s');
    expect(timedOut.code, timedOut.stderr).toBe(4);
    expect(timedOut.stderr).toContain('(--wait-timeout)');
    const [approval] = await pending(1);
    expect(approval!.deployment.status).toBe('awaiting-approval');
    await ok(as('bob', 'approvals', 'reject', approval!.id, '--comment', 'cleaning up'));
  }, 60_000);
});
