import type { Connection } from 'mysql2/promise';
import type { ResourceOutputs } from '@pave/plugin-api';

/** Where and as whom to connect to a MySQL or MariaDB server (over TCP). */
export interface MysqlEndpoint {
  /** Host name or IP address. */
  host: string;
  port: number;
  username: string;
  /** Decoded; empty when there is none. */
  password: string;
  /** The database the URL names; empty when none. */
  database: string;
}

/** MySQL's default port. */
export const DEFAULT_PORT = 3306;

/**
 * Parses a `mysql://USER:PASSWORD@HOST:PORT/DATABASE` URL (`mariadb://` too; port 3306 when absent, database
 * optional); null when `text` is not one.
 */
export function parseMysqlUrl(text: string): MysqlEndpoint | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) return null;
  const port = url.port ? Number(url.port) : DEFAULT_PORT;
  try {
    const username = decodeURIComponent(url.username);
    if (!username) return null;
    return {
      host,
      port,
      username,
      password: decodeURIComponent(url.password),
      database: decodeURIComponent(url.pathname.replace(/^\//, '')),
    };
  } catch {
    return null; // a malformed percent escape
  }
}

/** `mysql://user:password@host:port/database`, every part percent-encoded, IPv6 hosts in brackets. */
export function mysqlUrl(endpoint: MysqlEndpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  const credentials = endpoint.password
    ? `${encodeURIComponent(endpoint.username)}:${encodeURIComponent(endpoint.password)}`
    : encodeURIComponent(endpoint.username);
  return `mysql://${credentials}@${host}:${endpoint.port}/${encodeURIComponent(endpoint.database)}`;
}

/**
 * The outputs of a `mysql` resource, as score-compose names them: values host, port, name and database (both
 * the database's name), username; secrets password and url.
 */
export function mysqlOutputs(endpoint: MysqlEndpoint): ResourceOutputs {
  return {
    values: {
      host: endpoint.host,
      port: String(endpoint.port),
      name: endpoint.database,
      database: endpoint.database,
      username: endpoint.username,
    },
    secrets: { password: endpoint.password, url: mysqlUrl(endpoint) },
  };
}

/** The endpoint a `mysql` resource's outputs describe; null when they are incomplete. */
export function endpointFromOutputs(outputs: ResourceOutputs): MysqlEndpoint | null {
  const fromUrl = outputs.secrets.url ? parseMysqlUrl(outputs.secrets.url) : null;
  const host = outputs.values.host ?? fromUrl?.host;
  const port = Number(outputs.values.port ?? fromUrl?.port);
  const username = outputs.values.username ?? fromUrl?.username;
  const password = outputs.secrets.password ?? fromUrl?.password ?? '';
  const database = outputs.values.database ?? outputs.values.name ?? fromUrl?.database;
  if (!host || !Number.isInteger(port) || port < 1 || port > 65_535 || !username || !database) return null;
  return { host, port, username, password, database };
}

/** `host:port` of a server, naming it in logs and keying derived passwords. */
export function serverIdentity(endpoint: Pick<MysqlEndpoint, 'host' | 'port'>): string {
  return `${endpoint.host}:${endpoint.port}`;
}

/**
 * Runs `fn` with a connection to `endpoint` (its database, when it names one; through `options.socketPath`
 * instead of TCP when given), then closes the connection, whatever `fn` did.
 */
export async function withMysql<T>(
  endpoint: MysqlEndpoint,
  fn: (connection: Connection) => Promise<T>,
  options: { connectTimeoutMs?: number; socketPath?: string } = {},
): Promise<T> {
  // Loaded on first use: a Pave that never provisions a mysql does not load the client. mysql2 is CommonJS:
  // imported dynamically, its exports are `default` (Pave's bundle has nothing else).
  const mysql2 = await import('mysql2/promise');
  const { createConnection } = (mysql2 as unknown as { default: typeof mysql2 }).default;
  const connection = await createConnection({
    ...(options.socketPath
      ? { socketPath: options.socketPath }
      : { host: endpoint.host, port: endpoint.port }),
    user: endpoint.username,
    password: endpoint.password,
    ...(endpoint.database ? { database: endpoint.database } : {}),
    connectTimeout: options.connectTimeoutMs ?? 10_000,
  });
  // A server that goes away between queries must not crash the process.
  connection.on('error', () => undefined);
  try {
    return await fn(connection);
  } finally {
    await connection.end().catch(() => connection.destroy());
  }
}

/** The MySQL error code (`ER_ACCESS_DENIED_ERROR`, `ECONNREFUSED`, …) of `error`, if it has one. */
function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Whether the server refused the login. MariaDB answers a login as a user that does not exist (or no longer
 * does) with either ER_ACCESS_DENIED_ERROR (1045) or ER_ACCESS_DENIED_NO_PASSWORD_ERROR (1698), depending on
 * which authentication plugin it pretends the unknown user has.
 */
export function isAccessDenied(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR';
}

/** The message of `error`, for error texts and logs. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
