import { cpSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import type { Deployment, DeploymentDetail, Resource } from '@pave/core';
import { embeddedMysqlAdminUrl, stopEmbeddedMysql } from '@pave/resource-mysql';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { eventually } from '../support/processes.ts';
import { viaRoute } from '../support/routes.ts';
import { makeAppDir } from '../support/app-dir.ts';
import { openVhost } from '../../plugins/resource-amqp/test/support.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/data-app', import.meta.url));
// The machine's shared servers, standing in for a platform team's (see .ci/run).
const MYSQL_ADMIN_URL = process.env.PAVE_TEST_MYSQL_ADMIN_URL ?? 'mysql://root@127.0.0.1:3306/';
const RABBITMQ_ADMIN_URL = process.env.PAVE_TEST_RABBITMQ_ADMIN_URL ?? 'http://guest:guest@127.0.0.1:15672';

/** Whether the MySQL server of `adminUrl` (default: the shared one) has database `name`, and user `name`. */
async function mysqlHas(
  name: string,
  adminUrl = MYSQL_ADMIN_URL,
): Promise<{ database: boolean; user: boolean }> {
  const admin = await mysql.createConnection(adminUrl);
  try {
    const [schemas] = await admin.query<mysql.RowDataPacket[]>(
      'select schema_name from information_schema.schemata where schema_name = ?',
      [name],
    );
    const [users] = await admin.query<mysql.RowDataPacket[]>('select user from mysql.user where user = ?', [
      name,
    ]);
    return { database: schemas.length > 0, user: users.length > 0 };
  } finally {
    await admin.end();
  }
}

/** The management API's status for `path` (200: it exists, 404: it does not). */
async function rabbitmqStatus(path: string): Promise<number> {
  const url = new URL(RABBITMQ_ADMIN_URL);
  const auth = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`);
  url.username = '';
  url.password = '';
  const response = await fetch(new URL(`api/${path}`, url.toString().replace(/\/?$/, '/')), {
    headers: { authorization: `Basic ${auth.toString('base64')}` },
  });
  await response.arrayBuffer();
  return response.status;
}

describe('mysql and amqp resources end to end: embedded default, shared servers, isolation, clones', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let appDir: string;
  const env = () => clientEnv(server.url, location.dataDir);
  const pave = (...args: string[]) => runPave(args, env());
  const ok = async (...args: string[]) => {
    const result = await pave(...args);
    expect(result.code, `pave ${args.join(' ')}\n${result.stderr}${result.stdout}`).toBe(0);
    return result;
  };
  const deploy = (envId: string, ...files: string[]) =>
    ok(
      'deploy',
      ...files.flatMap((file) => ['-f', join(appDir, file)]),
      '--app',
      'shop',
      '--env',
      envId,
      '--wait',
    );
  const call = async (workload: string, envId: string, method: string, path: string) => {
    const response = await viaRoute(server.url, `${workload}.${envId}.shop.localhost`, method, path);
    expect(response.status, `${method} ${workload}.${envId}${path}: ${response.body}`).toBe(200);
    return JSON.parse(response.body);
  };
  const resources = async (envId: string): Promise<Resource[]> =>
    JSON.parse((await ok('resources', 'list', '--app', 'shop', '--env', envId, '-o', 'json')).stdout).items;

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
    await shortenStabilityWindow(server.url, location.dataDir);
    appDir = makeAppDir('pave-data-app-');
    cpSync(FIXTURE, appDir, { recursive: true });
    // The app requires mysql2 and amqplib: let it find the repository's.
    symlinkSync(fileURLToPath(new URL('../../node_modules', import.meta.url)), join(appDir, 'node_modules'));
    await ok('apps', 'create', 'shop');
  }, 60_000);
  afterAll(async () => {
    // Deleting the app deletes every environment's workloads and resources (on the shared servers too).
    if (server) await pave('apps', 'delete', 'shop', '--force');
    await server?.stop();
    if (location) {
      await stopEmbeddedMysql(location.dataDir).catch(() => undefined);
      await location.cleanup();
    }
    if (appDir) rmSync(appDir, { recursive: true, force: true });
  }, 120_000);

  it('provisions mysql on the embedded default: the workload writes and reads rows; deleting the environment drops database and user', async () => {
    await ok('envs', 'create', 'dev', '--app', 'shop', '--type', 'development');
    await deploy('dev', 'mysql.score.yaml');
    await call('rows', 'dev', 'POST', '/rows?value=first');
    await call('rows', 'dev', 'POST', '/rows?value=second');
    expect(await call('rows', 'dev', 'GET', '/rows')).toEqual(['first', 'second']);
    const db = (await resources('dev')).find((r) => r.type === 'mysql')!;
    expect(db.definitionId).toBe('default-mysql');
    expect(db.secrets).toEqual(['password', 'url']);
    expect(db.values.database).toBe(db.values.name);
    const { mysqlUrl } = await call('rows', 'dev', 'GET', '/credentials');
    const adminUrl = await embeddedMysqlAdminUrl(location.dataDir);
    expect(adminUrl).not.toBeNull();
    expect(await mysqlHas(db.values.database!, adminUrl!)).toEqual({ database: true, user: true });

    await ok('envs', 'delete', 'dev', '--app', 'shop', '--force');
    // On the embedded server: the database and the user are gone, and the workload's credentials are refused.
    expect(await mysqlHas(db.values.database!, adminUrl!)).toEqual({ database: false, user: false });
    await expect(mysql.createConnection(mysqlUrl)).rejects.toThrow(/Access denied/);
  }, 240_000);

  describe('with mysql-server and rabbitmq-server definitions for the staging type', () => {
    beforeAll(async () => {
      const defs = join(appDir, 'defs.yaml');
      writeFileSync(
        defs,
        [
          'id: staging-mysql',
          'type: mysql',
          'driver: mysql-server',
          'driverInputs:',
          '  secrets:',
          `    adminUrl: ${MYSQL_ADMIN_URL}`,
          'criteria:',
          '  - envType: staging',
          '---',
          'id: staging-amqp',
          'type: amqp',
          'driver: rabbitmq-server',
          'driverInputs:',
          '  values:',
          '    amqpHost: 127.0.0.1',
          '    amqpPort: 5672',
          '  secrets:',
          `    adminUrl: ${RABBITMQ_ADMIN_URL}`,
          'criteria:',
          '  - envType: staging',
          '',
        ].join('\n'),
      );
      await ok('defs', 'apply', '-f', defs);
      for (const envId of ['s1', 's2']) {
        await ok('envs', 'create', envId, '--app', 'shop', '--type', 'staging');
        await deploy(envId, 'mysql.score.yaml', 'amqp.score.yaml');
      }
    }, 240_000);

    it('writes and reads rows through mysql-server; each environment has its own database and user', async () => {
      await call('rows', 's1', 'POST', '/rows?value=s1-row');
      expect(await call('rows', 's1', 'GET', '/rows')).toEqual(['s1-row']);
      expect(await call('rows', 's2', 'GET', '/rows')).toEqual([]);
      const one = (await resources('s1')).find((r) => r.type === 'mysql')!;
      const two = (await resources('s2')).find((r) => r.type === 'mysql')!;
      expect(one.definitionId).toBe('staging-mysql');
      expect(one.values.database).not.toBe(two.values.database);
      expect(await mysqlHas(one.values.database!)).toEqual({ database: true, user: true });
      // s1's credentials cannot reach s2's database.
      const { mysqlUrl } = await call('rows', 's1', 'GET', '/credentials');
      const intruder = new URL(mysqlUrl);
      intruder.pathname = `/${two.values.database}`;
      await expect(mysql.createConnection(intruder.toString())).rejects.toThrow(/Access denied/);
    }, 60_000);

    it('publishes to and consumes from a queue through rabbitmq-server; env B’s user is refused env A’s vhost', async () => {
      await call('queue', 's1', 'POST', '/publish?value=hello');
      await call('queue', 's1', 'POST', '/publish?value=world');
      expect(await call('queue', 's2', 'GET', '/consume')).toEqual({ value: null });
      expect(await call('queue', 's1', 'GET', '/consume')).toEqual({ value: 'hello' });
      expect(await call('queue', 's1', 'GET', '/consume')).toEqual({ value: 'world' });
      const bus = (await resources('s1')).find((r) => r.type === 'amqp')!;
      expect(bus.definitionId).toBe('staging-amqp');
      expect(bus.secrets).toEqual(['password', 'url']);
      expect(JSON.stringify(bus)).not.toMatch(/amqp:\/\/[^@]*:[^@]*@/);

      // RabbitMQ answers a user without permissions on a vhost with 530 NOT_ALLOWED (ACCESS_REFUSED, 403, is
      // its answer to wrong credentials): env B's user, with its own password, on env A's vhost.
      const a = await call('queue', 's1', 'GET', '/credentials');
      const b = new URL((await call('queue', 's2', 'GET', '/credentials')).amqpUrl);
      const user = decodeURIComponent(b.username);
      const password = decodeURIComponent(b.password);
      expect(await openVhost('127.0.0.1', 5672, user, password, a.vhost)).toEqual({
        code: 530,
        text: expect.stringMatching(/NOT_ALLOWED.*refused/),
      });
      const own = (await resources('s2')).find((r) => r.type === 'amqp')!.values.vhost!;
      expect(await openVhost('127.0.0.1', 5672, user, password, own)).toBe('opened');
    }, 60_000);

    it('clones s1 with its data: mysql rows are copied, and the clone says amqp is not', async () => {
      await ok(
        'envs',
        'create',
        'preview',
        '--app',
        'shop',
        '--type',
        'staging',
        '--from',
        's1',
        '--with-data',
      );
      const clone = await eventually(
        async () => {
          const list = JSON.parse(
            (await ok('deployments', 'list', '--app', 'shop', '--env', 'preview', '-o', 'json')).stdout,
          ).items as Deployment[];
          const last = list[0];
          return last && ['succeeded', 'failed'].includes(last.status) ? last : undefined;
        },
        120_000,
        'the clone deployment to finish',
      );
      expect(clone.status, clone.reason ?? '').toBe('succeeded');
      expect(await call('rows', 'preview', 'GET', '/rows')).toEqual(['s1-row']);
      expect(await call('queue', 'preview', 'GET', '/consume')).toEqual({ value: null });
      const detail = JSON.parse(
        (await ok('deployments', 'get', clone.id, '--app', 'shop', '--env', 'preview', '-o', 'json')).stdout,
      ) as DeploymentDetail;
      expect(detail.journal.map((entry) => entry.message).join('\n')).toMatch(/not cloned with data/);
      await ok('envs', 'delete', 'preview', '--app', 'shop', '--force');
    }, 180_000);

    it('deleting an environment drops its database and user, and its vhost and user, on the shared servers', async () => {
      const db = (await resources('s2')).find((r) => r.type === 'mysql')!;
      const bus = (await resources('s2')).find((r) => r.type === 'amqp')!;
      expect(await rabbitmqStatus(`vhosts/${encodeURIComponent(bus.values.vhost!)}`)).toBe(200);
      await ok('envs', 'delete', 's2', '--app', 'shop', '--force');
      expect(await mysqlHas(db.values.database!)).toEqual({ database: false, user: false });
      expect(await rabbitmqStatus(`vhosts/${encodeURIComponent(bus.values.vhost!)}`)).toBe(404);
      expect(await rabbitmqStatus(`users/${encodeURIComponent(bus.values.username!)}`)).toBe(404);
    }, 60_000);
  });
});
