import { createHash } from 'node:crypto';
import { InputError } from '@pave/core';
import type { ResourceScope } from '@pave/plugin-api';

/**
 * What one AMQP resource is called on its broker: `<app>-<env>-<resId>`, both the virtual host and the user
 * that may use it (and the resource id Pave records). Computed from the scope, so every call can recompute it.
 */
export interface AmqpResourceNames {
  vhost: string;
  username: string;
  /** Written into the vhost's description: whose vhost it is (names alone may collide, e.g. `a-b`/`c`, `a`/`b-c`). */
  owner: string;
}

const MAX_PART = 63;

/**
 * One part of a name: lowercase letters, digits, `.` and `-`. A value that had to be changed gets a hash of the
 * original, so two different ids never share a name.
 */
function namePart(value: string): string {
  const cleaned = value.toLowerCase().replace(/[^a-z0-9.-]+/g, '-');
  if (cleaned === value && cleaned.length > 0 && cleaned.length <= MAX_PART) return cleaned;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 8);
  return `${cleaned.slice(0, MAX_PART - 9)}-${hash}`;
}

/** The vhost and user of the resource in `scope` (see AmqpResourceNames). */
export function resourceNames(scope: Pick<ResourceScope, 'app' | 'env' | 'resId'>): AmqpResourceNames {
  const name = [scope.app, scope.env, scope.resId].map(namePart).join('-');
  return { vhost: name, username: name, owner: ownerOf(scope) };
}

/** The names of the resource with id `id` (as `create` returned it); InputError if it cannot be such an id. */
export function namesFromId(
  id: string,
  scope: Pick<ResourceScope, 'app' | 'env' | 'resId'>,
): AmqpResourceNames {
  if (!/^[a-z0-9.-]+$/.test(id)) {
    throw new InputError(`"${id}" is not the id of an AMQP resource`, [
      { path: 'id', message: 'expected <app>-<env>-<resource>, as create returned it' },
    ]);
  }
  return { vhost: id, username: id, owner: ownerOf(scope) };
}

function ownerOf(scope: Pick<ResourceScope, 'app' | 'env' | 'resId'>): string {
  return `Pave resource: app ${scope.app}, environment ${scope.env}, resource ${scope.resId}`;
}
