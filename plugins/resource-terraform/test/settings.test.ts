import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ResourceInputs } from '@pave/plugin-api';
import { anyScope, lookAlikeScopes } from '@pave/plugin-api/testing';
import { expandPlaceholders, planSummary, refreshFindings } from '../src/index.ts';
import { placeholderValues } from '../src/settings.ts';

const values = new Map<string, unknown>([
  ['context.app', 'shop'],
  ['context.env', 'staging'],
  ['resource.params.size', 20],
  ['resource.params.tags', { team: 'payments' }],
]);

describe('variable placeholders', () => {
  it('expands known placeholders inside strings, at any depth', () => {
    expect(
      expandPlaceholders(
        { id: '${context.app}-${context.env}', list: ['${context.app}'], gb: 'size ${resource.params.size}' },
        values,
      ),
    ).toEqual({ value: { id: 'shop-staging', list: ['shop'], gb: 'size 20' }, unknown: [] });
  });

  it('keeps the type of a placeholder that is the whole string', () => {
    expect(expandPlaceholders('${resource.params.size}', values).value).toBe(20);
    expect(expandPlaceholders('${resource.params.tags}', values).value).toEqual({ team: 'payments' });
  });

  it('names every unknown placeholder and leaves $${ as a literal ${', () => {
    expect(expandPlaceholders('${context.nope}/${resource.params.x}/$${context.app}', values)).toEqual({
      value: '${context.nope}/${resource.params.x}/${context.app}',
      unknown: ['context.nope', 'resource.params.x'],
    });
  });

  it('leaves strings without placeholders, numbers and booleans as they are', () => {
    fc.assert(
      fc.property(
        fc.jsonValue().filter((v) => !JSON.stringify(v).includes('$')),
        (value) => {
          expect(expandPlaceholders(value, values)).toEqual({ value, unknown: [] });
        },
      ),
    );
  });

  it('replaces a known placeholder wherever it stands in a string', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes('$')),
        fc.string().filter((s) => !s.includes('$')),
        (a, b) => {
          expect(expandPlaceholders(`${a}\${context.app}${b}`, values).value).toBe(`${a}shop${b}`);
        },
      ),
    );
  });
});

describe('plan summary', () => {
  it('counts a replacement as one to add and one to destroy, like terraform', () => {
    const plan = {
      resource_changes: [
        { change: { actions: ['create'] } },
        { change: { actions: ['delete', 'create'] } },
        { change: { actions: ['update'] } },
        { change: { actions: ['no-op'] } },
        { change: { actions: ['read'] } },
      ],
    };
    expect(planSummary(plan)).toEqual({ add: 2, change: 1, destroy: 1, changes: true, text: '+2 ~1 -1' });
  });

  it('reports output changes as changes without counting them', () => {
    expect(planSummary({ output_changes: { url: { actions: ['update'] } } })).toMatchObject({
      changes: true,
      text: '+0 ~0 -0',
    });
    expect(planSummary({ resource_changes: [{ change: { actions: ['no-op'] } }] }).changes).toBe(false);
  });
});

describe('refresh findings', () => {
  it('names drifted resources, changed outputs (values only when not sensitive) and failing checks', () => {
    const plan = {
      resource_drift: [
        { address: 'aws_db_instance.db', mode: 'managed', change: { actions: ['delete'] } },
        { address: 'aws_security_group.db', mode: 'managed', change: { actions: ['update'] } },
      ],
      output_changes: {
        url: { actions: ['update'], before: 'a', after: 'b', before_sensitive: true, after_sensitive: true },
        exists: { actions: ['update'], before: true, after: false },
        host: { actions: ['no-op'], before: 'h', after: 'h' },
      },
      checks: [
        { address: { to_display: 'check.ok' }, status: 'pass' },
        {
          address: { to_display: 'check.db' },
          status: 'fail',
          instances: [
            { address: { to_display: 'check.db' }, status: 'fail', problems: [{ message: 'db is gone' }] },
          ],
        },
      ],
    };
    expect(refreshFindings(plan)).toEqual({
      lines: [
        'aws_db_instance.db: deleted outside Terraform',
        'aws_security_group.db: changed outside Terraform (update)',
        'output exists: true -> false on refresh',
        'output url: changed on refresh',
        'check.db: db is gone',
      ],
      deleted: ['aws_db_instance.db'],
    });
  });

  it('finds nothing in a refresh that changed nothing', () => {
    expect(refreshFindings({ resource_drift: [], output_changes: { a: { actions: ['no-op'] } } })).toEqual({
      lines: [],
      deleted: [],
    });
  });
});

describe('${context.name}', () => {
  const inputsAt = (scope: { app: string; env: string; resId: string; address: string }): ResourceInputs => ({
    scope: { ...scope, envType: 'development', type: 'postgres', class: 'default' },
    driverInputs: {},
    driverSecrets: {},
    params: {},
  });
  const nameOf = (scope: { app: string; env: string; resId: string; address: string }) =>
    placeholderValues(inputsAt(scope)).get('context.name');

  // Few characters, so that parts often look alike and only the hash keeps names apart.
  const label = fc.stringMatching(/^[ab]([ab-]{0,4}[ab])?$/);
  const { scope, scopePairs } = lookAlikeScopes(label);

  it('gives app a-b env c and app a env b-c, and two resources of one environment, different names', () => {
    const db = { app: 'a-b', env: 'c', resId: 'db', address: 'shared.db' };
    expect(nameOf(db)).toMatch(/^pave-a-b-c-db-[0-9a-f]{8}$/);
    expect(nameOf(db)).not.toBe(nameOf({ ...db, app: 'a', env: 'b-c' }));
    expect(nameOf(db)).not.toBe(nameOf({ ...db, resId: 'cache', address: 'shared.cache' }));
    fc.assert(
      fc.property(scopePairs, ([a, b]) => {
        fc.pre(a.app !== b.app || a.env !== b.env || a.address !== b.address);
        expect(nameOf(a)).not.toBe(nameOf(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('is the same for one resource every time, and a DNS label that starts with a letter', () => {
    fc.assert(
      fc.property(fc.oneof(scope, anyScope), (s) => {
        const name = nameOf(s);
        expect(nameOf({ ...s })).toBe(name);
        // RDS identifiers, S3 buckets and Kubernetes names take this: no "--", no trailing "-".
        expect(name).toMatch(/^[a-z]([a-z0-9]|-(?=[a-z0-9])){0,62}$/);
      }),
    );
  });

  it('expands in a definition as any other placeholder', () => {
    const inputs = inputsAt({ app: 'shop', env: 'staging', resId: 'db', address: 'shared.db' });
    expect(expandPlaceholders({ identifier: '${context.name}' }, placeholderValues(inputs))).toEqual({
      value: { identifier: expect.stringMatching(/^pave-shop-staging-db-[0-9a-f]{8}$/) as unknown },
      unknown: [],
    });
  });
});
