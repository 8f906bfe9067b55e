import { describe, expect, it } from 'vitest';
import type { Approval, DeploymentDetail } from '@pave/core';
import { progressOn, waitForDeployment } from '../src/commands/progress.ts';
import { exitCodeFor } from '../src/errors.ts';
import { colorsFor } from '../src/output/colors.ts';
import { CommandOutput } from '../src/output/output.ts';
import { runCli } from '../src/program.ts';
import { capture, cliArgs, deploymentDetail, fakeIo, fakeServer } from './helpers.ts';

const plain = colorsFor(capture(), { NO_COLOR: '1' });

function detail(fields: Partial<DeploymentDetail> = {}): DeploymentDetail {
  return deploymentDetail({
    envId: 'prod',
    setId: null,
    actor: 'alice',
    status: 'awaiting-approval',
    startedAt: null,
    workloads: null,
    ...fields,
  });
}

/**
 * Runs waitForDeployment against `answers` (the last repeats) on a fake clock; `stdout` holds the result, and
 * `stderr` the progress.
 */
async function wait(answers: DeploymentDetail[], waitTimeoutMs?: number) {
  const stdout = capture();
  const stderr = capture();
  let clock = 0;
  let calls = 0;
  const client = {
    getDeployment: async () => answers[Math.min(calls++, answers.length - 1)]!,
  };
  const outcome = await waitForDeployment(
    client,
    'shop',
    'prod',
    '17',
    new CommandOutput('table', stdout, plain),
    {
      timeoutMs: 90_000,
      colors: plain,
      progress: progressOn(stderr, { NO_COLOR: '1' }, 'table'),
      timeZone: 'UTC',
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
      ...(waitTimeoutMs !== undefined ? { waitTimeoutMs } : {}),
    },
  ).then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error: error as Error }),
  );
  return { ...outcome, stdout: stdout.text, stderr: stderr.text };
}

describe('--wait on a deployment awaiting approval', () => {
  it('says "waiting for approval" once, then follows the deployment once approved', async () => {
    const { value, stdout, stderr } = await wait([
      detail(),
      detail(),
      detail(),
      detail({ status: 'queued' }),
      detail({
        status: 'succeeded',
        startedAt: '2025-01-31T09:40:00.000Z',
        finishedAt: '2025-01-31T09:40:02.000Z',
      }),
    ]);
    expect(value?.status).toBe('succeeded');
    expect(stderr.match(/waiting for approval 17/g)).toHaveLength(1);
    expect(stderr).toContain('pave approvals approve 17');
    expect(stdout).toContain('Deployment 17 succeeded');
  });

  it('ends with who rejected it and why, or that it expired or was superseded', async () => {
    const rejected = await wait([
      detail(),
      detail({ status: 'rejected', reason: 'rejected by bob: not today' }),
    ]);
    expect(rejected.error).toMatchObject({ name: 'DeploymentFailedError' });
    expect(rejected.error!.message).toMatch(
      /^deployment 17 was rejected by bob: not today; nothing of it ran/,
    );

    const expired = await wait([detail({ status: 'expired', reason: 'not approved within 24h: expired' })]);
    expect(expired.error!.message).toMatch(/^deployment 17 expired before anyone approved it/);

    const superseded = await wait([detail({ status: 'superseded', reason: 'superseded by deployment 18' })]);
    expect(superseded.error!.message).toMatch(
      /^deployment 17 was superseded by deployment 18, a newer deployment/,
    );
  });

  it('stops after --wait-timeout with exit code 4, leaving the request pending', async () => {
    const { error, stderr } = await wait([detail()], 2_000);
    expect(error).toMatchObject({ name: 'WaitTimeoutError' });
    expect(error!.message).toMatch(/^stopped waiting for deployment 17 after 2\.0s \(--wait-timeout\)/);
    expect(exitCodeFor(error)).toBe(4);
    expect(stderr).toContain('waiting for approval 17');
  });

  it('`pave rollback --wait --wait-timeout 1s` exits 4 while the rollback awaits approval', async () => {
    const server = await fakeServer((request) =>
      request.method === 'POST'
        ? { status: 202, body: detail({ kind: 'rollback' }) }
        : { status: 200, body: detail({ kind: 'rollback' }) },
    );
    const io = fakeIo();
    const args = ['rollback', '--app', 'shop', '--env', 'prod', '--wait', '--wait-timeout', '1s'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(4);
    expect(io.stderr.text).toContain('waiting for approval 17');
    expect(io.stderr.text).toContain('stopped waiting for deployment 17');
    expect(server.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
  });
});

/** A deployment awaiting approval, as GET /approvals lists it. */
function pendingApproval(id = '17'): Approval {
  return {
    id,
    deployment: detail({ id }),
    envType: 'production',
    requestedBy: 'alice',
    requesters: ['alice'],
    requestedAt: '2025-01-31T09:30:00.000Z',
    expiresAt: '2025-02-01T09:30:00.000Z',
    summary: 'update api (containers.main.image)',
    diff: {
      from: { setId: null, label: 'shop/prod (current)' },
      to: { setId: null, label: `shop/prod@${id}` },
      changes: [],
      values: [],
      unified: '',
    },
  };
}

describe('pave approvals', () => {
  it('lists pending deployments with who asked, when they expire and what they change', async () => {
    const approval = pendingApproval();
    const server = await fakeServer(() => ({ status: 200, body: { items: [approval] } }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'approvals', 'list', '--app', 'shop'), io)).toBe(0);
    expect(server.requests[0]!.url).toBe('/api/v1/approvals?app=shop');
    const [header, row] = io.stdout.text.split('\n');
    expect(header).toMatch(/^ID\s+APP\/ENV\s+KIND\s+REQUESTED BY\s+WHEN\s+EXPIRES\s+CHANGES$/);
    expect(row).toMatch(/^17\s+shop\/prod\s+deploy\s+alice\s+.*update api \(containers\.main\.image\)$/);
  });

  it('pages with --limit and --cursor, and says how to get the next page', async () => {
    const page = { items: [pendingApproval('42'), pendingApproval('40')], nextCursor: '40' };
    const server = await fakeServer(() => ({ status: 200, body: page }));
    const io = fakeIo();
    const args = ['approvals', 'list', '--app', 'shop', '--limit', '2', '--cursor', '45'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(0);
    expect(server.requests[0]!.url).toBe('/api/v1/approvals?app=shop&limit=2&cursor=45');
    const lines = io.stdout.text.trimEnd().split('\n');
    expect(lines.slice(1, 3).map((line) => line.split(/\s+/)[0])).toEqual(['42', '40']);
    expect(lines.at(-1)).toBe('More approvals: pave approvals list --app shop --limit 2 --cursor 40');

    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, 'approvals', 'list', '-o', 'json'), json)).toBe(0);
    expect(server.requests[1]!.url).toBe('/api/v1/approvals');
    expect(JSON.parse(json.stdout.text)).toEqual(page);

    // The last page (or a server from before paging, which answers no nextCursor) says nothing more.
    const last = await fakeServer(() => ({ status: 200, body: { items: [pendingApproval()] } }));
    const io2 = fakeIo();
    expect(await runCli(cliArgs(last.url, 'approvals', 'list'), io2)).toBe(0);
    expect(io2.stdout.text).not.toContain('More approvals');

    const refused = fakeIo();
    expect(await runCli(cliArgs(server.url, 'approvals', 'list', '--limit', 'lots'), refused)).toBe(2);
    expect(refused.stderr.text).toContain('--limit: "lots" is not a number of approvals');
    expect(server.requests).toHaveLength(2);
  });

  it('approves with an optional comment and refuses to reject without one', async () => {
    const server = await fakeServer(() => ({ status: 200, body: detail({ status: 'queued' }) }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'approvals', 'approve', '17', '--comment', 'ok'), io)).toBe(0);
    expect(server.requests[0]).toMatchObject({
      method: 'POST',
      url: '/api/v1/approvals/17/approve',
      body: { comment: 'ok' },
    });
    expect(io.stdout.text).toBe('Approved deployment 17 of shop/prod: it is queued\n');

    const silent = fakeIo();
    expect(await runCli(cliArgs(server.url, 'approvals', 'reject', '17'), silent)).toBe(2);
    expect(silent.stderr.text).toContain('--comment');
    expect(server.requests).toHaveLength(1);
  });
});
