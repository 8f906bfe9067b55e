import { createHash } from 'node:crypto';
import { InputError } from '@pave/core';
import type { ResourceScope } from '@pave/plugin-api';

/**
 * What one Redis resource is called on its server: the ACL user (also the resource id Pave records) and the
 * key prefix the user is limited to. Both come from the scope, so every call can recompute them.
 */
export interface RedisResourceNames {
  /** `pave_<app>_<env>_<res>`: the ACL user name, which is also the resource id. */
  username: string;
  /** `<app>:<env>:<res>:`: every key (and pub/sub channel) of the resource starts with it. */
  prefix: string;
}

const MAX_PART = 63;

/**
 * One part of a name: lowercase letters, digits, `.` and `-` (no `_`, which separates the parts of the user
 * name, no `:`, which separates them in the prefix, and nothing Redis' glob patterns treat specially). A value
 * that had to be changed gets a hash of the original, so two different ids never share a prefix.
 */
function namePart(value: string): string {
  const cleaned = value.toLowerCase().replace(/[^a-z0-9.-]+/g, '-');
  if (cleaned === value && cleaned.length > 0 && cleaned.length <= MAX_PART) return cleaned;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 8);
  return `${cleaned.slice(0, MAX_PART - 9)}-${hash}`;
}

/** The ACL user and key prefix of the resource in `scope` (see RedisResourceNames). */
export function resourceNames(scope: Pick<ResourceScope, 'app' | 'env' | 'resId'>): RedisResourceNames {
  const parts = [scope.app, scope.env, scope.resId].map(namePart);
  return { username: `pave_${parts.join('_')}`, prefix: `${parts.join(':')}:` };
}

const ID_PATTERN = /^pave_([a-z0-9.-]+)_([a-z0-9.-]+)_([a-z0-9.-]+)$/;

/** The names of the resource with id `id` (as `create` returned it); InputError if it is not such an id. */
export function namesFromId(id: string): RedisResourceNames {
  const match = ID_PATTERN.exec(id);
  if (!match) {
    throw new InputError(`"${id}" is not the id of a Redis resource`, [
      { path: 'id', message: 'expected pave_<app>_<env>_<resource>, as create returned it' },
    ]);
  }
  return { username: id, prefix: `${match.slice(1).join(':')}:` };
}
