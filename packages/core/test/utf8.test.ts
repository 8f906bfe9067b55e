import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeUtf8, describeNotUtf8 } from '../src/index.ts';

const bytes = (...parts: Array<string | number[]>) =>
  new Uint8Array(
    parts.flatMap((part) => (typeof part === 'string' ? [...new TextEncoder().encode(part)] : part)),
  );

describe('decodeUtf8', () => {
  it('finds the first byte that is not UTF-8, with its line and column', () => {
    const { broken } = decodeUtf8(bytes('a: 1\nb: "caf', [0xe9], '"\n'));
    expect(broken).toEqual({ offset: 12, byte: 0xe9, line: 2, column: 8 });
    expect(describeNotUtf8(broken!)).toBe('byte 13 (0xE9, line 2, column 8)');
  });

  it('counts columns in characters, and finds a sequence cut short at the end', () => {
    const { broken } = decodeUtf8(bytes('🙂é x', [0xc3]));
    expect(broken).toEqual({ offset: 8, byte: 0xc3, line: 1, column: 5 });
  });

  it('takes U+FFFD sent as UTF-8 as text, and any text encoded as UTF-8', () => {
    expect(decodeUtf8(bytes('a \uFFFD b'))).toEqual({ text: 'a \uFFFD b', broken: undefined });
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(decodeUtf8(new TextEncoder().encode(text))).toEqual({ text, broken: undefined });
      }),
    );
  });
});
