import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { RenderedWorkload, RuntimeDriver, RuntimeTarget } from '../drivers.ts';
import { testDriverContext } from './resource-contract.ts';

/** What the runtime contract suite needs to run one runtime driver against real infrastructure. */
export interface RuntimeDriverContractOptions {
  /** Builds the driver under test (called once). */
  driver: () => RuntimeDriver | Promise<RuntimeDriver>;
  /** A fresh environment per call, so tests never share workloads. */
  target: () => RuntimeTarget;
  /**
   * A workload that becomes ready and answers HTTP GET / with `greeting` on its first port's host port
   * (127.0.0.1), as the runtime runs it (e.g. a local command, or an image built for the test).
   */
  workload: (name: string, greeting: string) => RenderedWorkload;
  /** Why the suite is skipped here (no engine on this machine), if it is. */
  skip?: string;
  /** Runs after the suite. */
  cleanup?: () => Promise<void>;
}

async function get(url: string): Promise<string> {
  try {
    return (await (await fetch(url, { signal: AbortSignal.timeout(3_000) })).text()).trim();
  } catch (error) {
    return `no answer (${(error as Error).message})`;
  }
}

/**
 * The rules every runtime driver follows (RuntimeDriver's doc comment), as one suite each driver's tests call:
 * deploy starts a workload that waitReady then reports ready and that answers on its host port; status lists
 * it with its hash; deploying the same hash again changes nothing; a new version replaces the old one;
 * remove stops it and removing a missing one succeeds; destroy removes everything and is idempotent; logs,
 * where the runtime has them, return the workload's lines.
 */
export function describeRuntimeDriverContract(name: string, options: RuntimeDriverContractOptions): void {
  describe.skipIf(Boolean(options.skip))(
    `runtime driver contract: ${name}${options.skip ? ` (skipped: ${options.skip})` : ''}`,
    () => {
      const ctx = testDriverContext(AbortSignal.timeout(300_000));
      const targets: RuntimeTarget[] = [];
      let driver: RuntimeDriver;
      const getDriver = async () => (driver ??= await options.driver());
      const newTarget = () => {
        const target = options.target();
        targets.push(target);
        return target;
      };

      afterAll(async () => {
        for (const target of targets) await driver?.destroy(target, ctx).catch(() => undefined);
        await options.cleanup?.();
        rmSync(ctx.scratchDir, { recursive: true, force: true });
      });

      it('deploys a workload that becomes ready, answers on its host port and shows in status', async () => {
        const d = await getDriver();
        const target = newTarget();
        const workload = options.workload('web', 'hello contract');
        await d.deploy(target, workload, ctx);
        expect(await d.waitReady(target, 'web', ctx)).toEqual({ ready: true });
        expect(await get(`http://127.0.0.1:${workload.ports[0]!.hostPort}/`)).toBe('hello contract');
        const [status] = await d.status(target, ctx);
        expect(status).toMatchObject({
          workload: 'web',
          hash: workload.hash,
          deploymentId: workload.deploymentId,
        });
      });

      it('keeps a workload whose hash did not change, and replaces one whose hash did', async () => {
        const d = await getDriver();
        const target = newTarget();
        const first = options.workload('web', 'first');
        await d.deploy(target, first, ctx);
        expect((await d.waitReady(target, 'web', ctx)).ready).toBe(true);
        const before = (await d.status(target, ctx))[0];
        await d.deploy(target, first, ctx);
        const after = (await d.status(target, ctx))[0];
        expect(after?.containers.map((c) => c.pid ?? c.state)).toEqual(
          before?.containers.map((c) => c.pid ?? c.state),
        );
        const second = options.workload('web', 'second');
        await d.deploy(target, second, ctx);
        expect((await d.waitReady(target, 'web', ctx)).ready).toBe(true);
        expect(await get(`http://127.0.0.1:${second.ports[0]!.hostPort}/`)).toBe('second');
        expect((await d.status(target, ctx))[0]?.hash).toBe(second.hash);
      });

      it('removes a workload, and removing a missing one succeeds', async () => {
        const d = await getDriver();
        const target = newTarget();
        await d.deploy(target, options.workload('web', 'bye'), ctx);
        await d.remove(target, 'web', ctx);
        expect(await d.status(target, ctx)).toEqual([]);
        await d.remove(target, 'web', ctx);
      });

      it('destroys everything of an environment, twice without error', async () => {
        const d = await getDriver();
        const target = newTarget();
        await d.deploy(target, options.workload('a', 'a'), ctx);
        await d.deploy(target, options.workload('b', 'b'), ctx);
        await d.destroy(target, ctx);
        expect(await d.status(target, ctx)).toEqual([]);
        await d.destroy(target, ctx);
      });

      it('returns the workload’s log lines, where the runtime has logs', async () => {
        const d = await getDriver();
        if (!d.logs) return;
        const target = newTarget();
        await d.deploy(target, options.workload('web', 'logged'), ctx);
        expect((await d.waitReady(target, 'web', ctx)).ready).toBe(true);
        const lines = [];
        for await (const line of d.logs(target, { workload: 'web', tail: 50, follow: false }, ctx))
          lines.push(line);
        expect(lines.length).toBeGreaterThan(0);
        expect(lines.every((line) => line.workload === 'web')).toBe(true);
      });
    },
  );
}
