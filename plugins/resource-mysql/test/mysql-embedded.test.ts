import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResourceInputs, ResourceOutputs } from '@pave/plugin-api';
import { describeResourceDriverContract, testDriverContext } from '@pave/plugin-api/testing';
import {
  EmbeddedMysqlDriver,
  embeddedMysqlAdminUrl,
  resourceObjectName,
  stopEmbeddedMysql,
} from '../src/index.ts';
import { isAccessDenied } from '../src/connection.ts';
import {
  catalogueHas,
  expectIndependentCopy,
  expectIsolated,
  inputsFor,
  rejection,
  rows,
  scopes,
  withConnection,
  writeSourceRows,
} from './support.ts';

/** Whether the embedded server of `dataDir` has the database (or user) `name`, asked of that server. */
async function embeddedHas(dataDir: string, kind: 'database' | 'user', name: string): Promise<boolean> {
  const adminUrl = await embeddedMysqlAdminUrl(dataDir);
  return adminUrl !== null && (await catalogueHas(adminUrl, kind, name));
}

/**
 * A fresh directory standing in for Pave's data directory. `reachable` lets the mysql account search it, so a
 * server started as root runs as mysql; otherwise (mode 0700) it runs as root.
 */
function tempDataDir(reachable: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'pave-mysql-embedded-'));
  if (reachable) chmodSync(dir, 0o711);
  return dir;
}

/** The pids of the processes whose command line names `dataDir` (a server started for it). */
function serverProcesses(dataDir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`--datadir=${dataDir}/`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Tests that start a server (initialising its data directory takes seconds on a busy machine). */
const SERVER_START = { timeout: 120_000 };

const { scope } = scopes();
let counter = 0;
const fresh = (): ResourceInputs => inputsFor(scope(`env${++counter}`));

/** A clone source no create can reach: port 1 on loopback refuses connections. */
const UNREACHABLE_SOURCE: ResourceOutputs = {
  values: { host: '127.0.0.1', port: '1', username: 'nobody', database: 'nothing' },
  secrets: { password: 'secret' },
};

const contractDir = tempDataDir(true);
const failing: ResourceInputs = { ...fresh(), cloneFrom: UNREACHABLE_SOURCE };
const failingName = resourceObjectName(failing.scope);

describeResourceDriverContract('mysql-embedded', {
  driver: () => EmbeddedMysqlDriver.fromConfig({ dataDir: contractDir }),
  validInputs: fresh,
  invalidInputs: {
    inputs: inputsFor(scope('bad'), { adminUrl: 'mysql://root@127.0.0.1:3306/' }),
    property: 'adminUrl',
  },
  exists: (id) => embeddedHas(contractDir, 'database', id),
  // The database and user are made first, then copying from the unreachable source fails.
  failingCreate: {
    inputs: failing,
    exists: async () =>
      (await embeddedHas(contractDir, 'database', failingName)) ||
      (await embeddedHas(contractDir, 'user', failingName)),
  },
  cleanup: async () => {
    await stopEmbeddedMysql(contractDir);
    rmSync(contractDir, { recursive: true, force: true });
  },
});

describe('mysql-embedded driver', () => {
  const ctx = testDriverContext(AbortSignal.timeout(600_000));
  const dataDirs: string[] = [];

  function dataDir(reachable: boolean): string {
    const dir = tempDataDir(reachable);
    dataDirs.push(dir);
    return dir;
  }

  // One server (a reachable data directory) the tests below share, started by the first of them that runs.
  let sharedDir: string | undefined;
  const shared = (): string => (sharedDir ??= dataDir(true));

  afterAll(async () => {
    for (const dir of dataDirs) {
      await stopEmbeddedMysql(dir);
      rmSync(dir, { recursive: true, force: true });
    }
    rmSync(ctx.scratchDir, { recursive: true, force: true });
  });

  it('starts one server when several calls need it at once', SERVER_START, async () => {
    const dir = dataDir(true);
    const results = await Promise.all(
      [1, 2, 3].map((n) =>
        EmbeddedMysqlDriver.fromConfig({ dataDir: dir }).create(inputsFor(scope(`many${n}`)), ctx),
      ),
    );
    expect(new Set(results.map((r) => r.outputs.values.port)).size).toBe(1);
    expect(serverProcesses(dir)).toHaveLength(1);
    for (const { outputs } of results) {
      expect(await withConnection(outputs.secrets.url!, (c) => rows(c, 'SELECT 1 AS one'))).toEqual([
        { one: 1 },
      ]);
    }
    // Run as the mysql account, since Pave runs as root here and the account can reach the directory.
    const [pid] = serverProcesses(dir);
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    if (process.getuid?.() === 0) expect(uid).not.toBe('0');
  });

  it('keeps databases and rows across a restart of its server, on the same port', SERVER_START, async () => {
    const dir = dataDir(false);
    const driver = EmbeddedMysqlDriver.fromConfig({ dataDir: dir });
    const inputs = inputsFor(scope('restart'));
    const { id, outputs } = await driver.create(inputs, ctx);
    await withConnection(outputs.secrets.url!, async (c) => {
      await c.query('CREATE TABLE visits (n INT)');
      await c.query('INSERT INTO visits VALUES (42)');
    });
    const root = join(dir, 'resources/mysql');
    const state = JSON.parse(readFileSync(join(root, 'state.json'), 'utf8')) as { pid: number };
    // Its own process group: it does not stop with Pave's.
    expect(readFileSync(`/proc/${state.pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[2]).toBe(
      String(state.pid),
    );
    expect(statSync(join(root, 'admin-password')).mode & 0o777).toBe(0o600);

    await stopEmbeddedMysql(dir);
    expect(await embeddedMysqlAdminUrl(dir)).toBeNull();
    expect(serverProcesses(dir)).toEqual([]);
    expect((await rejection(withConnection(outputs.secrets.url!, (c) => c.query('SELECT 1')))).code).toBe(
      'ECONNREFUSED',
    );

    expect(await driver.read(id, inputs, ctx)).toEqual({ outputs }); // starts it again, same port
    expect(await withConnection(outputs.secrets.url!, (c) => rows(c, 'SELECT n FROM visits'))).toEqual([
      { n: 42 },
    ]);
  });

  it(
    'isolates its resources like mysql-server, and lets nobody in without a password',
    SERVER_START,
    async () => {
      const dir = shared();
      const driver = EmbeddedMysqlDriver.fromConfig({ dataDir: dir });
      const a = await driver.create(inputsFor(scope('iso-a')), ctx);
      const b = await driver.create(inputsFor(scope('iso-b')), ctx);
      await expectIsolated(a.outputs, b.outputs);
      const port = a.outputs.values.port;
      for (const user of ['root', a.id, '']) {
        const refusal = await rejection(
          withConnection(`mysql://${user}@127.0.0.1:${port}/`, (c) => c.query('SELECT 1')),
        );
        expect(isAccessDenied(refusal), `${user || 'anonymous'}: ${refusal.message}`).toBe(true);
      }
      await driver.delete(a.id, inputsFor(scope('iso-a')), ctx);
      expect(await embeddedHas(dir, 'database', a.id)).toBe(false);
      expect(await embeddedHas(dir, 'user', a.id)).toBe(false);
      expect(await embeddedHas(dir, 'database', b.id)).toBe(true);
    },
  );

  it(
    'copies the source database into a clone in another scope, which then changes on its own, and listens on 127.0.0.1 only',
    SERVER_START,
    async () => {
      const dir = shared();
      const driver = EmbeddedMysqlDriver.fromConfig({ dataDir: dir });
      const source = await driver.create(inputsFor(scope('clone-src')), ctx);
      await writeSourceRows(source.outputs);
      const clone = await driver.create({ ...inputsFor(scope('clone-dst')), cloneFrom: source.outputs }, ctx);
      expect(clone.id).not.toBe(source.id);
      expect(clone.outputs.values.database).not.toBe(source.outputs.values.database);
      await expectIndependentCopy(source.outputs, clone.outputs);

      const adminUrl = await embeddedMysqlAdminUrl(dir);
      expect(adminUrl).not.toBeNull();
      expect(await withConnection(adminUrl!, (c) => rows(c, 'SELECT @@bind_address AS bindAddress'))).toEqual(
        [{ bindAddress: '127.0.0.1' }],
      );
    },
  );

  it('without the server programs, check and create name mariadb-server and the mysql-server driver', async () => {
    const dir = dataDir(true);
    const driver = EmbeddedMysqlDriver.fromConfig(
      { dataDir: dir },
      { pathEnv: '', programDirs: ['/nonexistent/sbin'] },
    );
    const failures = await driver.check(inputsFor(scope('bare')), ctx);
    expect(failures).toEqual([
      {
        property: 'mariadbd',
        reason: expect.stringMatching(/apt-get install mariadb-server.*mysql-server driver.*adminUrl/s),
      },
    ]);
    const error = await rejection(driver.create(inputsFor(scope('bare')), ctx));
    expect(error).toMatchObject({ name: 'InputError' });
    expect(error.message).toMatch(/mariadb-server.*mysql-server/s);
    expect(await driver.read(resourceObjectName(scope('bare')), inputsFor(scope('bare')), ctx)).toBeNull();
  });
});
