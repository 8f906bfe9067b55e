import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, hashOf } from '../src/domain/canonical-json.ts';

describe('canonical JSON is frozen', () => {
  // Fixed vectors, computed once (the hashes checked with sha256sum). Deployment set ids and stored
  // fingerprints were computed with this format: a change here orphans every stored set.
  const vectors: { value: unknown; text: string; hash: string }[] = [
    {
      value: { b: 1, a: [3, { d: null, c: 'x' }], e: undefined },
      text: '{"a":[3,{"c":"x","d":null}],"b":1}',
      hash: 'b4a92c330fc01410911e683d5d03404eb28981a6e1d67f9cb1ae63ddc3d19947',
    },
    {
      value: {
        workloads: {
          web: { spec: { metadata: { name: 'web' }, apiVersion: 'score.dev/v1b1' }, dir: '/srv/app' },
        },
      },
      text: '{"workloads":{"web":{"dir":"/srv/app","spec":{"apiVersion":"score.dev/v1b1","metadata":{"name":"web"}}}}}',
      hash: 'f8fe30cf91db9b9b70ec8559ffc51eecfd6dac38e8d17214fa3cb0851a64349e',
    },
    {
      // Integer-like keys come first in numeric order (JavaScript's own key order), then the rest by code unit.
      value: { é: 'ünï', Z: 'upper', a: 'lower', '10': 'ten', '9': 'nine' },
      text: '{"9":"nine","10":"ten","Z":"upper","a":"lower","é":"ünï"}',
      hash: '301e76426762c1d93ebc50491adcb8dc8548ee03796a4d425b4680896ba1d8ba',
    },
    {
      value: [1, 'two', true, null, { y: [], x: {} }],
      text: '[1,"two",true,null,{"x":{},"y":[]}]',
      hash: '31b88bbd3249d6cf029a4ca95556ecd79ae82cf4907ccb3e86094ad4cf9d2054',
    },
  ];

  it.each(vectors)('gives the same text and hash as always for $text', ({ value, text, hash }) => {
    expect(canonicalJson(value)).toBe(text);
    expect(hashOf(value)).toBe(hash);
  });

  it('writes scalars as JSON does', () => {
    expect([canonicalJson('plain'), canonicalJson(42), canonicalJson(null)]).toEqual([
      '"plain"',
      '42',
      'null',
    ]);
  });

  it('does not depend on the order of keys', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => {
        const reversed = Object.fromEntries(Object.entries(value).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(value));
        expect(hashOf(reversed)).toBe(hashOf(value));
      }),
    );
  });
});
