// PostgreSQL refuses to run as root. When Pave runs as root, the system engine runs initdb and postgres as
// the `postgres` system user (else `nobody`), which must own the cluster's files and reach them.
import { chmodSync, chownSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DriverLogger } from '@pave/plugin-api';

/** The unprivileged user the server programs run as. */
export interface ServiceUser {
  name: string;
  uid: number;
  gid: number;
}

/**
 * The user to run PostgreSQL's programs as: null when Pave is not root (they run as Pave's user), else the
 * `postgres` user from /etc/passwd, else `nobody`. Rejects when neither exists.
 */
export function serviceUser(): ServiceUser | null {
  if (process.getuid?.() !== 0) return null;
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // fall through to the error below
  }
  const users = new Map<string, ServiceUser>();
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name && uid && gid) users.set(name, { name, uid: Number(uid), gid: Number(gid) });
  }
  const user = users.get('postgres') ?? users.get('nobody');
  if (!user) {
    throw new Error(
      'PostgreSQL cannot run as root and /etc/passwd has neither a postgres nor a nobody user to run it as: ' +
        'create one (useradd --system postgres) or run Pave as an unprivileged user',
    );
  }
  return user;
}

/** Gives `path` and everything below it to `user`. */
export function chownTree(path: string, user: ServiceUser): void {
  chownSync(path, user.uid, user.gid);
  if (!statSync(path).isDirectory()) return;
  for (const entry of readdirSync(path)) chownTree(join(path, entry), user);
}

/**
 * Lets other users traverse every directory from `path` up to `/` (adds the execute bit for group and others
 * where others lack it; listing stays forbidden), so the service user can reach its files below `path`.
 * Pave's data directory is created with mode 0700 and becomes 0711; each change is logged.
 */
export function makeTraversable(path: string, logger: DriverLogger): void {
  for (let dir = path; ; dir = dirname(dir)) {
    const mode = statSync(dir).mode & 0o7777;
    if ((mode & 0o001) === 0) {
      const traversable = `0${(mode | 0o011).toString(8)}`;
      chmodSync(dir, mode | 0o011);
      // Said with the directory, once per directory a start or deploy changes (the data directory is made
      // owner-only at every start, so it is said once a start): for people reading a deploy, not an alarm.
      logger.info(
        `made ${dir} traversable (mode ${traversable}: enter, not list) for the embedded PostgreSQL server, ` +
          'which cannot run as root',
        { path: dir, mode: traversable },
      );
    }
    if (dirname(dir) === dir) return;
  }
}
