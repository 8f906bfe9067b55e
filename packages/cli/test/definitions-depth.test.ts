import { describe, expect, it } from 'vitest';
import { MAX_NESTING_DEPTH } from '@pave/core';
import { parseDefinitionsFile } from '@pave/core/declarations';

/** A definitions file whose first definition's driverInputs.values.deep is `levels` mappings deep. */
function deepDefinitions(levels: number): string {
  let text =
    '- id: pg\n  type: postgres\n  driver: postgres-server\n  driverInputs:\n    values:\n      deep:\n';
  let indent = '        ';
  for (let i = 0; i < levels; i++) {
    text += `${indent}k:\n`;
    indent += '  ';
  }
  return `${text}${indent}v: 1\n`;
}

describe('definitions files nested too deep', () => {
  it('names the first value deeper than the limit instead of validating it', () => {
    const { definitions, problems } = parseDefinitionsFile(deepDefinitions(200), 'defs.yaml');
    expect(definitions).toEqual([]);
    expect(problems).toEqual([
      expect.objectContaining({
        // [0] driverInputs values deep: 4 levels, then k until the 65th.
        path: `[0].driverInputs.values.deep${'.k'.repeat(MAX_NESTING_DEPTH - 4)}`,
        message: expect.stringContaining(`more than ${MAX_NESTING_DEPTH}`),
      }),
    ]);
  });

  it('reports a file too deep for the YAML parser as one problem, without throwing', () => {
    const { definitions, problems } = parseDefinitionsFile(deepDefinitions(3000), 'defs.yaml');
    expect(definitions).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain(`more than ${MAX_NESTING_DEPTH}`);
  });

  it('reports it once however little stack is left (the parser may overflow at several places)', () => {
    /** Calls `parse` `frames` calls deeper than this test, leaving it that much less stack. */
    const deeper = (frames: number, parse: () => number): number =>
      frames === 0 ? parse() : deeper(frames - 1, parse) + 0;
    const counts = new Set<number>();
    for (let frames = 0; frames < 8000; frames += 250) {
      counts.add(
        deeper(frames, () => parseDefinitionsFile(deepDefinitions(3000), 'defs.yaml').problems.length),
      );
    }
    expect([...counts]).toEqual([1]);
  });
});
