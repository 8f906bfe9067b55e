import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_VALUE_KEY_LENGTH, MAX_VALUE_LENGTH, formatDotenv, parseDotenv } from '../src/index.ts';

describe('parseDotenv', () => {
  it('keeps the spaces that end the first line of a double-quoted value spanning lines', () => {
    expect(parseDotenv('NOTE="first   \n  second  "\n').entries).toEqual([
      { key: 'NOTE', value: 'first   \n  second  ' },
    ]);
  });

  it('reads a file with a byte order mark, CRLF line ends and `export` prefixes', () => {
    expect(parseDotenv('\uFEFFexport A=1\r\nB="x\r\ny"\r\n').entries).toEqual([
      { key: 'A', value: '1' },
      { key: 'B', value: 'x\ny' },
    ]);
  });

  it('refuses a key or value longer than the API takes, naming the line and the limit', () => {
    const parsed = parseDotenv(
      `OK=1\n${'K'.repeat(MAX_VALUE_KEY_LENGTH + 1)}=1\nBIG=${'x'.repeat(MAX_VALUE_LENGTH + 1)}\n`,
    );
    expect(parsed.entries).toEqual([]);
    expect(parsed.problems).toEqual([
      {
        line: 2,
        message: `the key is ${MAX_VALUE_KEY_LENGTH + 1} characters long; a key may have at most ${MAX_VALUE_KEY_LENGTH}`,
      },
      {
        line: 3,
        message: `the value of BIG is ${MAX_VALUE_LENGTH + 1} characters long; a value may have at most ${MAX_VALUE_LENGTH}`,
      },
    ]);
  });

  it('reads back any values formatDotenv wrote', () => {
    const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/);
    fc.assert(
      fc.property(fc.dictionary(key, fc.string({ maxLength: 40 })), (values) => {
        const list = Object.entries(values).map(([k, value]) => ({ key: k, value }));
        const parsed = parseDotenv(formatDotenv(list));
        expect(parsed.problems).toEqual([]);
        expect(parsed.entries).toEqual(list);
      }),
    );
  });

  it('refuses a value holding a NUL character, at its line', () => {
    expect(parseDotenv('A=1\nB="x\u0000y"\n').problems).toEqual([
      {
        line: 2,
        message: 'the value of B contains a NUL character (U+0000); remove it: no value in Pave may hold one',
      },
    ]);
  });
});
