import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import Redis from 'ioredis';
import type { Deployment, Resource } from '@pave/core';
import { stopEmbeddedPostgres } from '@pave/resource-postgres';
import { stopEmbeddedRedis } from '@pave/resource-redis';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { eventually } from '../support/processes.ts';
import { PG_ADMIN_URL, databaseExists } from '../support/postgres.ts';
import { viaRoute } from '../support/routes.ts';
import { makeAppDir } from '../support/app-dir.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/data-app', import.meta.url));
const REDIS_ADMIN_URL = process.env.PAVE_TEST_REDIS_ADMIN_URL ?? 'redis://127.0.0.1:6379';

async function redisUserExists(name: string): Promise<boolean> {
  const admin = new Redis(REDIS_ADMIN_URL);
  try {
    return ((await admin.call('ACL', 'LIST')) as string[]).some((line) => line.startsWith(`user ${name} `));
  } finally {
    admin.disconnect();
  }
}

describe('resources end to end: embedded defaults, shared servers, refactoring, clones, TTL, exec', () => {
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
  const deploy = (envId: string, ...extra: string[]) =>
    pave(
      'deploy',
      '-f',
      join(appDir, 'api.score.yaml'),
      '-f',
      join(appDir, 'worker.score.yaml'),
      '--app',
      'shop',
      '--env',
      envId,
      ...(extra.includes('--plan') ? [] : ['--wait']),
      ...extra,
    );
  const api = (envId: string, method: string, path: string) =>
    viaRoute(server.url, `api.${envId}.shop.localhost`, method, path);
  const resources = async (envId: string): Promise<Resource[]> =>
    JSON.parse((await ok('resources', 'list', '--app', 'shop', '--env', envId, '-o', 'json')).stdout).items;
  const lastDeployment = async (envId: string): Promise<Deployment | undefined> =>
    JSON.parse((await ok('deployments', 'list', '--app', 'shop', '--env', envId, '-o', 'json')).stdout)
      .items[0];

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir], { PAVE_JANITOR_INTERVAL_MS: '300' });
    await shortenStabilityWindow(server.url, location.dataDir);
    appDir = makeAppDir('pave-data-app-');
    // Workloads run as an unprivileged user when Pave is root: like any service user, it must read its code.
    cpSync(FIXTURE, appDir, { recursive: true });
    // The app requires pg and ioredis: let it find the repository's.
    symlinkSync(fileURLToPath(new URL('../../node_modules', import.meta.url)), join(appDir, 'node_modules'));
    await ok('apps', 'create', 'shop');
    await ok('envs', 'create', 'dev', '--app', 'shop', '--type', 'development');
  }, 60_000);
  afterAll(async () => {
    // Deleting the app deletes every environment's workloads and resources (shared-server databases too).
    if (server) await pave('apps', 'delete', 'shop', '--force');
    await server?.stop();
    if (location) {
      await stopEmbeddedPostgres(location.dataDir).catch(() => undefined);
      await stopEmbeddedRedis(location.dataDir).catch(() => undefined);
      await location.cleanup();
    }
    if (appDir) rmSync(appDir, { recursive: true, force: true });
  }, 120_000);

  it('provisions postgres and redis on the embedded defaults: the API writes and reads rows and keys', async () => {
    const plan = await deploy('dev', '--plan');
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/api\.db\s+postgres\s+create\s+default-postgres/);
    expect(plan.stdout).toMatch(/api\.cache\s+redis\s+create\s+default-redis/);
    const result = await deploy('dev', '-m', 'with data');
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect((await api('dev', 'POST', '/rows?value=first')).status).toBe(200);
    expect(JSON.parse((await api('dev', 'GET', '/rows')).body)).toEqual(['first']);
    expect((await api('dev', 'PUT', '/keys/color?value=blue')).status).toBe(200);
    expect(JSON.parse((await api('dev', 'GET', '/keys/color')).body)).toEqual({ value: 'blue' });
    const whoami = JSON.parse((await api('dev', 'GET', '/whoami')).body);
    expect(whoami.host).toBe('api.dev.shop.localhost');
    // A full URL as the request target is refused, not forwarded (it answered 500).
    const absolute = await api('dev', 'GET', `${server.url}/api/v1/whoami`);
    expect(absolute.status).toBe(400);
    expect(JSON.parse(absolute.body).detail).toBe(
      `the request target must be a path, not "${server.url}/api/v1/whoami"`,
    );
    const list = await resources('dev');
    expect(list.map((r) => [r.address, r.type, r.definitionId])).toEqual([
      ['api.cache', 'redis', 'default-redis'],
      ['api.db', 'postgres', 'default-postgres'],
      ['api.dns', 'dns', 'default-dns'],
      ['api.web', 'route', 'default-route'],
    ]);
    const graph = await ok('resources', 'graph', '--app', 'shop', '--env', 'dev');
    expect(graph.stdout).toMatch(/db\s+postgres/);
    const edges = JSON.parse(
      (await ok('resources', 'graph', '--app', 'shop', '--env', 'dev', '-o', 'json')).stdout,
    ).edges as Array<{ from: string; to: string; kind: string }>;
    // The route's host comes from the dns resource, so the dns name is provisioned first.
    expect(edges).toContainEqual({ from: 'api.web', to: 'api.dns', kind: 'depends-on' });
    // Secret outputs are named, never shown.
    const db = list.find((r) => r.address === 'api.db')!;
    expect(db.secrets).toEqual(['password', 'url']);
    expect(JSON.stringify(list)).not.toMatch(/postgres:\/\/[^@]*:[^@]*@/);
  }, 180_000);

  it('refuses to rename the postgres resource until `pave resources move`; then the rows are kept', async () => {
    const file = join(appDir, 'api.score.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8')
        .replace('  db:\n', '  maindb:\n')
        .replaceAll('${resources.db.', '${resources.maindb.'),
    );
    const refused = await deploy('dev');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('api.db');
    expect(refused.stderr).toContain('pave resources move --app shop --env dev api.db');
    await ok('resources', 'move', '--app', 'shop', '--env', 'dev', 'api.db', 'api.maindb');
    const moved = await deploy('dev', '-m', 'renamed db to maindb');
    expect(moved.code, moved.stderr + moved.stdout).toBe(0);
    expect(JSON.parse((await api('dev', 'GET', '/rows')).body)).toEqual(['first']);
    expect((await resources('dev')).map((r) => r.address)).toContain('api.maindb');
  }, 180_000);

  it('clones dev with its data: the preview starts with dev’s rows and writes only its own', async () => {
    await ok(
      'envs',
      'create',
      'preview',
      '--app',
      'shop',
      '--type',
      'development',
      '--from',
      'dev',
      '--with-data',
    );
    const clone = await eventually(
      async () => {
        const last = await lastDeployment('preview');
        return last && ['succeeded', 'failed'].includes(last.status) ? last : undefined;
      },
      120_000,
      'the clone deployment to finish',
    );
    expect(clone.status, clone.reason ?? '').toBe('succeeded');
    expect(JSON.parse((await api('preview', 'GET', '/rows')).body)).toEqual(['first']);
    await api('preview', 'POST', '/rows?value=preview-only');
    expect(JSON.parse((await api('preview', 'GET', '/rows')).body)).toEqual(['first', 'preview-only']);
    expect(JSON.parse((await api('dev', 'GET', '/rows')).body)).toEqual(['first']);
    await ok('envs', 'delete', 'preview', '--app', 'shop', '--force');
    // The route goes with the environment (the proxy rereads its routes within a second).
    await eventually(
      async () => ((await api('preview', 'GET', '/rows')).status === 404 ? true : undefined),
      5_000,
      'the preview route to be gone',
    );
  }, 180_000);

  describe('with postgres-server and redis-server definitions for the staging type', () => {
    const defsFile = () => join(appDir, 'defs.yaml');

    beforeAll(async () => {
      writeFileSync(
        defsFile(),
        [
          'id: staging-postgres',
          'type: postgres',
          'driver: postgres-server',
          'driverInputs:',
          '  secrets:',
          `    adminUrl: ${PG_ADMIN_URL}`,
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
    });

    it('applies the definitions idempotently and explains the match', async () => {
      const first = await ok('defs', 'apply', '-f', defsFile());
      expect(first.stdout).toMatch(/staging-postgres\s+create/);
      const again = await ok('defs', 'apply', '-f', defsFile(), '-o', 'json');
      expect(again.stdout).not.toMatch(/"action":\s*"(create|update)"/);
      await ok('envs', 'create', 's1', '--app', 'shop', '--type', 'staging');
      await ok('envs', 'create', 's2', '--app', 'shop', '--type', 'staging');
      const match = JSON.parse(
        (await ok('defs', 'match', '--app', 'shop', '--env', 's1', '--type', 'postgres', '-o', 'json'))
          .stdout,
      );
      expect(match.winner.id).toBe('staging-postgres');
      expect(match.candidates.find((c: { id: string }) => c.id === 'default-postgres').outcome).toBe('lost');
      const list = await ok('defs', 'list', '-o', 'json');
      expect(list.stdout).not.toContain(PG_ADMIN_URL.split('@')[0] + '@');
    }, 60_000);

    it('runs the same Score file unchanged; each environment has its own database and ACL user', async () => {
      for (const envId of ['s1', 's2']) {
        const result = await deploy(envId);
        expect(result.code, result.stderr + result.stdout).toBe(0);
      }
      await api('s1', 'POST', '/rows?value=s1-row');
      await api('s1', 'PUT', '/keys/secret?value=s1-key');
      await api('s2', 'PUT', '/keys/secret?value=s2-key');
      expect(JSON.parse((await api('s1', 'GET', '/rows')).body)).toEqual(['s1-row']);
      expect(JSON.parse((await api('s2', 'GET', '/rows')).body)).toEqual([]);
      expect(JSON.parse((await api('s2', 'GET', '/keys/secret')).body)).toEqual({ value: 's2-key' });

      const [one, two] = await Promise.all(
        ['s1', 's2'].map(async (envId) => {
          const db = (await resources(envId)).find((r) => r.type === 'postgres')!;
          const cache = (await resources(envId)).find((r) => r.type === 'redis')!;
          expect(db.definitionId).toBe('staging-postgres');
          return { db, cache, credentials: JSON.parse((await api(envId, 'GET', '/credentials')).body) };
        }),
      );
      expect(one!.db.values.database).not.toBe(two!.db.values.database);
      expect(await databaseExists(one!.db.values.database!)).toBe(true);
      expect(await databaseExists(two!.db.values.database!)).toBe(true);

      // s1's credentials cannot read s2's database…
      const intruder = new URL(one!.credentials.databaseUrl);
      intruder.pathname = `/${two!.db.values.database}`;
      const client = new pg.Client({ connectionString: intruder.toString() });
      await expect(client.connect().then(() => client.query('select * from items'))).rejects.toThrow(
        /permission denied|not permitted|does not exist/,
      );
      await client.end().catch(() => undefined);
      // …nor s2's keys.
      const redis = new Redis(one!.credentials.redisUrl, { maxRetriesPerRequest: 1 });
      try {
        await expect(redis.get(`${two!.cache.values.prefix}secret`)).rejects.toThrow(/NOPERM/);
        expect(await redis.get(`${one!.cache.values.prefix}secret`)).toBe('s1-key');
      } finally {
        redis.disconnect();
      }
    }, 240_000);

    it('deleting an environment drops its database and its ACL user on the shared servers', async () => {
      const db = (await resources('s2')).find((r) => r.type === 'postgres')!;
      const cache = (await resources('s2')).find((r) => r.type === 'redis')!;
      await ok('envs', 'delete', 's2', '--app', 'shop', '--force');
      expect(await databaseExists(db.values.database!)).toBe(false);
      expect(await redisUserExists(cache.values.username!)).toBe(false);
    }, 60_000);

    it('an ephemeral environment disappears with its resources after its time to live', async () => {
      const db = (await resources('s1')).find((r) => r.type === 'postgres')!;
      const extended = JSON.parse(
        (await ok('envs', 'extend', 's1', '--app', 'shop', '--ttl', '2s', '--force', '-o', 'json')).stdout,
      );
      expect(Date.parse(extended.expiresAt)).toBeGreaterThan(Date.now());
      await eventually(
        async () => ((await pave('envs', 'get', 's1', '--app', 'shop')).code === 1 ? true : undefined),
        30_000,
        'the janitor to delete s1',
      );
      expect(await databaseExists(db.values.database!)).toBe(false);
      // --ttl on create: an environment that was ephemeral from the start goes the same way.
      const created = JSON.parse(
        (
          await ok(
            'envs',
            'create',
            'brief',
            '--app',
            'shop',
            '--type',
            'staging',
            '--ttl',
            '1s',
            '-o',
            'json',
          )
        ).stdout,
      );
      expect(created.expiresAt).not.toBeNull();
      await eventually(
        async () => ((await pave('envs', 'get', 'brief', '--app', 'shop')).code === 1 ? true : undefined),
        30_000,
        'the janitor to delete brief',
      );
      const audit = await ok('audit', '--app', 'shop', '-o', 'json');
      expect(audit.stdout).toContain('pave-janitor');
    }, 60_000);
  });

  describe('the exec driver', () => {
    let resourceRoot: string;

    beforeAll(async () => {
      resourceRoot = mkdtempSync(join(tmpdir(), 'pave-exec-'));
      // Exec commands are isolated like workloads: the script may write only its `cwd`, as the workload user.
      chmodSync(resourceRoot, 0o777);
      const script = join(resourceRoot, 'bucket.sh');
      // A platform script: keeps each "bucket" as a directory; fails part way when params.fail is set.
      writeFileSync(
        script,
        [
          '#!/bin/sh',
          'set -e',
          'input=$(cat)',
          `root=${resourceRoot}/buckets`,
          'name=$(printf "%s" "$PAVE_RESOURCE_ADDRESS" | tr -c "a-zA-Z0-9\\n" "_")',
          'dir="$root/$name"',
          'case "$PAVE_ACTION" in',
          '  create|update)',
          '    mkdir -p "$dir"',
          '    case "$input" in *\'"fail":true\'*) echo "quota exceeded for $name" >&2; exit 1;; esac',
          '    printf \'{"id":"%s","values":{"dir":"%s"}}\' "$name" "$dir";;',
          '  read) if [ -d "$dir" ]; then printf \'{"values":{"dir":"%s"}}\' "$dir"; else echo null; fi;;',
          '  delete) rm -rf "$dir";;',
          'esac',
          '',
        ].join('\n'),
      );
      chmodSync(script, 0o755);
      writeFileSync(
        join(appDir, 'exec-defs.yaml'),
        `- id: buckets\n  type: bucket\n  driver: exec\n  driverInputs:\n    values:\n      command: ['${script}']\n      cwd: ${resourceRoot}\n`,
      );
      await ok('defs', 'apply', '-f', join(appDir, 'exec-defs.yaml'));
      await ok('envs', 'create', 'tools', '--app', 'shop', '--type', 'development');
    }, 60_000);
    afterAll(() => rmSync(resourceRoot, { recursive: true, force: true }));

    const storeScore = (fail: boolean) =>
      [
        'apiVersion: score.dev/v1b1',
        'metadata:',
        '  name: store',
        'containers:',
        '  main:',
        '    image: node:20',
        "    command: ['node', '-e', 'setInterval(() => {}, 1000)']",
        '    variables:',
        '      BUCKET_DIR: ${resources.files.dir}',
        'resources:',
        '  files:',
        '    type: bucket',
        ...(fail ? ['    params:', '      fail: true'] : []),
        '',
      ].join('\n');

    it('provisions a custom type through a platform script, and a failed create leaves nothing behind', async () => {
      const file = join(appDir, 'store.score.yaml');
      writeFileSync(file, storeScore(false));
      const first = await pave('deploy', '-f', file, '--app', 'shop', '--env', 'tools', '--wait');
      expect(first.code, first.stderr + first.stdout).toBe(0);
      expect(existsSync(join(resourceRoot, 'buckets', 'store_files'))).toBe(true);

      // A second bucket whose create fails part way: the deployment fails with the script's message,
      // the half-made bucket is removed again, and the running deployment stays.
      const other = join(appDir, 'other.score.yaml');
      writeFileSync(other, storeScore(true).replace('name: store', 'name: other'));
      const failed = await pave('deploy', '-f', other, '--app', 'shop', '--env', 'tools', '--wait');
      expect(failed.code).not.toBe(0);
      expect(failed.stderr + failed.stdout).toContain('quota exceeded for other_files');
      expect(existsSync(join(resourceRoot, 'buckets', 'other_files'))).toBe(false);
      const [files] = await resources('tools');
      expect(files).toMatchObject({ address: 'store.files', definitionId: 'buckets', driver: 'exec' });
      expect(files!.values.dir).toBe(join(resourceRoot, 'buckets', 'store_files'));
      expect((await resources('tools')).map((r) => r.address)).toEqual(['store.files']);
      const status = JSON.parse((await ok('status', '--app', 'shop', '--env', 'tools', '-o', 'json')).stdout);
      expect(status.workloads.map((w: { workload: string }) => w.workload)).toEqual(['store']);
    }, 120_000);

    it('rolls back a failed deployment that added a stateful resource, and deletes the resource it created', async () => {
      const file = join(appDir, 'store.score.yaml');
      writeFileSync(
        file,
        storeScore(false)
          .replace("'setInterval(() => {}, 1000)'", "'process.exit(3)'")
          .concat('  scratch:\n    type: volume\n'),
      );
      const failed = await pave('deploy', '-f', file, '--app', 'shop', '--env', 'tools', '--wait');
      expect(failed.code).not.toBe(0);
      const last = await lastDeployment('tools');
      expect(last).toMatchObject({ status: 'failed', rolledBack: true });
      // The previous set runs again, and the volume the failed run created is deleted again: nothing of the
      // failed set uses it, and no deployment that succeeded ever did. The volume that existed before stays.
      const status = JSON.parse((await ok('status', '--app', 'shop', '--env', 'tools', '-o', 'json')).stdout);
      expect(status.workloads.map((w: { state: string }) => w.state)).toEqual(['ready']);
      expect((await resources('tools')).map((r) => r.address)).toEqual(['store.files']);
      const journal = JSON.parse(
        (await ok('deployments', 'get', last!.id, '--app', 'shop', '--env', 'tools', '-o', 'json')).stdout,
      ).journal as Array<{ message: string }>;
      expect(journal.some((e) => /store\.scratch: deleted/.test(e.message))).toBe(true);
    }, 120_000);

    it('refuses a resource type that no definition provisions, naming the type and the fix', async () => {
      const file = join(appDir, 'odd.score.yaml');
      writeFileSync(
        file,
        storeScore(false).replace('type: bucket', 'type: s3').replace('name: store', 'name: odd'),
      );
      const result = await pave('deploy', '-f', file, '--app', 'shop', '--env', 'tools', '--plan');
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('no resource definition provisions type "s3"');
      expect(result.stderr).toContain('pave defs apply');
    }, 60_000);
  });
});
