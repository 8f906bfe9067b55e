import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ValuesDiff } from '@pave/core';
import { diffValuesContent, type ValuesContent } from '../src/domain/values.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

describe.each(storeEngines)('comparing two values versions on %s', (engine) => {
  let api: FullApi;
  const canary = `canary-${Math.random().toString(36).slice(2)}`;

  beforeAll(async () => {
    api = await openFullApi(engine);
    await call('POST', '/apps', { id: 'shop' });
    for (const id of ['dev', 'empty']) await call('POST', '/apps/shop/envs', { id, type: 'development' });
    // v1: MODE, TOKEN; v2: MODE changed, LEVEL added; v3: TOKEN to another secret; v4: TOKEN back, LEVEL gone.
    const changes = [
      { set: { MODE: { value: 'fast' }, TOKEN: { value: `${canary}-a`, secret: true } } },
      { set: { MODE: { value: 'safe' }, LEVEL: { value: '3' } } },
      { set: { TOKEN: { value: `${canary}-b`, secret: true } } },
      { set: { TOKEN: { value: `${canary}-a`, secret: true } }, unset: ['LEVEL'] },
    ];
    for (const payload of changes) {
      const response = await call('PATCH', '/apps/shop/envs/dev/values', payload);
      expect(response.statusCode, response.body).toBe(200);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });
  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
    api.call(method, url, payload);
  const diff = async (query = '') => {
    const response = await call('GET', `/apps/shop/envs/dev/values/diff${query}`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.body).not.toContain(canary);
    return response.json<ValuesDiff>();
  };

  it('compares the newest version with the one before unless told otherwise', async () => {
    expect(await diff()).toEqual({
      from: 3,
      to: 4,
      keys: [
        { key: 'LEVEL', change: 'removed', secret: false, from: '3', to: null },
        { key: 'MODE', change: 'unchanged', secret: false, from: 'safe', to: 'safe' },
        { key: 'TOKEN', change: 'changed', secret: true, from: null, to: null },
      ],
    });
    expect((await diff('?to=2')).from).toBe(1);
  });

  it('compares any two versions, either way round, and counts a secret set back as unchanged', async () => {
    const forward = await diff('?from=1&to=4');
    expect(forward.keys).toEqual([
      { key: 'MODE', change: 'changed', secret: false, from: 'fast', to: 'safe' },
      { key: 'TOKEN', change: 'unchanged', secret: true, from: null, to: null },
    ]);
    const backward = await diff('?from=2&to=1');
    expect(backward.keys).toEqual([
      { key: 'LEVEL', change: 'removed', secret: false, from: '3', to: null },
      { key: 'MODE', change: 'changed', secret: false, from: 'safe', to: 'fast' },
      { key: 'TOKEN', change: 'unchanged', secret: true, from: null, to: null },
    ]);
    expect((await diff('?from=0&to=1')).keys.map((k) => [k.key, k.change])).toEqual([
      ['MODE', 'added'],
      ['TOKEN', 'added'],
    ]);
  });

  it('answers an environment with no values yet with no keys', async () => {
    const response = await call('GET', '/apps/shop/envs/empty/values/diff');
    expect(response.json()).toEqual({ from: 0, to: 0, keys: [] });
  });

  it('names the query parameter of a version that does not exist or is no number', async () => {
    const missing = await call('GET', '/apps/shop/envs/dev/values/diff?from=1&to=9');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({
      detail: 'shop/dev has no values version 9',
      errors: [{ path: 'query.to', message: expect.stringContaining('pave values history') }],
    });
    // `from` is then 8 unless given: the missing `to` is named first.
    const beyond = await call('GET', '/apps/shop/envs/dev/values/diff?to=9');
    expect(beyond.json()).toMatchObject({ errors: [{ path: 'query.to' }] });
    const noFrom = await call('GET', '/apps/shop/envs/dev/values/diff?from=7');
    expect(noFrom.json()).toMatchObject({ errors: [{ path: 'query.from' }] });
    const word = await call('GET', '/apps/shop/envs/dev/values/diff?from=latest');
    expect(word.statusCode).toBe(400);
    expect(word.json().errors).toEqual([
      { path: 'query.from', message: expect.stringMatching(/^must be a version number/) },
    ]);
    const unknown = await call('GET', '/apps/shop/envs/dev/values/diff?since=1');
    expect(unknown.statusCode).toBe(400);
    const noEnv = await call('GET', '/apps/shop/envs/nope/values/diff');
    expect(noEnv.statusCode).toBe(404);
  });
});

describe('the difference of two versions of values', () => {
  // Contents as versions store them: a secret's value stands for ciphertext, its fp for the fingerprint.
  const contentArb = fc
    .dictionary(
      fc.constantFrom('A', 'B', 'C', 'D'),
      fc.record({ secret: fc.boolean(), value: fc.constantFrom('x', 'y') }),
    )
    .map((entries): ValuesContent =>
      Object.fromEntries(
        Object.entries(entries).map(([key, { secret, value }]) => [
          key,
          {
            secret,
            // Encryption is randomised: the same secret is stored as different ciphertext each time.
            value: secret ? `pave:1:${Math.random()}` : value,
            ...(secret ? { fp: `fp-${value}` } : {}),
            source: 'env' as const,
            updatedBy: 'alice',
            updatedAt: '2026-12-05T00:00:00.000Z',
          },
        ]),
      ),
    );

  it('reads the same either way round, with added and removed swapped, and never shows a secret', () => {
    const swapped = { added: 'removed', removed: 'added', changed: 'changed', unchanged: 'unchanged' };
    fc.assert(
      fc.property(contentArb, contentArb, (a, b) => {
        const forward = diffValuesContent(a, b);
        expect(diffValuesContent(b, a)).toEqual(
          forward.map((d) => ({ ...d, change: swapped[d.change], from: d.to, to: d.from })),
        );
        expect(diffValuesContent(a, a).every((d) => d.change === 'unchanged')).toBe(true);
        for (const d of forward) {
          if (d.secret) expect([d.from, d.to]).toEqual([null, null]);
          expect(d.change === 'unchanged').toBe(
            a[d.key] !== undefined &&
              b[d.key] !== undefined &&
              a[d.key]!.secret === b[d.key]!.secret &&
              (a[d.key]!.secret ? a[d.key]!.fp === b[d.key]!.fp : a[d.key]!.value === b[d.key]!.value),
          );
        }
      }),
    );
  });
});
