import { createHash, randomBytes } from 'node:crypto';
import { cpSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentDetail, Resource, ResourceCheck } from '@pave/core';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { PG_ADMIN_URL, adminQuery, databaseExists } from '../support/postgres.ts';
import { viaRoute } from '../support/routes.ts';
import { makeAppDir } from '../support/app-dir.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/data-app', import.meta.url));
const MODULE = fileURLToPath(new URL('../fixtures/terraform/postgres', import.meta.url));
const REDIS_ADMIN_URL = process.env.PAVE_TEST_REDIS_ADMIN_URL ?? 'redis://127.0.0.1:6379';

describe('the terraform driver end to end: a postgres resource from a Terraform module, state in Pave', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let appDir: string;
  // The module derives each database's password from this secret, as sha256(salt/name), first 32 characters.
  const salt = randomBytes(12).toString('hex');
  const passwordOf = (name: string) =>
    createHash('sha256').update(`${salt}/${name}`).digest('hex').slice(0, 32);
  const env = () => clientEnv(server.url, location.dataDir);
  const pave = (...args: string[]) => runPave(args, env());
  const ok = async (...args: string[]) => {
    const result = await pave(...args);
    expect(result.code, `pave ${args.join(' ')}\n${result.stderr}${result.stdout}`).toBe(0);
    return result;
  };
  const deploy = (envId: string, ...extra: string[]) =>
    pave('deploy', '-f', join(appDir, 'api.score.yaml'), '--app', 'shop', '--env', envId, '--wait', ...extra);
  const api = (envId: string, method: string, path: string) =>
    viaRoute(server.url, `api.${envId}.shop.localhost`, method, path);
  const json = async <T>(...args: string[]): Promise<T> =>
    JSON.parse((await ok(...args, '-o', 'json')).stdout) as T;
  const latest = async (envId: string): Promise<DeploymentDetail> => {
    const list = await json<{ items: Array<{ id: string }> }>(
      'deployments',
      'list',
      '--app',
      'shop',
      '--env',
      envId,
    );
    return json<DeploymentDetail>('deployments', 'get', list.items[0]!.id, '--app', 'shop', '--env', envId);
  };

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
    await shortenStabilityWindow(server.url, location.dataDir);
    appDir = makeAppDir('pave-terraform-app-');
    cpSync(FIXTURE, appDir, { recursive: true });
    cpSync(MODULE, join(appDir, 'modules', 'postgres'), { recursive: true });
    symlinkSync(fileURLToPath(new URL('../../node_modules', import.meta.url)), join(appDir, 'node_modules'));
    writeFileSync(
      join(appDir, 'defs.yaml'),
      [
        'id: staging-postgres',
        'type: postgres',
        'driver: terraform',
        'driverInputs:',
        '  values:',
        `    source: ${join(appDir, 'modules', 'postgres')}`,
        '    variables:',
        '      app: ${context.app}',
        '      env: ${context.env}',
        '      res: ${context.res}',
        `      admin_url: ${PG_ADMIN_URL}`,
        '  secrets:',
        `    password_salt: ${salt}`,
        'criteria:',
        '  - envType: staging',
        '---',
        'id: staging-redis',
        'type: redis',
        'driver: redis-server',
        'driverInputs:',
        '  secrets:',
        `    adminUrl: ${REDIS_ADMIN_URL}`,
        'criteria:',
        '  - envType: staging',
        '',
      ].join('\n'),
    );
    await ok('apps', 'create', 'shop');
    await ok('defs', 'apply', '-f', join(appDir, 'defs.yaml'));
  }, 60_000);

  afterAll(async () => {
    if (server) await pave('apps', 'delete', 'shop', '--force');
    await server?.stop();
    for (const name of ['tf_shop_s1_api_db', 'tf_shop_s2_api_db']) {
      await adminQuery(`drop database if exists ${name} with (force)`).catch(() => undefined);
      await adminQuery(`drop role if exists ${name}`).catch(() => undefined);
    }
    await location?.cleanup();
    if (appDir) rmSync(appDir, { recursive: true, force: true });
  }, 120_000);

  it('deploys the app unchanged: the database exists, the workload uses it, and the password shows nowhere', async () => {
    await ok('envs', 'create', 's1', '--app', 'shop', '--type', 'staging');
    const result = await deploy('s1');
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(await databaseExists('tf_shop_s1_api_db')).toBe(true);
    expect((await api('s1', 'POST', '/rows?value=first')).status).toBe(200);
    expect(JSON.parse((await api('s1', 'GET', '/rows')).body)).toEqual(['first']);

    const resources = (await json<{ items: Resource[] }>('resources', 'list', '--app', 'shop', '--env', 's1'))
      .items;
    const db = resources.find((resource) => resource.address === 'api.db')!;
    expect(db).toMatchObject({ driver: 'terraform', definitionId: 'staging-postgres' });
    expect(db.secrets).toEqual(['password', 'url']);

    // Terraform's output is in the journal.
    const deployment = await latest('s1');
    const journal = deployment.journal.map((entry) => entry.message).join('\n');
    expect(journal).toMatch(/Apply complete!/);

    const password = passwordOf('tf_shop_s1_api_db');
    const checks = await json<{ items: ResourceCheck[] }>(
      'resources',
      'check',
      '--app',
      'shop',
      '--env',
      's1',
    );
    expect(checks.items.find((check) => check.address === 'api.db')).toMatchObject({ status: 'ok' });
    for (const [where, text] of [
      ['resources list', JSON.stringify(resources)],
      ['the journal', JSON.stringify(deployment)],
      ['resources check', JSON.stringify(checks)],
      ['the server log', server.output()],
      ['the store', readFileSync(join(location.dataDir, 'pave.db')).toString('latin1')],
    ] as const) {
      expect(text.includes(password), `the password is in ${where}`).toBe(false);
      expect(text.includes(salt), `the salt is in ${where}`).toBe(false);
    }
  }, 240_000);

  it('fails a deployment on a Terraform syntax error naming the file and line, and the previous one keeps running', async () => {
    // A new version of the module, with a syntax error, is what the definition now points at.
    const broken = join(appDir, 'modules', 'postgres-v2');
    cpSync(MODULE, broken, { recursive: true });
    writeFileSync(
      join(broken, 'main.tf'),
      `${readFileSync(join(MODULE, 'main.tf'), 'utf8')}\noutput "broken" {\n  value = \n}\n`,
    );
    const defs = join(appDir, 'defs.yaml');
    const good = readFileSync(defs, 'utf8');
    writeFileSync(defs, good.replace(join(appDir, 'modules', 'postgres'), broken));
    await ok('defs', 'apply', '-f', defs);
    try {
      const result = await deploy('s1', '-m', 'module v2');
      expect(result.code).not.toBe(0);
      const failed = await latest('s1');
      expect(failed.status).toBe('failed');
      expect(JSON.stringify(failed)).toMatch(/postgres-v2\/main\.tf line \d+/);
      expect(JSON.parse((await api('s1', 'GET', '/rows')).body)).toEqual(['first']);
    } finally {
      writeFileSync(defs, good);
      await ok('defs', 'apply', '-f', defs);
    }
  }, 240_000);

  it('destroys the database with the environment', async () => {
    await ok('envs', 'delete', 's1', '--app', 'shop', '--force');
    expect(await databaseExists('tf_shop_s1_api_db')).toBe(false);
  }, 240_000);

  it('reports drift once the database is dropped by hand', async () => {
    await ok('envs', 'create', 's2', '--app', 'shop', '--type', 'staging');
    const result = await deploy('s2');
    expect(result.code, result.stderr + result.stdout).toBe(0);
    await adminQuery('drop database tf_shop_s2_api_db with (force)');
    const check = await pave('resources', 'check', '--app', 'shop', '--env', 's2', '-o', 'json');
    expect(check.code).toBe(3);
    const found = (JSON.parse(check.stdout) as { items: ResourceCheck[] }).items.find(
      (item) => item.address === 'api.db',
    );
    expect(found).toMatchObject({ status: 'drifted' });
    expect(found?.detail).toMatch(/tf_shop_s2_api_db/);
  }, 240_000);
});
