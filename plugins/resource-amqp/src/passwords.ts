import { createHash, createHmac } from 'node:crypto';

/** The secrets a resource user's password is derived from (see `derivePassword`). */
export interface PasswordSource {
  /** The admin user of the management API, and its password. */
  adminUsername: string;
  adminPassword: string;
  /** The management API's `host:port`: the same user name on two brokers gets two passwords. */
  server: string;
}

/**
 * A resource user's password: HMAC-SHA256 keyed with the admin credentials and the broker's address, over the
 * user name, as base64url (43 URL-safe characters). Nothing secret is stored: whoever holds the admin URL can
 * derive it again, which is how `read` returns the outputs `create` returned. Changing the admin credentials
 * changes every derived password; `update` then sets the new one.
 */
export function derivePassword(source: PasswordSource, username: string): string {
  const key = createHash('sha256')
    .update(`pave-amqp-password\0${source.adminUsername}\0${source.adminPassword}\0${source.server}`)
    .digest();
  return createHmac('sha256', key).update(username).digest('base64url');
}
