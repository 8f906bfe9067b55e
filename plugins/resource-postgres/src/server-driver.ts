import { InputError } from '@pave/core';
import type {
  CheckFailure,
  DriverContext,
  ResourceDiff,
  ResourceDriver,
  ResourceInputs,
  ResourceOutputs,
} from '@pave/plugin-api';
import { copyDatabase } from './clone.ts';
import { clientSettingsFromOutputs, parsePostgresUrl, postgresOutputs } from './connection.ts';
import type { ServerAddress } from './connection.ts';
import { isResourceObjectName, resourceObjectName } from './names.ts';
import { derivePassword } from './passwords.ts';
import {
  createRoleAndDatabase,
  dropRoleAndDatabase,
  objectPresence,
  setRolePassword,
} from './provisioning.ts';

/** Configuration of the `postgres-server` driver: it has none yet (everything comes from driver inputs). */
export type PostgresServerConfig = Record<string, never>;

/** What the `postgres-server` driver takes from its host process. */
export interface PostgresServerDeps {
  /** The environment `pg_dump` and `psql` are looked up in (PATH) and run with; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** One resource definition's server, as its driver inputs describe it. */
interface ServerTarget {
  adminUrl: string;
  admin: ServerAddress;
  /** The address workloads connect to: `host`/`port` inputs, else the admin URL's. */
  host: string;
  port: number;
  passwordKey: string;
}

/** Reads the driver inputs; reports every problem at once. */
function readTarget(inputs: ResourceInputs): { target: ServerTarget | null; failures: CheckFailure[] } {
  const failures: CheckFailure[] = [];
  const adminUrl = inputs.driverSecrets.adminUrl ?? inputs.driverInputs.adminUrl;
  const admin = typeof adminUrl === 'string' ? parsePostgresUrl(adminUrl) : null;
  if (adminUrl === undefined) {
    failures.push({
      property: 'adminUrl',
      reason:
        'missing: set the secret driver input adminUrl to a superuser (or CREATEROLE and CREATEDB) connection ' +
        'URL such as postgres://postgres:PASSWORD@db.example.com:5432/postgres',
    });
  } else if (!admin) {
    failures.push({
      property: 'adminUrl',
      reason: 'not a PostgreSQL URL: write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE',
    });
  }

  const hostInput = inputs.driverInputs.host;
  if (hostInput !== undefined && (typeof hostInput !== 'string' || !/^[A-Za-z0-9.:_-]+$/.test(hostInput))) {
    failures.push({ property: 'host', reason: 'must be a host name or IP address, e.g. db.internal' });
  } else if (hostInput === undefined && admin?.socket) {
    failures.push({
      property: 'host',
      reason:
        'adminUrl reaches the server over a Unix socket, which workloads cannot use: set host (and port) to ' +
        'the address they connect to',
    });
  }
  const portInput = inputs.driverInputs.port;
  let port = admin?.port;
  if (portInput !== undefined) {
    const parsed = typeof portInput === 'string' || typeof portInput === 'number' ? Number(portInput) : NaN;
    if (Number.isInteger(parsed) && parsed >= 1 && parsed <= 65_535) port = parsed;
    else failures.push({ property: 'port', reason: 'must be a port number from 1 to 65535' });
  }
  if (inputs.driverInputs.passwordKey !== undefined) {
    failures.push({
      property: 'passwordKey',
      reason: 'is a secret: move it from driverInputs.values to driverInputs.secrets',
    });
  }
  const passwordKey = inputs.driverSecrets.passwordKey ?? '';
  if (typeof passwordKey !== 'string') {
    failures.push({ property: 'passwordKey', reason: 'must be a string' });
  }

  if (failures.length > 0 || !admin || typeof adminUrl !== 'string' || typeof passwordKey !== 'string') {
    return { target: null, failures };
  }
  return {
    target: {
      adminUrl,
      admin,
      host: typeof hostInput === 'string' ? hostInput : admin.host,
      port: port ?? admin.port,
      passwordKey,
    },
    failures,
  };
}

/** The target of valid inputs; InputError listing every problem otherwise. */
function requireTarget(inputs: ResourceInputs): ServerTarget {
  const { target, failures } = readTarget(inputs);
  if (!target) {
    throw new InputError(
      `invalid inputs for the postgres-server driver: ${failures.map((f) => `${f.property} ${f.reason}`).join('; ')}`,
      failures.map((f) => ({ path: `driverInputs.${f.property}`, message: f.reason })),
    );
  }
  return target;
}

/** `host:port` of the server itself (not of the workloads' route to it). */
function serverIdentity(admin: ServerAddress): string {
  return `${admin.host}:${admin.port}`;
}

/** The id, checked before it names anything in SQL. */
function requireName(id: string): string {
  if (!isResourceObjectName(id)) {
    throw new InputError(`"${id}" is not the id of a postgres-server resource (pave_…_<8 hex digits>)`);
  }
  return id;
}

/**
 * `postgres-server`: a database and a login role of its own for each resource, on an existing PostgreSQL
 * server (13 or newer) that the platform team runs.
 *
 * Driver inputs:
 * - `adminUrl` (secret; a plain value is accepted too): `postgres://USER:PASSWORD@HOST:PORT/DB` of a superuser,
 *   or of a role with CREATEROLE and CREATEDB;
 * - `host`, `port` (optional): the address workloads use, when it is not the admin URL's (another network
 *   path, a proxy, an admin URL over a Unix socket);
 * - `passwordKey` (optional secret): mixed into the derived passwords; set it when the admin URL carries no
 *   password (trust or peer authentication), or the passwords could be guessed from the names.
 *
 * `create` makes a role and a database of the same name, `pave_<app>_<env>_<address>_<hash>` (see
 * `resourceObjectName`), owned by the role, and revokes PUBLIC's rights on it so that no other environment's
 * role can connect. The id is that name. If a step fails, what was made is dropped before create rejects.
 * With `cloneFrom`, the source database's schema and data are copied in with `pg_dump | psql` (both must be on
 * PATH), owned by the new role.
 *
 * Passwords are derived, not stored: HMAC-SHA256 over the role name, keyed with the admin URL's password,
 * `passwordKey` and the server's `host:port` (see `derivePassword`). So `read` rebuilds exactly the outputs
 * `create` returned once it has checked that both database and role exist (null if either is gone). Rotating
 * the admin password or `passwordKey` changes the derived passwords: `diff` reports the change and `update`
 * sets the new password on the role (workloads then need a redeploy to pick it up).
 *
 * `diff` asks for replacement when `adminUrl` names another server (host or port); other changes to
 * `adminUrl`, `host`, `port` or `passwordKey` are updates in place. `delete` runs `DROP DATABASE … WITH
 * (FORCE)` (ending open sessions) and `DROP ROLE`; missing ones are fine.
 */
export class PostgresServerDriver implements ResourceDriver {
  readonly name = 'postgres-server';
  private readonly env: NodeJS.ProcessEnv;

  constructor(_config: PostgresServerConfig = {}, deps: PostgresServerDeps = {}) {
    this.env = deps.env ?? process.env;
  }

  /** The driver; it connects to nothing until called. */
  static fromConfig(config: PostgresServerConfig = {}, deps?: PostgresServerDeps): PostgresServerDriver {
    return new PostgresServerDriver(config, deps);
  }

  /** Every problem with the driver inputs (`adminUrl`, `host`, `port`, `passwordKey`); empty when valid. */
  async check(inputs: ResourceInputs, _ctx: DriverContext): Promise<CheckFailure[]> {
    return readTarget(inputs).failures;
  }

  /** Replacement when the server changes; an update when only credentials or the workloads' address do. */
  async diff(
    _id: string,
    olds: ResourceInputs,
    news: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<ResourceDiff> {
    const before = readTarget(olds).target;
    const after = readTarget(news).target;
    if (!before || !after) return { changes: true, replace: true, changedProperties: ['adminUrl'] };
    const changedProperties: string[] = [];
    if (before.adminUrl !== after.adminUrl) changedProperties.push('adminUrl');
    if (before.host !== after.host) changedProperties.push('host');
    if (before.port !== after.port) changedProperties.push('port');
    if (before.passwordKey !== after.passwordKey) changedProperties.push('passwordKey');
    if (changedProperties.length === 0) return { changes: false };
    return {
      changes: true,
      replace: serverIdentity(before.admin) !== serverIdentity(after.admin),
      changedProperties,
    };
  }

  /**
   * Creates the role and database (see the class comment) and, with `cloneFrom`, copies the source's data in.
   * If it rejects, neither exists (unless the name was already taken, by something create leaves alone).
   */
  async create(
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ id: string; outputs: ResourceOutputs }> {
    const target = requireTarget(inputs);
    const name = resourceObjectName(inputs.scope);
    const { password, outputs } = this.credentials(target, name);
    if (ctx.dryRun) return { id: name, outputs };
    if (!target.admin.password && !target.passwordKey) {
      ctx.logger.warn(
        'adminUrl has no password and passwordKey is not set: the generated password can be derived from the ' +
          'resource names; set the secret driver input passwordKey',
        { database: name },
      );
    }
    await createRoleAndDatabase(target.adminUrl, name, password, ctx.signal);
    ctx.logger.info('created database and role', { database: name, server: serverIdentity(target.admin) });
    if (inputs.cloneFrom) {
      try {
        await this.copyFrom(inputs.cloneFrom, target, name, password, ctx);
      } catch (error) {
        await dropRoleAndDatabase(target.adminUrl, name).catch((cleanupError: unknown) => {
          ctx.logger.error('dropping the database after a failed copy failed too', {
            database: name,
            error: String(cleanupError),
          });
        });
        throw error;
      }
    }
    return { id: name, outputs };
  }

  /** Sets the password derived from the new inputs on the role and returns the new outputs. */
  async update(
    id: string,
    _olds: ResourceInputs,
    news: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    const target = requireTarget(news);
    const name = requireName(id);
    const { password, outputs } = this.credentials(target, name);
    if (!ctx.dryRun) await setRolePassword(target.adminUrl, name, password);
    return { outputs };
  }

  /** The outputs create returned, if both the database and the role exist; null otherwise. */
  async read(
    id: string,
    inputs: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs } | null> {
    const target = requireTarget(inputs);
    const name = requireName(id);
    const presence = await objectPresence(target.adminUrl, name);
    return presence.database && presence.role ? { outputs: this.credentials(target, name).outputs } : null;
  }

  /** Drops the database (ending its sessions) and the role; succeeds when they are already gone. */
  async delete(id: string, inputs: ResourceInputs, ctx: DriverContext): Promise<void> {
    const target = requireTarget(inputs);
    const name = requireName(id);
    if (ctx.dryRun) return;
    await dropRoleAndDatabase(target.adminUrl, name);
    ctx.logger.info('dropped database and role', { database: name, server: serverIdentity(target.admin) });
  }

  /** The role's derived password and the resource's outputs. */
  private credentials(target: ServerTarget, name: string): { password: string; outputs: ResourceOutputs } {
    const password = derivePassword(
      {
        adminPassword: target.admin.password,
        passwordKey: target.passwordKey,
        server: serverIdentity(target.admin),
      },
      name,
    );
    const outputs = postgresOutputs({
      host: target.host,
      port: target.port,
      username: name,
      password,
      database: name,
    });
    return { password, outputs };
  }

  /** Copies `source`'s data into the new database, connected the way the admin connection reaches the server. */
  private async copyFrom(
    source: ResourceOutputs,
    target: ServerTarget,
    name: string,
    password: string,
    ctx: DriverContext,
  ): Promise<void> {
    const from = clientSettingsFromOutputs(source);
    if (!from)
      throw new InputError(
        'cloneFrom does not describe a postgres database (host, port, username, database)',
      );
    ctx.logger.info('copying data into the new database', {
      database: name,
      from: `${from.host}:${from.port}`,
    });
    await copyDatabase(
      from,
      { host: target.admin.host, port: target.admin.port, user: name, password, database: name },
      ctx.signal,
      this.env,
    );
  }
}
