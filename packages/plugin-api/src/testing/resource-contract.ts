import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { RESOURCE_TYPES } from '@pave/core';
import type { DriverContext } from '../context.ts';
import type { ResourceDriver, ResourceInputs, ResourceOutputs } from '../drivers.ts';

/**
 * The titles of the resource contract suite's tests: the keys of `skipTests` in
 * {@link ResourceDriverContractOptions}.
 */
export const RESOURCE_CONTRACT_TESTS = {
  acceptsValid: 'accepts valid inputs',
  refusesInvalid: 'refuses invalid inputs, naming the property',
  creates: 'creates a resource with every output of its type that read returns unchanged',
  scopes: 'gives each scope its own resource',
  noChange: 'reports no change for unchanged inputs',
  deletes: 'deletes the resource, after which read is null and a second delete succeeds',
  failedCreate: 'leaves nothing behind when create fails',
} as const;

/** The title of one test of the resource contract suite. */
export type ResourceContractTest = (typeof RESOURCE_CONTRACT_TESTS)[keyof typeof RESOURCE_CONTRACT_TESTS];

/** What every run of the contract suite names: the driver, its inputs and how to see its resources. */
interface ContractBase {
  /** Builds the driver under test (called once). */
  driver: () => ResourceDriver | Promise<ResourceDriver>;
  /** Inputs that provision a fresh resource; each call returns a new scope so runs do not collide. */
  validInputs: () => ResourceInputs;
  /**
   * Inputs `check` must refuse, with the property it must name. Without them, the test is skipped with a
   * reason saying so.
   */
  invalidInputs?: { inputs: ResourceInputs; property: string };
  /**
   * Whether the resource really exists, asked of the infrastructure itself (not of the driver): a database
   * in the server's catalogue, a user in Redis' ACL list, a file on disk.
   */
  exists: (id: string, outputs: ResourceOutputs) => Promise<boolean>;
  /**
   * Set (to the reason) for a driver that keeps no state and computes its outputs from its inputs (static,
   * dns): `delete` is then checked to succeed and change nothing, instead of making `read` return null.
   */
  stateless?: string;
  /**
   * Tests skipped for this driver: title (see {@link RESOURCE_CONTRACT_TESTS}) -> why. The reason shows in
   * the skipped test's name.
   */
  skipTests?: Partial<Record<ResourceContractTest, string>>;
  /** Runs after the suite, to release what the options set up. */
  cleanup?: () => Promise<void>;
}

/**
 * What the shared contract suite needs to exercise one resource driver against real infrastructure: either
 * `failingCreate` (inputs whose create fails part way; the suite checks nothing is left behind) or, for a
 * driver with no way to fail part way, `failingCreateSkipReason` saying why the check is skipped.
 */
export type ResourceDriverContractOptions = ContractBase &
  (
    | {
        failingCreate: { inputs: ResourceInputs; exists: () => Promise<boolean> };
        failingCreateSkipReason?: never;
      }
    | { failingCreate?: never; failingCreateSkipReason: string }
  );

/** A driver context for tests: console-free logger, a scratch directory, no dry run. */
export function testDriverContext(signal: AbortSignal = AbortSignal.timeout(60_000)): DriverContext {
  const scratchDir = mkdtempSync(join(tmpdir(), 'pave-contract-'));
  const noop = () => undefined;
  return {
    logger: { debug: noop, info: noop, warn: noop, error: noop },
    signal,
    scratchDir,
    dryRun: false,
  };
}

/**
 * The rules every resource driver follows (Pulumi's dynamic provider contract), as one suite that
 * each driver's tests call with their own infrastructure:
 * - `check` accepts valid inputs and names the property of invalid ones;
 * - `create` provides every output of the type, the resource exists afterwards and `read` returns the same
 *   outputs; a second resource in another scope is a different resource;
 * - `diff` of unchanged inputs reports no change;
 * - `delete` removes it, `read` then returns null, and deleting it again succeeds;
 * - a `create` that fails leaves nothing behind.
 */
export function describeResourceDriverContract(name: string, options: ResourceDriverContractOptions): void {
  const known = new Set<string>(Object.values(RESOURCE_CONTRACT_TESTS));
  const unknown = Object.keys(options.skipTests ?? {}).filter((title) => !known.has(title));
  if (unknown.length > 0) {
    throw new Error(
      `resource contract "${name}": skipTests names tests the suite does not have: ${unknown.join('; ')} (use the titles in RESOURCE_CONTRACT_TESTS)`,
    );
  }
  const skips: Partial<Record<ResourceContractTest, string>> = {
    ...(options.invalidInputs ? {} : { [RESOURCE_CONTRACT_TESTS.refusesInvalid]: 'no invalidInputs given' }),
    ...(options.failingCreateSkipReason
      ? { [RESOURCE_CONTRACT_TESTS.failedCreate]: options.failingCreateSkipReason }
      : {}),
    ...options.skipTests,
  };
  /** Declares a contract test, or skips it with its reason. */
  const test = (title: ResourceContractTest, fn: () => Promise<void>, shownTitle: string = title) => {
    const reason = skips[title];
    if (reason) it.skip(`${shownTitle} (skipped: ${reason})`, () => undefined);
    else it(shownTitle, fn);
  };
  describe(`resource driver contract: ${name}`, () => {
    // One scratch directory for the suite; each test (and the cleanup) gets its own minute, counted from its
    // start rather than from when the suite was declared, which may be long before in a busy file.
    let ctx = testDriverContext();
    const freshMinute = () => (ctx = { ...ctx, signal: AbortSignal.timeout(60_000) });
    beforeEach(freshMinute);
    let driver: ResourceDriver;
    const created: Array<{ id: string; inputs: ResourceInputs }> = [];
    const getDriver = async () => (driver ??= await options.driver());

    afterAll(async () => {
      freshMinute();
      for (const { id, inputs } of created) await driver?.delete(id, inputs, ctx).catch(() => undefined);
      await options.cleanup?.();
      rmSync(ctx.scratchDir, { recursive: true, force: true });
    });

    test(RESOURCE_CONTRACT_TESTS.acceptsValid, async () => {
      const d = await getDriver();
      expect(await d.check(options.validInputs(), ctx)).toEqual([]);
    });

    test(RESOURCE_CONTRACT_TESTS.refusesInvalid, async () => {
      const d = await getDriver();
      const { inputs, property } = options.invalidInputs!;
      const failures = await d.check(inputs, ctx);
      expect(failures.map((f) => f.property)).toContain(property);
      for (const failure of failures) expect(failure.reason.length).toBeGreaterThan(0);
    });

    test(RESOURCE_CONTRACT_TESTS.creates, async () => {
      const d = await getDriver();
      const inputs = options.validInputs();
      const { id, outputs } = await d.create(inputs, ctx);
      created.push({ id, inputs });
      const type = RESOURCE_TYPES[inputs.scope.type];
      if (type) {
        const provided = new Set([...Object.keys(outputs.values), ...Object.keys(outputs.secrets)]);
        for (const output of type.outputs) expect(provided, `output ${output}`).toContain(output);
        for (const secret of type.secretOutputs) expect(outputs.values).not.toHaveProperty(secret);
      }
      expect(await options.exists(id, outputs)).toBe(true);
      expect(await d.read(id, inputs, ctx)).toEqual({ outputs });
    });

    test(RESOURCE_CONTRACT_TESTS.scopes, async () => {
      const d = await getDriver();
      const a = options.validInputs();
      const b = options.validInputs();
      const first = await d.create(a, ctx);
      created.push({ id: first.id, inputs: a });
      const second = await d.create(b, ctx);
      created.push({ id: second.id, inputs: b });
      expect(second.id).not.toBe(first.id);
    });

    test(RESOURCE_CONTRACT_TESTS.noChange, async () => {
      const d = await getDriver();
      const inputs = options.validInputs();
      const { id } = await d.create(inputs, ctx);
      created.push({ id, inputs });
      expect((await d.diff(id, inputs, inputs, ctx)).changes).toBe(false);
    });

    const stateless = options.stateless;
    test(
      RESOURCE_CONTRACT_TESTS.deletes,
      async () => {
        const d = await getDriver();
        const inputs = options.validInputs();
        const { id, outputs } = await d.create(inputs, ctx);
        await d.delete(id, inputs, ctx);
        if (!stateless) {
          expect(await options.exists(id, outputs)).toBe(false);
          expect(await d.read(id, inputs, ctx)).toBeNull();
        }
        await d.delete(id, inputs, ctx);
      },
      // A stateless driver computes its outputs from its inputs: read has nothing to lose.
      stateless ? `deletes without error, twice (stateless: ${stateless})` : RESOURCE_CONTRACT_TESTS.deletes,
    );

    test(RESOURCE_CONTRACT_TESTS.failedCreate, async () => {
      const d = await getDriver();
      const { inputs, exists } = options.failingCreate!;
      await expect(d.create(inputs, ctx)).rejects.toThrow();
      expect(await exists()).toBe(false);
    });
  });
}
