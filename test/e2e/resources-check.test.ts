import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Resource, ResourceCheck } from '@pave/core';
import { stopEmbeddedPostgres } from '@pave/resource-postgres';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { makeAppDir } from '../support/app-dir.ts';

/** A workload that idles, with one postgres database provisioned by the embedded default. */
const SCORE = [
  'apiVersion: score.dev/v1b1',
  'metadata:',
  '  name: api',
  'containers:',
  '  main:',
  '    image: node:20',
  "    command: ['node', '-e', 'setInterval(() => {}, 1000)']",
  '    variables:',
  '      DATABASE_URL: ${resources.db.url}',
  'resources:',
  '  db:',
  '    type: postgres',
  '',
].join('\n');

/**
 * Runs `sql` as the superuser of the embedded PostgreSQL server Pave started under `dataDir` (the system
 * engine keeps its port in system-server.json and the superuser's password next to it).
 */
async function asEmbeddedSuperuser(dataDir: string, sql: string): Promise<Array<Record<string, unknown>>> {
  const base = join(dataDir, 'resources', 'postgres');
  const { port } = JSON.parse(readFileSync(join(base, 'system-server.json'), 'utf8')) as { port: number };
  const password = readFileSync(join(base, 'system-superuser-password'), 'utf8').trim();
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Array<Record<string, unknown>>;
  } finally {
    await client.end();
  }
}

describe('pave resources check finds a database dropped behind Pave’s back; --recreate-missing brings it back', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let appDir: string;
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));
  const ok = async (...args: string[]) => {
    const result = await pave(...args);
    expect(result.code, `pave ${args.join(' ')}\n${result.stderr}${result.stdout}`).toBe(0);
    return result;
  };
  const deploy = (...extra: string[]) =>
    pave('deploy', '-f', join(appDir, 'api.score.yaml'), '--app', 'shop', '--env', 'dev', '--wait', ...extra);
  const checked = async (): Promise<{ code: number | null; items: ResourceCheck[]; stderr: string }> => {
    const result = await pave('resources', 'check', '--app', 'shop', '--env', 'dev', '-o', 'json');
    return { code: result.code, items: JSON.parse(result.stdout).items, stderr: result.stderr };
  };
  const database = async (): Promise<string> => {
    const list = JSON.parse(
      (await ok('resources', 'list', '--app', 'shop', '--env', 'dev', '-o', 'json')).stdout,
    ).items as Resource[];
    return list.find((resource) => resource.address === 'api.db')!.values.database!;
  };

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    // The system engine: a real PostgreSQL server whose databases a superuser can drop.
    server = await startPave(['--data-dir', location.dataDir], { PAVE_EMBEDDED_POSTGRES: 'system' });
    await shortenStabilityWindow(server.url, location.dataDir);
    appDir = makeAppDir('pave-check-app-');
    writeFileSync(join(appDir, 'api.score.yaml'), SCORE);
    await ok('apps', 'create', 'shop');
    await ok('envs', 'create', 'dev', '--app', 'shop', '--type', 'development');
  }, 60_000);
  afterAll(async () => {
    if (server) await pave('apps', 'delete', 'shop', '--force');
    await server?.stop();
    if (location) {
      await stopEmbeddedPostgres(location.dataDir).catch(() => undefined);
      await location.cleanup();
    }
    if (appDir) rmSync(appDir, { recursive: true, force: true });
  }, 120_000);

  it('reports ok, then missing (exit code 3) once the database is dropped; the deployment recreates it', async () => {
    const first = await deploy();
    expect(first.code, first.stderr + first.stdout).toBe(0);
    const table = await ok('resources', 'check', '--app', 'shop', '--env', 'dev');
    expect(table.stdout).toMatch(/api\.db\s+postgres\s+ok/);

    const name = await database();
    await asEmbeddedSuperuser(location.dataDir, `DROP DATABASE "${name}" WITH (FORCE)`);

    const missing = await checked();
    expect(missing.code).toBe(3);
    expect(missing.items.find((item) => item.address === 'api.db')).toMatchObject({
      status: 'missing',
      detail: expect.stringContaining('--recreate-missing'),
    });
    expect(missing.stderr).toContain('api.db missing');
    const people = await pave('resources', 'check', '--app', 'shop', '--env', 'dev');
    expect(people.code).toBe(3);
    expect(people.stdout).toMatch(/api\.db\s+postgres\s+missing/);

    const plan = await pave(
      'deploy',
      '-f',
      join(appDir, 'api.score.yaml'),
      '--app',
      'shop',
      '--env',
      'dev',
      '--plan',
    );
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/api\.db\s+postgres\s+create\s+.*missing/);

    const refused = await deploy();
    expect(refused.code).not.toBe(0);
    expect(refused.stderr + refused.stdout).toContain('--recreate-missing');

    const recreated = await deploy('--recreate-missing');
    expect(recreated.code, recreated.stderr + recreated.stdout).toBe(0);
    const after = await checked();
    expect(after.code, after.stderr).toBe(0);
    expect(after.items.map((item) => [item.address, item.status])).toContainEqual(['api.db', 'ok']);
    const exists = await asEmbeddedSuperuser(
      location.dataDir,
      `SELECT 1 FROM pg_database WHERE datname = '${await database()}'`,
    );
    expect(exists).toHaveLength(1);
  }, 180_000);
});
