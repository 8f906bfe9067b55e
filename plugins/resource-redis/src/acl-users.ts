// One ACL user per resource, limited to its key prefix: the provisioning both drivers share. The embedded driver
// differs only in which server it points at and in that it must persist users (its server keeps them in an
// aclfile).
import { createHash, createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ConflictError, InputError } from '@pave/core';
import type { DriverContext, DriverLogger, ResourceOutputs } from '@pave/plugin-api';
import { formatRedisUrl, parseRedisUrl, withRedis, type RedisEndpoint } from './connection.ts';
import type { RedisResourceNames } from './names.ts';

/** A Redis server on which Pave provisions one ACL user per resource, as both drivers describe it. */
export interface AclServer {
  /** How Pave logs in to manage users: a user allowed to run ACL, SCAN, DUMP, RESTORE and UNLINK. */
  admin: RedisEndpoint;
  /** The secret resource passwords are derived from (see derivePassword); changing it changes every password. */
  passwordSecret: string;
  /** The host workloads connect to (may differ from how Pave reaches the server). */
  host: string;
  /** The port workloads connect to. */
  port: number;
  /**
   * `required`: the server keeps users in an aclfile and `ACL SAVE` must succeed (the embedded server);
   * `if-configured`: save when the server has an aclfile, else users live until the server restarts.
   */
  aclSave: 'required' | 'if-configured';
  /** Keys per SCAN, UNLINK and copy batch. */
  batchSize: number;
}

/** The default number of keys per SCAN, UNLINK and copy batch. */
export const DEFAULT_BATCH_SIZE = 500;

/**
 * The commands a resource's user may run, after its key and channel patterns: everything ordinary apps use
 * (strings, hashes, lists, sets, sorted sets, streams, pub/sub, transactions, scripts, INFO), but nothing
 * that administers the server (`@admin`: CONFIG, ACL changes, SHUTDOWN…) or reaches beyond the user's keys
 * (`@dangerous`: KEYS, FLUSHALL, FLUSHDB, SORT, MIGRATE…). INFO is given back because client libraries call it
 * on connect. RANDOMKEY, SCAN and PUBSUB CHANNELS/SHARDCHANNELS are taken away because they name other
 * tenants' keys and channels (key patterns do not filter what they list), a production environment's among
 * them; FUNCTION and SCRIPT FLUSH/KILL act on state every user of the server shares.
 */
export const RESOURCE_USER_COMMANDS: readonly string[] = [
  '+@all',
  '-@admin',
  '-@dangerous',
  '+info',
  '-randomkey',
  '-scan',
  '-pubsub|channels',
  '-pubsub|shardchannels',
  '-function',
  '-script|flush',
  '-script|kill',
];

/**
 * The password of ACL user `username`: HMAC-SHA256 keyed by `secret`, base64url. Pave stores no resource
 * password: `read` derives it again. The secret is the admin password (and, for a shared server, its
 * host:port), so changing the admin credentials changes every derived password; `update` then sets the new one.
 * An empty secret still yields a password, but one anyone can derive: a server whose admin has no password
 * gives isolation between apps, not secrecy (anyone may log in as its `default` user anyway).
 */
export function derivePassword(secret: string, username: string): string {
  return createHmac('sha256', secret).update(username).digest('base64url');
}

/** The outputs of the resource named `names` on `server` (type `redis`: host, port, username, prefix; password, url). */
export function aclUserOutputs(server: AclServer, names: RedisResourceNames): ResourceOutputs {
  const password = derivePassword(server.passwordSecret, names.username);
  const url = formatRedisUrl({
    tls: server.admin.tls,
    host: server.host,
    port: server.port,
    username: names.username,
    password,
    db: server.admin.db,
  });
  return {
    values: { host: server.host, port: String(server.port), username: names.username, prefix: names.prefix },
    secrets: { password, url },
  };
}

/**
 * Creates the ACL user of `names` (or takes over one a crashed create left behind), copies `cloneFrom`'s keys
 * into its prefix when given, and checks that the user can log in. Refuses with ConflictError when keys under
 * the prefix exist but no user does (someone else's data). If any later step fails, the user and its keys are
 * removed before the error is rethrown: a rejected create leaves nothing behind.
 */
export async function createAclUser(
  server: AclServer,
  names: RedisResourceNames,
  cloneFrom: ResourceOutputs | undefined,
  ctx: DriverContext,
): Promise<ResourceOutputs> {
  const outputs = aclUserOutputs(server, names);
  const log = { username: names.username, prefix: names.prefix };
  if (ctx.dryRun) {
    ctx.logger.info('would create the ACL user', { ...log, clone: Boolean(cloneFrom) });
    return outputs;
  }
  if (!server.admin.password) {
    ctx.logger.warn('the admin user has no password: derived passwords isolate apps but are not secret', log);
  }
  await withRedis(server.admin, ctx.signal, async (redis) => {
    if (await getUser(redis, names.username)) {
      ctx.logger.info('the ACL user exists already (left by an interrupted create): taking it over', log);
    } else if (await hasKeys(redis, names.prefix, server.batchSize, ctx.signal)) {
      throw new ConflictError(`keys under "${names.prefix}" exist, but no ACL user owns them`, [
        {
          path: 'scope',
          message:
            `remove them (redis-cli --scan --pattern '${names.prefix}*' | xargs redis-cli unlink) ` +
            'or give the resource another id',
        },
      ]);
    }
    await tightenEarlierUsers(redis, server, ctx.logger);
    try {
      await setUser(redis, names, outputs.secrets.password ?? '');
      if (cloneFrom) await cloneKeys(server, redis, names, cloneFrom, ctx);
      await checkLogin(server, names, outputs.secrets.password ?? '', ctx.signal);
      await saveAcl(redis, server, ctx.logger);
    } catch (error) {
      ctx.logger.warn('create failed part way: removing the ACL user and its keys', {
        ...log,
        error: errorMessage(error),
      });
      // The call's signal may be what failed it: clean up on a connection of its own.
      await withRedis(server.admin, AbortSignal.timeout(60_000), (cleanup) =>
        removeUserAndKeys(cleanup, server, names, AbortSignal.timeout(60_000), ctx.logger),
      ).catch((cleanupError: unknown) =>
        ctx.logger.error('could not remove the ACL user of a failed create', {
          ...log,
          error: errorMessage(cleanupError),
        }),
      );
      throw error;
    }
  });
  ctx.logger.info('created the ACL user', log);
  return outputs;
}

/**
 * Sets the user's password and permissions again (re-creating the user if it vanished), e.g. after the admin
 * credentials changed, which changes the derived password. `ACL SETUSER` is atomic: if it fails, the user keeps
 * its previous password.
 */
export async function updateAclUser(
  server: AclServer,
  names: RedisResourceNames,
  ctx: DriverContext,
): Promise<ResourceOutputs> {
  const outputs = aclUserOutputs(server, names);
  if (ctx.dryRun) {
    ctx.logger.info('would set the ACL user again', { username: names.username });
    return outputs;
  }
  await withRedis(server.admin, ctx.signal, async (redis) => {
    await tightenEarlierUsers(redis, server, ctx.logger);
    await setUser(redis, names, outputs.secrets.password ?? '');
    await checkLogin(server, names, outputs.secrets.password ?? '', ctx.signal);
    await saveAcl(redis, server, ctx.logger);
  });
  return outputs;
}

/**
 * The outputs of the user of `names`, or null if the server has no such user. Warns when the user's password
 * is not the derived one (the admin credentials changed since): `update` re-syncs it.
 */
export async function readAclUser(
  server: AclServer,
  names: RedisResourceNames,
  ctx: DriverContext,
): Promise<ResourceOutputs | null> {
  const user = await withRedis(server.admin, ctx.signal, (redis) => getUser(redis, names.username));
  if (!user) return null;
  const outputs = aclUserOutputs(server, names);
  const hash = createHash('sha256')
    .update(outputs.secrets.password ?? '')
    .digest('hex');
  if (!user.passwords.includes(hash)) {
    ctx.logger.warn(
      'the ACL user has another password than the derived one (the admin credentials changed?): update re-syncs it',
      {
        username: names.username,
      },
    );
  }
  return outputs;
}

/**
 * Removes the user of `names` and every key under its prefix. A missing user is not an error (its keys are
 * still removed, so a retried delete finishes what a failed one started).
 */
export async function deleteAclUser(
  server: AclServer,
  names: RedisResourceNames,
  ctx: DriverContext,
): Promise<void> {
  if (ctx.dryRun) {
    ctx.logger.info('would delete the ACL user and its keys', {
      username: names.username,
      prefix: names.prefix,
    });
    return;
  }
  await withRedis(server.admin, ctx.signal, async (redis) => {
    await tightenEarlierUsers(redis, server, ctx.logger);
    await removeUserAndKeys(redis, server, names, ctx.signal, ctx.logger);
  });
}

/** The commands users made before 2026-12-06 may still run that RESOURCE_USER_COMMANDS now takes away. */
const TAKEN_AWAY_SINCE = ['-scan', '-pubsub|channels', '-pubsub|shardchannels'] as const;

/**
 * Takes away from the users Pave made on `server` before RESOURCE_USER_COMMANDS lost SCAN and PUBSUB CHANNELS
 * what they would list of other tenants' keys and channels (a rule added to each, nothing reset). At every
 * create, update and delete on the server (one `ACL LIST`): an existing resource's user is otherwise never set
 * again.
 */
async function tightenEarlierUsers(redis: Redis, server: AclServer, logger: DriverLogger): Promise<void> {
  const rules = (await redis.call('ACL', 'LIST')) as string[];
  const earlier = rules
    .map((line) => /^user (pave_\S+) (.*)$/.exec(line))
    .filter((match) => match !== null && !/(^| )-scan( |$)/.test(match[2]!))
    .map((match) => match![1]!);
  for (const username of earlier) await redis.call('ACL', 'SETUSER', username, ...TAKEN_AWAY_SINCE);
  if (earlier.length > 0) {
    await saveAcl(redis, server, logger);
    logger.info('took SCAN and PUBSUB CHANNELS away from resource users made before they were refused', {
      users: earlier.length,
    });
  }
}

/** What `ACL GETUSER` says about a user, as far as Pave needs it. */
interface AclUser {
  /** SHA-256 (hex) of each of its passwords. */
  passwords: string[];
}

async function getUser(redis: Redis, username: string): Promise<AclUser | null> {
  const reply = (await redis.call('ACL', 'GETUSER', username)) as unknown[] | null;
  if (!reply) return null;
  const index = reply.indexOf('passwords');
  const passwords = index >= 0 ? reply[index + 1] : [];
  return { passwords: Array.isArray(passwords) ? passwords.map(String) : [] };
}

async function setUser(redis: Redis, names: RedisResourceNames, password: string): Promise<void> {
  await redis.call(
    'ACL',
    'SETUSER',
    names.username,
    'reset',
    'on',
    `>${password}`,
    `~${names.prefix}*`,
    `&${names.prefix}*`,
    ...RESOURCE_USER_COMMANDS,
  );
}

async function checkLogin(
  server: AclServer,
  names: RedisResourceNames,
  password: string,
  signal: AbortSignal,
): Promise<void> {
  await withRedis({ ...server.admin, username: names.username, password }, signal, (redis) => redis.ping());
}

async function saveAcl(redis: Redis, server: AclServer, logger: DriverLogger): Promise<void> {
  try {
    await redis.call('ACL', 'SAVE');
  } catch (error) {
    if (server.aclSave === 'required') throw error;
    if (!/not configured to use an ACL file/i.test(errorMessage(error))) {
      logger.warn('ACL SAVE failed: the server forgets the change when it restarts', {
        error: errorMessage(error),
      });
    }
  }
}

async function removeUserAndKeys(
  redis: Redis,
  server: AclServer,
  names: RedisResourceNames,
  signal: AbortSignal,
  logger: DriverLogger,
): Promise<void> {
  // Keys first: if this fails, the user is still there and the resource still exists, as a failed delete says.
  let removed = await unlinkKeys(redis, names.prefix, server.batchSize, signal);
  const deleted = Number(await redis.call('ACL', 'DELUSER', names.username));
  // DELUSER disconnects the user's clients; remove what they wrote since the first pass.
  removed += await unlinkKeys(redis, names.prefix, server.batchSize, signal);
  if (deleted) await saveAcl(redis, server, logger);
  logger.info('deleted the ACL user and its keys', {
    username: names.username,
    userExisted: deleted > 0,
    keys: removed,
  });
}

/** Escapes Redis glob characters, so a prefix matches only itself. */
function globLiteral(prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, '\\$&');
}

/** Calls `fn` with each batch of keys under `prefix` that SCAN returns (keys may repeat across batches). */
async function scanPrefix(
  redis: Redis,
  prefix: string,
  batchSize: number,
  signal: AbortSignal,
  fn: (keys: Buffer[]) => Promise<boolean | void>,
): Promise<void> {
  let cursor = '0';
  do {
    signal.throwIfAborted();
    const [next, keys] = await redis.scanBuffer(
      cursor,
      'MATCH',
      `${globLiteral(prefix)}*`,
      'COUNT',
      batchSize,
    );
    cursor = next.toString();
    if (keys.length && (await fn(keys)) === false) return;
  } while (cursor !== '0');
}

async function hasKeys(
  redis: Redis,
  prefix: string,
  batchSize: number,
  signal: AbortSignal,
): Promise<boolean> {
  let found = false;
  await scanPrefix(redis, prefix, batchSize, signal, async () => {
    found = true;
    return false;
  });
  return found;
}

async function unlinkKeys(
  redis: Redis,
  prefix: string,
  batchSize: number,
  signal: AbortSignal,
): Promise<number> {
  let removed = 0;
  await scanPrefix(redis, prefix, batchSize, signal, async (keys) => {
    removed += await redis.unlink(...keys);
  });
  return removed;
}

/**
 * Copies the keys of the resource `from` into the prefix of `names`, keeping each key's remaining time to
 * live. On the same server Pave reads them as admin; from another server it logs in with the source's own
 * URL (so it reads only what the source may read), and moves them with DUMP and RESTORE. A source whose user
 * may not list its keys (a Pave resource user: no SCAN) is not copied: the clone starts empty, with a warning.
 */
async function cloneKeys(
  server: AclServer,
  admin: Redis,
  names: RedisResourceNames,
  from: ResourceOutputs,
  ctx: DriverContext,
): Promise<void> {
  const fromPrefix = from.values.prefix;
  if (!fromPrefix) {
    ctx.logger.warn('the resource to copy from has no key prefix: starting empty', {
      username: names.username,
    });
    return;
  }
  const sameServer = from.values.host === server.host && from.values.port === String(server.port);
  if (sameServer && fromPrefix === names.prefix) return;
  let copied: number;
  if (sameServer) {
    copied = await copyKeys(admin, admin, fromPrefix, names.prefix, server.batchSize, ctx.signal);
  } else {
    const url = from.secrets.url;
    if (!url) {
      throw new InputError('the resource to copy from has no url output', [
        { path: 'cloneFrom.secrets.url', message: 'copying from another server needs the source url' },
      ]);
    }
    let source: RedisEndpoint;
    try {
      source = parseRedisUrl(url);
    } catch (error) {
      throw new InputError(`the url of the resource to copy from ${errorMessage(error)}`, [
        { path: 'cloneFrom.secrets.url', message: errorMessage(error) },
      ]);
    }
    try {
      copied = await withRedis(source, ctx.signal, (redis) =>
        copyKeys(redis, admin, fromPrefix, names.prefix, server.batchSize, ctx.signal),
      );
    } catch (error) {
      if (!/NOPERM.*'scan'/.test(errorMessage(error))) throw error;
      // A user Pave made for a resource may not SCAN (see RESOURCE_USER_COMMANDS): nothing was copied.
      ctx.logger.warn(
        "the resource to copy from is on another server and its user may not list its keys (SCAN): starting empty; copy them with that server's admin (redis-cli --scan --pattern, then DUMP and RESTORE) if they are needed",
        { from: fromPrefix, to: names.prefix },
      );
      return;
    }
  }
  ctx.logger.info('copied keys from the source resource', {
    from: fromPrefix,
    to: names.prefix,
    keys: copied,
    sameServer,
  });
}

async function copyKeys(
  source: Redis,
  target: Redis,
  fromPrefix: string,
  toPrefix: string,
  batchSize: number,
  signal: AbortSignal,
): Promise<number> {
  const from = Buffer.from(fromPrefix);
  const to = Buffer.from(toPrefix);
  let copied = 0;
  await scanPrefix(source, fromPrefix, batchSize, signal, async (keys) => {
    const read = source.pipeline();
    for (const key of keys) read.pttl(key).dumpBuffer(key);
    const values = pipelineResults(await read.exec());
    const write = target.pipeline();
    let writes = 0;
    keys.forEach((key, i) => {
      const ttl = Number(values[2 * i]);
      const payload = values[2 * i + 1];
      if (!Buffer.isBuffer(payload)) return; // expired or deleted since SCAN saw it
      // On one server a source prefix may contain the target's ("a:" and "a:b:c:"): never copy a copy.
      if (source === target && key.subarray(0, to.length).equals(to)) return;
      // REPLACE: a key SCAN returns twice, or one an interrupted create already copied, is copied again.
      write.restore(Buffer.concat([to, key.subarray(from.length)]), ttl > 0 ? ttl : 0, payload, 'REPLACE');
      writes += 1;
    });
    if (writes) pipelineResults(await write.exec());
    copied += writes;
  });
  return copied;
}

/** The replies of a pipeline; throws the first command error. */
function pipelineResults(results: Array<[Error | null, unknown]> | null): unknown[] {
  if (!results) throw new Error('the Redis connection closed during a pipeline');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/** The message of a thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
