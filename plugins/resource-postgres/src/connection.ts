import type { ResourceOutputs } from '@pave/plugin-api';

/** A PostgreSQL server as an admin connection URL names it. */
export interface ServerAddress {
  /** Host name or IP address; for a Unix socket, the socket's directory. */
  host: string;
  port: number;
  /** Whether `host` is a Unix socket directory (`postgres://user@/db?host=/run/postgresql`). */
  socket: boolean;
  username: string;
  /** The password in the URL, decoded; empty when there is none. */
  password: string;
}

/**
 * Parses a `postgres://` or `postgresql://` URL; null when `text` is not one. A Unix socket is given as the
 * `host` query parameter (libpq's form), e.g. `postgres://postgres@/postgres?host=/var/run/postgresql`.
 */
export function parsePostgresUrl(text: string): ServerAddress | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') return null;
  const hostParameter = url.searchParams.get('host');
  const host = hostParameter ?? url.hostname.replace(/^\[|\]$/g, '');
  if (!host) return null;
  const portText = url.searchParams.get('port') ?? url.port;
  const port = portText ? Number(portText) : 5432;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return null;
  try {
    return {
      host,
      port,
      socket: host.startsWith('/'),
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
    };
  } catch {
    return null; // a malformed percent escape
  }
}

/** `postgres://user:password@host:port/database`, every part percent-encoded, IPv6 hosts in brackets. */
function postgresUrl(parts: {
  host: string;
  port: number;
  username: string;
  password: string;
  database: string;
}): string {
  const host = parts.host.includes(':') ? `[${parts.host}]` : parts.host;
  const credentials = `${encodeURIComponent(parts.username)}:${encodeURIComponent(parts.password)}`;
  return `postgres://${credentials}@${host}:${parts.port}/${encodeURIComponent(parts.database)}`;
}

/** The outputs of a `postgres` resource: both `name` and `database` are the database's name. */
export function postgresOutputs(parts: {
  host: string;
  port: number;
  username: string;
  password: string;
  database: string;
}): ResourceOutputs {
  return {
    values: {
      host: parts.host,
      port: String(parts.port),
      name: parts.database,
      database: parts.database,
      username: parts.username,
    },
    secrets: { password: parts.password, url: postgresUrl(parts) },
  };
}

/** The connection settings of a client reaching `database` as `username` (for `pg` and libpq's PG* variables). */
export interface ClientSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** Client settings for the database a resource's outputs describe; null if they are incomplete. */
export function clientSettingsFromOutputs(outputs: ResourceOutputs): ClientSettings | null {
  const fromUrl = outputs.secrets.url ? parsePostgresUrl(outputs.secrets.url) : null;
  const host = outputs.values.host ?? fromUrl?.host;
  const port = Number(outputs.values.port ?? fromUrl?.port);
  const user = outputs.values.username ?? fromUrl?.username;
  const password = outputs.secrets.password ?? fromUrl?.password ?? '';
  const database = outputs.values.database ?? outputs.values.name;
  if (!host || !Number.isInteger(port) || !user || !database) return null;
  return { host, port, user, password, database };
}

/** libpq's environment variables for `settings`, so no password appears in a command line. */
export function libpqEnvironment(settings: ClientSettings): Record<string, string> {
  return {
    PGHOST: settings.host,
    PGPORT: String(settings.port),
    PGUSER: settings.user,
    PGPASSWORD: settings.password,
    PGDATABASE: settings.database,
    PGCONNECT_TIMEOUT: '10',
  };
}
