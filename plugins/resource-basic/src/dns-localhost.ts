import type {
  CheckFailure,
  DriverContext,
  ResourceDiff,
  ResourceDriver,
  ResourceInputs,
  ResourceOutputs,
  ResourceScope,
} from '@pave/plugin-api';
import { hostNameProblem, scopeId, toDnsLabel } from './names.ts';
import { assertNoFailures } from './values.ts';

/** Configuration of the dns-localhost driver: it has none. */
export type DnsLocalhostDriverConfig = Record<string, never>;

/**
 * Pave's default `dns` on a fresh machine: a host name under `.localhost`, which resolves to the loopback
 * address without any DNS server (RFC 6761; browsers and most resolvers do this).
 *
 * - Outputs: `{ host }`, by default `<workload>.<env>.<app>.localhost`, where `<workload>` is the first
 *   segment of the resource address (`api.dns` → `api`); for a shared resource (`shared.<id>`) it is the
 *   resource id. Every label is made a DNS label (lower case, other characters replaced by "-").
 * - `params.host`, if given, is used as it is; `check` refuses one that is not a valid host name.
 * - id: `dns-localhost-` and a hash of app, environment and address. Nothing is created: `read` computes
 *   the host again, `delete` does nothing (so `read` after `delete` still returns the host).
 * - `diff` reports a change (never a replacement) when the host would differ.
 */
export class DnsLocalhostDriver implements ResourceDriver {
  readonly name = 'dns-localhost';

  /** A dns-localhost driver; it takes no configuration. */
  static fromConfig(_config: DnsLocalhostDriverConfig = {}): DnsLocalhostDriver {
    return new DnsLocalhostDriver();
  }

  /** `params.host`, when given, must be a valid host name. */
  async check(inputs: ResourceInputs, _ctx: DriverContext): Promise<CheckFailure[]> {
    if (inputs.params.host === undefined) return [];
    const problem = hostNameProblem(inputs.params.host);
    return problem ? [{ property: 'params.host', reason: problem }] : [];
  }

  /** A change when the host differs. */
  async diff(
    _id: string,
    olds: ResourceInputs,
    news: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<ResourceDiff> {
    const changes = hostOf(olds) !== hostOf(news);
    return { changes, replace: false, changedProperties: changes ? ['params.host'] : [] };
  }

  /** The host name; InputError for an invalid `params.host`. */
  async create(
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ id: string; outputs: ResourceOutputs }> {
    assertNoFailures(this.name, await this.check(inputs, ctx));
    return { id: scopeId(this.name, inputs.scope), outputs: outputsOf(inputs) };
  }

  /** The new host name; InputError (the old one stays) for an invalid `params.host`. */
  async update(
    _id: string,
    _olds: ResourceInputs,
    news: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    assertNoFailures(this.name, await this.check(news, ctx));
    return { outputs: outputsOf(news) };
  }

  /** The host name again: there is nothing else to read. */
  async read(
    _id: string,
    inputs: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    return { outputs: outputsOf(inputs) };
  }

  /** Nothing to delete. */
  async delete(_id: string, _inputs: ResourceInputs, _ctx: DriverContext): Promise<void> {}
}

/** The default host of a scope: `<workload or shared id>.<env>.<app>.localhost`. */
export function localhostName(scope: ResourceScope): string {
  const [first = '', ...rest] = scope.address.split('.');
  const name = first === 'shared' && rest.length > 0 ? rest.join('.') : first;
  return [
    toDnsLabel(name, 'resource'),
    toDnsLabel(scope.env, 'env'),
    toDnsLabel(scope.app, 'app'),
    'localhost',
  ].join('.');
}

function hostOf(inputs: ResourceInputs): string {
  const host = inputs.params.host;
  return typeof host === 'string' ? host : localhostName(inputs.scope);
}

function outputsOf(inputs: ResourceInputs): ResourceOutputs {
  return { values: { host: hostOf(inputs) }, secrets: {} };
}
