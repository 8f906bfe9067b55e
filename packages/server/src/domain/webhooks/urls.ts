import { redactUrlPassword } from '@pave/core';
import { redactUrl } from '../../http/redact.ts';

/*
 * A webhook URL may carry the receiver's credentials: a password in its userinfo, a token in its query or in
 * its path (Slack's `/services/T…/B…/SECRET`, Discord's `/api/webhooks/ID/TOKEN`). Only the dispatcher sees
 * the whole URL (opened from the secret box); everything else gets one of these forms.
 */

/** Scheme and authority, path, and the rest (query, fragment) of a URL. */
const URL_PARTS = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(\/[^?#]*)?(.*)$/isu;

/**
 * A webhook URL fit to store in plaintext, show, log and put in an error: its password `***` (its user name
 * too when it has no password: `https://TOKEN@host` is how many services take a token), its path after the
 * first segment `…` (`https://hooks.slack.com/services/…`), the value of each credential-like query parameter
 * (`token`, `key`, `secret`, …) `[redacted]`, the rest as given. Applying it again changes nothing. Never
 * throws.
 */
export function shownUrl(url: string): string {
  const redacted = redactUrl(redactUrlPassword(redactLoneUserName(url)));
  const parts = URL_PARTS.exec(redacted);
  if (!parts) return redacted;
  const [, origin, path = '', rest = ''] = parts;
  const segments = path.split('/').filter((segment) => segment.length > 0);
  if (segments.length <= 1 || (segments.length === 2 && segments[1] === '…')) return redacted;
  return `${origin}/${segments[0]}/…${rest}`;
}

/** `url` with a user name that comes without a password (a token, as likely as not) replaced by `***`. */
function redactLoneUserName(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username || parsed.password) return url;
    parsed.username = '***';
    return parsed.toString();
  } catch {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^:/?#@]+@/iu, '$1***@');
  }
}

/** A webhook URL fit for the audit log: no credentials, its query `?…`, no path after its first segment. */
export function auditUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  // `?…` says there was a query, written as it reads (URL would encode the `…`).
  const query = parsed.search ? '?…' : '';
  parsed.search = '';
  return `${shownUrl(parsed.toString())}${query}`;
}
