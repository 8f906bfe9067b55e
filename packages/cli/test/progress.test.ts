import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeploymentDetail, JournalEntry } from '@pave/core';
import {
  clockTime,
  deploymentDuration,
  formatDuration,
  formatJournalEntry,
  giveUpAfterMs,
  parseTimeout,
  pollDelayMs,
  progressOn,
  queuedLine,
  waitForDeployment,
} from '../src/commands/progress.ts';
import { colorsFor } from '../src/output/colors.ts';
import { CommandOutput } from '../src/output/output.ts';
import { capture, deploymentDetail } from './helpers.ts';

const plain = colorsFor(capture(), { NO_COLOR: '1' });

function entry(id: number, fields: Partial<JournalEntry> = {}): JournalEntry {
  return {
    id,
    at: '2025-01-31T09:30:05.123Z',
    step: 'start',
    workload: 'web',
    status: 'started',
    message: `step ${id}`,
    ...fields,
  };
}

const detail = deploymentDetail;

describe('parseTimeout', () => {
  it('reads seconds, minutes and hours, alone or combined, as whole seconds', () => {
    expect(parseTimeout('60s')).toBe(60);
    expect(parseTimeout('2m')).toBe(120);
    expect(parseTimeout('1m30s')).toBe(90);
    expect(parseTimeout('90')).toBe(90);
    expect(parseTimeout(' 1h ')).toBe(3600);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }), (minutes, seconds) => {
        fc.pre(minutes * 60 + seconds >= 1);
        expect(parseTimeout(`${minutes}m${seconds}s`)).toBe(minutes * 60 + seconds);
      }),
    );
  });

  it('refuses anything else with a usage error naming the flag and the accepted format', () => {
    for (const text of ['', 's', '0', '0s', '1.5m', '-5s', '5 s', '5S', '30s1m', '2d', 'soon']) {
      expect(() => parseTimeout(text), text).toThrow(
        expect.objectContaining({
          name: 'CliUsageError',
          message: expect.stringMatching(/^--timeout: .*60s, 2m/),
        }),
      );
    }
    expect(() => parseTimeout('61m')).toThrow(/--timeout: "61m" is too long; the server waits at most 1h/);
  });

  it('waits for a silent server the deployment’s own timeout plus a margin', () => {
    expect(giveUpAfterMs(undefined)).toBe(90_000);
    expect(giveUpAfterMs(120)).toBe(150_000);
  });
});

describe('journal lines', () => {
  it('print time, step, workload, status and message in padded columns', () => {
    const options = { timeZone: 'UTC' };
    expect(formatJournalEntry(entry(1, { status: 'succeeded', message: 'ready in 2.1s' }), options)).toBe(
      '09:30:05  start          web           succeeded  ready in 2.1s',
    );
    expect(
      formatJournalEntry(entry(2, { step: 'plan', workload: null, status: 'info', message: '' }), options),
    ).toBe('09:30:05  plan           -             info');
  });

  it('continue a message of several lines (a failure with log lines) indented under the step', () => {
    const failed = entry(3, {
      step: 'wait ready',
      status: 'failed',
      message: 'exited with code 3\nlast log lines:\nboom',
    });
    expect(formatJournalEntry(failed, { timeZone: 'UTC' }).split('\n')).toEqual([
      '09:30:05  wait ready     web           failed     exited with code 3',
      '          last log lines:',
      '          boom',
    ]);
  });

  it('colour the status only when colour is on', () => {
    const colored = formatJournalEntry(entry(1, { status: 'failed' }), {
      colors: colorsFor(capture(true), {}),
      timeZone: 'UTC',
    });
    expect(colored).toContain('\u001b[31mfailed\u001b[39m');
    expect(
      formatJournalEntry(entry(1, { status: 'failed' }), { colors: plain, timeZone: 'UTC' }),
    ).not.toContain('\u001b[');
  });

  it('say what kind of deployment was queued', () => {
    expect(queuedLine(detail())).toBe('Deployment 17 queued for shop/dev');
    expect(queuedLine(detail({ kind: 'rollback', source: { deploymentId: '12' } }))).toBe(
      'Deployment 17 queued for shop/dev (rollback to the set of deployment 12)',
    );
    expect(queuedLine(detail({ kind: 'promote', source: { envId: 'staging' } }))).toBe(
      'Deployment 17 queued for shop/dev (promote from staging)',
    );
  });

  it('show durations the way people read them', () => {
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(4_250)).toBe('4.2s');
    expect(formatDuration(65_000)).toBe('1m05s');
    expect(formatDuration(7_380_000)).toBe('2h03m');
  });
});

/** A client whose getDeployment answers with `answers` in turn (the last one repeats); an Error is thrown. */
function scriptedClient(answers: (DeploymentDetail | Error)[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    getDeployment: async () => {
      const answer = answers[Math.min(calls, answers.length - 1)]!;
      calls++;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

function connectionError(): Error {
  return Object.assign(new Error('cannot reach Pave at http://127.0.0.1:7300 (ECONNREFUSED)'), {
    name: 'ConnectionError',
  });
}

/**
 * Runs waitForDeployment on a fake clock (each sleep advances it), with stderr a terminal or not. Returns what it
 * printed on stdout and, as progress, on stderr.
 */
async function wait(
  answers: (DeploymentDetail | Error)[],
  format: 'table' | 'json' = 'table',
  timeoutMs = 90_000,
  stderrTTY = false,
) {
  const stdout = capture();
  const stderr = capture(stderrTTY);
  const output = new CommandOutput(format, stdout, plain);
  let clock = 0;
  const client = scriptedClient(answers);
  const result = waitForDeployment(client, 'shop', 'dev', '17', output, {
    timeoutMs,
    colors: plain,
    progress: progressOn(stderr, { NO_COLOR: '1' }, format),
    timeZone: 'UTC',
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
  }).then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error: error as Error }),
  );
  return { ...(await result), stdout: stdout.text, stderr: stderr.text, client, waitedMs: clock };
}

describe('deploymentDuration', () => {
  it('is the time from start to finish, and none for a deployment that finished without starting', () => {
    const ran = detail({
      createdAt: '2026-12-06T03:00:00.000Z',
      startedAt: '2026-12-06T03:00:04.000Z',
      finishedAt: '2026-12-06T03:00:06.500Z',
    });
    expect(deploymentDuration(ran)).toBe(formatDuration(2_500));
    // Cancelled or superseded while queued: the time it waited is no duration of a run.
    const cancelled = detail({
      status: 'cancelled',
      createdAt: '2026-12-06T03:00:00.000Z',
      startedAt: null,
      finishedAt: '2026-12-06T03:00:04.400Z',
    });
    expect(deploymentDuration(cancelled)).toBeUndefined();
    expect(deploymentDuration(detail({ finishedAt: null }))).toBeUndefined();
  });
});

describe('clockTime', () => {
  const intl = (timestamp: string, timeZone?: string) =>
    new Intl.DateTimeFormat('en-GB', {
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      ...(timeZone !== undefined ? { timeZone } : {}),
    }).format(new Date(timestamp));

  it("reads the local clock and UTC's off the Date exactly as Intl formats them", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
        (date) => {
          const timestamp = date.toISOString();
          expect(clockTime(timestamp, undefined)).toBe(intl(timestamp));
          expect(clockTime(timestamp, 'UTC')).toBe(intl(timestamp, 'UTC'));
          expect(clockTime(timestamp, 'Asia/Kolkata')).toBe(intl(timestamp, 'Asia/Kolkata'));
        },
      ),
    );
    expect(clockTime('2026-12-05T23:59:07.120Z', 'UTC')).toBe('23:59:07');
    expect(clockTime('2026-12-05T00:00:00Z', 'Asia/Kolkata')).toBe('05:30:00');
    expect(clockTime('not a time', undefined)).toBe('not a time');
  });
});

describe('pollDelayMs', () => {
  it('asks often while a short deployment is likely to finish, then less and less', () => {
    expect([0, 999, 1_000, 9_999, 10_000, 3_600_000].map(pollDelayMs)).toEqual([25, 25, 100, 100, 250, 250]);
  });

  it('asks a waiting client at most 40 times in its first second, and 4 times a second after 10 s', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7_200_000 }), (waited) => {
        const delay = pollDelayMs(waited);
        expect(delay).toBeGreaterThanOrEqual(25);
        if (waited >= 10_000) expect(delay).toBe(250);
      }),
    );
  });
});

describe('waitForDeployment', () => {
  const first = entry(1, {
    step: 'render',
    workload: null,
    status: 'succeeded',
    message: 'rendered 1 workload',
  });
  const second = entry(2, { message: 'starting web' });
  const third = entry(3, { step: 'wait ready', status: 'succeeded', message: 'web is ready' });

  it('asks again on the schedule of pollDelayMs: 40 times in the first second, then every 100 ms', async () => {
    const running = Array.from({ length: 50 }, () => detail({ status: 'running', journal: [] }));
    const { value, client, waitedMs } = await wait([
      ...running,
      detail({ status: 'succeeded', journal: [] }),
    ]);
    expect(value?.status).toBe('succeeded');
    expect(client.calls).toBe(51);
    // 40 pauses of 25 ms, then 10 of 100 ms.
    expect(waitedMs).toBe(40 * 25 + 10 * 100);
  });

  it('prints each journal entry once, in order, on stderr, then says on stdout the deployment succeeded', async () => {
    const { value, error, stdout, stderr } = await wait([
      detail({ status: 'queued', journal: [] }),
      detail({ journal: [first] }),
      detail({ journal: [first, second] }),
      detail({ journal: [first, second] }),
      detail({
        status: 'succeeded',
        finishedAt: '2025-01-31T09:30:05.300Z',
        journal: [first, second, third],
      }),
    ]);
    expect(error).toBeUndefined();
    expect(value?.status).toBe('succeeded');
    expect(stderr.split('\n')).toEqual([
      '09:30:05  render         -             succeeded  rendered 1 workload',
      '09:30:05  start          web           started    starting web',
      '09:30:05  wait ready     web           succeeded  web is ready',
      '',
    ]);
    expect(stdout).toBe('Deployment 17 succeeded in 4.3s: shop/dev is up to date\n');
  });

  it('fails with the reason, and says when the previous set was restored', async () => {
    const failed = detail({
      status: 'failed',
      reason: 'web did not become ready within 60s',
      rolledBack: true,
      finishedAt: '2025-01-31T09:31:05.000Z',
      journal: [first, entry(4, { step: 'rollback', status: 'succeeded', message: 'restored set 0f1e2d' })],
    });
    const { error, stdout, stderr } = await wait([failed]);
    expect(error).toMatchObject({ name: 'DeploymentFailedError' });
    const lines = error!.message.split('\n');
    expect(lines[0]).toBe('deployment 17 failed: web did not become ready within 60s');
    expect(lines[1]).toContain('restored the previous successful set');
    expect(error!.message).toContain('pave deployments get 17 --app shop --env dev');
    expect(stderr).toContain('rollback       web           succeeded  restored set 0f1e2d');
    expect(stdout).toBe('');

    const kept = await wait([{ ...failed, rolledBack: false }]);
    expect(kept.error!.message).not.toContain('restored');
  });

  it('tells a many-line reason once: the journal shown above has it whole, the error its first line', async () => {
    const reason =
      'wait ready failed (process): web: container "main" exited with code 3\nlast log lines:\nstarting\ndying';
    const failed = detail({
      status: 'failed',
      reason,
      finishedAt: '2025-01-31T09:31:05.000Z',
      journal: [first, entry(4, { step: 'finish', status: 'failed', message: reason })],
    });
    const shown = await wait([failed]);
    expect(shown.stderr).toContain('dying');
    expect(shown.error!.message.split('\n')).toEqual([
      'deployment 17 failed: wait ready failed (process): web: container "main" exited with code 3 ' +
        '(the journal above has the rest)',
      '  Details: pave deployments get 17 --app shop --env dev',
    ]);

    // With -o json and stderr no terminal no journal is printed: the error keeps the whole reason.
    const scripted = await wait([failed], 'json');
    expect(scripted.stderr).toBe('');
    expect(scripted.error!.message).toContain('last log lines:\n  starting\n  dying');
    // On a terminal the journal is shown there even with -o json: the error says its first line only.
    const watched = await wait([failed], 'json', 90_000, true);
    expect(watched.stderr).toContain('dying');
    expect(watched.error!.message).toContain('(the journal above has the rest)');
  });

  it('stops waiting for a deployment cancelled before it ran, and says so', async () => {
    const cancelled = detail({
      status: 'cancelled',
      startedAt: null,
      reason: 'cancelled by alice before it started',
      finishedAt: '2025-01-31T09:30:02.000Z',
      journal: [
        entry(1, { step: 'cancel', status: 'info', message: 'cancelled by alice before it started' }),
      ],
    });
    const { error } = await wait([detail({ status: 'queued', startedAt: null }), cancelled]);
    expect(error).toMatchObject({ name: 'DeploymentFailedError' });
    expect(error!.message.split('\n')).toEqual([
      'deployment 17 was cancelled by alice before it started; nothing of it ran.',
      '  Details: pave deployments get 17 --app shop --env dev',
    ]);
  });

  it('prints with -o json the final DeploymentDetail as it came, and no progress unless stderr is a terminal', async () => {
    const done = detail({ status: 'succeeded', finishedAt: '2025-01-31T09:30:05.300Z', journal: [first] });
    const piped = await wait([detail({ journal: [first] }), done], 'json');
    expect(JSON.parse(piped.stdout)).toEqual(done);
    expect(piped.stderr).toBe('');
    const watched = await wait([detail({ journal: [first] }), done], 'json', 90_000, true);
    expect(JSON.parse(watched.stdout)).toEqual(done);
    expect(watched.stderr).toBe('09:30:05  render         -             succeeded  rendered 1 workload\n');
  });

  it('rides out a server that stops answering for a while', async () => {
    const done = detail({ status: 'succeeded', finishedAt: '2025-01-31T09:30:05.300Z' });
    const { value, stderr } = await wait([detail(), connectionError(), connectionError(), done]);
    expect(value?.status).toBe('succeeded');
    expect(stderr).toContain('The server is not answering (cannot reach Pave');
    expect(stderr).toContain('The server is answering again');
  });

  it('gives up with a clear message when the server stays silent longer than the timeout and margin', async () => {
    const { error, client } = await wait([detail(), connectionError()], 'table', 5_000);
    expect(error).toMatchObject({ name: 'WaitGaveUpError' });
    expect(error!.message).toMatch(
      /^gave up waiting for deployment 17: the server has not answered for 5\.0s/,
    );
    expect(error!.message).toContain('pave deployments get 17 --app shop --env dev');
    // It kept asking every 250 ms until then.
    expect(client.calls).toBeGreaterThanOrEqual(5_000 / 250);
  });

  it('stops at once when the server refuses (a 4xx is not going to pass)', async () => {
    const notFound = Object.assign(new Error('deployment 17 not found'), { name: 'ApiError', status: 404 });
    const { error, client } = await wait([notFound]);
    expect(error).toBe(notFound);
    expect(client.calls).toBe(1);
  });
});
