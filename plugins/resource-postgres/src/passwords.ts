import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** The secrets a role's password is derived from (see `derivePassword`). */
export interface PasswordSource {
  /** The admin connection's password (may be empty: trust or peer authentication). */
  adminPassword: string;
  /** The optional secret driver input `passwordKey`. */
  passwordKey: string;
  /** Where the server is, `host:port`: the same role name on two servers gets two passwords. */
  server: string;
}

/**
 * A role's password: HMAC-SHA256 keyed with the admin password, `passwordKey` and the server's address, over
 * the role name, as base64url (43 characters, URL-safe). Nothing secret is stored anywhere: whoever holds the
 * admin URL can derive it again, which is how `read` returns the outputs `create` returned. Rotating the admin
 * password (or `passwordKey`) therefore changes every derived password; `update` sets the new one on the
 * role. When the admin URL has no password and no `passwordKey` is set, the key holds nothing secret and the
 * password can be guessed from the names: the driver warns about it.
 */
export function derivePassword(source: PasswordSource, role: string): string {
  const key = createHash('sha256')
    .update(`pave-postgres-password\0${source.adminPassword}\0${source.passwordKey}\0${source.server}`)
    .digest();
  return createHmac('sha256', key).update(role).digest('base64url');
}

/** A random password of 32 bytes as base64url (43 URL-safe characters). */
export function randomPassword(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677, 4096 iterations, as
 * `password_encryption = scram-sha-256` makes it). Giving the server the verifier instead of the password
 * keeps the plaintext out of its statement log; servers whose pg_hba.conf says `md5` use SCRAM for such roles.
 * `password` must be ASCII without control characters (SASLprep leaves it unchanged): derived passwords are.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16)): string {
  const iterations = 4096;
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
