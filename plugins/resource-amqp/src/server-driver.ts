import { InputError } from '@pave/core';
import type {
  CheckFailure,
  DriverContext,
  ResourceDiff,
  ResourceDriver,
  ResourceInputs,
  ResourceOutputs,
} from '@pave/plugin-api';
import { errorMessage, parseAdminUrl, type ManagementEndpoint } from './management-api.ts';
import { namesFromId, resourceNames } from './names.ts';
import {
  createVhostUser,
  deleteVhostUser,
  readVhostUser,
  updateVhostUser,
  type AmqpBroker,
} from './vhosts.ts';

/** Configuration of the rabbitmq-server driver: none yet. */
export type RabbitmqServerDriverConfig = Record<string, never>;

/** The port workloads connect to when `amqpPort` is not given. */
export const DEFAULT_AMQP_PORT = 5672;

const ADMIN_URL_HELP =
  'set driverInputs.secrets.adminUrl to the management API with the credentials of an administrator, ' +
  'e.g. http://admin:password@rabbitmq.internal:15672';

/**
 * `rabbitmq-server`: one virtual host and one user per resource on an existing RabbitMQ that the platform team
 * runs, administered through its management HTTP API (the rabbitmq_management plugin).
 *
 * Driver inputs: `adminUrl` (in `secrets`, or in `values` when it holds no password): the management API's base
 * URL with the credentials of a user tagged `administrator`; optional `amqpHost` and `amqpPort`: where workloads
 * connect over AMQP (default: the admin URL's host, and 5672).
 *
 * Each resource gets the vhost `<app>-<env>-<resId>_<hash>` (also its id; see resourceNames) and a user of the
 * same name with no tags (so no management UI access), a password derived from the admin credentials (see
 * derivePassword) and permission to configure, write and read everything in that vhost and nothing else.
 * Outputs: host, port, vhost, username; password, url. Changing the admin credentials changes the derived
 * passwords: `update` sets them. Pointing `adminUrl` at another broker is a replacement. Messages are never
 * copied (`cloneFrom` only warns).
 */
export class RabbitmqServerDriver implements ResourceDriver {
  readonly name = 'rabbitmq-server';

  private constructor() {}

  /** The driver (it takes no configuration yet). */
  static fromConfig(_config: RabbitmqServerDriverConfig = {}): RabbitmqServerDriver {
    return new RabbitmqServerDriver();
  }

  /** Checks `adminUrl` (present, an http(s) URL with credentials), `amqpHost` and `amqpPort`: every failure. */
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
   * Changes when the admin URL, `amqpHost` or `amqpPort` differ; a replacement when the admin URL names another
   * broker (host or port): the vhost and its messages live there.
   */
  async diff(
    _id: string,
    olds: ResourceInputs,
    news: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<ResourceDiff> {
    const before = readInputs(olds).broker;
    const after = readInputs(news).broker;
    if (!before || !after) return { changes: true, changedProperties: ['adminUrl'] };
    const changedProperties: string[] = [];
    if (adminUrlOf(olds) !== adminUrlOf(news)) changedProperties.push('adminUrl');
    if (before.host !== after.host) changedProperties.push('amqpHost');
    if (before.port !== after.port) changedProperties.push('amqpPort');
    const replace = before.admin.host !== after.admin.host || before.admin.port !== after.admin.port;
    return changedProperties.length ? { changes: true, replace, changedProperties } : { changes: false };
  }

  /**
   * Creates the resource's vhost and user; ConflictError when either exists and is not this resource's. If it
   * rejects, neither exists. `cloneFrom` is ignored with a warning: the new vhost starts empty.
   */
  async create(
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ id: string; outputs: ResourceOutputs }> {
    const names = resourceNames(inputs.scope);
    const outputs = await createVhostUser(
      this.broker(inputs),
      names,
      inputs.scope.address,
      inputs.cloneFrom,
      ctx,
    );
    return { id: names.vhost, outputs };
  }

  /** Sets the user's derived password and its permissions again (after the admin credentials changed, say). */
  async update(
    id: string,
    _olds: ResourceInputs,
    news: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    return { outputs: await updateVhostUser(this.broker(news), namesFromId(id, news.scope), ctx) };
  }

  /** The outputs (with drift when the user's permissions or tags were changed), or null when vhost or user is gone. */
  async read(
    id: string,
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs; drift?: string[] } | null> {
    return readVhostUser(this.broker(inputs), namesFromId(id, inputs.scope), ctx);
  }

  /** Removes the user and the vhost with its queues and messages; missing ones count as removed. */
  async delete(id: string, inputs: ResourceInputs, ctx: DriverContext): Promise<void> {
    await deleteVhostUser(this.broker(inputs), namesFromId(id, inputs.scope), ctx);
  }

  private broker(inputs: ResourceInputs): AmqpBroker {
    const { broker, failures } = readInputs(inputs);
    if (!broker) {
      throw new InputError(
        'the rabbitmq-server driver inputs are invalid',
        failures.map((failure) => ({ path: failure.property, message: failure.reason })),
      );
    }
    return broker;
  }
}

function adminUrlOf(inputs: ResourceInputs): unknown {
  return inputs.driverSecrets.adminUrl ?? inputs.driverInputs.adminUrl;
}

function hasPassword(url: unknown): boolean {
  try {
    return typeof url === 'string' && parseAdminUrl(url).password !== '';
  } catch {
    return false;
  }
}

/** Validates the inputs, reporting every problem at once. */
function readInputs(inputs: ResourceInputs): { broker: AmqpBroker | null; failures: CheckFailure[] } {
  const failures: CheckFailure[] = [];
  const raw = adminUrlOf(inputs);
  let admin: ManagementEndpoint | null = null;
  if (typeof raw !== 'string' || raw === '') {
    failures.push({ property: 'adminUrl', reason: `missing: ${ADMIN_URL_HELP}` });
  } else {
    try {
      admin = parseAdminUrl(raw);
    } catch (error) {
      failures.push({ property: 'adminUrl', reason: `${errorMessage(error)} (${ADMIN_URL_HELP})` });
    }
  }
  const host = inputs.driverInputs.amqpHost;
  if (host !== undefined && (typeof host !== 'string' || host === '' || /[\s/@?#]/.test(host))) {
    failures.push({
      property: 'amqpHost',
      reason: 'must be the host name or IP address workloads connect to over AMQP, e.g. rabbitmq.internal',
    });
  }
  const port = inputs.driverInputs.amqpPort;
  const portNumber = typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : port;
  const validPort = Number.isInteger(portNumber) && Number(portNumber) >= 1 && Number(portNumber) <= 65535;
  if (port !== undefined && !validPort) {
    failures.push({
      property: 'amqpPort',
      reason: `must be a port number from 1 to 65535 (AMQP's is ${DEFAULT_AMQP_PORT})`,
    });
  }
  if (!admin || failures.length) return { broker: null, failures };
  return {
    broker: {
      admin,
      host: typeof host === 'string' ? host : admin.host,
      port: port === undefined ? DEFAULT_AMQP_PORT : Number(portNumber),
      passwordServer: `${admin.host}:${admin.port}`,
    },
    failures,
  };
}
