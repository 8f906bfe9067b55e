import type { ReadyResult } from './drivers.ts';

/**
 * How long a container without a readiness probe must keep running, without a restart, before its workload
 * counts as ready (Kubernetes' `minReadySeconds`), unless the caller of `waitReady` chooses another window.
 */
export const DEFAULT_STABLE_MS = 5_000;

/** Waits `ms`; resolves true when the time is up, false if `signal` aborted first (or had already). */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * `work`, or, as soon as `signal` aborts, a rejection saying that `what` was given up: for a call into a client
 * that takes no signal of its own, so that an engine or cluster API that accepts a connection and never
 * answers does not hold the caller past its time (DriverContext.signal). The work itself goes on; its late
 * result (or error) is ignored.
 */
export function untilAborted<T>(signal: AbortSignal, work: Promise<T>, what: string): Promise<T> {
  const givenUp = () =>
    new Error(`${what} was given up: the call's time is up, or the control plane is stopping`);
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(givenUp());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(givenUp());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The outcome of one round of readiness checks; `detail` says why they did not pass. */
export interface ReadinessOutcome {
  ok: boolean;
  detail: string;
}

/** A container without a readiness probe, as the stability window judges it. */
export interface UnprobedContainer {
  name: string;
  /** When its current run started, in ms since the epoch (a restart starts a new run); null while it does not run. */
  runningSinceMs: number | null;
}

/** How a runtime looks at one of its workloads while waitForReady polls it; `S` is its snapshot. */
export interface ReadinessCheck<S> {
  /** The workload as it runs now; null when it is not deployed. */
  snapshot(): S | null | Promise<S | null>;
  /** A final not-ready answer decided before probing (a container that stopped for good), or null. */
  before?(snapshot: S): Promise<ReadyResult | null>;
  /** One round of readiness checks; stops early when `signal` aborts. */
  probe(snapshot: S, signal: AbortSignal): Promise<ReadinessOutcome>;
  /**
   * The containers that have no readiness probe. Once a round of checks passes, the workload is ready only
   * when each of them has run `stableMs` since it last started; one that exits meanwhile is for `failed`.
   */
  unprobed(snapshot: S): UnprobedContainer[];
  /**
   * Asked after a round that did not pass: a final not-ready answer (a container that exited: a reason
   * naming its exit code, and its last log lines), or null to keep waiting. Judged after probing, so a
   * version that once crashed but now serves is ready.
   */
  failed(snapshot: S): Promise<ReadyResult | null>;
  /** The last log lines to report when waiting times out or is aborted. */
  lastLogs(snapshot: S): Promise<string[]>;
}

/**
 * The readiness loop every polling runtime shares: looks at `workload` every `pollMs` until its checks pass
 * and every container without a readiness probe has kept running for `stableMs` (default DEFAULT_STABLE_MS)
 * since it last started (`{ ready: true }`), it fails for good (the runtime's answer, e.g. a container that
 * exited inside that window), or `signal` aborts or the time is up (not ready: "timed out after N s: <the
 * last round's detail>", with the last log lines). The time is `timeoutMs`, plus `stableMs` when a container
 * has no readiness probe: the window comes on top of the time a workload may take to start. Without
 * `timeoutMs`, only `signal` ends the wait: the caller's deadline (a deployment's `--timeout`) is the one.
 */
export async function waitForReady<S>(
  workload: string,
  options: { signal: AbortSignal; timeoutMs?: number | undefined; pollMs: number; stableMs?: number },
  check: ReadinessCheck<S>,
): Promise<ReadyResult> {
  const stableMs = options.stableMs ?? DEFAULT_STABLE_MS;
  const startedMs = Date.now();
  let signal: AbortSignal | undefined;
  let lastFailure = '';
  for (;;) {
    const snapshot = await check.snapshot();
    if (!snapshot) return { ready: false, reason: `workload "${workload}" is not deployed`, lastLogs: [] };
    // Whether the window applies is known from the first snapshot on; a window longer than the timeout
    // could otherwise never pass.
    signal ??=
      options.timeoutMs === undefined
        ? options.signal
        : AbortSignal.any([
            options.signal,
            AbortSignal.timeout(options.timeoutMs + (check.unprobed(snapshot).length > 0 ? stableMs : 0)),
          ]);
    const early = check.before ? await check.before(snapshot) : null;
    if (early) return early;
    const probed = await check.probe(snapshot, signal);
    const outcome = probed.ok ? stability(check.unprobed(snapshot), stableMs, Date.now()) : probed;
    if (outcome.ok) return { ready: true };
    // A probe cut short by the deadline says nothing about the workload: report the one before.
    if (!signal.aborted || !lastFailure) lastFailure = outcome.detail;
    const failed = await check.failed(snapshot);
    if (failed) return failed;
    if (!(await sleep(options.pollMs, signal))) {
      const seconds = Math.round((Date.now() - startedMs) / 1000);
      return {
        ready: false,
        reason: `timed out after ${seconds} s: ${lastFailure}`,
        lastLogs: await check.lastLogs(snapshot),
      };
    }
  }
}

/** Whether every container in `containers` has run `stableMs` by `nowMs`; else which one has not, and how long it has. */
function stability(containers: UnprobedContainer[], stableMs: number, nowMs: number): ReadinessOutcome {
  for (const { name, runningSinceMs } of containers) {
    if (runningSinceMs === null) return { ok: false, detail: `container "${name}" is not running` };
    // The runtime's clock (a container engine's) may run a little ahead of ours.
    const ranMs = Math.max(0, nowMs - runningSinceMs);
    if (ranMs < stableMs) {
      return {
        ok: false,
        detail:
          `container "${name}" has no readiness probe and has run for ${seconds(ranMs)} s of the ` +
          `${seconds(stableMs)} s it must run without a restart`,
      };
    }
  }
  return { ok: true, detail: 'stable' };
}

/** `ms` in seconds with at most one decimal: "5", "0.5", "1.2". */
function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}
