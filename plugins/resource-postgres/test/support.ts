import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Client } from 'pg';
import { expect } from 'vitest';
import type { ResourceInputs, ResourceOutputs, ResourceScope } from '@pave/plugin-api';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The machine's PostgreSQL, standing in for a server a platform team runs (see ENVIRONMENT.md). */
export const ADMIN_URL = process.env.PAVE_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Bundles the PGlite daemon the way the build does, into a directory inside the repository (its npm
 * dependencies stay external and must resolve from the repository's node_modules). Returns its path and a
 * function that removes it.
 */
export async function buildPgliteDaemon(): Promise<{ script: string; remove: () => void }> {
  const dir = join(ROOT, '.vitest-tmp', `resource-postgres-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const script = join(dir, 'pglite-server.mjs');
  await build({
    entryPoints: [join(ROOT, 'plugins/resource-postgres/src/pglite/main.ts')],
    outfile: script,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  return { script, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh temporary directory standing in for Pave's data directory. */
export function temporaryDataDir(): { dataDir: string; remove: () => void } {
  const dataDir = mkdtempSync(join(tmpdir(), 'pave-postgres-test-'));
  return { dataDir, remove: () => rmSync(dataDir, { recursive: true, force: true }) };
}

/** Scopes with an app name unique to this test run, so runs never collide on a shared server. */
export function scopes(): (env: string, address?: string) => ResourceScope {
  const app = `t${randomBytes(4).toString('hex')}`;
  return (env, address = 'api.db') => ({
    app,
    env,
    envType: 'development',
    type: 'postgres',
    class: 'default',
    resId: address,
    address,
  });
}

/** Inputs with `scope` and the given driver inputs and secrets. */
export function inputsFor(
  scope: ResourceScope,
  driverSecrets: Record<string, unknown> = {},
  driverInputs: Record<string, unknown> = {},
): ResourceInputs {
  return { scope, driverInputs, driverSecrets, params: {} };
}

/** Runs `fn` with a client connected to `url`, then closes it. */
export async function withConnection<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether `url` accepts a connection and a query. */
export async function canConnect(url: string): Promise<boolean> {
  try {
    await withConnection(url, (client) => client.query('SELECT 1'));
    return true;
  } catch {
    return false;
  }
}

/** `outputs`' URL pointing at another database (same user and password). */
export function urlWithDatabase(outputs: ResourceOutputs, database: string): string {
  const url = new URL(outputs.secrets.url!);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/**
 * What environment isolation means to a user: A's credentials can create, write and read in A's database, and
 * neither can reach the other's database.
 */
export async function expectIsolated(a: ResourceOutputs, b: ResourceOutputs): Promise<void> {
  await withConnection(a.secrets.url!, async (client) => {
    await client.query('CREATE TABLE notes (body text)');
    await client.query("INSERT INTO notes VALUES ('only for A')");
    expect((await client.query('SELECT body FROM notes')).rows).toEqual([{ body: 'only for A' }]);
  });
  await expect(
    withConnection(urlWithDatabase(a, b.values.database!), (c) => c.query('SELECT 1')),
  ).rejects.toThrow(/permission denied|does not exist/);
  await expect(
    withConnection(urlWithDatabase(b, a.values.database!), (c) => c.query('SELECT 1')),
  ).rejects.toThrow(/permission denied|does not exist/);
}

/** Writes a table `items` with the rows apple and pear into the source database of a clone test. */
export async function writeSourceRows(source: ResourceOutputs): Promise<void> {
  await withConnection(source.secrets.url!, async (client) => {
    await client.query('CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL)');
    await client.query("INSERT INTO items (name) VALUES ('apple'), ('pear')");
  });
}

/**
 * What cloning means to a user: rows written in the source before the clone appear in the clone, and writes
 * in the clone leave the source alone.
 */
export async function expectIndependentCopy(source: ResourceOutputs, clone: ResourceOutputs): Promise<void> {
  expect(await itemNames(clone)).toEqual(['apple', 'pear']);
  await withConnection(clone.secrets.url!, (client) =>
    client.query("INSERT INTO items (name) VALUES ('plum')"),
  );
  expect(await itemNames(clone)).toEqual(['apple', 'pear', 'plum']);
  expect(await itemNames(source)).toEqual(['apple', 'pear']);
}

/** The names in table `items` (see writeSourceRows), in insertion order. */
export function itemNames(outputs: ResourceOutputs): Promise<string[]> {
  return withConnection(outputs.secrets.url!, async (client) =>
    (await client.query<{ name: string }>('SELECT name FROM items ORDER BY id')).rows.map((row) => row.name),
  );
}
