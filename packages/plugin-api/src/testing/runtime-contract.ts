import { rmSync } from 'node:fs';
import { afterAll, beforeEach, describe, expect, it, type TestContext } from 'vitest';
import type { DriverContext } from '../context.ts';
import type { LogsOptions, ReadyResult, RenderedWorkload, RuntimeDriver, RuntimeTarget } from '../drivers.ts';
import { logTimeKey } from '../log-times.ts';
import { testDriverContext } from './resource-contract.ts';

/**
 * The titles of the runtime contract suite's tests: the keys of
 * {@link RuntimeDriverContractOptions.skipTests}.
 */
export const RUNTIME_CONTRACT_TESTS = {
  deploys: 'deploys a workload that becomes ready, answers on its host port and shows in status',
  keepsOrReplaces: 'keeps a workload whose hash did not change, and replaces one whose hash did',
  removes: 'removes a workload, and removing a missing one succeeds',
  destroys: 'destroys everything of an environment, twice without error',
  logs: 'returns the workload’s log lines, where the runtime has logs',
  logsTailSince:
    'logs stamps every line with its time, in time order, and honours tail (per container) and since',
  failedStart: 'a deploy that cannot start the workload rejects and leaves nothing of it running',
  crashReported:
    'waitReady reports a workload that crashes as not ready, with a reason naming its exit code and its last log lines',
  abortStopsWait: 'waitReady stops waiting, not ready, soon after ctx.signal aborts',
} as const;

/** The title of one test of the runtime contract suite. */
export type RuntimeContractTest = (typeof RUNTIME_CONTRACT_TESTS)[keyof typeof RUNTIME_CONTRACT_TESTS];

/** What the runtime contract suite needs to run one runtime driver. */
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
  /**
   * A workload the runtime cannot start (a command that does not exist, an image that cannot be pulled, an
   * object the API server refuses), with a port: its deploy must reject. Needed unless the test
   * {@link RUNTIME_CONTRACT_TESTS.failedStart} is skipped.
   */
  unstartable?: (name: string) => RenderedWorkload;
  /**
   * A workload that prints `something broke` to stderr and exits with code 3. Needed unless the test
   * {@link RUNTIME_CONTRACT_TESTS.crashReported} is skipped.
   */
  crashing?: (name: string) => RenderedWorkload;
  /**
   * A workload that keeps running but never becomes ready (e.g. a readiness probe on a port nothing listens
   * on). Needed unless the test {@link RUNTIME_CONTRACT_TESTS.abortStopsWait} is skipped.
   */
  neverReady?: (name: string) => RenderedWorkload;
  /**
   * What a client gets from GET / of `workload` on `hostPort`, or a text starting with "no answer" when
   * nothing answers. Default: a real HTTP request to 127.0.0.1. A runtime tested against a stand-in for its
   * infrastructure (a fake API server, where nothing really runs) answers from what the stand-in would serve.
   */
  answers?: (workload: RenderedWorkload, hostPort: number) => Promise<string>;
  /** Why the whole suite is skipped here (no engine on this machine), if it is. */
  skip?: string;
  /**
   * Tests skipped for this runtime: title (see {@link RUNTIME_CONTRACT_TESTS}) -> why. The reason shows in
   * the skipped test's name, so every skip carries its written reason.
   */
  skipTests?: Partial<Record<RuntimeContractTest, string>>;
  /** Runs after the suite. */
  cleanup?: () => Promise<void>;
}

/** The `stableMs` the suite asks for: a workload without a readiness probe is judged after 300 ms. */
const STABLE_MS = 300;
/** How long after the abort `waitReady` may take to give up. */
const ABORT_GRACE_MS = 2_500;
/** A line the `crashing` workload prints before it exits with code 3. */
const CRASH_LINE = 'something broke';
/** Why the logs tests skip for a runtime without `logs` (an optional method). */
const NO_LOGS = 'the runtime has no logs()';

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
 * where the runtime has them, return the workload's lines. And the failure rules: a deploy that cannot start
 * the workload rejects and leaves nothing of it running; waitReady reports a crashed workload as not ready
 * with a reason, its last log lines and (where the runtime knows it) its exit code; waitReady gives up soon
 * after `ctx.signal` aborts. Each test can be skipped for one runtime with a written reason (`skipTests`).
 */
export function describeRuntimeDriverContract(name: string, options: RuntimeDriverContractOptions): void {
  const known = new Set<string>(Object.values(RUNTIME_CONTRACT_TESTS));
  const unknown = Object.keys(options.skipTests ?? {}).filter((title) => !known.has(title));
  if (unknown.length > 0) {
    throw new Error(
      `runtime contract "${name}": skipTests names tests the suite does not have: ${unknown.join('; ')} (use the titles in RUNTIME_CONTRACT_TESTS)`,
    );
  }
  describe.skipIf(Boolean(options.skip))(
    `runtime driver contract: ${name}${options.skip ? ` (skipped: ${options.skip})` : ''}`,
    () => {
      // Each test (and the cleanup) gets its own five minutes, counted from its start rather than from when
      // the suite was declared, which may be long before in a busy file.
      let ctx = testDriverContext();
      const freshTime = () => (ctx = { ...ctx, signal: AbortSignal.timeout(300_000) });
      beforeEach(freshTime);
      const targets: RuntimeTarget[] = [];
      let driver: RuntimeDriver;
      const getDriver = async () => (driver ??= await options.driver());
      const newTarget = () => {
        const target = options.target();
        targets.push(target);
        return target;
      };
      const answer = (workload: RenderedWorkload): Promise<string> => {
        const hostPort = workload.ports[0]!.hostPort;
        return options.answers ? options.answers(workload, hostPort) : get(`http://127.0.0.1:${hostPort}/`);
      };
      const waitReady = (d: RuntimeDriver, target: RuntimeTarget, workload: string, context = ctx) =>
        d.waitReady(target, workload, context, { stableMs: STABLE_MS });
      /** Declares a contract test, or skips it with the reason `skipTests` gives. */
      const test = (
        title: RuntimeContractTest,
        fn: (context: TestContext) => Promise<void>,
        timeoutMs?: number,
      ) => {
        const reason = options.skipTests?.[title];
        if (reason) it.skip(`${title} (skipped: ${reason})`, () => undefined);
        else it(title, fn, timeoutMs);
      };
      /** The option a failure-rule test needs; without it (and without a skip reason) the test fails. */
      const needed = <K extends 'unstartable' | 'crashing' | 'neverReady'>(
        key: K,
        title: RuntimeContractTest,
      ): NonNullable<RuntimeDriverContractOptions[K]> => {
        const value = options[key];
        if (!value) {
          throw new Error(
            `the runtime contract test "${title}" needs the option \`${key}\`; give it, or skip the test with a reason in skipTests`,
          );
        }
        return value as NonNullable<RuntimeDriverContractOptions[K]>;
      };

      afterAll(async () => {
        freshTime();
        for (const target of targets) await driver?.destroy(target, ctx).catch(() => undefined);
        await options.cleanup?.();
        rmSync(ctx.scratchDir, { recursive: true, force: true });
      });

      test(RUNTIME_CONTRACT_TESTS.deploys, async () => {
        const d = await getDriver();
        const target = newTarget();
        const workload = options.workload('web', 'hello contract');
        await d.deploy(target, workload, ctx);
        expect(await waitReady(d, target, 'web')).toEqual({ ready: true });
        expect(await answer(workload)).toBe('hello contract');
        const [status] = await d.status(target, ctx);
        expect(status).toMatchObject({
          workload: 'web',
          hash: workload.hash,
          deploymentId: workload.deploymentId,
        });
      });

      test(RUNTIME_CONTRACT_TESTS.keepsOrReplaces, async () => {
        const d = await getDriver();
        const target = newTarget();
        const first = options.workload('web', 'first');
        await d.deploy(target, first, ctx);
        expect((await waitReady(d, target, 'web')).ready).toBe(true);
        const before = (await d.status(target, ctx))[0];
        await d.deploy(target, first, ctx);
        const after = (await d.status(target, ctx))[0];
        expect(after?.containers.map((c) => c.pid ?? c.state)).toEqual(
          before?.containers.map((c) => c.pid ?? c.state),
        );
        const second = options.workload('web', 'second');
        await d.deploy(target, second, ctx);
        expect((await waitReady(d, target, 'web')).ready).toBe(true);
        expect(await answer(second)).toBe('second');
        expect((await d.status(target, ctx))[0]?.hash).toBe(second.hash);
      });

      test(RUNTIME_CONTRACT_TESTS.removes, async () => {
        const d = await getDriver();
        const target = newTarget();
        const workload = options.workload('web', 'bye');
        await d.deploy(target, workload, ctx);
        await d.remove(target, 'web', ctx);
        expect(await d.status(target, ctx)).toEqual([]);
        expect(await answer(workload)).toMatch(/^no answer/u);
        await d.remove(target, 'web', ctx);
      });

      test(RUNTIME_CONTRACT_TESTS.destroys, async () => {
        const d = await getDriver();
        const target = newTarget();
        await d.deploy(target, options.workload('a', 'a'), ctx);
        await d.deploy(target, options.workload('b', 'b'), ctx);
        await d.destroy(target, ctx);
        expect(await d.status(target, ctx)).toEqual([]);
        await d.destroy(target, ctx);
      });

      test(RUNTIME_CONTRACT_TESTS.logs, async (context) => {
        const d = await getDriver();
        if (!d.logs) return context.skip(NO_LOGS);
        const target = newTarget();
        await d.deploy(target, options.workload('web', 'logged'), ctx);
        expect((await waitReady(d, target, 'web')).ready).toBe(true);
        const lines = [];
        for await (const line of d.logs(target, { workload: 'web', tail: 50, follow: false }, ctx))
          lines.push(line);
        expect(lines.length).toBeGreaterThan(0);
        expect(lines.every((line) => line.workload === 'web')).toBe(true);
      });

      test(RUNTIME_CONTRACT_TESTS.logsTailSince, async (context) => {
        const d = await getDriver();
        if (!d.logs) return context.skip(NO_LOGS);
        const logs = d.logs.bind(d);
        const read = async (options: LogsOptions) => {
          const lines = [];
          for await (const line of logs(target, options, ctx)) lines.push(line);
          return lines;
        };
        const target = newTarget();
        await d.deploy(target, options.workload('web', 'logged'), ctx);
        expect((await waitReady(d, target, 'web')).ready).toBe(true);
        const all = await read({ workload: 'web', tail: 50, follow: false });
        const keys = all.map((line) => logTimeKey(line.at));
        expect(
          keys.every((key) => key !== ''),
          'every line has an RFC 3339 time',
        ).toBe(true);
        expect(keys, 'lines in time order').toEqual([...keys].sort());
        const last = await read({ workload: 'web', tail: 1, follow: false });
        expect(last).toHaveLength(1);
        expect(await read({ workload: 'web', tail: 0, follow: false })).toEqual([]);
        const first = all[0]!;
        const since = await read({ workload: 'web', tail: 50, since: first.at, follow: false });
        expect(since.length).toBeGreaterThanOrEqual(all.length);
        expect(since.every((line) => logTimeKey(line.at) >= logTimeKey(first.at))).toBe(true);
        const future = new Date(Date.now() + 3_600_000).toISOString();
        expect(await read({ workload: 'web', tail: 50, since: future, follow: false })).toEqual([]);
      });

      test(RUNTIME_CONTRACT_TESTS.failedStart, async () => {
        const d = await getDriver();
        const workload = needed('unstartable', RUNTIME_CONTRACT_TESTS.failedStart)('broken');
        const target = newTarget();
        await expect(d.deploy(target, workload, ctx)).rejects.toThrow();
        const left = (await d.status(target, ctx)).filter(
          (status) => status.workload === 'broken' && status.state !== 'stopped',
        );
        expect(left, 'workloads of the failed deploy still running').toEqual([]);
        if (workload.ports[0]) expect(await answer(workload)).toMatch(/^no answer/u);
      });

      test(RUNTIME_CONTRACT_TESTS.crashReported, async () => {
        const d = await getDriver();
        const workload = needed('crashing', RUNTIME_CONTRACT_TESTS.crashReported)('crasher');
        const target = newTarget();
        await d.deploy(target, workload, ctx);
        const result: ReadyResult = await waitReady(d, target, 'crasher');
        expect(result.ready).toBe(false);
        if (result.ready) return;
        expect(result.reason.trim()).not.toBe('');
        expect(result.lastLogs.some((line) => line.includes(CRASH_LINE))).toBe(true);
        // The reason is what people read of a crash: it names the exit code (`exited with code 3`).
        expect(result.reason).toMatch(/\b3\b/u);
      });

      test(RUNTIME_CONTRACT_TESTS.abortStopsWait, async () => {
        const d = await getDriver();
        const workload = needed('neverReady', RUNTIME_CONTRACT_TESTS.abortStopsWait)('stuck');
        const target = newTarget();
        await d.deploy(target, workload, ctx);
        const aborting: DriverContext = { ...ctx, signal: AbortSignal.timeout(300) };
        const started = Date.now();
        const result = await waitReady(d, target, 'stuck', aborting);
        expect(result.ready).toBe(false);
        expect(Date.now() - started).toBeLessThan(300 + ABORT_GRACE_MS);
      });
    },
  );
}
