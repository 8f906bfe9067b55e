import { InputError } from '@pave/core';
import type {
  CheckFailure,
  DriverContext,
  ResourceDiff,
  ResourceDriver,
  ResourceInputs,
  ResourceOutputs,
} from '@pave/plugin-api';
import { parseMysqlUrl, serverIdentity, type MysqlEndpoint } from './connection.ts';
import { requireResourceObjectName, resourceObjectName } from './names.ts';
import {
  createResource,
  deleteResource,
  readResource,
  resourceCredentials,
  updateResource,
  type MysqlServer,
} from './provisioning.ts';

/** Configuration of the `mysql-server` driver: it has none yet (everything comes from driver inputs). */
export type MysqlServerConfig = Record<string, never>;

/** What the `mysql-server` driver takes from its host process. */
export interface MysqlServerDeps {
  /** The environment `mysqldump` and `mysql` are looked up in (PATH) and run with; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** One resource definition's server, as its driver inputs describe it. */
interface ServerTarget {
  adminUrl: string;
  admin: MysqlEndpoint;
  /** The address workloads connect to: `host`/`port` inputs, else the admin URL's. */
  host: string;
  port: number;
  passwordKey: string;
}

const ADMIN_URL_HELP =
  'set the secret driver input adminUrl to mysql://USER:PASSWORD@HOST:PORT/ of an account allowed to create ' +
  'databases and users and to grant privileges (root, or one with CREATE, CREATE USER and GRANT OPTION)';

function adminUrlOf(inputs: ResourceInputs): unknown {
  return inputs.driverSecrets.adminUrl ?? inputs.driverInputs.adminUrl;
}

/** Reads the driver inputs; reports every problem at once. */
function readTarget(inputs: ResourceInputs): { target: ServerTarget | null; failures: CheckFailure[] } {
  const failures: CheckFailure[] = [];
  const adminUrl = adminUrlOf(inputs);
  const admin = typeof adminUrl === 'string' ? parseMysqlUrl(adminUrl) : null;
  if (adminUrl === undefined || adminUrl === '') {
    failures.push({ property: 'adminUrl', reason: `missing: ${ADMIN_URL_HELP}` });
  } else if (!admin) {
    failures.push({
      property: 'adminUrl',
      reason: 'not a MySQL URL with a user name: write it as mysql://USER:PASSWORD@HOST:PORT/',
    });
  }
  const hostInput = inputs.driverInputs.host;
  if (hostInput !== undefined && (typeof hostInput !== 'string' || !/^[A-Za-z0-9.:_-]+$/.test(hostInput))) {
    failures.push({
      property: 'host',
      reason: 'must be the host name or IP address workloads connect to, e.g. db.internal',
    });
  }
  const portInput = inputs.driverInputs.port;
  let port = admin?.port;
  if (portInput !== undefined) {
    const parsed =
      typeof portInput === 'number' || (typeof portInput === 'string' && /^\d+$/.test(portInput))
        ? Number(portInput)
        : NaN;
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

/** Whether `url` is a MySQL URL holding a password. */
function hasPassword(url: unknown): boolean {
  return typeof url === 'string' && (parseMysqlUrl(url)?.password ?? '') !== '';
}

/**
 * `mysql-server`: a database and a user of its own for each resource, on an existing MySQL (5.7 or newer) or
 * MariaDB (10.2 or newer) server that the platform team runs.
 *
 * Driver inputs:
 * - `adminUrl` (secret; a plain value is accepted when it holds no password): `mysql://USER:PASSWORD@HOST:PORT/`
 *   of an account allowed to create databases and users and to grant privileges;
 * - `host`, `port` (optional): the address workloads use, when it is not the admin URL's;
 * - `passwordKey` (optional secret): mixed into the derived passwords; set it when the admin URL carries no
 *   password, or the passwords could be guessed from the names.
 *
 * `create` makes a database and a user `'<name>'@'%'` of the same name, `<app>_<env>_<resId>_<hash>` cut to 32
 * characters (see `resourceObjectName`; it is also the id), and grants the user ALL PRIVILEGES on that database
 * only: it can neither see other databases nor create any. If a step fails, what create made is dropped before
 * it rejects. With `cloneFrom`, the source database is copied in with `mysqldump | mysql` (both on PATH).
 *
 * Passwords are derived, not stored (see `derivePassword`): `read` rebuilds the outputs once it has checked that
 * the database and the user exist (null if either is gone). Rotating the admin password or `passwordKey`
 * changes the derived passwords: `diff` reports the change and `update` sets the new password.
 * `diff` asks for replacement when `adminUrl` names another server (host or port). `delete` ends the user's
 * sessions and drops the database and the user; missing ones are fine.
 */
export class MysqlServerDriver implements ResourceDriver {
  readonly name = 'mysql-server';
  private readonly env: NodeJS.ProcessEnv;

  constructor(_config: MysqlServerConfig = {}, deps: MysqlServerDeps = {}) {
    this.env = deps.env ?? process.env;
  }

  /** The driver; it connects to nothing until called. */
  static fromConfig(config: MysqlServerConfig = {}, deps?: MysqlServerDeps): MysqlServerDriver {
    return new MysqlServerDriver(config, deps);
  }

  /** Every problem with the driver inputs (`adminUrl`, `host`, `port`, `passwordKey`); empty when valid. */
  async check(inputs: ResourceInputs, ctx: DriverContext): Promise<CheckFailure[]> {
    if (inputs.driverSecrets.adminUrl === undefined && hasPassword(inputs.driverInputs.adminUrl)) {
      ctx.logger.warn(
        'adminUrl holds a password in driverInputs.values (stored in plain text): move it to driverInputs.secrets',
      );
    }
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
   * Creates the database and user (see the class comment) and, with `cloneFrom`, copies the source's data in.
   * If it rejects, neither exists (unless an earlier attempt left them, which create takes over).
   */
  async create(
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ id: string; outputs: ResourceOutputs }> {
    const server = this.server(inputs);
    const name = resourceObjectName(inputs.scope);
    if (ctx.dryRun) return { id: name, outputs: resourceCredentials(server, name).outputs };
    if (!server.admin.password && !server.passwordSource.passwordKey) {
      ctx.logger.warn(
        'adminUrl has no password and passwordKey is not set: the generated password can be derived from the ' +
          'resource names; set the secret driver input passwordKey',
        { database: name },
      );
    }
    return { id: name, outputs: await createResource(server, name, inputs.cloneFrom, ctx) };
  }

  /** Sets the password derived from the new inputs and the grant again, and returns the new outputs. */
  async update(
    id: string,
    _olds: ResourceInputs,
    news: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    const server = this.server(news);
    const name = requireResourceObjectName(id);
    if (ctx.dryRun) return { outputs: resourceCredentials(server, name).outputs };
    return { outputs: await updateResource(server, name) };
  }

  /** The outputs create returned, if both the database and the user exist; null otherwise. */
  async read(
    id: string,
    inputs: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs } | null> {
    const outputs = await readResource(this.server(inputs), requireResourceObjectName(id));
    return outputs && { outputs };
  }

  /** Drops the database (ending the user's sessions) and the user; succeeds when they are already gone. */
  async delete(id: string, inputs: ResourceInputs, ctx: DriverContext): Promise<void> {
    const server = this.server(inputs);
    const name = requireResourceObjectName(id);
    if (ctx.dryRun) return;
    await deleteResource(server, name, ctx);
  }

  /** The server valid inputs describe; InputError listing every problem otherwise. */
  private server(inputs: ResourceInputs): MysqlServer {
    const { target, failures } = readTarget(inputs);
    if (!target) {
      throw new InputError(
        `invalid inputs for the mysql-server driver: ${failures.map((f) => `${f.property} ${f.reason}`).join('; ')}`,
        failures.map((f) => ({ path: `driverInputs.${f.property}`, message: f.reason })),
      );
    }
    return {
      admin: target.admin,
      host: target.host,
      port: target.port,
      passwordSource: {
        adminPassword: target.admin.password,
        passwordKey: target.passwordKey,
        server: serverIdentity(target.admin),
      },
      env: this.env,
    };
  }
}
