// RabbitMQ's management HTTP API, reached with the global fetch: the one way Pave administers a broker.
import { InputError, UpstreamError } from '@pave/core';

/** A management API endpoint: its base URL (no credentials in it) and the admin user's credentials. */
export interface ManagementEndpoint {
  /** `http(s)://host:port[/prefix]`, without credentials or a trailing slash: safe to show. */
  baseUrl: string;
  /** The host name or address of the base URL (no brackets), and its port. */
  host: string;
  port: number;
  username: string;
  password: string;
}

/** What a failed request is about, for the error message. */
export interface ManagementResponse {
  status: number;
  body: unknown;
}

/**
 * Parses an admin URL such as `http://guest:guest@127.0.0.1:15672` (the management API's base, with the
 * credentials of a user tagged `administrator`). A trailing `/api` is dropped. Throws a plain Error saying what
 * is wrong, without echoing the URL (it may hold a password).
 */
export function parseAdminUrl(url: string): ManagementEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('is not a URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`must be an http:// or https:// URL of the management API, not ${parsed.protocol}//`);
  }
  if (!parsed.username)
    throw new Error('must hold the credentials of an administrator (http://user:password@host:port)');
  if (parsed.search || parsed.hash) throw new Error('must not have a query or fragment');
  const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
  const path = parsed.pathname.replace(/\/+$/, '').replace(/\/api$/, '');
  return {
    baseUrl: `${parsed.protocol}//${parsed.host}${path}`,
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    username: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
}

/** `/api/<segments>`, each segment URL-encoded (vhost `/` is `%2F`). */
export function apiPath(...segments: string[]): string {
  return `/api/${segments.map((segment) => encodeURIComponent(segment)).join('/')}`;
}

/**
 * Sends `method path` (with `body` as JSON) and returns the decoded response, or null for 404 when `notFound`
 * is 'null'. Any other status from 400 up rejects with a sentence naming the request, the status and
 * RabbitMQ's `reason`, never the credentials: InputError when the credentials are refused (401), else
 * UpstreamError. An unreachable API rejects with UpstreamError saying how to enable it.
 */
export async function managementRequest(
  endpoint: ManagementEndpoint,
  method: 'GET' | 'PUT' | 'DELETE',
  path: string,
  options: { body?: unknown; signal: AbortSignal; notFound?: 'null' | 'error' },
): Promise<ManagementResponse | null> {
  let response: Response;
  try {
    response = await fetch(`${endpoint.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${endpoint.username}:${endpoint.password}`).toString('base64')}`,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal.aborted) throw error;
    throw new UpstreamError(
      `could not reach RabbitMQ's management API at ${endpoint.baseUrl} (${causeOf(error)}): check adminUrl, ` +
        'and that the rabbitmq_management plugin is enabled (rabbitmq-plugins enable rabbitmq_management)',
    );
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON (a proxy's error page): keep the text
  }
  if (response.status === 404 && (options.notFound ?? 'error') === 'null') return null;
  if (response.status < 400) return { status: response.status, body };
  const reason = reasonOf(body);
  const what = `RabbitMQ's management API at ${endpoint.baseUrl} answered ${method} ${path} with ${response.status} ${response.statusText}${reason ? ` (${reason})` : ''}`;
  if (response.status === 401) {
    throw new InputError(`${what}: the adminUrl's user or password is wrong`, [
      { path: 'adminUrl', message: 'give the credentials of a RabbitMQ user tagged administrator' },
    ]);
  }
  if (response.status === 403) {
    throw new InputError(`${what}: the adminUrl's user is not allowed to do this`, [
      { path: 'adminUrl', message: 'give the credentials of a RabbitMQ user tagged administrator' },
    ]);
  }
  throw new UpstreamError(what);
}

function reasonOf(body: unknown): string {
  if (body && typeof body === 'object') {
    const { reason, error } = body as { reason?: unknown; error?: unknown };
    if (typeof reason === 'string' && reason) return reason;
    if (typeof error === 'string' && error) return error;
  }
  return typeof body === 'string' ? body.slice(0, 200).trim() : '';
}

function causeOf(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' ? code : errorMessage(cause);
}

/** The message of `error`, whatever was thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
