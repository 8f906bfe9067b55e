import { createHash } from 'node:crypto';
import { InputError } from '@pave/core';
import type { ResourceScope } from '@pave/plugin-api';

/**
 * What one Redis resource is called on its server: the ACL user (also the resource id Pave records) and the
 * key prefix the user is limited to. Computed from the scope at create; later calls get them from the id.
 */
export interface RedisResourceNames {
  /** `pave_<app>_<env>_<res>_<hash>`: the ACL user name, which is also the resource id. */
  username: string;
  /** `<app>:<env>:<res>_<hash>:`: every key (and pub/sub channel) of the resource starts with it. */
  prefix: string;
}

const MAX_PART = 63;
const HASH_LENGTH = 8;

/**
 * One readable part of a name: lowercase letters, digits, `.` and `-`, at most 63 characters. No `_`, which
 * separates the parts of the user name and comes before the hash in the prefix, no `:`, which separates the
 * parts of the prefix, and nothing Redis' glob patterns treat specially.
 */
function namePart(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .slice(0, MAX_PART);
}

/**
 * The ACL user and key prefix of the resource in `scope` (see RedisResourceNames). The hash, 8 hex digits of
 * SHA-256 over app, env and graph address, keeps apart what the reduction to `[a-z0-9.-]` would merge and a
 * shared resource `web.cache` (address `shared.web.cache`) from workload web's resource `cache` (address
 * `web.cache`), which have the same resId. Names made before the hash was added (`pave_<app>_<env>_<res>`,
 * prefix `<app>:<env>:<res>:`) have one `_` part fewer, and their prefix's last part has no `_`: no new prefix
 * lies under an old one or the other way round.
 */
export function resourceNames(
  scope: Pick<ResourceScope, 'app' | 'env' | 'resId' | 'address'>,
): RedisResourceNames {
  const hash = createHash('sha256')
    .update(`${scope.app}\0${scope.env}\0${scope.address}`)
    .digest('hex')
    .slice(0, HASH_LENGTH);
  return namesOf([scope.app, scope.env, scope.resId].map(namePart), hash);
}

function namesOf(parts: string[], hash: string | undefined): RedisResourceNames {
  if (hash === undefined) return { username: `pave_${parts.join('_')}`, prefix: `${parts.join(':')}:` };
  return { username: `pave_${parts.join('_')}_${hash}`, prefix: `${parts.join(':')}_${hash}:` };
}

// `pave_<app>_<env>_<res>_<hash>`, or `pave_<app>_<env>_<res>` as create named resources before the hash.
const ID_PATTERN = /^pave_([a-z0-9.-]*)_([a-z0-9.-]*)_([a-z0-9.-]*)_([0-9a-f]{8})$/;
const LEGACY_ID_PATTERN = /^pave_([a-z0-9.-]+)_([a-z0-9.-]+)_([a-z0-9.-]+)$/;

/** The names of the resource with id `id` (as `create` returned it); InputError if it is not such an id. */
export function namesFromId(id: string): RedisResourceNames {
  const match = ID_PATTERN.exec(id);
  if (match) return namesOf(match.slice(1, 4), match[4]);
  const legacy = LEGACY_ID_PATTERN.exec(id);
  if (legacy) return namesOf(legacy.slice(1, 4), undefined);
  throw new InputError(`"${id}" is not the id of a Redis resource`, [
    { path: 'id', message: 'expected pave_<app>_<env>_<resource>_<8 hex digits>, as create returned it' },
  ]);
}
