import { randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError } from '@pave/core';
import type { DriverContext } from '../context.ts';
import type {
  CheckFailure,
  ResourceDiff,
  ResourceDriver,
  ResourceInputs,
  ResourceOutputs,
} from '../drivers.ts';

/** The methods of {@link FakeResourceDriver} that record their calls. */
export type FakeResourceMethod = 'check' | 'diff' | 'create' | 'update' | 'read' | 'delete';

/** The methods {@link FakeResourceDriver.fail} can make reject. */
export type FakeResourceFailingMethod = Exclude<FakeResourceMethod, 'diff'>;

/** One call made to a {@link FakeResourceDriver}. */
export interface FakeResourceCall {
  method: FakeResourceMethod;
  /** The resource id (every method but check and create). */
  id?: string;
  /** The inputs given (`news` for diff and update). */
  inputs: ResourceInputs;
  /** The old inputs given to diff and update. */
  olds?: ResourceInputs;
}

/** A resource the fake holds. */
export interface FakeResource {
  inputs: ResourceInputs;
  outputs: ResourceOutputs;
}

interface Failure {
  method: FakeResourceFailingMethod;
  address?: string;
  message?: string;
  remaining: number;
}

/**
 * A resource driver that provisions nothing but keeps its resources in memory (`resources`): for fast unit
 * tests of code that drives resource drivers (the deployment orchestrator). It passes the resource contract
 * suite, records every call (`calls`), can be told to make calls reject (`fail`, `heal`) and to lose a
 * resource behind its back (`vanish`).
 *
 * - `check` refuses `driverInputs.replaceOn` that is not a list of strings, and every name listed in
 *   `driverInputs.required` (a list of strings) that `params` lacks (property `params.<name>`).
 * - `diff` compares `driverInputs` and `params` key by key (properties `driverInputs.<key>`, `params.<key>`);
 *   the change is a replacement when a changed property is listed in the new `driverInputs.replaceOn`.
 * - `create` makes the resource `<app>/<env>/<address>` (ConflictError if it exists) with outputs
 *   `{ values: { name, host }, secrets: { password } }`; `update` keeps the outputs and takes the new inputs.
 */
export class FakeResourceDriver implements ResourceDriver {
  readonly name: string;
  /** Every call made, in order. */
  readonly calls: FakeResourceCall[] = [];
  /** The resources that exist now: id -> the inputs they were created or last updated with, and outputs. */
  readonly resources = new Map<string, FakeResource>();
  private failures: Failure[] = [];

  constructor(name = 'fake') {
    this.name = name;
  }

  /**
   * Makes the next `times` (default: every) calls of `method` (for the resource at graph `address` only, if
   * given) reject with `Error(message)`, before they change anything: a failed create leaves no resource, a
   * failed update the old outputs, a failed delete the resource.
   */
  fail(
    method: FakeResourceFailingMethod,
    options: { message?: string; times?: number; address?: string } = {},
  ): void {
    this.failures.push({
      method,
      ...(options.address !== undefined ? { address: options.address } : {}),
      ...(options.message !== undefined ? { message: options.message } : {}),
      remaining: options.times ?? Number.POSITIVE_INFINITY,
    });
  }

  /** Clears the failures set with fail(). */
  heal(): void {
    this.failures = [];
  }

  /** The resource disappears behind the driver's back: read then returns null. */
  vanish(id: string): void {
    this.resources.delete(id);
  }

  async check(inputs: ResourceInputs, _ctx: DriverContext): Promise<CheckFailure[]> {
    this.calls.push({ method: 'check', inputs });
    this.injectedFailure('check', inputs);
    const failures: CheckFailure[] = [];
    const replaceOn = inputs.driverInputs.replaceOn;
    if (replaceOn !== undefined && !isStringList(replaceOn)) {
      failures.push({
        property: 'driverInputs.replaceOn',
        reason: 'must be a list of property names such as ["params.size"]',
      });
    }
    const required = inputs.driverInputs.required;
    if (required !== undefined && !isStringList(required)) {
      failures.push({
        property: 'driverInputs.required',
        reason: 'must be a list of parameter names such as ["size"]',
      });
    } else {
      for (const name of required ?? []) {
        if (!(name in inputs.params)) {
          failures.push({
            property: `params.${name}`,
            reason: `is required by the resource definition (driverInputs.required); add it to the resource's params`,
          });
        }
      }
    }
    return failures;
  }

  async diff(
    id: string,
    olds: ResourceInputs,
    news: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<ResourceDiff> {
    this.calls.push({ method: 'diff', id, inputs: news, olds });
    const changed = [
      ...changedKeys(olds.driverInputs, news.driverInputs).map((key) => `driverInputs.${key}`),
      ...changedKeys(olds.params, news.params).map((key) => `params.${key}`),
    ];
    const replaceOn = isStringList(news.driverInputs.replaceOn) ? news.driverInputs.replaceOn : [];
    if (changed.length === 0) return { changes: false };
    return {
      changes: true,
      changedProperties: changed,
      ...(changed.some((property) => replaceOn.includes(property)) ? { replace: true } : {}),
    };
  }

  async create(
    inputs: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<{ id: string; outputs: ResourceOutputs }> {
    this.calls.push({ method: 'create', inputs });
    this.injectedFailure('create', inputs);
    const { app, env, address, resId } = inputs.scope;
    const id = `${app}/${env}/${address}`;
    if (this.resources.has(id)) {
      throw new ConflictError(
        `${this.name}: resource ${id} already exists; delete it before creating it again`,
      );
    }
    const outputs: ResourceOutputs = {
      values: { name: `${app}-${env}-${resId}`.replace(/[^a-z0-9-]/giu, '-'), host: '127.0.0.1' },
      secrets: { password: randomBytes(12).toString('hex') },
    };
    this.resources.set(id, { inputs, outputs });
    return { id, outputs: structuredClone(outputs) };
  }

  async update(
    id: string,
    olds: ResourceInputs,
    news: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    this.calls.push({ method: 'update', id, inputs: news, olds });
    this.injectedFailure('update', news);
    const resource = this.resources.get(id);
    if (!resource) throw new NotFoundError(`${this.name}: resource ${id} does not exist; create it instead`);
    this.resources.set(id, { inputs: news, outputs: resource.outputs });
    return { outputs: structuredClone(resource.outputs) };
  }

  async read(
    id: string,
    inputs: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs } | null> {
    this.calls.push({ method: 'read', id, inputs });
    this.injectedFailure('read', inputs);
    const resource = this.resources.get(id);
    return resource ? { outputs: structuredClone(resource.outputs) } : null;
  }

  async delete(id: string, inputs: ResourceInputs, _ctx: DriverContext): Promise<void> {
    this.calls.push({ method: 'delete', id, inputs });
    this.injectedFailure('delete', inputs);
    this.resources.delete(id);
  }

  /** Throws the first failure set for this call, counting it down. */
  private injectedFailure(method: FakeResourceFailingMethod, inputs: ResourceInputs): void {
    const address = inputs.scope.address;
    const failure = this.failures.find(
      (candidate) =>
        candidate.method === method &&
        candidate.remaining > 0 &&
        (candidate.address === undefined || candidate.address === address),
    );
    if (!failure) return;
    failure.remaining -= 1;
    throw new Error(failure.message ?? `${this.name}: ${method} of ${address} failed (set by fail())`);
  }
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** The keys whose values differ between `a` and `b` (compared as JSON with sorted keys), sorted. */
function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((key) => canonicalJson(a[key]) !== canonicalJson(b[key]))
    .sort();
}

/** JSON with object keys sorted, so values that differ only in key order compare equal. */
function canonicalJson(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : item,
  );
}
