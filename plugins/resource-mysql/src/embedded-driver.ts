import { existsSync } from 'node:fs';
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
  DEFAULT_PROGRAM_DIRS,
  embeddedAdminEndpoint,
  embeddedMysqlLayout,
  ensureEmbeddedMysql,
  findServerPrograms,
  type MysqlServerPrograms,
} from './embedded-server.ts';
import { pathDirectories } from './executables.ts';
import { requireResourceObjectName, resourceObjectName } from './names.ts';
import {
  createResource,
  deleteResource,
  readResource,
  resourceCredentials,
  updateResource,
  type MysqlServer,
} from './provisioning.ts';

/** Configuration of the mysql-embedded driver. */
export interface EmbeddedMysqlConfig {
  /** Pave's data directory; the driver keeps everything under `<dataDir>/resources/mysql/`. */
  dataDir: string;
}

/** What the mysql-embedded driver takes from its surroundings (replaceable in tests). */
export interface EmbeddedMysqlDeps {
  /** The PATH searched for the server programs; default `process.env.PATH`. */
  pathEnv?: string;
  /** Searched after PATH for the server programs; default /usr/sbin, /usr/local/sbin, /usr/libexec. */
  programDirs?: string[];
  /** The environment `mysqldump` and `mysql` are looked up in and run with (cloneFrom); default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

const HOST = '127.0.0.1';

/** What a dry run reports before the server ever started: its port and the password are not known yet. */
function unstartedOutputs(name: string): ResourceOutputs {
  return { values: { host: HOST, port: '', name, database: name, username: name }, secrets: {} };
}

/**
 * `mysql-embedded`: Pave's default for type `mysql` on a fresh machine. Pave starts one MariaDB (or MySQL)
 * server per data directory itself on first use, from the machine's programs (`mariadbd` and
 * `mariadb-install-db`, or `mysqld`): data under `<dataDir>/resources/mysql/`, listening on 127.0.0.1 on a free
 * port kept across restarts, root protected by a generated password kept in a 0600 file, run as the `mysql`
 * account when Pave runs as root. It leaves the server running when Pave stops (workloads depend on it) and
 * starts it again whenever a call finds it down. On it, each resource is a database and a user exactly as with
 * the `mysql-server` driver (see MysqlServerDriver); the derived passwords are keyed by the root password.
 *
 * Without the server programs `check` and `create` fail saying how to install them (Debian: mariadb-server) or
 * how to use an existing server instead. `read` and `delete` need them only once the server was set up.
 * Driver inputs: none. Outputs: host 127.0.0.1 (so workloads must run on this machine), port, name, database,
 * username; password, url.
 */
export class EmbeddedMysqlDriver implements ResourceDriver {
  readonly name = 'mysql-embedded';

  private constructor(
    private readonly dataDir: string,
    private readonly programDirs: string[],
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** The driver for `config.dataDir`; it starts nothing until a call needs the server. */
  static fromConfig(config: EmbeddedMysqlConfig, deps: EmbeddedMysqlDeps = {}): EmbeddedMysqlDriver {
    const pathEnv = deps.pathEnv ?? process.env.PATH;
    return new EmbeddedMysqlDriver(
      config.dataDir,
      [...pathDirectories(pathEnv), ...(deps.programDirs ?? DEFAULT_PROGRAM_DIRS)],
      deps.env ?? process.env,
    );
  }

  /**
   * Fails, naming the fix, when the server programs are missing, and for every driver input (it takes none: an
   * `adminUrl` here was meant for the mysql-server driver).
   */
  async check(inputs: ResourceInputs, _ctx: DriverContext): Promise<CheckFailure[]> {
    const failures: CheckFailure[] = [];
    if (!findServerPrograms(this.programDirs)) {
      failures.push({ property: 'mariadbd', reason: this.missingPrograms() });
    }
    for (const property of [...Object.keys(inputs.driverInputs), ...Object.keys(inputs.driverSecrets)]) {
      failures.push({
        property,
        reason:
          'the mysql-embedded driver takes no inputs; to use an existing MySQL or MariaDB server, use the ' +
          'mysql-server driver',
      });
    }
    return failures;
  }

  /** Never a change: nothing in the inputs shapes an embedded resource besides its scope (its id). */
  async diff(
    _id: string,
    _olds: ResourceInputs,
    _news: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<ResourceDiff> {
    return { changes: false };
  }

  /** Starts the server if needed and creates the database and user (copying `cloneFrom`'s data when given). */
  async create(
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ id: string; outputs: ResourceOutputs }> {
    const name = resourceObjectName(inputs.scope);
    const server = await this.server(ctx, { start: !ctx.dryRun });
    if (!server || ctx.dryRun) {
      ctx.logger.info('would create the database and user (starting the embedded MySQL server)', {
        database: name,
      });
      return {
        id: name,
        outputs: server ? resourceCredentials(server, name).outputs : unstartedOutputs(name),
      };
    }
    return { id: name, outputs: await createResource(server, name, inputs.cloneFrom, ctx) };
  }

  /** Sets the user's password and grant again (e.g. after the server's root password was replaced). */
  async update(
    id: string,
    _olds: ResourceInputs,
    _news: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    const name = requireResourceObjectName(id);
    const server = await this.server(ctx, { start: !ctx.dryRun });
    if (!server) return { outputs: unstartedOutputs(name) };
    if (ctx.dryRun) return { outputs: resourceCredentials(server, name).outputs };
    return { outputs: await updateResource(server, name) };
  }

  /** The outputs, or null when the database or user is missing (or the server was never set up). */
  async read(
    id: string,
    _inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs } | null> {
    const name = requireResourceObjectName(id);
    if (!this.everSetUp()) return null;
    const server = await this.server(ctx, { start: true });
    const outputs = server && (await readResource(server, name));
    return outputs ? { outputs } : null;
  }

  /** Drops the database and the user; succeeds when they are missing (or the server was never set up). */
  async delete(id: string, _inputs: ResourceInputs, ctx: DriverContext): Promise<void> {
    const name = requireResourceObjectName(id);
    if (!this.everSetUp() || ctx.dryRun) return;
    const server = await this.server(ctx, { start: true });
    if (server) await deleteResource(server, name, ctx);
  }

  private everSetUp(): boolean {
    return existsSync(embeddedMysqlLayout(this.dataDir).initialisedFile);
  }

  private missingPrograms(): string {
    return (
      'the mysql-embedded driver runs its own MariaDB server, but mariadbd (or mysqld) and mariadb-install-db ' +
      `were not found on PATH or in ${DEFAULT_PROGRAM_DIRS.join(', ')}. Install them (apt-get install ` +
      'mariadb-server), or add a resource definition for type mysql that uses the mysql-server driver with ' +
      'driverInputs.secrets.adminUrl pointing at an existing MySQL or MariaDB server.'
    );
  }

  /** The embedded server as a MysqlServer; null when it is not running and `start` is false. */
  private async server(ctx: DriverContext, options: { start: boolean }): Promise<MysqlServer | null> {
    ctx.signal.throwIfAborted();
    const running = await ensureEmbeddedMysql({
      dataDir: this.dataDir,
      programs: (): MysqlServerPrograms => {
        const programs = findServerPrograms(this.programDirs);
        if (programs) return programs;
        throw new InputError(this.missingPrograms(), [
          { path: 'mariadbd', message: 'install mariadb-server or use the mysql-server driver' },
        ]);
      },
      logger: ctx.logger,
      start: options.start,
    });
    if (!running) return null;
    return {
      admin: embeddedAdminEndpoint(running),
      host: HOST,
      port: running.port,
      passwordSource: { adminPassword: running.password, passwordKey: '', server: 'embedded' },
      env: this.env,
    };
  }
}
