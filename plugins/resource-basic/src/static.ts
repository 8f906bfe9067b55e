import { RESOURCE_TYPES } from '@pave/core';
import type {
  CheckFailure,
  DriverContext,
  ResourceDiff,
  ResourceDriver,
  ResourceInputs,
  ResourceOutputs,
} from '@pave/plugin-api';
import { describeValue, scopeId } from './names.ts';
import { assertNoFailures, changedKeys, isScalar } from './values.ts';

/** Configuration of the static driver: it has none. */
export type StaticDriverConfig = Record<string, never>;

/**
 * Provides outputs that the platform team wrote into the resource definition, e.g. a managed production
 * database whose host and credentials are entered once:
 *
 * ```yaml
 * id: prod-db
 * type: postgres
 * driver: static
 * driverInputs:
 *   values: { host: db.internal, port: 5432, name: shop, database: shop, username: shop }
 *   secrets: { password: "…", url: "postgresql://shop:…@db.internal:5432/shop" }
 * criteria: [{ envType: production }]
 * ```
 *
 * - Outputs: every `driverInputs.values` entry becomes `outputs.values`, every `driverInputs.secrets` entry
 *   `outputs.secrets`, all stringified (numbers and booleans with `String()`). Score `params` are ignored.
 * - `check` refuses values that are not strings, numbers or booleans (naming `driverInputs.<key>` or
 *   `driverSecrets.<key>`), and, for a type Pave knows (RESOURCE_TYPES), a missing output or a secret output
 *   put in `values`.
 * - id: `static-` and a hash of app, environment and resource address (stable for a scope).
 * - Nothing is created or deleted: `create`, `update` and `read` compute the outputs from the inputs, and
 *   `delete` does nothing. Because it keeps no state, `read` after `delete` still returns the outputs.
 * - `diff` reports a change (never a replacement) when any value or secret differs.
 */
export class StaticDriver implements ResourceDriver {
  readonly name = 'static';

  /** A static driver; it takes no configuration. */
  static fromConfig(_config: StaticDriverConfig = {}): StaticDriver {
    return new StaticDriver();
  }

  /** Every value that cannot be an output, and every output the type needs that is missing or misplaced. */
  async check(inputs: ResourceInputs, _ctx: DriverContext): Promise<CheckFailure[]> {
    const failures: CheckFailure[] = [];
    const sections = [
      ['driverInputs', inputs.driverInputs],
      ['driverSecrets', inputs.driverSecrets],
    ] as const;
    for (const [section, record] of sections) {
      for (const [key, value] of Object.entries(record)) {
        if (!isScalar(value)) {
          failures.push({
            property: `${section}.${key}`,
            reason: `an output must be a string, number or boolean, not ${describeValue(value)}`,
          });
        }
      }
    }
    const type = RESOURCE_TYPES[inputs.scope.type];
    if (type) {
      for (const output of type.outputs) {
        const secret = type.secretOutputs.includes(output);
        const section = secret ? 'driverSecrets' : 'driverInputs';
        const where = secret ? 'secrets' : 'values';
        if (secret && output in inputs.driverInputs) {
          failures.push({
            property: `driverInputs.${output}`,
            reason: `"${output}" is a secret output of ${inputs.scope.type} resources: move it to driverInputs.secrets`,
          });
        } else if (!(output in (secret ? inputs.driverSecrets : inputs.driverInputs))) {
          failures.push({
            property: `${section}.${output}`,
            reason:
              `${inputs.scope.type} resources provide ${type.outputs.join(', ')}: ` +
              `set "${output}" in driverInputs.${where} of the definition`,
          });
        }
      }
    }
    return failures;
  }

  /** A change, never a replacement, when a value or secret differs; names the keys (never secret values). */
  async diff(
    _id: string,
    olds: ResourceInputs,
    news: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<ResourceDiff> {
    const changedProperties = [
      ...changedKeys('driverInputs', stringified(olds.driverInputs), stringified(news.driverInputs)),
      ...changedKeys('driverSecrets', stringified(olds.driverSecrets), stringified(news.driverSecrets)),
    ];
    return { changes: changedProperties.length > 0, replace: false, changedProperties };
  }

  /** The outputs of `inputs`; InputError (listing every check failure) if they cannot be outputs. */
  async create(
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ id: string; outputs: ResourceOutputs }> {
    assertNoFailures(this.name, await this.check(inputs, ctx));
    return { id: scopeId(this.name, inputs.scope), outputs: staticOutputs(inputs) };
  }

  /** The outputs of the new inputs; InputError (the old outputs stay) if they cannot be outputs. */
  async update(
    _id: string,
    _olds: ResourceInputs,
    news: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    assertNoFailures(this.name, await this.check(news, ctx));
    return { outputs: staticOutputs(news) };
  }

  /** The outputs of `inputs`: there is nothing else to read. */
  async read(
    _id: string,
    inputs: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    return { outputs: staticOutputs(inputs) };
  }

  /** Nothing to delete: the resource lives outside Pave. */
  async delete(_id: string, _inputs: ResourceInputs, _ctx: DriverContext): Promise<void> {}
}

function staticOutputs(inputs: ResourceInputs): ResourceOutputs {
  return { values: stringified(inputs.driverInputs), secrets: stringified(inputs.driverSecrets) };
}

/** Scalars as strings; anything else (refused by check) as JSON, so diff still sees changes. */
function stringified(record: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).map(([key, value]) => [
      key,
      isScalar(value) ? String(value) : JSON.stringify(value),
    ]),
  );
}
