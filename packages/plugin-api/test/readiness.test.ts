import { describe, expect, it } from 'vitest';
import { DEFAULT_STABLE_MS, sleep, waitForReady, type ReadinessCheck } from '../src/index.ts';

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
    unprobed: () => [],
    failed: () => Promise.resolve(null),
    lastLogs: () => Promise.resolve(['booting']),
    ...over,
  });

  it("without timeoutMs waits until the caller's signal aborts, then says it timed out", async () => {
    let rounds = 0;
    const result = await waitForReady(
      'web',
      { signal: AbortSignal.timeout(300), pollMs: 10 },
      check({ probe: () => Promise.resolve({ ok: false, detail: `GET /health: 503 (round ${++rounds})` }) }),
    );
    expect(result).toMatchObject({ ready: false, lastLogs: ['booting'] });
    expect((result as { reason: string }).reason).toMatch(
      /^timed out after 0 s: GET \/health: 503 \(round \d+\)$/,
    );
    expect(rounds).toBeGreaterThan(5);
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
    const exited = {
      ready: false as const,
      reason: 'container "main" exited with code 3',
      exitCode: 3,
      lastLogs: ['boom'],
    };
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

  describe('the stability window of containers without a readiness probe', () => {
    const passing = () => Promise.resolve({ ok: true, detail: 'ready' });

    it('is ready only once every such container has run for the window since it last started', async () => {
      const startedMs = Date.now();
      const result = await waitForReady(
        'worker',
        { signal: never(), timeoutMs: 5_000, pollMs: 10, stableMs: 300 },
        check({
          probe: passing,
          unprobed: () => [
            { name: 'main', runningSinceMs: startedMs - 250 },
            { name: 'sidecar', runningSinceMs: startedMs },
          ],
        }),
      );
      expect(result).toEqual({ ready: true });
      expect(Date.now() - startedMs).toBeGreaterThanOrEqual(300);
    });

    it('is ready as soon as the probes pass when every container has a probe, whatever the window', async () => {
      const startedMs = Date.now();
      const result = await waitForReady(
        'web',
        { signal: never(), timeoutMs: 5_000, pollMs: 10, stableMs: 60_000 },
        check({ probe: passing, unprobed: () => [] }),
      );
      expect(result).toEqual({ ready: true });
      expect(Date.now() - startedMs).toBeLessThan(1_000);
    });

    it("returns the runtime's answer when a container exits inside the window, without waiting it out", async () => {
      const startedMs = Date.now();
      const exitsAtMs = startedMs + 100;
      const exited = {
        ready: false as const,
        reason: 'container "main" exited with code 3',
        exitCode: 3,
        lastLogs: ['boom'],
      };
      const result = await waitForReady(
        'worker',
        { signal: never(), timeoutMs: 10_000, pollMs: 10, stableMs: 5_000 },
        check({
          probe: () =>
            Promise.resolve({ ok: Date.now() < exitsAtMs, detail: 'container "main" is not running' }),
          unprobed: () => [{ name: 'main', runningSinceMs: Date.now() < exitsAtMs ? startedMs : null }],
          failed: () => Promise.resolve(Date.now() >= exitsAtMs ? exited : null),
        }),
      );
      expect(result).toEqual(exited);
      expect(Date.now() - startedMs).toBeLessThan(2_000);
    });

    it('starts the window again when a container restarts', async () => {
      const startedMs = Date.now();
      // The container restarts 150 ms in: from then on it has to run the whole window again.
      const restartMs = startedMs + 150;
      const result = await waitForReady(
        'worker',
        { signal: never(), timeoutMs: 5_000, pollMs: 10, stableMs: 200 },
        check({
          probe: passing,
          unprobed: () => [{ name: 'main', runningSinceMs: Date.now() < restartMs ? startedMs : restartMs }],
        }),
      );
      expect(result).toEqual({ ready: true });
      expect(Date.now() - startedMs).toBeGreaterThanOrEqual(350);
    });

    it('waits out a window longer than the timeout for a container without a probe, but no longer for probes', async () => {
      const startedMs = Date.now();
      const stable = await waitForReady(
        'worker',
        { signal: never(), timeoutMs: 100, pollMs: 10, stableMs: 300 },
        check({ probe: passing, unprobed: () => [{ name: 'main', runningSinceMs: startedMs }] }),
      );
      expect(stable).toEqual({ ready: true });
      expect(Date.now() - startedMs).toBeGreaterThanOrEqual(300);

      const probedMs = Date.now();
      const probed = await waitForReady(
        'web',
        { signal: never(), timeoutMs: 100, pollMs: 10, stableMs: 60_000 },
        check({}),
      );
      expect(probed).toMatchObject({ ready: false, reason: 'timed out after 0 s: GET /health: 503' });
      expect(Date.now() - probedMs).toBeLessThan(1_000);
    });

    it(`says how long a container has run of the window when waiting stops (default ${DEFAULT_STABLE_MS} ms)`, async () => {
      const result = await waitForReady(
        'worker',
        { signal: AbortSignal.timeout(100), timeoutMs: 60_000, pollMs: 10 },
        check({ probe: passing, unprobed: () => [{ name: 'main', runningSinceMs: Date.now() - 1_200 }] }),
      );
      expect(result).toEqual({
        ready: false,
        reason: expect.stringMatching(
          /^timed out after 0 s: container "main" has no readiness probe and has run for 1\.[2-4] s of the 5 s it must run without a restart$/,
        ),
        lastLogs: ['booting'],
      });
    });
  });
});
