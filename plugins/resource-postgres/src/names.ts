import { createHash } from 'node:crypto';
import type { ResourceScope } from '@pave/plugin-api';

/** PostgreSQL's limit on identifier length (NAMEDATALEN - 1). */
const MAX_IDENTIFIER_LENGTH = 63;
const HASH_LENGTH = 8;

/** A name part reduced to `[a-z0-9_]`, without leading, trailing or repeated underscores. */
function identifierPart(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * The name of a resource's database and of its login role (databases and roles live in separate
 * catalogues, so one name serves both): `pave_<app>_<env>_<address>` reduced to lowercase letters, digits
 * and underscores, cut so that with `_<hash>` it fits PostgreSQL's 63 characters. The hash (8 hex digits of
 * SHA-256 over app, env and address) keeps names apart that the cut or the reduction would merge, and makes
 * the name the same every time for one resource: a name that is already taken on the server fails create
 * instead of reaching another environment's data.
 */
export function resourceObjectName(scope: Pick<ResourceScope, 'app' | 'env' | 'address'>): string {
  const hash = createHash('sha256')
    .update(`${scope.app}\0${scope.env}\0${scope.address}`)
    .digest('hex')
    .slice(0, HASH_LENGTH);
  const readable = ['pave', scope.app, scope.env, scope.address]
    .map(identifierPart)
    .filter((part) => part.length > 0)
    .join('_')
    .slice(0, MAX_IDENTIFIER_LENGTH - HASH_LENGTH - 1)
    .replace(/_+$/, '');
  return `${readable}_${hash}`;
}

/** Whether `name` is one `resourceObjectName` could have made (ids are checked before reaching SQL). */
export function isResourceObjectName(name: string): boolean {
  return name.length <= MAX_IDENTIFIER_LENGTH && /^pave(_[a-z0-9]+)*_[0-9a-f]{8}$/.test(name);
}
