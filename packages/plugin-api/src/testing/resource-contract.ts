import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RESOURCE_TYPES } from '@pave/core';
import type { DriverContext } from '../context.ts';
import type { ResourceDriver, ResourceInputs, ResourceOutputs } from '../drivers.ts';

/** What every run of the contract suite names: the driver, its inputs and how to see its resources. */
interface ContractBase {
  /** Builds the driver under test (called once). */
  driver: () => ResourceDriver | Promise<ResourceDriver>;
  /** Inputs that provision a fresh resource; each call returns a new scope so runs do not collide. */
  validInputs: () => ResourceInputs;
  /** Inputs `check` must refuse, with the property it must name. */
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
  describe(`resource driver contract: ${name}`, () => {
    const ctx = testDriverContext();
    let driver: ResourceDriver;
    const created: Array<{ id: string; inputs: ResourceInputs }> = [];
    const getDriver = async () => (driver ??= await options.driver());

    afterAll(async () => {
      for (const { id, inputs } of created) await driver?.delete(id, inputs, ctx).catch(() => undefined);
      await options.cleanup?.();
      rmSync(ctx.scratchDir, { recursive: true, force: true });
    });

    it('accepts valid inputs', async () => {
      const d = await getDriver();
      expect(await d.check(options.validInputs(), ctx)).toEqual([]);
    });

    it.skipIf(!options.invalidInputs)('refuses invalid inputs, naming the property', async () => {
      const d = await getDriver();
      const { inputs, property } = options.invalidInputs!;
      const failures = await d.check(inputs, ctx);
      expect(failures.map((f) => f.property)).toContain(property);
      for (const failure of failures) expect(failure.reason.length).toBeGreaterThan(0);
    });

    it('creates a resource with every output of its type that read returns unchanged', async () => {
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

    it('gives each scope its own resource', async () => {
      const d = await getDriver();
      const a = options.validInputs();
      const b = options.validInputs();
      const first = await d.create(a, ctx);
      created.push({ id: first.id, inputs: a });
      const second = await d.create(b, ctx);
      created.push({ id: second.id, inputs: b });
      expect(second.id).not.toBe(first.id);
    });

    it('reports no change for unchanged inputs', async () => {
      const d = await getDriver();
      const inputs = options.validInputs();
      const { id } = await d.create(inputs, ctx);
      created.push({ id, inputs });
      expect((await d.diff(id, inputs, inputs, ctx)).changes).toBe(false);
    });

    if (options.stateless) {
      it(`deletes without error, twice (stateless: ${options.stateless})`, async () => {
        const d = await getDriver();
        const inputs = options.validInputs();
        const { id } = await d.create(inputs, ctx);
        await d.delete(id, inputs, ctx);
        await d.delete(id, inputs, ctx);
      });
    } else {
      it('deletes the resource, after which read is null and a second delete succeeds', async () => {
        const d = await getDriver();
        const inputs = options.validInputs();
        const { id, outputs } = await d.create(inputs, ctx);
        await d.delete(id, inputs, ctx);
        expect(await options.exists(id, outputs)).toBe(false);
        expect(await d.read(id, inputs, ctx)).toBeNull();
        await d.delete(id, inputs, ctx);
      });
    }

    if (options.failingCreate) {
      it('leaves nothing behind when create fails', async () => {
        const d = await getDriver();
        const { inputs, exists } = options.failingCreate!;
        await expect(d.create(inputs, ctx)).rejects.toThrow();
        expect(await exists()).toBe(false);
      });
    } else {
      it.skip(`leaves nothing behind when create fails (${options.failingCreateSkipReason})`, () => {});
    }
  });
}
