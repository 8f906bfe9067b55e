import { describe, expect, it } from 'vitest';
import type { Approval } from '@pave/core';
import { runCli } from '../src/program.ts';
import { cliArgs, deploymentDetail, fakeIo, fakeServer } from './helpers.ts';

/** A promotion awaiting approval whose values differ from those that run now. */
const approval: Approval = {
  id: '29',
  deployment: deploymentDetail({
    id: '29',
    envId: 'prod',
    kind: 'promote',
    setId: 'b'.repeat(64),
    status: 'awaiting-approval',
    startedAt: null,
    workloads: null,
    valuesVersion: 4,
  }),
  envType: 'production',
  requestedBy: 'alice',
  requesters: ['alice', 'bob'],
  runningValuesVersion: 1,
  requestedAt: '2025-01-31T09:30:00.000Z',
  expiresAt: '2025-02-01T09:30:00.000Z',
  summary: '2 value change(s)',
  diff: {
    from: { setId: 'b'.repeat(64), label: 'shop/prod (current)' },
    to: { setId: 'b'.repeat(64), label: 'shop/prod@29 (awaiting approval)' },
    changes: [{ workload: 'api', action: 'keep', fields: [] }],
    values: [
      { key: 'FOO', action: 'changed', secret: false, from: 'one', to: 'two' },
      { key: 'TOKEN', action: 'changed', secret: true },
    ],
    unified: '',
  },
};

describe('pave approvals get', () => {
  it('shows the values version the deployment is pinned to, against the one running, and what changes', async () => {
    const server = await fakeServer(() => ({ status: 200, body: approval }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'approvals', 'get', '29'), io)).toBe(0);
    expect(server.requests[0]!.url).toBe('/api/v1/approvals/29');
    const text = io.stdout.text;
    expect(text).toContain('  values            version 4, pinned (now: version 1)\n');
    expect(text).toMatch(/~ FOO: .*one.*two/);
    expect(text).toContain('~ TOKEN (secret, changed)');
  });

  // Found by a review of the CLI: "(now: no values)" read as if the environment had none, while nothing ran.
  it('says nothing runs with values yet when the environment runs none', async () => {
    const first = { ...approval, runningValuesVersion: null };
    const server = await fakeServer(() => ({ status: 200, body: first }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'approvals', 'get', '29'), io)).toBe(0);
    expect(io.stdout.text).toContain(
      '  values            version 4, pinned (nothing runs with values yet)\n',
    );
  });
});
