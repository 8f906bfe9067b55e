import { redactUrlPassword } from '@pave/core';
import { redactUrl } from '../../http/redact.ts';

/*
 * A webhook URL may carry the receiver's credentials: a password in its userinfo, a token in its query. Only
 * the dispatcher sees the whole URL (opened from the secret box); everything else gets one of these forms.
 */

/**
 * A webhook URL fit to store in plaintext, show, log and put in an error: its password `***`, the value of
 * each credential-like query parameter (`token`, `key`, `secret`, …) `[redacted]`, the rest as given. Applying
 * it again changes nothing. Never throws.
 */
export function shownUrl(url: string): string {
  return redactUrl(redactUrlPassword(url));
}

/** A webhook URL fit for the audit log: no credentials, no query (it may hold a token). */
export function auditUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  if (parsed.search) parsed.search = '?…';
  return parsed.toString();
}
