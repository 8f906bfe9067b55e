import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CreateAppBody, CreateDeploymentBody, findUnprintable, printableText } from '../src/index.ts';

/** Characters that reorder or hide text where it is shown: bidirectional controls, zero-width space, BOM. */
const hiding = [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200b, 0xfeff];
/** Code points a person can see (no C0/C1 control, DEL, surrogate or hiding character). */
const printableChar = fc
  .integer({ min: 0x20, max: 0x10ffff })
  .filter(
    (code) =>
      !(code >= 0x7f && code <= 0x9f) && !(code >= 0xd800 && code <= 0xdfff) && !hiding.includes(code),
  )
  .map((code) => String.fromCodePoint(code));
const printable = fc.array(printableChar, { maxLength: 30 }).map((chars) => chars.join(''));
/** One character that must be refused: C0, DEL, C1, a lone surrogate or a hiding character. */
const unprintable = fc.oneof(
  fc.integer({ min: 0, max: 0x1f }),
  fc.constant(0x7f),
  fc.integer({ min: 0x80, max: 0x9f }),
  fc.integer({ min: 0xd800, max: 0xdfff }),
  fc.constantFrom(...hiding),
);

describe('printable names and messages', () => {
  it('accepts any printable text, emoji and accents included', () => {
    fc.assert(fc.property(printable, (text) => printableText().safeParse(text).success));
    expect(printableText().safeParse('Café 🚀 商店').success).toBe(true);
  });

  it('refuses a control character or lone surrogate anywhere, naming it and its position', () => {
    fc.assert(
      fc.property(printable, unprintable, printable, (before, code, after) => {
        const text = before + String.fromCharCode(code) + after;
        const position = [...before].length + 1;
        expect(findUnprintable(text)).toEqual({
          position,
          codePoint: `U+${code.toString(16).toUpperCase().padStart(4, '0')}`,
        });
        const result = printableText().safeParse(text);
        expect(result.success).toBe(false);
        expect(result.error?.issues[0]?.message).toContain(`at character ${position}`);
      }),
    );
  });

  it('says what is wrong and how to fix it, for an escape sequence and a NUL', () => {
    const escape = CreateAppBody.safeParse({ id: 'shop', name: 'Shop\u001b[2J' });
    expect(escape.error?.issues).toEqual([
      expect.objectContaining({
        path: ['name'],
        message:
          'contains a control character (U+001B) at character 5; remove it: names and messages must be printable text',
      }),
    ]);
    expect(printableText().safeParse('a\u0000b').error?.issues[0]?.message).toContain(
      '(U+0000) at character 2',
    );
    expect(printableText().safeParse('x\ud800').error?.issues[0]?.message).toContain(
      'a lone surrogate (U+D800) at character 2',
    );
    // "Shop" followed by a right-to-left override: what comes after it is shown reversed.
    expect(CreateAppBody.safeParse({ id: 'shop', name: 'Shop\u202Egnp.exe' }).error?.issues[0]?.message).toBe(
      'contains a character that reorders or hides text where it is shown (U+202E) at character 5; remove it: ' +
        'names and messages must be printable text',
    );
    // Joiners are part of emoji and of many scripts.
    expect(printableText().safeParse('👩\u200D💻 team').success).toBe(true);
  });

  it('allows line breaks and tabs in deployment messages, but not in names', () => {
    const body = (message: string) => CreateDeploymentBody.safeParse({ workloads: [], message });
    expect(body('Fix the cart\n\n\tand the checkout').error?.issues ?? []).not.toContainEqual(
      expect.objectContaining({ path: ['message'] }),
    );
    expect(body('ok\u001b]0;pwned\u0007').error?.issues).toContainEqual(
      expect.objectContaining({
        path: ['message'],
        message: expect.stringContaining('(U+001B) at character 3'),
      }),
    );
    expect(CreateAppBody.safeParse({ id: 'shop', name: 'two\nlines' }).success).toBe(false);
  });
});
