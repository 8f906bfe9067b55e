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
  defaultSearchPath,
  embeddedManagementEndpoint,
  embeddedRabbitmqLayout,
  ensureEmbeddedRabbitmq,
  findRabbitmqServer,
} from './embedded-server.ts';
import { namesFromId, resourceNames, type AmqpResourceNames } from './names.ts';
import {
  createVhostUser,
  deleteVhostUser,
  readVhostUser,
  updateVhostUser,
  vhostOutputs,
  type AmqpBroker,
} from './vhosts.ts';

/** Configuration of the rabbitmq-embedded driver. */
export interface EmbeddedRabbitmqConfig {
  /** Pave's data directory; the driver keeps everything under `<dataDir>/resources/rabbitmq/`. */
  dataDir: string;
}

/** What the rabbitmq-embedded driver takes from its surroundings (replaceable in tests). */
export interface EmbeddedRabbitmqDeps {
  /** The directories searched for `rabbitmq-server`; default: PATH, /usr/sbin, /usr/lib/rabbitmq/bin. */
  searchPath?: readonly string[];
}

const HOST = '127.0.0.1';

/**
 * `rabbitmq-embedded`: type `amqp` on a machine that has RabbitMQ installed (the `rabbitmq-server` package) but
 * no broker Pave should share. Pave starts one RabbitMQ node per data directory itself on first use (its own
 * node name, Erlang cookie, database and logs under the data directory; AMQP and management API on free
 * 127.0.0.1 ports kept across restarts; an administrator `pave-admin` with a generated password kept in a 0600
 * file), leaves it running when Pave stops (workloads depend on it) and starts it again whenever a call finds it
 * down. Booting takes several seconds. On it, each resource is a vhost and a user limited to it, exactly as with
 * the `rabbitmq-server` driver (see RabbitmqServerDriver).
 *
 * Without the `rabbitmq-server` program, `check` and `create` fail saying to use the rabbitmq-server driver
 * or install the package: RabbitMQ (an Erlang system) is too heavy for Pave to bring along. Driver inputs:
 * none. Outputs: host 127.0.0.1 (so workloads must run on this machine), port, vhost, username; password, url.
 */
export class EmbeddedRabbitmqDriver implements ResourceDriver {
  readonly name = 'rabbitmq-embedded';

  private constructor(
    private readonly dataDir: string,
    private readonly searchPath: readonly string[],
  ) {}

  /** The driver for `config.dataDir`; it starts nothing until a call needs the node. */
  static fromConfig(config: EmbeddedRabbitmqConfig, deps: EmbeddedRabbitmqDeps = {}): EmbeddedRabbitmqDriver {
    return new EmbeddedRabbitmqDriver(config.dataDir, deps.searchPath ?? defaultSearchPath());
  }

  /**
   * Fails, naming the fix, when the rabbitmq-server program is missing, and for every driver input (it takes
   * none: an `adminUrl` here was meant for the rabbitmq-server driver).
   */
  async check(inputs: ResourceInputs, _ctx: DriverContext): Promise<CheckFailure[]> {
    const failures: CheckFailure[] = [];
    if (!this.executable())
      // The driver itself cannot run on this host: the definition's `driver` is what to change.
      failures.push({ property: 'driver', reason: this.missingExecutable() });
    for (const property of [...Object.keys(inputs.driverInputs), ...Object.keys(inputs.driverSecrets)]) {
      failures.push({
        property,
        reason:
          'the rabbitmq-embedded driver takes no inputs; to use an existing RabbitMQ, use the rabbitmq-server driver',
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

  /** Starts the node if needed and creates the resource's vhost and user (`cloneFrom` only warns). */
  async create(
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ id: string; outputs: ResourceOutputs }> {
    const names = resourceNames(inputs.scope);
    const broker = await this.broker(ctx, { start: !ctx.dryRun });
    if (!broker) {
      ctx.logger.info('would start the embedded RabbitMQ node and create the vhost and its user', {
        vhost: names.vhost,
      });
      return { id: names.vhost, outputs: unstartedOutputs(names) };
    }
    return {
      id: names.vhost,
      outputs: await createVhostUser(broker, names, inputs.scope.address, inputs.cloneFrom, ctx),
    };
  }

  /** Sets the user's password and permissions again (e.g. after the node's admin password was replaced). */
  async update(
    id: string,
    _olds: ResourceInputs,
    news: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    const names = namesFromId(id, news.scope);
    const broker = await this.broker(ctx, { start: !ctx.dryRun });
    if (!broker) return { outputs: unstartedOutputs(names) };
    return { outputs: await updateVhostUser(broker, names, ctx) };
  }

  /** The outputs, or null when the vhost or user is missing (or the node was never set up). */
  async read(
    id: string,
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs; drift?: string[] } | null> {
    if (!this.everSetUp()) return null;
    const broker = await this.broker(ctx, { start: true });
    return broker && readVhostUser(broker, namesFromId(id, inputs.scope), ctx);
  }

  /** Removes the user and the vhost with its messages; succeeds when they are missing (or the node never ran). */
  async delete(id: string, inputs: ResourceInputs, ctx: DriverContext): Promise<void> {
    const names = namesFromId(id, inputs.scope);
    if (!this.everSetUp()) return;
    const broker = await this.broker(ctx, { start: !ctx.dryRun });
    if (broker) await deleteVhostUser(broker, names, ctx);
  }

  private everSetUp(): boolean {
    return existsSync(embeddedRabbitmqLayout(this.dataDir).passwordFile);
  }

  private executable(): string | null {
    return findRabbitmqServer(this.searchPath);
  }

  private missingExecutable(): string {
    const what = `rabbitmq-server was not found (searched ${this.searchPath.join(', ') || 'nothing'})`;
    return (
      `${what}, and RabbitMQ is too heavy for Pave to bring along and start per data directory without it. ` +
      'Add a resource definition for type amqp that uses the rabbitmq-server driver with ' +
      'driverInputs.secrets.adminUrl (the management API of an existing RabbitMQ, e.g. ' +
      'http://admin:password@rabbitmq.internal:15672) and, if workloads reach it elsewhere, amqpHost and ' +
      'amqpPort; or install the Debian package rabbitmq-server (apt-get install rabbitmq-server).'
    );
  }

  /** The embedded node as an AmqpBroker; null when it is not running and `start` is false. */
  private async broker(ctx: DriverContext, options: { start: boolean }): Promise<AmqpBroker | null> {
    ctx.signal.throwIfAborted();
    const node = await ensureEmbeddedRabbitmq({
      dataDir: this.dataDir,
      rabbitmqServerPath: () => {
        const path = this.executable();
        if (path) return path;
        throw new InputError(this.missingExecutable(), [
          {
            path: 'driver',
            message: 'install rabbitmq-server or use the rabbitmq-server driver',
          },
        ]);
      },
      logger: ctx.logger,
      start: options.start,
    });
    if (!node) return null;
    return {
      admin: embeddedManagementEndpoint(node),
      host: HOST,
      port: node.amqpPort,
      passwordServer: node.nodeName,
    };
  }
}

/** What a dry run reports before the node ever started: its port and the password are not known yet. */
function unstartedOutputs(names: AmqpResourceNames): ResourceOutputs {
  const { values } = vhostOutputs(
    { admin: PLACEHOLDER_ENDPOINT, host: HOST, port: 0, passwordServer: '' },
    names,
  );
  return { values: { ...values, port: '' }, secrets: {} };
}

const PLACEHOLDER_ENDPOINT = { baseUrl: '', host: HOST, port: 0, username: '', password: '' };
