import { createHash } from 'node:crypto';
import { InputError } from '@pave/core';
import type { ResourceScope } from '@pave/plugin-api';

/**
 * What one AMQP resource is called on its broker: the virtual host and the user that may use it, both of one
 * name (the resource id Pave records). Computed from the scope at create; later calls get it from the id.
 */
export interface AmqpResourceNames {
  vhost: string;
  username: string;
  /** Written into the vhost's description: whose vhost it is (a create takes over only its own). */
  owner: string;
}

/** The longest readable part of a name, so that a name stays well within AMQP's 255-byte vhost field. */
const MAX_READABLE_LENGTH = 120;
const HASH_LENGTH = 8;

/**
 * The vhost and user of the resource in `scope`: `<app>-<env>-<resId>_<hash>`. The readable part is reduced
 * to lowercase letters, digits, `.` and `-` and cut to 120 characters; the hash (8 hex digits of SHA-256 over
 * app, env and graph address) keeps apart what joining with `-` would merge (app `a-b` env `c`, app `a` env
 * `b-c`), what the reduction would merge, and a shared resource `web.queue` from workload web's resource
 * `queue` (same resId, different address). The `_` never occurs in the names this driver made before it, so
 * a new name is never an old resource's.
 */
export function resourceNames(
  scope: Pick<ResourceScope, 'app' | 'env' | 'resId' | 'address'>,
): AmqpResourceNames {
  const hash = createHash('sha256')
    .update(`${scope.app}\0${scope.env}\0${scope.address}`)
    .digest('hex')
    .slice(0, HASH_LENGTH);
  const readable = [scope.app, scope.env, scope.resId]
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .slice(0, MAX_READABLE_LENGTH);
  const name = `${readable}_${hash}`;
  return { vhost: name, username: name, owner: ownerOf(scope) };
}

/**
 * The ids `create` returns: `<readable>_<8 hex>`, or, for resources created before the hash was added,
 * `<app>-<env>-<resId>` of lowercase letters, digits, `.` and `-`.
 */
const ID_PATTERN = /^[a-z0-9.-]+$|^[a-z0-9.-]*_[0-9a-f]{8}$/;

/** The names of the resource with id `id` (as `create` returned it); InputError if it cannot be such an id. */
export function namesFromId(
  id: string,
  scope: Pick<ResourceScope, 'app' | 'env' | 'resId' | 'address'>,
): AmqpResourceNames {
  if (id.length > 255 || !ID_PATTERN.test(id)) {
    throw new InputError(`"${id}" is not the id of an AMQP resource`, [
      { path: 'id', message: 'expected <app>-<env>-<resource>_<8 hex digits>, as create returned it' },
    ]);
  }
  return { vhost: id, username: id, owner: ownerOf(scope) };
}

function ownerOf(scope: Pick<ResourceScope, 'app' | 'env' | 'resId' | 'address'>): string {
  return `Pave resource: app ${scope.app}, environment ${scope.env}, resource ${scope.resId} at ${scope.address}`;
}
