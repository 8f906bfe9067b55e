// The resource itself, the same on a server the platform team runs (mysql-server) and on the one Pave runs
// (mysql-embedded): a database and a user of the same name, the user granted everything on that database only.
import type { Connection } from 'mysql2/promise';
import { ConflictError, InputError } from '@pave/core';
import type { DriverContext, ResourceOutputs } from '@pave/plugin-api';
import { copyDatabase } from './clone.ts';
import {
  endpointFromOutputs,
  errorMessage,
  mysqlOutputs,
  serverIdentity,
  withMysql,
  type MysqlEndpoint,
} from './connection.ts';
import { requireResourceObjectName } from './names.ts';
import { derivePassword, type PasswordSource } from './passwords.ts';

/** A server resources are made on: how Pave reaches it as admin, and how workloads reach it. */
export interface MysqlServer {
  /** An account allowed to create databases and users and to grant (the database part is ignored). */
  admin: MysqlEndpoint;
  /** The host and port workloads connect to (the outputs name them). */
  host: string;
  port: number;
  /** What the users' passwords are derived from. */
  passwordSource: PasswordSource;
  /** The environment `mysqldump` and `mysql` are looked up in (PATH) and run with, for `cloneFrom`. */
  env: NodeJS.ProcessEnv;
}

/** What the database and the user of a resource exist as on the server. */
export interface ObjectPresence {
  database: boolean;
  user: boolean;
}

/** The user's derived password and the resource's outputs. */
export function resourceCredentials(
  server: MysqlServer,
  name: string,
): { password: string; outputs: ResourceOutputs } {
  const password = derivePassword(server.passwordSource, name);
  const outputs = mysqlOutputs({
    host: server.host,
    port: server.port,
    username: name,
    password,
    database: name,
  });
  return { password, outputs };
}

/**
 * Creates database `name` (utf8mb4) and user `'name'@'%'` with the derived password, granted ALL PRIVILEGES
 * on that database only, and with `cloneFrom` copies the source's data in. Idempotent: a database or user left
 * by an earlier attempt is taken over (the password and grant are set again). If it rejects, what this call
 * created is dropped again; with `cloneFrom`, a database that already holds tables is refused (ConflictError).
 */
export async function createResource(
  server: MysqlServer,
  name: string,
  cloneFrom: ResourceOutputs | undefined,
  ctx: DriverContext,
): Promise<ResourceOutputs> {
  requireResourceObjectName(name);
  const { password, outputs } = resourceCredentials(server, name);
  const source = cloneFrom && endpointFromOutputs(cloneFrom);
  if (cloneFrom && !source) {
    throw new InputError(
      'cloneFrom does not describe a mysql database: it needs host, port, username and database outputs',
      [{ path: 'cloneFrom', message: 'expected the outputs of another mysql resource' }],
    );
  }
  const created: ObjectPresence = { database: false, user: false };
  try {
    await withAdmin(server, async (connection) => {
      const before = await presence(connection, name);
      if (!before.database) {
        await connection.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
        created.database = true;
      } else if (source && (await tableCount(connection, name)) > 0) {
        throw new ConflictError(
          `database ${name} already exists on ${serverIdentity(server.admin)} and holds tables, so the data of ` +
            'cloneFrom cannot be copied into it: delete the resource (or drop the database) and create it again',
        );
      }
      if (!before.user) {
        await connection.query("CREATE USER ?@'%' IDENTIFIED BY ?", [name, password]);
        created.user = true;
      } else {
        await connection.query("ALTER USER ?@'%' IDENTIFIED BY ?", [name, password]);
      }
      await connection.query(`GRANT ALL PRIVILEGES ON \`${name}\`.* TO ?@'%'`, [name]);
    });
    ctx.logger.info('created database and user', { database: name, server: serverIdentity(server.admin) });
    if (source) {
      ctx.logger.info('copying data into the new database', {
        database: name,
        from: serverIdentity(source),
      });
      await copyDatabase(
        source,
        { host: server.admin.host, port: server.admin.port, username: name, password, database: name },
        ctx.signal,
        server.env,
      );
    }
    return outputs;
  } catch (error) {
    if (created.database || created.user) {
      await withAdmin(server, async (connection) => {
        if (created.database) await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
        if (created.user) await dropUser(connection, name);
      }).catch((cleanupError: unknown) =>
        ctx.logger.error('removing what a failed create made failed too', {
          database: name,
          error: errorMessage(cleanupError),
        }),
      );
    }
    throw error;
  }
}

/** Sets the derived password and the grant again (creating the user if it went missing). */
export async function updateResource(server: MysqlServer, name: string): Promise<ResourceOutputs> {
  requireResourceObjectName(name);
  const { password, outputs } = resourceCredentials(server, name);
  await withAdmin(server, async (connection) => {
    await connection.query("CREATE USER IF NOT EXISTS ?@'%' IDENTIFIED BY ?", [name, password]);
    await connection.query("ALTER USER ?@'%' IDENTIFIED BY ?", [name, password]);
    await connection.query(`GRANT ALL PRIVILEGES ON \`${name}\`.* TO ?@'%'`, [name]);
  });
  return outputs;
}

/** The outputs, when both the database and the user exist; null otherwise. */
export async function readResource(server: MysqlServer, name: string): Promise<ResourceOutputs | null> {
  requireResourceObjectName(name);
  const found = await withAdmin(server, (connection) => presence(connection, name));
  return found.database && found.user ? resourceCredentials(server, name).outputs : null;
}

/**
 * Ends the user's sessions, then drops the database and the user; what is already gone is fine. If it
 * rejects, part of the resource may remain.
 */
export async function deleteResource(server: MysqlServer, name: string, ctx: DriverContext): Promise<void> {
  requireResourceObjectName(name);
  await withAdmin(server, async (connection) => {
    // Open sessions would keep the user's access (and their locks would block DROP DATABASE).
    const [sessions] = await connection.query(
      'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ?',
      [name],
    );
    for (const { id } of sessions as Array<{ id: number }>) {
      await connection.query('KILL ?', [id]).catch(() => undefined); // it may have ended meanwhile
    }
    await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await dropUser(connection, name);
  });
  ctx.logger.info('dropped database and user', { database: name, server: serverIdentity(server.admin) });
}

/** Runs `fn` on an admin connection (to no database in particular), closed afterwards. */
function withAdmin<T>(server: MysqlServer, fn: (connection: Connection) => Promise<T>): Promise<T> {
  return withMysql({ ...server.admin, database: '' }, fn);
}

async function presence(connection: Connection, name: string): Promise<ObjectPresence> {
  const [databases] = await connection.query(
    'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
    [name],
  );
  const [users] = await connection.query("SELECT 1 FROM mysql.user WHERE User = ? AND Host = '%'", [name]);
  return { database: (databases as unknown[]).length > 0, user: (users as unknown[]).length > 0 };
}

async function tableCount(connection: Connection, name: string): Promise<number> {
  const [rows] = await connection.query(
    'SELECT COUNT(*) AS count FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
    [name],
  );
  return Number((rows as Array<{ count: number | string }>)[0]?.count ?? 0);
}

async function dropUser(connection: Connection, name: string): Promise<void> {
  await connection.query("DROP USER IF EXISTS ?@'%'", [name]);
}
