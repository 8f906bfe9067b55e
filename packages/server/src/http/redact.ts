/**
 * Query parameters whose values are credentials: never logged, never echoed. Matched case-insensitively
 * against the whole name and against the words of names like `x_api_key` or `refreshToken`.
 */
const CREDENTIAL_WORDS = new Set([
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'password',
  'passwd',
  'pass',
  'pwd',
  'secret',
  'client_secret',
  'key',
  'api_key',
  'apikey',
  'code',
  'auth',
  'authorization',
  'credential',
  'credentials',
  'session',
  'signature',
  'sig',
  'jwt',
  'bearer',
]);

/** The text that replaces a credential in a logged URL. */
export const REDACTED = '[redacted]';

function isCredentialName(name: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(name.replaceAll('+', ' '));
  } catch {
    decoded = name;
  }
  const lower = decoded.toLowerCase();
  if (CREDENTIAL_WORDS.has(lower)) return true;
  // refreshToken -> refresh token; x-api-key -> x api key
  const words = decoded
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.some((word) => CREDENTIAL_WORDS.has(word));
}

/**
 * A request URL safe to log or echo: the value of every query parameter that looks like a credential
 * (`token`, `access_token`, `password`, `secret`, `api_key`, `code`, …), whether after `&` or `;`, is replaced
 * by `[redacted]`; the path and other parameters are kept as sent. Never throws.
 */
export function redactUrl(url: string): string {
  const mark = url.indexOf('?');
  if (mark < 0) return url;
  const hashAt = url.indexOf('#', mark);
  const query = url.slice(mark + 1, hashAt < 0 ? undefined : hashAt);
  // Split on `;` as well as `&`: some receivers (and older CGI conventions) take either as a separator.
  const redacted = query
    .split(/([&;])/u)
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals < 0 ? pair : pair.slice(0, equals);
      return equals >= 0 && isCredentialName(name) ? `${name}=${REDACTED}` : pair;
    })
    .join('');
  return `${url.slice(0, mark)}?${redacted}`;
}
