import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ValueChange, ValuesVersion } from '@pave/core';
import { describeAuditEntry } from '../../packages/web/src/components/audit-summary.ts';
import { problemSentence } from '../../packages/web/src/components/problem-text.ts';
import { diffValueVersions, valuesAt } from '../../packages/web/src/components/values-versions.ts';

const version = (n: number, changes: ValueChange[]): ValuesVersion => ({
  version: n,
  actor: 'alice',
  createdAt: '2026-01-01T00:00:00.000Z',
  reason: 'set',
  changes,
});

describe('comparing two versions of values', () => {
  const history = [
    version(3, [{ key: 'GREETING', action: 'removed', secret: false, from: 'hi' }]),
    version(2, [
      { key: 'API_TOKEN', action: 'added', secret: true },
      { key: 'LOG', action: 'changed', secret: false, from: 'info', to: 'debug' },
    ]),
    version(1, [
      { key: 'GREETING', action: 'added', secret: false, to: 'hi' },
      { key: 'LOG', action: 'added', secret: false, to: 'info' },
    ]),
  ];

  it('names keys, shows plain values, and says of a secret only that it changed', () => {
    expect(diffValueVersions(history, 1, 3)).toEqual([
      { key: 'API_TOKEN', change: 'added', secret: true, from: null, to: null },
      { key: 'GREETING', change: 'removed', secret: false, from: 'hi', to: null },
      { key: 'LOG', change: 'changed', secret: false, from: 'info', to: 'debug' },
    ]);
    expect(diffValueVersions(history, 2, 3).find((d) => d.key === 'API_TOKEN')).toMatchObject({
      change: 'unchanged',
      secret: true,
    });
  });

  it('counts a secret changed between the versions as changed, never showing a value', () => {
    const rotated = [version(4, [{ key: 'API_TOKEN', action: 'changed', secret: true }]), ...history];
    expect(diffValueVersions(rotated, 2, 4)).toContainEqual({
      key: 'API_TOKEN',
      change: 'changed',
      secret: true,
      from: null,
      to: null,
    });
  });

  const keyArb = fc.constantFrom('A', 'B', 'C');
  const opArb = fc.record({ key: keyArb, value: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }) });

  /** Versions made from set/unset operations, as the server records them, and the states they lead to. */
  function replay(ops: { key: string; value: string | undefined }[]) {
    const states: Map<string, string>[] = [new Map()];
    const versions: ValuesVersion[] = [];
    for (const op of ops) {
      const before = states.at(-1)!;
      const after = new Map(before);
      if (op.value === undefined) after.delete(op.key);
      else after.set(op.key, op.value);
      const old = before.get(op.key);
      if (old === op.value) continue;
      const change: ValueChange =
        old === undefined
          ? { key: op.key, action: 'added', secret: false, to: op.value! }
          : op.value === undefined
            ? { key: op.key, action: 'removed', secret: false, from: old }
            : { key: op.key, action: 'changed', secret: false, from: old, to: op.value };
      versions.unshift(version(states.length, [change]));
      states.push(after);
    }
    return { versions, states };
  }

  it('replays the history to the values each version held', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 12 }), (ops) => {
        const { versions, states } = replay(ops);
        states.forEach((state, n) => {
          const replayed = new Map([...valuesAt(versions, n)].map(([key, s]) => [key, s.value]));
          expect(replayed).toEqual(state);
        });
      }),
    );
  });

  it('reads the same either way round, with added and removed swapped', () => {
    const swapped = { added: 'removed', removed: 'added', changed: 'changed', unchanged: 'unchanged' };
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 12 }), fc.nat(), fc.nat(), (ops, i, j) => {
        const { versions, states } = replay(ops);
        const [a, b] = [i % states.length, j % states.length];
        const forward = diffValueVersions(versions, a, b);
        const backward = diffValueVersions(versions, b, a);
        expect(backward).toEqual(
          forward.map((d) => ({ ...d, change: swapped[d.change], from: d.to, to: d.from })),
        );
        if (a === b) expect(forward.every((d) => d.change === 'unchanged')).toBe(true);
      }),
    );
  });
});

describe('audit entries as lines for people', () => {
  it('writes values changes with secrets marked and the environment named', () => {
    expect(
      describeAuditEntry({
        action: 'values.set',
        target: 'apps/shop/envs/dev/values',
        summary: {
          set: [
            { key: 'GREETING', secret: false },
            { key: 'API_TOKEN', secret: true },
          ],
          unset: [],
          versions: [{ envId: 'dev', version: 2 }],
        },
      }),
    ).toBe('set values GREETING, API_TOKEN (secret) on shop/dev');
  });

  it('writes deployments with their number, and a promotion with where it came from', () => {
    expect(
      describeAuditEntry({
        action: 'deployment.deploy',
        target: 'apps/shop/envs/dev/deployments/4',
        summary: { id: '4', kind: 'deploy', message: 'first release' },
      }),
    ).toBe('deployed shop/dev (deployment 4: "first release")');
    expect(
      describeAuditEntry({
        action: 'deployment.promote',
        target: 'apps/shop/envs/prod/deployments/9',
        summary: { id: '9', kind: 'promote', fromEnv: 'staging', message: 'promote from staging' },
      }),
    ).toBe('promoted shop/staging to shop/prod (deployment 9)');
  });

  it('lists the summary of an action it has no sentence for as compact key: value pairs', () => {
    expect(
      describeAuditEntry({
        action: 'something.new',
        target: 'x',
        summary: { id: 'a', list: ['b', 'c'], nested: { on: true }, none: null },
      }),
    ).toBe('id: a; list: b, c; nested: { on: true }; none: -');
  });
});

describe('API problems as sentences', () => {
  it('names the field in words, never as a JSON pointer', () => {
    expect(problemSentence({ path: '/body/name', message: 'must be a DNS label' })).toBe(
      'Name must be a DNS label.',
    );
    expect(problemSentence({ path: '/', message: 'send a JSON object' })).toBe('Send a JSON object.');
    expect(problemSentence({ path: '/unset/0', message: 'Invalid key' })).toBe('Invalid key (unset).');
  });
});
