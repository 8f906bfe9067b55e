import { readFileSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from '@photostructure/sqlite';
import { migrations } from '../../packages/server/src/index.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestStoreLocation, storeEngines, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, PaveExitedError, runPave, startPave, type PaveProcess } from '../support/pave.ts';

describe.each(storeEngines)('pave CLI against a real `pave up` on %s', (engine) => {
  let location: TestStoreLocation;
  let server: PaveProcess | undefined;
  const upArgs = () => ['--data-dir', location.dataDir, ...(location.url ? ['--store', location.url] : [])];
  const env = () => clientEnv(server!.url, location.dataDir);

  beforeAll(async () => {
    location = await createTestStoreLocation(engine);
    server = await startPave(upArgs());
  });
  afterAll(async () => {
    await server?.stop();
    await location?.cleanup();
  });

  it('serves /healthz and writes the admin token to <data-dir>/admin.token with mode 0600, logging only its path', async () => {
    const response = await fetch(`${server!.url}/healthz`);
    expect(response.status).toBe(200);
    const tokenFile = join(location.dataDir, 'admin.token');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(token).toMatch(/^pave_/);
    expect(server!.output()).toContain(tokenFile);
    expect(server!.output()).not.toContain(token);
  });

  it('creates an app and an environment, lists them as JSON, and audits both as admin', async () => {
    const app = await runPave(['apps', 'create', 'shop'], env());
    expect(app).toMatchObject({ code: 0, stderr: '' });
    const envs = await runPave(['envs', 'create', 'dev', '--app', 'shop', '--type', 'development'], env());
    expect(envs).toMatchObject({ code: 0, stderr: '' });

    const list = await runPave(['apps', 'list', '-o', 'json'], env());
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({
      items: [{ id: 'shop', name: 'shop', createdBy: 'admin', createdAt: expect.any(String) }],
      nextCursor: null,
    });
    const detail = JSON.parse((await runPave(['apps', 'get', 'shop', '-o', 'json'], env())).stdout);
    expect(detail.environments).toEqual([{ id: 'dev', type: 'development' }]);

    const audit = await runPave(['audit'], env());
    expect(audit.code).toBe(0);
    const lines = audit.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/TIME\s+ACTOR\s+ACTION\s+TARGET/);
    expect(lines[1]).toMatch(/admin\s+environment\.create\s+apps\/shop\/envs\/dev/);
    expect(lines[2]).toMatch(/admin\s+app\.create\s+apps\/shop/);
  });

  it('keeps everything across a restart on the same data dir and store', async () => {
    const tokenBefore = readFileSync(join(location.dataDir, 'admin.token'), 'utf8');
    const code = await server!.stop();
    expect(code).toBe(0);
    expect(server!.output()).toContain('"msg":"stopped"');
    server = await startPave(upArgs());
    const list = await runPave(['envs', 'list', '--app', 'shop', '-o', 'json'], env());
    expect(JSON.parse(list.stdout).items).toEqual([
      expect.objectContaining({ appId: 'shop', id: 'dev', type: 'development' }),
    ]);
    expect(readFileSync(join(location.dataDir, 'admin.token'), 'utf8')).toBe(tokenBefore);
  });
});

describe('pave CLI errors and tokens', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  const env = () => clientEnv(server.url, location.dataDir);

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
  });
  afterAll(async () => {
    await server?.stop();
    await location?.cleanup();
  });

  it('refuses a bad id with a one-line error naming the field and the rule, exit 1, nothing created', async () => {
    const result = await runPave(['apps', 'create', 'My_Shop'], env());
    expect(result.code).toBe(1);
    const [first, second] = result.stderr.split('\n');
    expect(first).toBe('pave: error: the request body is invalid');
    expect(second).toMatch(/^ {2}- <app> "My_Shop": must be a DNS label/);
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
    const list = await runPave(['apps', 'list', '-o', 'json'], env());
    expect(JSON.parse(list.stdout).items).toEqual([]);
  });

  it('creates, uses, lists and revokes a token; a revoked token gets 401', async () => {
    const created = await runPave(['tokens', 'create', 'ci', '--expires-in', '1h', '-o', 'json'], env());
    expect(created.code).toBe(0);
    const { id, token, expiresAt } = JSON.parse(created.stdout);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(59 * 60_000);
    const asCi = { ...env(), PAVE_TOKEN: token };
    expect(JSON.parse((await runPave(['whoami', '-o', 'json'], asCi)).stdout)).toMatchObject({
      username: 'admin',
      token: { id, name: 'ci' },
    });
    const listed = await runPave(['tokens', 'list'], env());
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).not.toContain(token);
    expect((await runPave(['tokens', 'revoke', id], env())).code).toBe(0);
    const refused = await runPave(['apps', 'list'], asCi);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^pave: error: the bearer token has been revoked/);
  });

  it('saves server and token with `pave login` (mode 0600) and uses them afterwards', async () => {
    const token = readFileSync(join(location.dataDir, 'admin.token'), 'utf8').trim();
    const configFile = join(location.dataDir, 'client-config.json');
    const noLocalToken = { PAVE_CONFIG: configFile, PAVE_DATA_DIR: join(location.dataDir, 'nowhere') };
    const before = await runPave(['apps', 'list', '--server', server.url], noLocalToken);
    expect(before.code).not.toBe(0);
    expect(before.stderr).toContain('pave login');
    const login = await runPave(['login', '--server', server.url, '--token', token], noLocalToken);
    expect(login).toMatchObject({ code: 0 });
    expect(login.stdout).toContain('admin');
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    const after = await runPave(['apps', 'list', '-o', 'json'], noLocalToken);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toEqual({ items: [], nextCursor: null });
  });

  it('explains an unreachable server without a stack trace', async () => {
    // A token of its own: the data directory's admin token goes only to the port its `pave up` listens on.
    const token = `pave_${'a'.repeat(43)}`;
    const result = await runPave(['apps', 'list'], {
      ...env(),
      PAVE_SERVER: 'http://127.0.0.1:1',
      PAVE_TOKEN: token,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^pave: error: cannot reach Pave at http:\/\/127\.0\.0\.1:1/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('pave up on a store written by a newer Pave', () => {
  let location: TestStoreLocation | undefined;
  afterEach(async () => {
    await location?.cleanup();
  });

  it('refuses to start with a clear message and leaves the store untouched', async () => {
    location = await createTestStoreLocation('sqlite');
    const first = await startPave(['--data-dir', location.dataDir]);
    expect(await first.stop()).toBe(0);
    const file = join(location.dataDir, 'pave.db');
    const db = new DatabaseSync(file);
    db.prepare("insert into kysely_migration (name, timestamp) values ('0999_future', 'x')").run();
    db.close();
    const files = () =>
      readdirSync(location!.dataDir)
        .filter((f) => !/-(wal|shm)$/.test(f))
        .sort();
    const filesBefore = files();
    const error = await startPave(['--data-dir', location.dataDir]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PaveExitedError);
    const { code, output } = error as PaveExitedError;
    expect(code).not.toBe(0);
    expect(output).toMatch(/written by a newer Pave.*0999_future.*Upgrade Pave/);
    expect(output).not.toMatch(/at .*\.js:\d+/);
    const check = new DatabaseSync(file, { readOnly: true });
    expect(check.prepare('select count(*) as n from apps').get()).toEqual({ n: 0 });
    expect(check.prepare('select name from kysely_migration order by name').all()).toEqual([
      ...migrations.map((m) => ({ name: m.name })),
      { name: '0999_future' },
    ]);
    check.close();
    expect(files()).toEqual(filesBefore);
  });
});
