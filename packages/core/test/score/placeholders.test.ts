import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PlaceholderSyntaxError,
  checkScorePlaceholders,
  findPlaceholders,
  splitPlaceholderRef,
  substitutePlaceholders,
} from '../../src/index.ts';

// Texts made of the characters that matter to placeholders, so that generated cases hit the edge cases often.
const tricky = fc.string({ unit: fc.constantFrom('$', '{', '}', '.', '\\', 'a', 'b', ' '), maxLength: 24 });
const anyText = fc.oneof(
  tricky,
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
);
// A key inside a placeholder: anything but "}" (which cannot be escaped) and "\" (which could escape a dot).
const refPart = fc.string({
  unit: fc.constantFrom('a', 'b', '.', '-', '/', '$', '{', ' ', 'é'),
  maxLength: 6,
});

const echo = (parts: string[]) => `<${parts.join('|')}>`;

/** Whether `text` has a "${" with no "}" after it. */
function hasUnclosedOpening(text: string): boolean {
  const opening = text.lastIndexOf('${');
  return opening >= 0 && text.indexOf('}', opening) < 0;
}

// score-go's framework/substitution.go, restated as a reference: one regular expression for `${…}`, `$${…}`
// and `$$`, and the split on dots that treats `\.` as a dot inside a key.
function scoreGoSubstitute(text: string, resolve: (parts: string[]) => string): string {
  return text.replace(
    /\$((?:\$?\{([^}]*)\})|\$)/gu,
    (match: string, inner: string, ref: string | undefined) =>
      inner.startsWith('$') || ref === undefined ? match.slice(1) : resolve(scoreGoSplit(ref)),
  );
}
function scoreGoSplit(ref: string): string[] {
  return ref
    .replaceAll('\\.', '\0')
    .split('.')
    .map((part) => part.replaceAll('\0', '.'));
}

// How a tool that writes Score files would build them (Pave itself writes none): the generators below
// use these to make texts whose literal parts and placeholders are known, so the parser can be checked.

// Escapes `text` so that it contains no placeholders: substitutePlaceholders (and score-go) give back
// `text`. A `${…}` becomes `$${…}`; every other `$` is doubled. Escape whole strings: a piece that has a `${`
// with no `}` after it does not stay literal when a placeholder is appended to its escaped form, because
// score-go reads `$${` up to the next `}`.
function escapePlaceholderText(text: string): string {
  let result = '';
  let position = 0;
  for (;;) {
    const dollar = text.indexOf('$', position);
    if (dollar < 0) return result + text.slice(position);
    result += text.slice(position, dollar);
    const close = text[dollar + 1] === '{' ? text.indexOf('}', dollar + 2) : -1;
    if (close >= 0) {
      // Inside `$${…}` nothing is unescaped, so the braces' content is written as it is.
      result += '$' + text.slice(dollar, close + 1);
      position = close + 1;
    } else {
      result += '$$';
      position = dollar + 1;
    }
  }
}

// Writes the placeholder for `parts`, escaping dots inside them: ['metadata', 'annotations', 'a.io/x'] gives
// `${metadata.annotations.a\.io/x}`. Parts must not contain `}` (nothing can escape it) nor end in `\`.
function formatPlaceholder(parts: readonly string[]): string {
  return `\${${parts.map((part) => part.replaceAll('.', '\\.')).join('.')}}`;
}

describe('substitutePlaceholders', () => {
  it.each([
    ['', ''],
    ['abc', 'abc'],
    ['$abc', '$abc'],
    ['abc $$ abc', 'abc $ abc'],
    ['$${abc}', '${abc}'],
    ['$$${abc}', '$<abc>'],
    ['$$$${abc}', '$${abc}'],
    ['$$$$${abc}', '$$<abc>'],
    ['$${abc .4t3298y *(^&(*}', '${abc .4t3298y *(^&(*}'],
    ['my name is ${metadata.name}', 'my name is <metadata|name>'],
    ['${metadata.thing\\.two}', '<metadata|thing.two>'],
    ['${}', '<>'],
    ['a$', 'a$'],
    ['${a}${b}', '<a><b>'],
    ['${a{b}}', '<a{b>}'],
    ['$${$$}', '${$$}'],
    ['$${a', '${a'],
  ])('turns %j into %j (the cases of score-go)', (text, expected) => {
    expect(substitutePlaceholders(text, echo)).toBe(expected);
  });

  it('refuses a "${" that is never closed, with its offset', () => {
    expect(() => substitutePlaceholders('ok ${metadata.name', echo)).toThrow(PlaceholderSyntaxError);
    expect(findPlaceholders('${a} $${ ${b').unterminated).toBe(9);
  });

  it('substitutes exactly as score-go does wherever every "${" is closed', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        fc.pre(findPlaceholders(text).unterminated === undefined);
        expect(substitutePlaceholders(text, echo)).toBe(scoreGoSubstitute(text, echo));
      }),
      { numRuns: 2000 },
    );
  });

  it('throws only where score-go would leave an unclosed "${" as text', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const { unterminated } = findPlaceholders(text);
        if (unterminated === undefined) return;
        expect(text.slice(unterminated, unterminated + 2)).toBe('${');
        expect(text.indexOf('}', unterminated)).toBe(-1);
        expect(() => substitutePlaceholders(text, echo)).toThrow(PlaceholderSyntaxError);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('escapes', () => {
  it('give back any text unchanged from substitution once it is escaped, with no placeholders found in it', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const escaped = escapePlaceholderText(text);
        expect(findPlaceholders(escaped)).toEqual({ placeholders: [] });
        expect(substitutePlaceholders(escaped, () => 'RESOLVED')).toBe(text);
        expect(scoreGoSubstitute(escaped, () => 'RESOLVED')).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('splitPlaceholderRef and findPlaceholders', () => {
  it('split on unescaped dots as score-go does', () => {
    expect(splitPlaceholderRef('metadata.annotations.example\\.com/team')).toEqual([
      'metadata',
      'annotations',
      'example.com/team',
    ]);
    fc.assert(
      fc.property(tricky, (ref) => {
        expect(splitPlaceholderRef(ref)).toEqual(scoreGoSplit(ref));
      }),
    );
  });

  it('find placeholders with the parts they were written with, among escaped literal text', () => {
    type Segment = { text: string } | { parts: string[] };
    const segment: fc.Arbitrary<Segment> = fc.oneof(
      anyText.map((text) => ({ text })),
      fc.array(refPart, { minLength: 1, maxLength: 4 }).map((parts) => ({ parts })),
    );
    // Adjacent literal texts are one text. How an unclosed "${" is escaped depends on whether a "}" follows
    // anywhere later (score-go copies `$${…}` verbatim up to the next "}"), so such texts only round-trip on
    // their own (see escapePlaceholderText above), not followed by a placeholder.
    const segments = fc
      .array(segment, { maxLength: 6 })
      .map((list) =>
        list.reduce<Segment[]>((merged, item) => {
          const last = merged[merged.length - 1];
          if (last && 'text' in last && 'text' in item) last.text += item.text;
          else merged.push({ ...item });
          return merged;
        }, []),
      )
      .filter((list) => list.every((item) => !('text' in item) || !hasUnclosedOpening(item.text)));
    fc.assert(
      fc.property(segments, (list) => {
        const template = list
          .map((item) => ('text' in item ? escapePlaceholderText(item.text) : formatPlaceholder(item.parts)))
          .join('');
        const expected = list.map((item) => ('text' in item ? item.text : echo(item.parts))).join('');
        expect(substitutePlaceholders(template, echo)).toBe(expected);
        expect(scoreGoSubstitute(template, echo)).toBe(expected);
        const found = findPlaceholders(template).placeholders;
        expect(found.map((placeholder) => placeholder.parts)).toEqual(
          list.flatMap((item) => ('parts' in item ? [item.parts] : [])),
        );
        for (const placeholder of found) {
          expect(template.slice(placeholder.start, placeholder.end)).toBe(
            formatPlaceholder(placeholder.parts),
          );
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('checkScorePlaceholders', () => {
  const spec = (container: object, resources: object = { db: { type: 'postgres' } }) => ({
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'shop', annotations: { 'example.com/team': 'payments' }, nested: { list: [1] } },
    containers: { web: { image: 'nginx', ...container } },
    resources,
  });

  it('accepts placeholders naming declared resources and existing metadata keys', () => {
    const problems = checkScorePlaceholders(
      spec({
        variables: {
          DB: 'postgres://${resources.db.user}@${resources.db.host}',
          NAME: '${metadata.name}',
          TEAM: '${metadata.annotations.example\\.com/team}',
          ALL: '${resources.db}',
          PRICE: '$$5 and $${literal} and $HOME',
        },
      }),
    );
    expect(problems).toEqual([]);
  });

  it('reports an undeclared resource with the string path, offset and the declared resources', () => {
    const problems = checkScorePlaceholders(
      spec({ variables: { CACHE: 'redis://${resources.cache.host}' } }),
    );
    expect(problems).toEqual([
      {
        path: ['containers', 'web', 'variables', 'CACHE'],
        offset: 8,
        length: '${resources.cache.host}'.length,
        message: expect.stringMatching(/resource "cache", which is not declared; declared resources: db\b/u),
      },
    ]);
  });

  it.each([
    ['${metadata}', 'needs a metadata key'],
    ['${metadata.owner}', 'metadata has no key "owner"; its keys are name, annotations, nested'],
    ['${metadata.name.first}', 'metadata.name is not a map'],
    ['${metadata.nested.list.0}', 'metadata.nested.list is not a map'],
    ['${resources}', 'needs a resource name'],
    ['${env.HOME}', 'unknown placeholder "env"'],
    ['${}', 'unknown placeholder ""'],
    ['${resources.db.host', 'has no closing "}"'],
  ])('refuses %s', (value, message) => {
    const problems = checkScorePlaceholders(spec({ variables: { X: value } }));
    expect(problems).toEqual([expect.objectContaining({ message: expect.stringContaining(message) })]);
  });

  it('checks file content and source, volume source and resource params, but not command, args or image', () => {
    const bad = '${resources.nope.x}';
    const problems = checkScorePlaceholders(
      spec(
        {
          image: `nginx:${bad}`,
          command: [bad],
          args: [bad],
          files: {
            '/a': { content: `a ${bad}` },
            '/b': { content: bad, noExpand: true },
            '/c': { source: bad },
            '/d': { binaryContent: bad },
          },
          volumes: [{ target: '/data', source: bad }],
        },
        { db: { type: 'postgres', params: { nested: [{ deep: bad }], count: 3 } } },
      ),
    );
    expect(problems.map((problem) => problem.path)).toEqual([
      ['containers', 'web', 'files', '/a', 'content'],
      ['containers', 'web', 'files', '/c', 'source'],
      ['containers', 'web', 'volumes', 0, 'source'],
      ['resources', 'db', 'params', 'nested', 0, 'deep'],
    ]);
  });

  it('skips what does not have the shape of a workload instead of throwing', () => {
    for (const value of [
      null,
      'text',
      [],
      { containers: 'x' },
      { containers: { web: { files: 3, variables: [] } } },
    ]) {
      expect(checkScorePlaceholders(value)).toEqual([]);
    }
  });
});
