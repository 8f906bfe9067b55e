import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandPlaceholders, planSummary, refreshFindings } from '../src/index.ts';

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
