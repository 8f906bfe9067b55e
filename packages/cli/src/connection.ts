import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { redactUrlPassword, type PaveClient } from '@pave/core';
import { listeningPorts } from '@pave/core/data-dir-lock';
import { configPath, readConfig } from './config.ts';
import type { CliConfig, CliEnvironment } from './config.ts';
import { CliUsageError } from './errors.ts';
import { describeFileError } from './file-errors.ts';
import { recordAnswers } from './server-answers.ts';

/** Where `pave up` listens by default. */
export const DEFAULT_SERVER = 'http://127.0.0.1:7300';

/** The connection flags every client command takes (each may also come from the environment). */
export interface ConnectionFlags {
  server?: string | undefined;
  token?: string | undefined;
  dataDir?: string | undefined;
}

/** Where the token in use came from, so messages can say which one the server refused. */
export type TokenSource = '--token' | 'PAVE_TOKEN' | 'config' | 'admin.token';

/** The server to talk to and the token to present. */
export interface Connection {
  server: string;
  token: string;
  tokenSource: TokenSource;
}

/**
 * Chooses the server: --server, then PAVE_SERVER, then the server saved by `pave login`, then
 * http://127.0.0.1:7300. Throws CliUsageError when the chosen value is not an http(s) URL.
 */
export function resolveServer(flags: ConnectionFlags, environment: CliEnvironment): string {
  return resolveServerWith(flags, environment, lazyConfig(environment));
}

/** The data directory of a local `pave up`: --data-dir, then PAVE_DATA_DIR, then ~/.pave. */
export function resolveDataDir(flags: ConnectionFlags, environment: CliEnvironment): string {
  const dir = flags.dataDir ?? (environment.env.PAVE_DATA_DIR || join(environment.homeDir, '.pave'));
  return dir === '~' || dir.startsWith('~/') ? join(environment.homeDir, dir.slice(1)) : dir;
}

/** The TCP port of a server URL, its scheme's default when it names none. */
function portOf(server: string): number {
  const url = new URL(server);
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** Whether `server` is on this machine (127.0.0.1, localhost or ::1), where `pave up` leaves an admin token. */
export function isLocalServer(server: string): boolean {
  const host = new URL(server).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '::1';
}

/**
 * `token` if an HTTP header can carry it; otherwise a CliUsageError naming `source` (the flag, variable or
 * file it came from) and the character, which fetch would refuse to send with a message about reaching the
 * server. Other characters no token has (`pave_ü`) are the server's to refuse, in its own words.
 */
function sendableToken(token: string, source: string): string {
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u001f\u007f]|[^\u0000-\u00ff]/u.exec(token);
  if (!bad) return token;
  const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  throw new CliUsageError(
    `${source}: the token holds U+${code} at position ${bad.index + 1}, a character no token has and no ` +
      'request can carry; copy the token again (`pave tokens create` makes a new one)',
  );
}

/**
 * Chooses the server (see {@link resolveServer}) and the token, first found wins: --token, PAVE_TOKEN, the
 * token saved by `pave login` if it was saved for this same server, and — only for a local server — the
 * admin token `pave up` wrote to `<data-dir>/admin.token`. Throws CliUsageError, saying how to get a
 * token, when there is none.
 */
export function resolveConnection(flags: ConnectionFlags, environment: CliEnvironment): Connection {
  const config = lazyConfig(environment);
  const server = resolveServerWith(flags, environment, config);
  if (flags.token !== undefined) {
    if (!flags.token.trim()) throw new CliUsageError('--token: the token is empty');
    return { server, token: sendableToken(flags.token.trim(), '--token'), tokenSource: '--token' };
  }
  const envToken = environment.env.PAVE_TOKEN?.trim();
  if (envToken) return { server, token: sendableToken(envToken, 'PAVE_TOKEN'), tokenSource: 'PAVE_TOKEN' };
  const saved = config();
  if (saved && sameServer(saved.server, server) && saved.token.trim()) {
    const where = `the token saved by \`pave login\` in ${configPath(environment)}`;
    return { server, token: sendableToken(saved.token.trim(), where), tokenSource: 'config' };
  }
  let local = '';
  if (isLocalServer(server)) {
    const dataDir = resolveDataDir(flags, environment);
    const adminToken = readAdminToken(dataDir);
    // Only to the `pave up` that wrote it: a mistyped port would hand it to whatever listens there.
    const ports = adminToken ? listeningPorts(dataDir) : [];
    const port = portOf(server);
    if (adminToken && ports.includes(port)) return { server, token: adminToken, tokenSource: 'admin.token' };
    if (adminToken && ports.length > 0) {
      // Most likely the server's address is wrong, not the token: said first, with the address to use.
      const url = new URL(server);
      url.port = String(ports[0]);
      const listening = url.origin;
      throw new CliUsageError(
        `the pave up of ${dataDir} listens on ${listening} (port ${ports.join(', ')}), not on port ${port}: ` +
          `pass --server ${listening} or set PAVE_SERVER=${listening} (its admin token goes only there); ` +
          `for another server, log in with \`pave login --server URL --token T\``,
      );
    }
    local = !adminToken
      ? `, or run \`pave up\` on this machine (it writes ${join(dataDir, 'admin.token')}; a pave up ` +
        'already running with another data directory is found with --data-dir or PAVE_DATA_DIR)'
      : `; no pave up of ${dataDir} is running, whose admin token it could use: start it`;
  }
  const shown = redactUrlPassword(server);
  throw new CliUsageError(
    `no API token for ${shown}; log in with \`pave login --server ${shown} --token T\`, ` +
      `pass --token or set PAVE_TOKEN${local}`,
  );
}

/**
 * Resolves the connection and creates an API client for it (see {@link createClient}). Throws CliUsageError
 * when the connection or PAVE_TIMEOUT cannot be resolved.
 */
export async function connect(
  flags: ConnectionFlags,
  environment: CliEnvironment,
): Promise<{ client: PaveClient; connection: Connection }> {
  const connection = resolveConnection(flags, environment);
  tokenSources.set(environment, describeTokenSource(connection.tokenSource, flags, environment));
  return { client: await createClient(connection.server, connection.token, environment), connection };
}

/**
 * An API client of `server` presenting `token` (none: for a login), whose requests time out after
 * {@link resolveRequestTimeout} with a ConnectionError that says how to allow longer; the requests that wait for
 * drivers (core's `waitsForDrivers`: deleting an app or environment, plans, `resources check`) only while they
 * are being sent, as the server answers them only when the drivers are done. The client module is
 * imported only here, so `pave --help` never loads it; ./api-client.ts keeps core's schemas (and zod) out of
 * the commands that only call the API. Throws CliUsageError when PAVE_TIMEOUT is not a number of seconds.
 */
export async function createClient(
  server: string,
  token: string | undefined,
  environment: CliEnvironment,
): Promise<PaveClient> {
  const seconds = resolveRequestTimeout(environment);
  const [{ ConnectionError, PaveClient }, { nodeFetch }] = await Promise.all([
    import('./api-client.ts'),
    import('./http-fetch.ts'),
  ]);
  const timeout = {
    ms: seconds * 1000,
    error: (method: string, url: URL) =>
      new ConnectionError(
        `the server at ${redactUrlPassword(url.origin)} did not answer ${method} ${url.pathname} within ` +
          `${seconds} s; if it is only slow, allow it longer with PAVE_TIMEOUT=<seconds> (0: no limit)`,
      ),
  };
  return new PaveClient({
    server,
    token,
    fetch: recordAnswers(environment, (input, init) => nodeFetch(input, init, timeout)),
    fetchWaitingForDrivers: recordAnswers(environment, (input, init) =>
      nodeFetch(input, init, { ...timeout, untilSent: true }),
    ),
  });
}

/** How long a request may take when PAVE_TIMEOUT does not say, in seconds. */
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 60;

const MAX_REQUEST_TIMEOUT_SECONDS = 86_400;

/**
 * How many seconds the CLI allows for connecting, for each part of an upload, and for the whole answer to a
 * request once it is sent, before it gives up: PAVE_TIMEOUT (0: no limit), else
 * {@link DEFAULT_REQUEST_TIMEOUT_SECONDS}. An event stream (`logs -f`, `events -f`) and a request that waits for
 * drivers (deleting an app or environment, a plan, `resources check`) are held to it only until they are sent;
 * `--wait` asks again and again, each request held to it. Throws CliUsageError when PAVE_TIMEOUT is not a number
 * of seconds from 0 to 86400.
 */
export function resolveRequestTimeout({ env }: CliEnvironment): number {
  const text = env.PAVE_TIMEOUT?.trim();
  if (!text) return DEFAULT_REQUEST_TIMEOUT_SECONDS;
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || seconds > MAX_REQUEST_TIMEOUT_SECONDS) {
    throw new CliUsageError(
      `PAVE_TIMEOUT: "${env.PAVE_TIMEOUT}" is not a number of seconds; ` +
        `use e.g. PAVE_TIMEOUT=120 (at most ${MAX_REQUEST_TIMEOUT_SECONDS}; 0: no limit)`,
    );
  }
  return seconds;
}

// Where the token of each run's connection came from, in words, by the run's environment (see refusedTokenNote).
const tokenSources = new WeakMap<CliEnvironment, string>();

/**
 * What to add when the server refused the token (401) of the connection {@link connect} made for this run:
 * where the token came from and how to replace it, e.g. a stale PAVE_TOKEN shadowing a fresh `pave login`.
 * Undefined when no connection was made (a password login, say).
 */
export function refusedTokenNote(environment: CliEnvironment): string | undefined {
  return tokenSources.get(environment);
}

function describeTokenSource(
  source: TokenSource,
  flags: ConnectionFlags,
  environment: CliEnvironment,
): string {
  switch (source) {
    case '--token':
      return 'the token came from --token';
    case 'PAVE_TOKEN':
      return 'the token came from PAVE_TOKEN, which is used before the one `pave login` saved; fix or unset it';
    case 'config':
      return `the token came from ${configPath(environment)}, saved by \`pave login\`; log in again`;
    case 'admin.token':
      return `the token came from ${join(resolveDataDir(flags, environment), 'admin.token')}, written by \`pave up\``;
  }
}

/** Whether two server URLs name the same server (scheme, host, port and path; case and trailing slash aside). */
export function sameServer(a: string, b: string): boolean {
  return canonicalServer(a) === canonicalServer(b);
}

function resolveServerWith(
  flags: ConnectionFlags,
  { env }: CliEnvironment,
  config: () => CliConfig | undefined,
): string {
  if (flags.server !== undefined) return checkServer(flags.server, '--server');
  if (env.PAVE_SERVER) return checkServer(env.PAVE_SERVER, 'PAVE_SERVER');
  const saved = config();
  if (saved) return checkServer(saved.server, 'the server saved by `pave login`');
  return DEFAULT_SERVER;
}

// A URL copied from the API's own (`…/api/v1`, as in openapi.json or curl examples) names the same server: the
// client adds /api/v1 itself, so it is taken off rather than refused. A server behind any other path prefix
// keeps it.
function checkServer(value: string, source: string): string {
  const server = value
    .trim()
    .replace(/\/+$/, '')
    .replace(/\/api\/v1$/, '');
  let url: URL | undefined;
  try {
    url = new URL(server);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new CliUsageError(`${source}: "${value}" is not an http(s) URL; use e.g. ${DEFAULT_SERVER}`);
  }
  return server;
}

function canonicalServer(server: string): string {
  try {
    const url = new URL(server.trim());
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return server.trim().replace(/\/+$/, '');
  }
}

// The config file is read at most once, and only when a flag or variable did not already decide.
function lazyConfig(environment: CliEnvironment): () => CliConfig | undefined {
  let loaded: { config: CliConfig | undefined } | undefined;
  return () => {
    loaded ??= { config: readConfig(configPath(environment)) };
    return loaded.config;
  };
}

function readAdminToken(dataDir: string): string | undefined {
  const path = join(dataDir, 'admin.token');
  try {
    return readFileSync(path, 'utf8').trim() || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read the admin token ${path}: ${describeFileError(error, path, 'read')}`, {
      cause: error,
    });
  }
}
