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
  createAclUser,
  deleteAclUser,
  readAclUser,
  updateAclUser,
  DEFAULT_BATCH_SIZE,
  type AclServer,
} from './acl-users.ts';
import {
  embeddedAdminEndpoint,
  embeddedRedisLayout,
  ensureEmbeddedRedis,
  findRedisServer,
  type EmbeddedRedisServer,
} from './embedded-server.ts';
import { namesFromId, resourceNames, type RedisResourceNames } from './names.ts';

/** Configuration of the redis-embedded driver. */
export interface EmbeddedRedisConfig {
  /** Pave's data directory; the driver keeps everything under `<dataDir>/resources/redis/`. */
  dataDir: string;
  /**
   * The redis-server executable; default: the first `redis-server` on PATH. For tests and embedding: `pave up`
   * leaves it unset.
   */
  redisServerPath?: string;
}

/** What the redis-embedded driver takes from its surroundings (replaceable in tests). */
export interface EmbeddedRedisDeps {
  /** The PATH searched for `redis-server`; default `process.env.PATH`. */
  pathEnv?: string;
}

const HOST = '127.0.0.1';

/** What a dry run reports before the server ever started: its port and the password are not known yet. */
function unstartedOutputs(names: RedisResourceNames): ResourceOutputs {
  return { values: { host: HOST, port: '', username: names.username, prefix: names.prefix }, secrets: {} };
}

/**
 * `redis-embedded`: Pave's default for type `redis` on a fresh machine. Pave starts one `redis-server` per data
 * directory itself on first use (127.0.0.1, a free port kept across restarts, append-only persistence, users in
 * an aclfile, the `default` user protected by a generated password kept in a 0600 file), leaves it running when
 * Pave stops (workloads depend on it) and starts it again whenever a call finds it down. On it, each resource is
 * an ACL user limited to its key prefix, exactly as with the `redis-server` driver (see RedisServerDriver); the
 * derived passwords are keyed by the generated admin password.
 *
 * Needs the `redis-server` executable: without it `check` and `create` fail saying how to install it or how to
 * use an existing Redis instead. `read` and `delete` need it only when the server has ever been set up.
 * Driver inputs: none. Outputs: host 127.0.0.1 (so workloads must run on this machine), port, username, prefix;
 * password, url.
 */
export class EmbeddedRedisDriver implements ResourceDriver {
  readonly name = 'redis-embedded';

  private constructor(
    private readonly dataDir: string,
    private readonly redisServerPath: string | undefined,
    private readonly pathEnv: string | undefined,
  ) {}

  /** The driver for `config.dataDir`; it starts nothing until a call needs the server. */
  static fromConfig(config: EmbeddedRedisConfig, deps: EmbeddedRedisDeps = {}): EmbeddedRedisDriver {
    return new EmbeddedRedisDriver(config.dataDir, config.redisServerPath, deps.pathEnv);
  }

  /**
   * Fails, naming the fix, when the redis-server executable is missing, and for every driver input (it takes
   * none: an `adminUrl` here was meant for the redis-server driver).
   */
  async check(inputs: ResourceInputs, _ctx: DriverContext): Promise<CheckFailure[]> {
    const failures: CheckFailure[] = [];
    if (!this.executable()) failures.push({ property: 'redisServerPath', reason: this.missingExecutable() });
    for (const property of [...Object.keys(inputs.driverInputs), ...Object.keys(inputs.driverSecrets)]) {
      failures.push({
        property,
        reason:
          'the redis-embedded driver takes no inputs; to use an existing Redis, use the redis-server driver',
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

  /** Starts the server if needed and creates the resource's ACL user (copying `cloneFrom`'s keys when given). */
  async create(
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ id: string; outputs: ResourceOutputs }> {
    const names = resourceNames(inputs.scope);
    const server = await this.server(ctx, { start: !ctx.dryRun });
    if (!server) {
      ctx.logger.info('would start the embedded redis-server and create the ACL user', {
        username: names.username,
      });
      return { id: names.username, outputs: unstartedOutputs(names) };
    }
    return { id: names.username, outputs: await createAclUser(server, names, inputs.cloneFrom, ctx) };
  }

  /** Sets the user's password and permissions again (e.g. after the server's admin password was replaced). */
  async update(
    id: string,
    _olds: ResourceInputs,
    _news: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    const names = namesFromId(id);
    const server = await this.server(ctx, { start: !ctx.dryRun });
    if (!server) return { outputs: unstartedOutputs(names) };
    return { outputs: await updateAclUser(server, names, ctx) };
  }

  /** The outputs, or null when there is no such user (or the embedded server was never set up). */
  async read(
    id: string,
    _inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs } | null> {
    const names = namesFromId(id);
    if (!this.everSetUp()) return null;
    const server = await this.server(ctx, { start: true });
    const outputs = server && (await readAclUser(server, names, ctx));
    return outputs ? { outputs } : null;
  }

  /** Removes the user and its keys; succeeds when either is missing (or the server was never set up). */
  async delete(id: string, _inputs: ResourceInputs, ctx: DriverContext): Promise<void> {
    const names = namesFromId(id);
    if (!this.everSetUp()) return;
    const server = await this.server(ctx, { start: !ctx.dryRun });
    if (server) await deleteAclUser(server, names, ctx);
  }

  private everSetUp(): boolean {
    return existsSync(embeddedRedisLayout(this.dataDir).aclFile);
  }

  private executable(): string | null {
    return findRedisServer(this.redisServerPath, this.pathEnv);
  }

  private missingExecutable(): string {
    const what = this.redisServerPath
      ? `the configured redisServerPath ${this.redisServerPath} is not an executable file`
      : 'redis-server was not found on PATH';
    return (
      `${what}, and the redis-embedded driver runs its own Redis with it. Install it (apt-get install ` +
      'redis-server, or brew install redis), or add a resource definition for type redis that uses the ' +
      'redis-server driver with driverInputs.secrets.adminUrl pointing at an existing Redis.'
    );
  }

  /** The embedded server as an AclServer; null when it is not running and `start` is false. */
  private async server(ctx: DriverContext, options: { start: boolean }): Promise<AclServer | null> {
    ctx.signal.throwIfAborted();
    const running: EmbeddedRedisServer | null = await ensureEmbeddedRedis({
      dataDir: this.dataDir,
      redisServerPath: () => {
        const path = this.executable();
        if (path) return path;
        throw new InputError(this.missingExecutable(), [
          { path: 'redisServerPath', message: 'install redis-server or use the redis-server driver' },
        ]);
      },
      logger: ctx.logger,
      start: options.start,
    });
    if (!running) return null;
    return {
      admin: embeddedAdminEndpoint(running),
      passwordSecret: running.password,
      host: HOST,
      port: running.port,
      aclSave: 'required',
      batchSize: DEFAULT_BATCH_SIZE,
    };
  }
}
