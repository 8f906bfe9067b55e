import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_NESTING_DEPTH,
  firstTooDeepInJson,
  firstTooDeepValue,
  jsonPointer,
  parseScore,
} from '../src/index.ts';

/** How many objects and arrays deep a value is: a scalar is 0, `{}` is 1. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

describe('nesting limits', () => {
  it('accepts exactly MAX_NESTING_DEPTH levels and names the first value one level deeper', () => {
    const nest = (depth: number) => `${'{"a":'.repeat(depth - 1)}[]${'}'.repeat(depth - 1)}`;
    expect(firstTooDeepInJson(nest(MAX_NESTING_DEPTH))).toBeUndefined();
    expect(firstTooDeepInJson(nest(MAX_NESTING_DEPTH + 1))).toEqual(Array(MAX_NESTING_DEPTH).fill('a'));
    expect(firstTooDeepValue(JSON.parse(nest(MAX_NESTING_DEPTH)))).toBeUndefined();
    expect(firstTooDeepValue(JSON.parse(nest(MAX_NESTING_DEPTH + 1)))).toHaveLength(MAX_NESTING_DEPTH);
  });

  it('names array indexes and escaped keys, and ignores brackets inside strings', () => {
    const text = '{"x":"{[{[","list":[1,{"k":"]"},{"a/b~c":{"deep":[]}}]}';
    expect(firstTooDeepInJson(text, 3)).toEqual(['list', 2, 'a/b~c']);
    expect(firstTooDeepValue(JSON.parse(text), 3)).toEqual(['list', 2, 'a/b~c']);
    expect(jsonPointer(['list', 2, 'a/b~c'])).toBe('/list/2/a~1b~0c');
    expect(jsonPointer([])).toBe('/');
    expect(firstTooDeepInJson('{"a\\"{[":{"b":[]}}', 2)).toEqual(['a"{[', 'b']);
  });

  it('scans 5 000 levels and malformed text without recursion or throwing', () => {
    expect(firstTooDeepInJson('['.repeat(5000))).toHaveLength(MAX_NESTING_DEPTH);
    expect(firstTooDeepInJson(']]]}}}{"a":')).toBeUndefined();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(firstTooDeepValue(cyclic)).toHaveLength(MAX_NESTING_DEPTH);
  });

  it('agrees with the depth of the parsed value, for text and value alike', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 1, max: 8 }), (value, limit) => {
        const text = JSON.stringify(value);
        const fromText = firstTooDeepInJson(text, limit);
        const fromValue = firstTooDeepValue(JSON.parse(text), limit);
        expect(fromText === undefined).toBe(depthOf(value) <= limit);
        expect(fromText).toEqual(fromValue);
      }),
      { seed: 12, numRuns: 300 },
    );
  });
});

describe('Score files nested too deep', () => {
  const header = 'apiVersion: score.dev/v1b1\nmetadata:\n  name: api\n';
  const containers = 'containers:\n  main:\n    image: nginx\n';

  const deepBlock = (levels: number) => {
    let deep = '  deep:\n';
    let indent = '    ';
    for (let i = 0; i < levels; i++) {
      deep += `${indent}k:\n`;
      indent += '  ';
    }
    return `${header}${deep}${indent}v: 1\n${containers}`;
  };

  it('reports a deep block mapping at the first value too deep, instead of validating it', () => {
    const result = parseScore(deepBlock(200), 'score.yaml');
    expect(result.workload).toBeUndefined();
    expect(result.problems).toEqual([
      {
        file: 'score.yaml',
        line: 4 + 63,
        column: 5 + 2 * 62,
        path: `metadata.deep${'.k'.repeat(62)}`,
        message: expect.stringContaining(`more than ${MAX_NESTING_DEPTH}`),
      },
    ]);
  });

  it('reports a mapping too deep for the YAML parser at its line, without throwing', () => {
    const result = parseScore(deepBlock(3000), 'score.yaml');
    expect(result.workload).toBeUndefined();
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({
      line: 4 + 63,
      message: expect.stringContaining(`more than ${MAX_NESTING_DEPTH}`),
    });
  });

  it('reports a deep flow collection as too deep, not as a stack overflow', () => {
    const result = parseScore(
      `${header}  deep: ${'['.repeat(5000)}${']'.repeat(5000)}\n${containers}`,
      's.yaml',
    );
    expect(result.workload).toBeUndefined();
    expect(result.problems.map((p) => p.message).join('\n')).not.toMatch(/call stack/i);
    expect(result.problems.some((p) => p.message.includes(`more than ${MAX_NESTING_DEPTH}`))).toBe(true);
  });

  it('reports a file too deep for the parser once however little stack is left (it may overflow at several places)', () => {
    /** Calls `parse` `frames` calls deeper than this test, leaving it that much less stack. */
    const deeper = (frames: number, parse: () => number): number =>
      frames === 0 ? parse() : deeper(frames - 1, parse) + 0;
    const texts = [deepBlock(3000), `${header}  deep: ${'['.repeat(5000)}${']'.repeat(5000)}\n${containers}`];
    for (const text of texts) {
      const counts = new Set<number>();
      for (let frames = 0; frames < 8000; frames += 250) {
        counts.add(deeper(frames, () => parseScore(text, 's.yaml').problems.length));
      }
      expect([...counts]).toEqual([1]);
    }
  });

  it('still accepts ordinary nesting', () => {
    const result = parseScore(`${header}  labels:\n    a:\n      b: [[1]]\n${containers}`, 'score.yaml');
    expect(result.problems).toEqual([]);
  });
});
