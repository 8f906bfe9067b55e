import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatabaseSync } from '@photostructure/sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/two-workloads', import.meta.url));
const PASSWORD = 'correct horse battery staple';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('access control end to end: roles, restricted environment types, hidden apps, tokens, logins, audit', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let homes: string;
  const marker = `rbac-canary-${Math.random().toString(36).slice(2)}`;
  const admin = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));
  /** Runs the CLI as `user`, with its own config file (its saved login) and no admin token to fall back on. */
  const as = (user: string, args: string[], input?: string, extra: NodeJS.ProcessEnv = {}) =>
    runPave(
      args,
      {
        PAVE_SERVER: server.url,
        PAVE_CONFIG: join(homes, `${user}.json`),
        PAVE_DATA_DIR: join(homes, 'no-data-dir'),
        ...extra,
      },
      input,
    );
  const ok = async (result: Promise<{ code: number | null; stdout: string; stderr: string }>) => {
    const done = await result;
    expect(done.code, done.stderr + done.stdout).toBe(0);
    return done;
  };
  const deploy = (user: string, env: string) =>
    as(user, [
      'deploy',
      '-f',
      join(FIXTURE, 'api.score.yaml'),
      '-f',
      join(FIXTURE, 'worker.score.yaml'),
      '--app',
      'shop',
      '--env',
      env,
      '--wait',
    ]);

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
    await shortenStabilityWindow(server.url, location.dataDir);
    homes = mkdtempSync(join(tmpdir(), 'pave-rbac-homes-'));
    await ok(admin('apps', 'create', 'shop'));
    await ok(admin('envs', 'create', 'dev', '--app', 'shop', '--type', 'development'));
    await ok(admin('envs', 'create', 'prod', '--app', 'shop', '--type', 'production'));
    await ok(admin('values', 'set', `API_TOKEN=${marker}`, '--app', 'shop', '--secret'));
    for (const user of ['dev1', 'view1', 'nobody']) {
      await ok(
        runPave(
          ['users', 'create', user, '--password-stdin'],
          clientEnv(server.url, location.dataDir),
          PASSWORD,
        ),
      );
    }
    await ok(admin('roles', 'grant', 'developer', '--user', 'dev1', '--app', 'shop'));
    await ok(admin('roles', 'grant', 'viewer', '--user', 'view1', '--app', 'shop'));
    for (const user of ['dev1', 'view1', 'nobody']) {
      await ok(as(user, ['login', '--server', server.url, '--username', user, '--password-stdin'], PASSWORD));
    }
  }, 120_000);
  afterAll(async () => {
    if (server) await admin('apps', 'delete', 'shop', '--force');
    await server?.stop();
    await location?.cleanup();
    if (homes) rmSync(homes, { recursive: true, force: true });
  }, 60_000);

  it('lets a developer deploy to dev but not to production until granted deployer on production', async () => {
    await ok(deploy('dev1', 'dev'));
    const refused = await deploy('dev1', 'prod');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('deployer on environment type production');
    const before = await as('dev1', ['auth', 'can-i', 'deployment.create', '--app', 'shop', '--env', 'prod']);
    expect(before.code).toBe(1);
    expect(before.stdout).toMatch(/^no/);
    await ok(admin('roles', 'grant', 'deployer', '--user', 'dev1', '--env-type', 'production'));
    await sleep(1_100); // roles are cached with the token for at most a second
    await ok(deploy('dev1', 'prod'));
    const after = await ok(
      as('dev1', ['auth', 'can-i', 'deployment.create', '--app', 'shop', '--env', 'prod']),
    );
    expect(after.stdout).toMatch(/^yes/);
    expect(after.stdout).toContain('deployer on environment type production');
  }, 180_000);

  it('shows a viewer no secret value anywhere, and no way to change things', async () => {
    const outputs = await Promise.all([
      as('view1', ['values', 'list', '--app', 'shop', '--env', 'dev', '-o', 'json']),
      as('view1', ['values', 'list', '--app', 'shop']),
      as('view1', ['values', 'list', '--app', 'shop', '--reveal']),
      as('view1', ['diff', '--app', 'shop', '--env', 'dev', '-o', 'json']),
      as('view1', ['deployments', 'list', '--app', 'shop', '--env', 'dev', '-o', 'json']),
      as('view1', ['status', '--app', 'shop', '--env', 'dev', '-o', 'json']),
      as('view1', ['audit', '--app', 'shop', '-o', 'json']),
      as('view1', ['values', 'history', '--app', 'shop', '--env', 'dev', '-o', 'json']),
    ]);
    for (const output of outputs) expect(output.stdout + output.stderr).not.toContain(marker);
    expect(outputs[0]!.code).toBe(0);
    expect(outputs[2]!.code).toBe(1); // --reveal refused
    expect(outputs[2]!.stderr).toContain('values.reveal');
    expect(outputs[6]!.code).toBe(1); // the audit trail is for owners and admins
    const deploy = await as('view1', ['rollback', '--app', 'shop', '--env', 'dev']);
    expect(deploy.code).toBe(1);
    expect(deploy.stderr).toContain('deployment.rollback');
  }, 60_000);

  it('answers 404 for every object of an app to a user with no role on it, and lists nothing', async () => {
    const get = await as('nobody', ['apps', 'get', 'shop']);
    expect(get.code).toBe(1);
    expect(get.stderr).toContain('app "shop" not found');
    const envs = await as('nobody', ['envs', 'get', 'prod', '--app', 'shop']);
    expect(envs.stderr).toContain('app "shop" not found');
    const list = await ok(as('nobody', ['apps', 'list', '-o', 'json']));
    expect(JSON.parse(list.stdout).items).toEqual([]);
    const missing = await as('nobody', ['apps', 'get', 'no-such-app']);
    // The same answer as for an app that does not exist (request ids aside).
    const plain = (text: string) => text.replace(/\(request id [^)]+\)/, '');
    expect(plain(missing.stderr.replaceAll('no-such-app', 'shop'))).toBe(plain(get.stderr));
  }, 60_000);

  it('refuses revoked and expired tokens within a second', async () => {
    const created = JSON.parse(
      (await ok(admin('tokens', 'create', 'short', '--expires-in', '2s', '-o', 'json'))).stdout,
    );
    const withToken = (args: string[]) =>
      runPave(args, { PAVE_SERVER: server.url, PAVE_TOKEN: created.token });
    await ok(withToken(['whoami']));
    await sleep(2_100);
    expect((await withToken(['whoami'])).stderr).toContain('expired');

    const revocable = JSON.parse((await ok(admin('tokens', 'create', 'revocable', '-o', 'json'))).stdout);
    const withRevocable = (args: string[]) =>
      runPave(args, { PAVE_SERVER: server.url, PAVE_TOKEN: revocable.token });
    await ok(withRevocable(['whoami']));
    await ok(admin('tokens', 'revoke', revocable.id));
    const started = Date.now();
    let refused = false;
    while (!refused && Date.now() - started < 1_000) {
      refused = (await withRevocable(['whoami'])).code !== 0;
    }
    expect(refused).toBe(true);
  }, 60_000);

  it('gives the sixth failed login within five minutes a 429, and the same answers for a user that does not exist', async () => {
    const login = (user: string) =>
      as(
        `${user}-wrong`,
        ['login', '--server', server.url, '--username', user, '--password-stdin'],
        'wrong password!',
      );
    const attempts = [];
    for (let i = 0; i < 6; i++) attempts.push(await login('view1'));
    expect(attempts.slice(0, 5).map((a) => a.code)).toEqual([1, 1, 1, 1, 1]);
    expect(attempts[0]!.stderr).toContain('username or password is wrong');
    expect(attempts[5]!.stderr).toMatch(/too many/i);
    // A user that does not exist gets the same answers, in the same order: nothing tells them apart.
    const ghost = [];
    for (let i = 0; i < 6; i++) ghost.push(await login('ghost'));
    expect(ghost.map((a) => a.code)).toEqual(attempts.map((a) => a.code));
    expect(ghost[0]!.stderr).toContain('username or password is wrong');
    expect(ghost[5]!.stderr).toMatch(/too many/i);
  }, 60_000);

  it('detects a changed audit row with `pave audit verify`', async () => {
    const intact = await ok(admin('audit', 'verify'));
    expect(intact.stdout).toContain('intact');
    const audit = JSON.parse((await ok(admin('audit', '-o', 'json'))).stdout);
    expect(audit.items.some((e: { action: string }) => e.action === 'role.grant')).toBe(true);
    const db = new DatabaseSync(join(location.dataDir, 'pave.db'));
    try {
      db.prepare("update audit_entries set actor = 'someone-else' where action = 'role.grant'").run();
    } finally {
      db.close();
    }
    const broken = await admin('audit', 'verify');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('BROKEN');
  }, 60_000);
});
