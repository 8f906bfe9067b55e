import type { Redis } from 'ioredis';

/** A Redis server and the user Pave logs in as, parsed from a `redis://` or `rediss://` URL. */
export interface RedisEndpoint {
  /** `rediss://`: connect with TLS. */
  tls: boolean;
  /** Host name or IP address (an IPv6 address without brackets). */
  host: string;
  port: number;
  /** Empty for Redis' `default` user. */
  username: string;
  /** Empty when the user has none (`nopass`). */
  password: string;
  /** The logical database; 0 unless the URL's path names another. */
  db: number;
}

const URL_FORM = 'redis://[user[:password]@]host[:port][/db] or rediss://…';

/**
 * Parses a Redis URL. Throws an Error whose message says what is wrong and never repeats the URL (it may hold
 * a password).
 */
export function parseRedisUrl(value: string): RedisEndpoint {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`is not a URL; expected ${URL_FORM}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`uses the scheme "${url.protocol}"; expected ${URL_FORM}`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new Error(`names no host; expected ${URL_FORM}`);
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,5}$/.test(path))
    throw new Error(`has the path "/${path}"; expected a database number`);
  return {
    tls: url.protocol === 'rediss:',
    host,
    port: url.port ? Number(url.port) : 6379,
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    db: path === '' ? 0 : Number(path),
  };
}

/** The URL that logs in to `endpoint` (user and password URL-encoded; the database only when it is not 0). */
export function formatRedisUrl(endpoint: RedisEndpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  const auth =
    endpoint.username || endpoint.password
      ? `${encodeURIComponent(endpoint.username)}:${encodeURIComponent(endpoint.password)}@`
      : '';
  const db = endpoint.db ? `/${endpoint.db}` : '';
  return `${endpoint.tls ? 'rediss' : 'redis'}://${auth}${host}:${endpoint.port}${db}`;
}

/** How long to wait for a connection, in milliseconds, unless the caller says otherwise. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Opens one connection to `endpoint` (no reconnects, no offline queue: a lost connection fails the command) and
 * runs `fn` with it, closing it afterwards. Aborting `signal` closes the connection, which fails the command in
 * flight.
 */
export async function withRedis<T>(
  endpoint: RedisEndpoint,
  signal: AbortSignal,
  fn: (redis: Redis) => Promise<T>,
  options: { connectTimeoutMs?: number } = {},
): Promise<T> {
  signal.throwIfAborted();
  // Loaded on first use: a Pave that never provisions a redis does not load the client. ioredis is CommonJS:
  // imported dynamically, its exports are `default` (the Redis class), in Node and in Pave's bundle alike.
  const { default: Redis } = await import('ioredis');
  const redis = new Redis({
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.username || undefined,
    password: endpoint.password || undefined,
    db: endpoint.db,
    tls: endpoint.tls ? { servername: endpoint.host } : undefined,
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    autoResubscribe: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
  });
  // Failures reach the caller through the rejected command; without a listener ioredis would print them. A
  // refused AUTH only shows up here: the command then fails with a bare "Connection is closed".
  let connectionError: unknown;
  redis.on('error', (error: unknown) => (connectionError = error));
  const onAbort = () => redis.disconnect();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await redis.connect();
    return await fn(redis);
  } catch (error) {
    // A closed connection is how an abort shows up; report the abort rather than "Connection is closed".
    if (signal.aborted) throw signal.reason;
    throw connectionError && isConnectionLoss(error) ? connectionError : error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    redis.disconnect();
  }
}

function isConnectionLoss(error: unknown): boolean {
  return error instanceof Error && /Connection is closed|Stream isn't writeable/.test(error.message);
}
