import { describe, expect, it } from 'vitest';
import { sleep, waitForReady, type ReadinessCheck } from '../src/index.ts';

const never = () => new AbortController().signal;

describe('sleep', () => {
  it('resolves true when the time is up, false at once when aborted', async () => {
    expect(await sleep(1)).toBe(true);
    expect(await sleep(60_000, AbortSignal.abort())).toBe(false);
  });
});

describe('waitForReady', () => {
  const check = (over: Partial<ReadinessCheck<string>>): ReadinessCheck<string> => ({
    snapshot: () => 'running',
    probe: () => Promise.resolve({ ok: false, detail: 'GET /health: 503' }),
    failed: () => Promise.resolve(null),
    lastLogs: () => Promise.resolve(['booting']),
    ...over,
  });

  it('is ready once a round of checks passes', async () => {
    let rounds = 0;
    const result = await waitForReady(
      'web',
      { signal: never(), timeoutMs: 5_000, pollMs: 1 },
      check({ probe: () => Promise.resolve({ ok: ++rounds === 3, detail: 'not yet' }) }),
    );
    expect(result).toEqual({ ready: true });
    expect(rounds).toBe(3);
  });

  it('answers not deployed without waiting', async () => {
    const result = await waitForReady(
      'web',
      { signal: never(), timeoutMs: 5_000, pollMs: 1 },
      check({ snapshot: () => null }),
    );
    expect(result).toEqual({ ready: false, reason: 'workload "web" is not deployed', lastLogs: [] });
  });

  it("returns the runtime's answer for a workload that failed for good", async () => {
    const exited = { ready: false as const, reason: 'exited with code 3', exitCode: 3, lastLogs: ['boom'] };
    const result = await waitForReady(
      'web',
      { signal: never(), timeoutMs: 5_000, pollMs: 1 },
      check({ failed: () => Promise.resolve(exited) }),
    );
    expect(result).toEqual(exited);
  });

  it('times out with the last probe detail and the last log lines, and stops when aborted', async () => {
    const timedOut = await waitForReady('web', { signal: never(), timeoutMs: 50, pollMs: 10 }, check({}));
    expect(timedOut).toEqual({
      ready: false,
      reason: 'timed out after 0 s: GET /health: 503',
      lastLogs: ['booting'],
    });
    const aborted = await waitForReady(
      'web',
      { signal: AbortSignal.abort(), timeoutMs: 60_000, pollMs: 10 },
      check({}),
    );
    expect(aborted).toMatchObject({ ready: false, reason: 'timed out after 0 s: GET /health: 503' });
  });
});
