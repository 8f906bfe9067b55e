import type {
  CheckFailure,
  DriverContext,
  ResourceDiff,
  ResourceDriver,
  ResourceInputs,
  ResourceOutputs,
} from '@pave/plugin-api';
import { describeValue, hostNameProblem, scopeId } from './names.ts';
import { assertNoFailures, changedKeys } from './values.ts';

/** Configuration of the route-localhost driver: it has none. */
export type RouteLocalhostDriverConfig = Record<string, never>;

/**
 * Pave's default `route` on a fresh machine. Pave's reverse proxy serves the routes; this driver only
 * validates the Score `route` params and echoes them as outputs.
 *
 * - Params: `host` (required, a valid host name, e.g. the `host` output of a `dns` resource), `path`
 *   (default `/`, must start with `/` and hold no whitespace), `port` (required: the workload's service port,
 *   an integer 1-65535, or a string of digits once placeholders are expanded; a Score file may name a port of
 *   the workload's `service.ports` instead, e.g. `port: web`, which the server gives the driver as that port's
 *   number, so a name that reaches the driver names none).
 * - Outputs: `{ host, path, port }`, all strings. `check` names each bad param (`params.host`, …).
 * - id: `route-localhost-` and a hash of app, environment and address. Nothing is created: `read` echoes the
 *   params again and `delete` does nothing (so `read` after `delete` still returns them).
 * - `diff` reports a change (never a replacement) when an output would differ.
 * - Who may use a host is not this driver's call: the server gives each host to one environment when it
 *   provisions the route (a host under `.<env>.<app>.localhost` to that environment only).
 */
export class RouteLocalhostDriver implements ResourceDriver {
  readonly name = 'route-localhost';

  /** A route-localhost driver; it takes no configuration. */
  static fromConfig(_config: RouteLocalhostDriverConfig = {}): RouteLocalhostDriver {
    return new RouteLocalhostDriver();
  }

  /** Every problem with `params.host`, `params.path` and `params.port`. */
  async check(inputs: ResourceInputs, _ctx: DriverContext): Promise<CheckFailure[]> {
    const { host, path, port } = inputs.params;
    const failures: CheckFailure[] = [];
    if (host === undefined) {
      failures.push({ property: 'params.host', reason: 'is required: the host name the route is served on' });
    } else {
      const problem = hostNameProblem(host);
      if (problem) failures.push({ property: 'params.host', reason: problem });
    }
    if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/') || /\s/.test(path))) {
      failures.push({
        property: 'params.path',
        reason: `must be a URL path starting with "/" without whitespace (default "/"), not ${
          typeof path === 'string' ? `"${path}"` : describeValue(path)
        }`,
      });
    }
    if (port === undefined) {
      failures.push({
        property: 'params.port',
        reason: "is required: the workload's service port to route to",
      });
    } else if (portOf(port) === undefined) {
      failures.push({
        property: 'params.port',
        reason:
          "must be a port number 1-65535, or the name of a port of the workload's service.ports, not " +
          (typeof port === 'string' ? `"${port}"` : describeValue(port)),
      });
    }
    return failures;
  }

  /** A change when host, path or port differ. */
  async diff(
    _id: string,
    olds: ResourceInputs,
    news: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<ResourceDiff> {
    const changedProperties = changedKeys('params', outputsOf(olds).values, outputsOf(news).values);
    return { changes: changedProperties.length > 0, replace: false, changedProperties };
  }

  /** The route's outputs; InputError listing every bad param. */
  async create(
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ id: string; outputs: ResourceOutputs }> {
    assertNoFailures(this.name, await this.check(inputs, ctx));
    return { id: scopeId(this.name, inputs.scope), outputs: outputsOf(inputs) };
  }

  /** The new outputs; InputError (the old ones stay) listing every bad param. */
  async update(
    _id: string,
    _olds: ResourceInputs,
    news: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    assertNoFailures(this.name, await this.check(news, ctx));
    return { outputs: outputsOf(news) };
  }

  /** The outputs again: there is nothing else to read. */
  async read(
    _id: string,
    inputs: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    return { outputs: outputsOf(inputs) };
  }

  /** Nothing to delete: the reverse proxy serves routes from the deployed outputs. */
  async delete(_id: string, _inputs: ResourceInputs, _ctx: DriverContext): Promise<void> {}
}

function portOf(value: unknown): number | undefined {
  const port = typeof value === 'string' && /^[0-9]{1,5}$/.test(value) ? Number(value) : value;
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
}

function outputsOf(inputs: ResourceInputs): ResourceOutputs {
  const { host, path, port } = inputs.params;
  return {
    values: {
      host: String(host),
      path: typeof path === 'string' ? path : '/',
      port: String(portOf(port) ?? port),
    },
    secrets: {},
  };
}
