import { randomBytes } from 'node:crypto';
import { createConnection, type Connection } from 'mysql2/promise';
import { expect } from 'vitest';
import type { ResourceInputs, ResourceOutputs, ResourceScope } from '@pave/plugin-api';

/** The machine's MariaDB, standing in for a server a platform team runs (root without a password). */
export const ADMIN_URL = process.env.PAVE_TEST_MYSQL_ADMIN_URL ?? 'mysql://root@127.0.0.1:3306/';

/**
 * Scopes with an app name unique to this test run (`t<8 hex digits>`), so runs never collide on the shared
 * server and `dropEverythingOf` finds everything a run made.
 */
export function scopes(): { app: string; scope: (env: string, resId?: string) => ResourceScope } {
  const app = `t${randomBytes(4).toString('hex')}`;
  return {
    app,
    scope: (env, resId = 'api.db') => ({
      app,
      env,
      envType: 'development',
      type: 'mysql',
      class: 'default',
      resId,
      address: resId,
    }),
  };
}

/** Inputs with `scope` and the given driver secrets and values. */
export function inputsFor(
  scope: ResourceScope,
  driverSecrets: Record<string, unknown> = {},
  driverInputs: Record<string, unknown> = {},
): ResourceInputs {
  return { scope, driverInputs, driverSecrets, params: {} };
}

/** Runs `fn` with a connection to `url` (as an app would open it), then closes it. */
export async function withConnection<T>(url: string, fn: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await createConnection({ uri: url, connectTimeout: 10_000 });
  connection.on('error', () => undefined);
  try {
    return await fn(connection);
  } finally {
    await connection.end().catch(() => connection.destroy());
  }
}

/** Rows of `sql` run on `connection`. */
export async function rows<T>(connection: Connection, sql: string, values: unknown[] = []): Promise<T[]> {
  const [result] = await connection.query(sql, values);
  return result as T[];
}

/** Whether the server at `adminUrl` has the database, or the user `'name'@'%'`, asked of its catalogues. */
export function catalogueHas(adminUrl: string, kind: 'database' | 'user', name: string): Promise<boolean> {
  const sql =
    kind === 'database'
      ? 'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?'
      : "SELECT 1 FROM mysql.user WHERE User = ? AND Host = '%'";
  return withConnection(adminUrl, async (c) => (await rows(c, sql, [name])).length > 0);
}

/** Drops every database and user whose name starts with `<app>_` (what a test run made) from the server. */
export async function dropEverythingOf(adminUrl: string, app: string): Promise<void> {
  await withConnection(adminUrl, async (c) => {
    const pattern = `${app}\\_%`;
    const databases = await rows<{ name: string }>(
      c,
      'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?',
      [pattern],
    );
    for (const { name } of databases) await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
    const users = await rows<{ user: string; host: string }>(
      c,
      'SELECT User AS user, Host AS host FROM mysql.user WHERE User LIKE ?',
      [pattern],
    );
    for (const { user, host } of users) await c.query('DROP USER IF EXISTS ?@?', [user, host]);
  });
}

/** The error `promise` rejects with (failing the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  expect.fail('expected a rejection');
}

/** `outputs`' URL pointing at another database (same user and password). */
export function urlWithDatabase(outputs: ResourceOutputs, database: string): string {
  const url = new URL(outputs.secrets.url!);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/**
 * What environment isolation means to a user: A's credentials create, write and read tables in A's database;
 * they can neither connect to B's database, nor read or write its tables, nor create a database.
 */
export async function expectIsolated(a: ResourceOutputs, b: ResourceOutputs): Promise<void> {
  const other = b.values.database!;
  await withConnection(b.secrets.url!, (c) => c.query('CREATE TABLE notes (body TEXT)'));
  await withConnection(a.secrets.url!, async (c) => {
    await c.query('CREATE TABLE notes (body TEXT)');
    await c.query("INSERT INTO notes VALUES ('only for A')");
    expect(await rows(c, 'SELECT body FROM notes')).toEqual([{ body: 'only for A' }]);
    expect((await rejection(c.query(`SELECT * FROM \`${other}\`.notes`))).code).toMatch(
      /^ER_(TABLEACCESS|DBACCESS)_DENIED_ERROR$/,
    );
    expect((await rejection(c.query(`INSERT INTO \`${other}\`.notes VALUES ('from A')`))).code).toMatch(
      /^ER_(TABLEACCESS|DBACCESS)_DENIED_ERROR$/,
    );
    expect((await rejection(c.query(`USE \`${other}\``))).code).toBe('ER_DBACCESS_DENIED_ERROR');
    expect((await rejection(c.query(`CREATE DATABASE \`${a.values.database}_extra\``))).code).toBe(
      'ER_DBACCESS_DENIED_ERROR',
    );
    const visible = await rows<{ Database: string }>(c, 'SHOW DATABASES');
    expect(visible.map((row) => row.Database).sort()).toEqual(
      ['information_schema', a.values.database!].sort(),
    );
  });
  expect((await rejection(withConnection(urlWithDatabase(a, other), (c) => c.query('SELECT 1')))).code).toBe(
    'ER_DBACCESS_DENIED_ERROR',
  );
  await withConnection(b.secrets.url!, async (c) => {
    expect(await rows(c, 'SELECT body FROM notes')).toEqual([]);
  });
}

/** Writes a table `items` with the rows apple and pear into the source database of a clone test. */
export async function writeSourceRows(source: ResourceOutputs): Promise<void> {
  await withConnection(source.secrets.url!, async (c) => {
    await c.query('CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL)');
    await c.query("INSERT INTO items (name) VALUES ('apple'), ('pear')");
  });
}

/** The names in table `items` (see writeSourceRows), in insertion order. */
export function itemNames(outputs: ResourceOutputs): Promise<string[]> {
  return withConnection(outputs.secrets.url!, async (c) =>
    (await rows<{ name: string }>(c, 'SELECT name FROM items ORDER BY id')).map((row) => row.name),
  );
}

/**
 * What cloning means to a user: rows written in the source before the clone appear in the clone, and writes
 * in the clone leave the source alone.
 */
export async function expectIndependentCopy(source: ResourceOutputs, clone: ResourceOutputs): Promise<void> {
  expect(await itemNames(clone)).toEqual(['apple', 'pear']);
  await withConnection(clone.secrets.url!, (c) => c.query("INSERT INTO items (name) VALUES ('plum')"));
  expect(await itemNames(clone)).toEqual(['apple', 'pear', 'plum']);
  expect(await itemNames(source)).toEqual(['apple', 'pear']);
}
