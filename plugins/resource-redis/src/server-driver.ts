import { InputError } from '@pave/core';
import type {
  CheckFailure,
  DriverContext,
  ResourceDiff,
  ResourceDriver,
  ResourceInputs,
  ResourceOutputs,
} from '@pave/plugin-api';
import {
  createAclUser,
  deleteAclUser,
  errorMessage,
  readAclUser,
  updateAclUser,
  DEFAULT_BATCH_SIZE,
  type AclServer,
} from './acl-users.ts';
import { parseRedisUrl, type RedisEndpoint } from './connection.ts';
import { namesFromId, resourceNames } from './names.ts';

/** Configuration of the redis-server driver. */
export interface RedisServerDriverConfig {
  /**
   * Keys per SCAN, UNLINK and copy batch when deleting or cloning a resource; default 500. For tests and
   * embedding: `pave up` leaves it unset.
   */
  batchSize?: number;
}

/** The inputs of a redis-server resource, after validation. */
interface ServerInputs {
  admin: RedisEndpoint;
  host: string;
  port: number;
}

const ADMIN_URL_HELP =
  'set driverInputs.secrets.adminUrl to redis://user:password@host:port of a user allowed to run ACL commands';

/**
 * `redis-server`: one ACL user per resource on an existing Redis (6 or newer) that the platform team runs.
 *
 * Driver inputs: `adminUrl` (in `secrets`, or in `values` when it holds no password): `redis://` or `rediss://`
 * URL of a user allowed to run ACL, SCAN, DUMP, RESTORE and UNLINK; optional `host` and `port`: what workloads
 * connect to, when it is not the admin URL's host and port.
 *
 * Each resource gets the user `pave_<app>_<env>_<res>_<hash>` (also its id; see resourceNames) with a password
 * derived from the admin credentials (see derivePassword), limited to keys and channels starting with
 * `<app>:<env>:<res>_<hash>:`, the `prefix` output. Apps must put that prefix in front of every key: outside
 * it, the user can neither read nor write, and `KEYS`, `SCAN`, `FLUSHALL`, `CONFIG` and other server-wide
 * commands are refused (see RESOURCE_USER_COMMANDS). Changing the admin credentials changes the derived
 * passwords: `diff` reports it and `update` sets the new password. Pointing `adminUrl` at another server is a
 * replacement.
 *
 * Users are saved with `ACL SAVE` when the server keeps them in an aclfile; otherwise a server restart forgets
 * them, after which `read` returns null and Pave creates them again.
 */
export class RedisServerDriver implements ResourceDriver {
  readonly name = 'redis-server';

  private constructor(private readonly batchSize: number) {}

  /** The driver with `config` (every field optional). */
  static fromConfig(config: RedisServerDriverConfig = {}): RedisServerDriver {
    return new RedisServerDriver(config.batchSize ?? DEFAULT_BATCH_SIZE);
  }

  /** Checks `adminUrl` (present, a redis:// or rediss:// URL) and the optional `host` and `port`. */
  async check(inputs: ResourceInputs, ctx: DriverContext): Promise<CheckFailure[]> {
    const { failures } = readInputs(inputs);
    if (inputs.driverSecrets.adminUrl === undefined && hasPassword(inputs.driverInputs.adminUrl)) {
      ctx.logger.warn(
        'adminUrl holds a password in driverInputs.values (stored in plain text): move it to secrets',
      );
    }
    return failures;
  }

  /**
   * Changes when the admin URL, `host` or `port` differ; a replacement when the admin URL names another server
   * (host, port or database): the user and its keys live there.
   */
  async diff(
    _id: string,
    olds: ResourceInputs,
    news: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<ResourceDiff> {
    const before = readInputs(olds).inputs;
    const after = readInputs(news).inputs;
    if (!before || !after) return { changes: true, changedProperties: ['adminUrl'] };
    const changedProperties: string[] = [];
    if (adminUrlOf(olds) !== adminUrlOf(news)) changedProperties.push('adminUrl');
    if (before.host !== after.host) changedProperties.push('host');
    if (before.port !== after.port) changedProperties.push('port');
    const replace =
      before.admin.host !== after.admin.host ||
      before.admin.port !== after.admin.port ||
      before.admin.db !== after.admin.db;
    return changedProperties.length ? { changes: true, replace, changedProperties } : { changes: false };
  }

  /**
   * Creates the resource's ACL user (copying `cloneFrom`'s keys when given); rejects with ConflictError when
   * keys under its prefix exist without a user. If it rejects, neither the user nor keys under its prefix exist.
   */
  async create(
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ id: string; outputs: ResourceOutputs }> {
    const names = resourceNames(inputs.scope);
    const outputs = await createAclUser(this.server(inputs), names, inputs.cloneFrom, ctx);
    return { id: names.username, outputs };
  }

  /** Sets the user's derived password and permissions again (after the admin credentials changed, say). */
  async update(
    id: string,
    _olds: ResourceInputs,
    news: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    return { outputs: await updateAclUser(this.server(news), namesFromId(id), ctx) };
  }

  /** The outputs, or null when the server has no user `id`. */
  async read(
    id: string,
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs } | null> {
    const outputs = await readAclUser(this.server(inputs), namesFromId(id), ctx);
    return outputs && { outputs };
  }

  /** Removes the user and its keys (`ACL DELUSER`, then SCAN and UNLINK in batches); a missing user succeeds. */
  async delete(id: string, inputs: ResourceInputs, ctx: DriverContext): Promise<void> {
    await deleteAclUser(this.server(inputs), namesFromId(id), ctx);
  }

  private server(inputs: ResourceInputs): AclServer {
    const { inputs: valid, failures } = readInputs(inputs);
    if (!valid) {
      throw new InputError(
        'the redis-server driver inputs are invalid',
        failures.map((failure) => ({ path: failure.property, message: failure.reason })),
      );
    }
    return {
      admin: valid.admin,
      passwordSecret: `${valid.admin.password}\n${valid.admin.host}:${valid.admin.port}`,
      host: valid.host,
      port: valid.port,
      aclSave: 'if-configured',
      batchSize: this.batchSize,
    };
  }
}

function adminUrlOf(inputs: ResourceInputs): unknown {
  return inputs.driverSecrets.adminUrl ?? inputs.driverInputs.adminUrl;
}

function hasPassword(url: unknown): boolean {
  try {
    return typeof url === 'string' && parseRedisUrl(url).password !== '';
  } catch {
    return false;
  }
}

/** Validates the inputs, reporting every problem at once. */
function readInputs(inputs: ResourceInputs): { inputs: ServerInputs | null; failures: CheckFailure[] } {
  const failures: CheckFailure[] = [];
  const raw = adminUrlOf(inputs);
  let admin: RedisEndpoint | null = null;
  if (typeof raw !== 'string' || raw === '') {
    failures.push({ property: 'adminUrl', reason: `missing: ${ADMIN_URL_HELP}` });
  } else {
    try {
      admin = parseRedisUrl(raw);
    } catch (error) {
      failures.push({ property: 'adminUrl', reason: `${errorMessage(error)} (${ADMIN_URL_HELP})` });
    }
  }
  const host = inputs.driverInputs.host;
  if (host !== undefined && (typeof host !== 'string' || host === '' || /[\s/@]/.test(host))) {
    failures.push({ property: 'host', reason: 'must be a host name or IP address workloads connect to' });
  }
  const port = inputs.driverInputs.port;
  const portNumber = typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : port;
  if (
    port !== undefined &&
    !(Number.isInteger(portNumber) && Number(portNumber) >= 1 && Number(portNumber) <= 65535)
  ) {
    failures.push({ property: 'port', reason: 'must be a port number from 1 to 65535' });
  }
  if (!admin || failures.length) return { inputs: null, failures };
  return {
    inputs: {
      admin,
      host: typeof host === 'string' ? host : admin.host,
      port: port === undefined ? admin.port : Number(portNumber),
    },
    failures,
  };
}
