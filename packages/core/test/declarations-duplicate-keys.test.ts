import { describe, expect, it } from 'vitest';
import { parseDefinitionsFile } from '../src/declarations.ts';

// Found by a review of Pave's bad-input handling: a file with many keys in one mapping took seconds per
// thousand keys to parse (the YAML parser compares each key with every one before it), and a problem of a
// repeated key's value was reported at the first value, which the last one replaces.

/** The problems as `line:column: path: message`, as the CLI prints them without the file name. */
const problems = (text: string) =>
  parseDefinitionsFile(text, 'defs.yaml').problems.map(
    ({ line, column, path, message }) => `${line}:${column}: ${path}: ${message}`,
  );

describe('a declarations file with a repeated key', () => {
  it('reports the repeated key at its line among twenty thousand keys of one mapping', () => {
    const values = Array.from({ length: 20_000 }, (_, index) => `      key${index}: v${index}\n`).join('');
    const text = `- id: big\n  type: postgres\n  driver: echo\n  driverInputs:\n    values:\n${values}      key7: again\n`;
    expect(problems(text)).toEqual([
      '20006:7: [0].driverInputs.values.key7: YAML syntax error: Map keys must be unique',
    ]);
  });

  it('reports repeated keys in every document and in flow mappings', () => {
    const text =
      '- id: a\n  type: postgres\n  driver: echo\n---\nid: b\ntype: redis\ndriver: echo\nid: c\n---\n{id: d, type: x, type: x, driver: echo}\n';
    expect(problems(text)).toEqual([
      '8:1: id: YAML syntax error: Map keys must be unique',
      '10:18: type: YAML syntax error: Map keys must be unique',
    ]);
  });

  it('reports a problem of the value that wins (the last) at that value', () => {
    const text = '- id: pg\n  type: postgres\n  type: [1]\n  driver: echo\n';
    expect(problems(text)).toEqual([
      '3:3: [0].type: YAML syntax error: Map keys must be unique',
      '3:9: [0].type: expected a string, got a list',
    ]);
  });
});
