import type { ReadyResult } from './drivers.ts';

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

/** The outcome of one round of readiness checks; `detail` says why they did not pass. */
export interface ReadinessOutcome {
  ok: boolean;
  detail: string;
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
   * Asked after a round that did not pass: a final not-ready answer (a container that exited, with its
   * exit code and last log lines), or null to keep waiting. Judged after probing, so a version that once
   * crashed but now serves is ready.
   */
  failed(snapshot: S): Promise<ReadyResult | null>;
  /** The last log lines to report when waiting times out or is aborted. */
  lastLogs(snapshot: S): Promise<string[]>;
}

/**
 * The readiness loop every polling runtime shares: looks at `workload` every `pollMs` until its checks pass
 * (`{ ready: true }`), it fails for good (the runtime's answer), or `signal` aborts or `timeoutMs` passes
 * (not ready: "timed out after N s: <the last probe's detail>", with the last log lines).
 */
export async function waitForReady<S>(
  workload: string,
  options: { signal: AbortSignal; timeoutMs: number; pollMs: number },
  check: ReadinessCheck<S>,
): Promise<ReadyResult> {
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  const startedMs = Date.now();
  let lastFailure = '';
  for (;;) {
    const snapshot = await check.snapshot();
    if (!snapshot) return { ready: false, reason: `workload "${workload}" is not deployed`, lastLogs: [] };
    const early = check.before ? await check.before(snapshot) : null;
    if (early) return early;
    const outcome = await check.probe(snapshot, signal);
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
