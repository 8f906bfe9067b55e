import { createHash } from 'node:crypto';
import { InputError } from '@pave/core';
import type { ResourceScope } from '@pave/plugin-api';

/**
 * The longest name a resource gets: MySQL 5.7 and MariaDB before 10.0 limit user names to 32 characters (MySQL
 * 8 and MariaDB 10 allow 32 and 80, databases 64), and one name serves both the database and its user.
 */
export const MAX_NAME_LENGTH = 32;
const HASH_LENGTH = 8;

/** A name part reduced to `[a-z0-9_]`, without leading, trailing or repeated underscores. */
function namePart(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * The name of a resource's database and of its user (MySQL keeps them in separate catalogues, so one name
 * serves both; it is also the resource id): `<app>_<env>_<resId>` reduced to lowercase letters, digits and
 * underscores, cut so that with `_<hash>` it fits 32 characters. The hash (8 hex digits of SHA-256 over app,
 * env and graph address) keeps names apart that the cut or the reduction would merge (`api.db` and `api_db`),
 * and a shared resource `web.db` (address `shared.web.db`) from workload web's resource `db` (address
 * `web.db`), which have the same resId; and it makes the name the same on every call for one resource.
 * Names made before the hash covered the address (it covered `app\0env\0resId`) have the same form, so their
 * ids stay valid; the hash now runs over other text (JSON), so a new name is not an old resource's name.
 */
export function resourceObjectName(scope: Pick<ResourceScope, 'app' | 'env' | 'resId' | 'address'>): string {
  const hash = createHash('sha256')
    .update(JSON.stringify([scope.app, scope.env, scope.address]))
    .digest('hex')
    .slice(0, HASH_LENGTH);
  const readable = [scope.app, scope.env, scope.resId]
    .map(namePart)
    .filter((part) => part.length > 0)
    .join('_')
    .slice(0, MAX_NAME_LENGTH - HASH_LENGTH - 1)
    .replace(/_+$/, '');
  return `${readable || 'pave'}_${hash}`;
}

const NAME_PATTERN = /^[a-z0-9]+(_[a-z0-9]+)*_[0-9a-f]{8}$/;

/** Whether `name` is one `resourceObjectName` could have made. */
export function isResourceObjectName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME_PATTERN.test(name);
}

/** `id` once checked to be a name `resourceObjectName` makes (ids reach SQL); InputError otherwise. */
export function requireResourceObjectName(id: string): string {
  if (!isResourceObjectName(id)) {
    throw new InputError(`"${id}" is not the id of a mysql resource`, [
      { path: 'id', message: 'expected <app>_<env>_<resource>_<8 hex digits>, as create returned it' },
    ]);
  }
  return id;
}
