// The SQL both drivers run on a server they administer: a login role, a database it owns that no other role
// may connect to, and their removal.
import { Client, escapeIdentifier, escapeLiteral } from 'pg';
import { NotFoundError } from '@pave/core';
import { scramVerifier } from './passwords.ts';

/** How long connecting to a server may take before the call fails. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Runs `fn` with a client connected to `connectionString`, and closes it afterwards. */
export async function withClient<T>(
  connectionString: string,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client({
    connectionString,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: 'pave-resource-postgres',
  });
  // A connection the server closes (a forced DROP DATABASE, a restart) emits 'error' outside any query.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Which of a resource's two objects exist on the server. */
export interface ObjectPresence {
  database: boolean;
  role: boolean;
}

/** Asks the server's catalogues whether the database and the role named `name` exist. */
export async function objectPresence(adminUrl: string, name: string): Promise<ObjectPresence> {
  return withClient(adminUrl, async (client) => {
    const { rows } = await client.query<ObjectPresence>(
      `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS database,
              EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS role`,
      [name],
    );
    return rows[0] ?? { database: false, role: false };
  });
}

/**
 * Creates the login role `name` with `password` and the database `name` owned by it, then revokes PUBLIC's
 * rights on the database, so that only its owner (and superusers) may connect: roles of other environments on
 * the same server cannot. The password reaches the server as a SCRAM verifier, never in plain text.
 *
 * If a step fails, what the earlier steps made is dropped again before the error is rethrown; a name that is
 * already taken (by a role or a database) fails without touching what holds it.
 */
export async function createRoleAndDatabase(
  adminUrl: string,
  name: string,
  password: string,
  signal: AbortSignal,
): Promise<void> {
  const identifier = escapeIdentifier(name);
  await withClient(adminUrl, async (client) => {
    const made: ObjectPresence = { database: false, role: false };
    try {
      signal.throwIfAborted();
      await client.query(
        `CREATE ROLE ${identifier} LOGIN PASSWORD ${escapeLiteral(scramVerifier(password))}`,
      );
      made.role = true;
      // CREATE DATABASE … OWNER needs the admin to be able to act as the owner unless it is a superuser.
      const { rows } = await client.query<{ rolsuper: boolean }>(
        'SELECT rolsuper FROM pg_roles WHERE rolname = current_user',
      );
      if (!rows[0]?.rolsuper) await client.query(`GRANT ${identifier} TO CURRENT_USER`);
      signal.throwIfAborted();
      await client.query(`CREATE DATABASE ${identifier} OWNER ${identifier}`);
      made.database = true;
      await client.query(`REVOKE ALL ON DATABASE ${identifier} FROM PUBLIC`);
    } catch (error) {
      await dropObjects(client, name, made).catch((cleanupError: unknown) => {
        throw new Error(
          `${describe(error)}; dropping the ${made.database ? 'database and role' : 'role'} "${name}" it had ` +
            `created also failed (${describe(cleanupError)}): drop them by hand`,
          { cause: error },
        );
      });
      throw error;
    }
  });
}

/**
 * Drops the database `name` (disconnecting its sessions) and then the role `name`; either one missing is
 * fine. Needs PostgreSQL 13 or newer (`DROP DATABASE … WITH (FORCE)`).
 */
export async function dropRoleAndDatabase(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, (client) => dropObjects(client, name, { database: true, role: true }));
}

async function dropObjects(client: Client, name: string, which: ObjectPresence): Promise<void> {
  const identifier = escapeIdentifier(name);
  if (which.database) await client.query(`DROP DATABASE IF EXISTS ${identifier} WITH (FORCE)`);
  if (which.role) await client.query(`DROP ROLE IF EXISTS ${identifier}`);
}

/** Sets the password of role `name` (as a SCRAM verifier); NotFoundError if the role does not exist. */
export async function setRolePassword(adminUrl: string, name: string, password: string): Promise<void> {
  await withClient(adminUrl, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
    if (!rowCount) throw new NotFoundError(`the role "${name}" does not exist on the server`);
    await client.query(
      `ALTER ROLE ${escapeIdentifier(name)} PASSWORD ${escapeLiteral(scramVerifier(password))}`,
    );
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
