/**
 * A URL with its password replaced by `***`, safe to log or show (a store URL, a `--server` given with
 * credentials). Text that is no URL has anything between `user:` and `@` replaced instead. Never throws.
 */
export function redactUrlPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}
