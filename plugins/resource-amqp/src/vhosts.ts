// One virtual host and one user per resource, the user allowed everything on that vhost and nothing else: the
// provisioning both drivers share. The embedded driver differs only in which broker it points at.
import { createHash } from 'node:crypto';
import { ConflictError } from '@pave/core';
import type { DriverContext, ResourceOutputs } from '@pave/plugin-api';
import { apiPath, errorMessage, managementRequest, type ManagementEndpoint } from './management-api.ts';
import type { AmqpResourceNames } from './names.ts';
import { derivePassword } from './passwords.ts';

/** A broker on which Pave provisions one vhost and user per resource, as both drivers describe it. */
export interface AmqpBroker {
  /** How Pave administers it: the management API and a user tagged administrator. */
  admin: ManagementEndpoint;
  /** The AMQP host and port workloads connect to (may differ from how Pave reaches the broker). */
  host: string;
  port: number;
  /**
   * What names the broker in derived passwords (see derivePassword): the management API's `host:port` for a
   * shared broker, the node name for the embedded one (whose ports may change).
   */
  passwordServer: string;
}

/** The permissions of a resource's user on its vhost: configure, write and read everything in it. */
const FULL_PERMISSIONS = { configure: '.*', write: '.*', read: '.*' } as const;

/** The derived password of the resource `names` on `broker`. */
function passwordOf(broker: AmqpBroker, names: AmqpResourceNames): string {
  return derivePassword(
    {
      adminUsername: broker.admin.username,
      adminPassword: broker.admin.password,
      server: broker.passwordServer,
    },
    names.username,
  );
}

/**
 * The outputs of the resource `names` on `broker` (type `amqp`: host, port, vhost, username; password, url with
 * the vhost URL-encoded, so vhost `a/b` is `amqp://…/a%2Fb`).
 */
export function vhostOutputs(broker: AmqpBroker, names: AmqpResourceNames): ResourceOutputs {
  const password = passwordOf(broker, names);
  const host = broker.host.includes(':') ? `[${broker.host}]` : broker.host;
  const url =
    `amqp://${encodeURIComponent(names.username)}:${encodeURIComponent(password)}` +
    `@${host}:${broker.port}/${encodeURIComponent(names.vhost)}`;
  return {
    values: { host: broker.host, port: String(broker.port), vhost: names.vhost, username: names.username },
    secrets: { password, url },
  };
}

/**
 * Creates the vhost (its description naming the resource), the user with its derived password and no tags, and
 * the user's permissions on that vhost. A vhost left by an interrupted create of the same resource is taken
 * over; one that belongs to something else, or a user of that name without the vhost, is a ConflictError. If a
 * step fails, what this call made is removed before the error is rethrown: a rejected create leaves nothing.
 * `cloneFrom` is ignored with a warning: queued messages are not copied.
 */
export async function createVhostUser(
  broker: AmqpBroker,
  names: AmqpResourceNames,
  address: string,
  cloneFrom: ResourceOutputs | undefined,
  ctx: DriverContext,
): Promise<ResourceOutputs> {
  const outputs = vhostOutputs(broker, names);
  if (cloneFrom) {
    ctx.logger.warn(
      `amqp resources are not cloned with data: ${address} starts with an empty vhost (no queues, exchanges or messages)`,
      { vhost: names.vhost },
    );
  }
  if (ctx.dryRun) {
    ctx.logger.info('would create the vhost and its user', { vhost: names.vhost });
    return outputs;
  }
  const request = { signal: ctx.signal, notFound: 'null' } as const;
  const vhost = await managementRequest(broker.admin, 'GET', apiPath('vhosts', names.vhost), request);
  const user = await managementRequest(broker.admin, 'GET', apiPath('users', names.username), request);
  if (vhost && descriptionOf(vhost.body) !== names.owner) {
    throw new ConflictError(
      `RabbitMQ at ${broker.admin.baseUrl} has a vhost "${names.vhost}" that is not this resource's`,
      [
        {
          path: 'scope',
          message: `delete it (rabbitmqctl delete_vhost ${names.vhost}) if nothing uses it, or give the resource another id`,
        },
      ],
    );
  }
  if (!vhost && user) {
    throw new ConflictError(
      `RabbitMQ at ${broker.admin.baseUrl} has a user "${names.username}" that Pave did not create`,
      [
        {
          path: 'scope',
          message: `delete it (rabbitmqctl delete_user ${names.username}) if nothing uses it, or give the resource another id`,
        },
      ],
    );
  }
  if (vhost)
    ctx.logger.info('the vhost exists already (left by an interrupted create): taking it over', {
      vhost: names.vhost,
    });
  try {
    if (!vhost) {
      await managementRequest(broker.admin, 'PUT', apiPath('vhosts', names.vhost), {
        signal: ctx.signal,
        body: { description: names.owner, tags: 'pave' },
      });
    }
    await setUserAndPermissions(broker, names, outputs.secrets.password ?? '', ctx.signal);
  } catch (error) {
    ctx.logger.warn('create failed part way: removing the vhost and its user', {
      vhost: names.vhost,
      error: errorMessage(error),
    });
    // The call's signal may be what failed it: clean up with a signal of its own.
    await removeVhostUser(broker, names, AbortSignal.timeout(30_000)).catch((cleanupError: unknown) =>
      ctx.logger.error('could not remove the vhost and user of a failed create', {
        vhost: names.vhost,
        error: errorMessage(cleanupError),
      }),
    );
    throw error;
  }
  ctx.logger.info('created the vhost and its user', { vhost: names.vhost });
  return outputs;
}

/** Sets the user's derived password and its permissions again (after the admin credentials changed, say). */
export async function updateVhostUser(
  broker: AmqpBroker,
  names: AmqpResourceNames,
  ctx: DriverContext,
): Promise<ResourceOutputs> {
  const outputs = vhostOutputs(broker, names);
  if (ctx.dryRun) return outputs;
  const vhost = await managementRequest(broker.admin, 'GET', apiPath('vhosts', names.vhost), {
    signal: ctx.signal,
    notFound: 'null',
  });
  if (!vhost) {
    await managementRequest(broker.admin, 'PUT', apiPath('vhosts', names.vhost), {
      signal: ctx.signal,
      body: { description: names.owner, tags: 'pave' },
    });
  }
  await setUserAndPermissions(broker, names, outputs.secrets.password ?? '', ctx.signal);
  return outputs;
}

/**
 * The outputs with what `read` found changed outside Pave (the user's permissions, tags), or null when the vhost
 * or the user is missing.
 */
export async function readVhostUser(
  broker: AmqpBroker,
  names: AmqpResourceNames,
  ctx: DriverContext,
): Promise<{ outputs: ResourceOutputs; drift?: string[] } | null> {
  const request = { signal: ctx.signal, notFound: 'null' } as const;
  const vhost = await managementRequest(broker.admin, 'GET', apiPath('vhosts', names.vhost), request);
  if (!vhost) return null;
  const user = await managementRequest(broker.admin, 'GET', apiPath('users', names.username), request);
  if (!user) return null;
  const drift: string[] = [];
  const permissions = await managementRequest(
    broker.admin,
    'GET',
    apiPath('permissions', names.vhost, names.username),
    request,
  );
  const granted = (permissions?.body ?? {}) as Record<string, unknown>;
  if (!permissions) drift.push(`user ${names.username} has no permissions on vhost ${names.vhost}`);
  else if (Object.entries(FULL_PERMISSIONS).some(([kind, pattern]) => granted[kind] !== pattern)) {
    drift.push(`the permissions of user ${names.username} on vhost ${names.vhost} are not ".* .* .*"`);
  }
  const outputs = vhostOutputs(broker, names);
  const stored = user.body as { tags?: unknown; password_hash?: unknown; hashing_algorithm?: unknown };
  if (
    passwordMatches(stored.password_hash, stored.hashing_algorithm, outputs.secrets.password ?? '') === false
  ) {
    drift.push(`the password of user ${names.username} was changed outside Pave (an update sets it again)`);
  }
  const tags = stored.tags;
  if ((Array.isArray(tags) && tags.length > 0) || (typeof tags === 'string' && tags !== '')) {
    drift.push(`user ${names.username} has tags (${String(tags)}): it should have none`);
  }
  return drift.length ? { outputs, drift } : { outputs };
}

/** Removes the user and then the vhost (with its queues and messages); a missing one counts as removed. */
export async function deleteVhostUser(
  broker: AmqpBroker,
  names: AmqpResourceNames,
  ctx: DriverContext,
): Promise<void> {
  if (ctx.dryRun) {
    ctx.logger.info('would delete the vhost and its user', { vhost: names.vhost });
    return;
  }
  await removeVhostUser(broker, names, ctx.signal);
  ctx.logger.info('deleted the vhost and its user', { vhost: names.vhost });
}

async function removeVhostUser(
  broker: AmqpBroker,
  names: AmqpResourceNames,
  signal: AbortSignal,
): Promise<void> {
  // The user first: a delete interrupted between the two leaves the vhost, which the next create takes over.
  await managementRequest(broker.admin, 'DELETE', apiPath('users', names.username), {
    signal,
    notFound: 'null',
  });
  await managementRequest(broker.admin, 'DELETE', apiPath('vhosts', names.vhost), {
    signal,
    notFound: 'null',
  });
}

async function setUserAndPermissions(
  broker: AmqpBroker,
  names: AmqpResourceNames,
  password: string,
  signal: AbortSignal,
): Promise<void> {
  await managementRequest(broker.admin, 'PUT', apiPath('users', names.username), {
    signal,
    body: { password, tags: '' },
  });
  await managementRequest(broker.admin, 'PUT', apiPath('permissions', names.vhost, names.username), {
    signal,
    body: FULL_PERMISSIONS,
  });
}

/**
 * Whether `password` is the one RabbitMQ stored as `hash` (base64 of a 4-byte salt and the digest of salt and
 * password); undefined when the hashing algorithm is one this does not know.
 */
function passwordMatches(hash: unknown, algorithm: unknown, password: string): boolean | undefined {
  const digests: Record<string, string> = {
    rabbit_password_hashing_sha256: 'sha256',
    rabbit_password_hashing_sha512: 'sha512',
    rabbit_password_hashing_md5: 'md5',
  };
  const digest = typeof algorithm === 'string' ? digests[algorithm] : undefined;
  if (!digest || typeof hash !== 'string') return undefined;
  const bytes = Buffer.from(hash, 'base64');
  const salt = bytes.subarray(0, 4);
  const expected = createHash(digest)
    .update(Buffer.concat([salt, Buffer.from(password)]))
    .digest();
  return bytes.length === 4 + expected.length && expected.equals(bytes.subarray(4));
}

function descriptionOf(body: unknown): unknown {
  return body && typeof body === 'object' ? (body as { description?: unknown }).description : undefined;
}
