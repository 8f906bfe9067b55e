import { createHash, createHmac, randomBytes } from 'node:crypto';

/** The secrets a resource user's password is derived from (see `derivePassword`). */
export interface PasswordSource {
  /** The admin connection's password (may be empty). */
  adminPassword: string;
  /** The optional secret driver input `passwordKey`. */
  passwordKey: string;
  /** Where the server is, `host:port`: the same user name on two servers gets two passwords. */
  server: string;
}

/**
 * A resource user's password: HMAC-SHA256 keyed with the admin password, `passwordKey` and the server's
 * address, over the user name, as base64url (43 URL-safe characters). Nothing secret is stored: whoever holds
 * the admin URL derives it again, which is how `read` returns the outputs `create` returned. Rotating the admin
 * password (or `passwordKey`) changes every derived password; `update` sets the new one. With neither an admin
 * password nor a `passwordKey` the key holds nothing secret: the driver warns about it.
 */
export function derivePassword(source: PasswordSource, user: string): string {
  const key = createHash('sha256')
    .update(`pave-mysql-user-password\0${source.adminPassword}\0${source.passwordKey}\0${source.server}`)
    .digest();
  return createHmac('sha256', key).update(user).digest('base64url');
}

/** A random password of 32 bytes as base64url (43 URL-safe characters). */
export function randomPassword(): string {
  return randomBytes(32).toString('base64url');
}
