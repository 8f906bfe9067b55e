import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { tooDeepMessage } from '../src/index.ts';
import {
  locateDeclarationPath,
  locatePolicyField,
  parsePoliciesFile,
  parseProfilesFile,
} from '../src/declarations.ts';

// What `pave policies apply -f` and the portal's Apply YAML form both report; the CLI's tests cover the
// schema's messages, the ids and the rule's position in a multi-line expression.

const parse = (text: string) => parsePoliciesFile(text, 'policies.yaml');

/** The problems as `line:column: path: message`, as the CLI prints them without the file name. */
const problems = (text: string) =>
  parse(text).problems.map(({ line, column, path, message }) => `${line}:${column}: ${path}: ${message}`);

const TWO = [
  '- id: a', // 1
  '  severity: deny', // 2
  '  message: never', // 3
  "  rule: 'true'", // 4
  '- id: b', // 5
  '  criteria:', // 6
  '    - envType: production', // 7
  '  severity: warn', // 8
  '  message: deploy it to staging first', // 9
  '  promotionGate: { from: staging, within: 7d }', // 10
  '',
].join('\n');

describe('parsing a policies file', () => {
  it('reads a YAML list of policies in file order, defaults applied', () => {
    expect(parse(TWO)).toEqual({
      policies: [
        { id: 'a', severity: 'deny', message: 'never', rule: 'true' },
        {
          id: 'b',
          criteria: [{ envType: 'production' }],
          severity: 'warn',
          message: 'deploy it to staging first',
          promotionGate: { from: 'staging', within: '7d' },
        },
      ],
      problems: [],
    });
  });

  // Found by a review of bad input: a freeze that fits neither form was "Invalid input" at the freeze.
  it('reports a value that fits none of its forms at what the closest form misses', () => {
    const text = [
      '- id: friday',
      '  severity: deny',
      '  message: no deploys on Friday',
      '  freeze:',
      "    schedule: '0 16 * * FRI'",
      '',
    ].join('\n');
    expect(problems(text)).toEqual([
      expect.stringMatching(/^4:3: \[0\]\.freeze: missing required key "duration"/u),
    ]);
  });

  it('reads one policy per YAML document, and a document holding a list', () => {
    const text = `id: z\nseverity: warn\nmessage: m\nrule: 'true'\n---\n${TWO}---\n`;
    expect(parse(text).policies.map((policy) => policy.id)).toEqual(['z', 'a', 'b']);
    // Ids are counted across documents.
    expect(problems(`${text.replace('id: z', 'id: b')}`)).toEqual([
      '10:7: [1].id: id "b" is also defined on line 1; define each id once',
    ]);
  });

  it('asks for policies when the text has none', () => {
    for (const text of ['', '\n\n', '# none yet\n', '---\n---\n', '[]\n']) {
      expect(problems(text)).toEqual([
        '1:1: (root): no policies: write a YAML list of policies, or one policy (id, criteria, severity, ' +
          'message and one of rule, promotionGate, freeze) per YAML document',
      ]);
    }
    expect(parseProfilesFile('', 'profiles.yaml').problems.map((problem) => problem.message)).toEqual([
      'no profiles: write a YAML list of profiles, or one profile (id, criteria, patches, objects) per YAML ' +
        'document',
    ]);
  });

  it('reports a text nested too deep for the YAML parser as exactly one problem, at the nesting', () => {
    // Nested under a key: in Node 20, parsing a text that starts with thousands of `[` a second time in one
    // process aborts it (a V8 fault), and vitest runs other files in this process.
    const { policies, problems: found } = parse(`- id: a\n  rule: ${'['.repeat(20_000)}\n`);
    expect(policies).toEqual([]);
    // Where the parser gave up depends on how much stack was left (the path too): one problem, on its line.
    expect(found).toEqual([expect.objectContaining({ line: 2, message: `the YAML ${tooDeepMessage()}` })]);
    // Deep, but not too deep for the parser: at the first list past the limit, as the schema's check puts it.
    const deepest = parse(`- id: a\n  rule: ${'['.repeat(100)}${']'.repeat(100)}\n`).problems;
    expect(deepest).toEqual([
      expect.objectContaining({ line: 2, path: `[0].rule${'[0]'.repeat(62)}`, message: tooDeepMessage() }),
    ]);
  });

  it('reports an unclosed quote where it opens, not at the end of the text', () => {
    expect(problems('- id: a\n  severity: deny\n  message: "never\n  rule: x\n')).toEqual([
      '3:12: [0].message: YAML syntax error: Missing closing "quote',
    ]);
  });

  it('counts the lines after a flow collection it cannot make sense of', () => {
    // The YAML parser's own line count misses the line break inside the broken `{`.
    expect(problems('{]---\nid: amessage: m')).toContainEqual(
      expect.stringMatching(/^2:5: .*Nested mappings are not allowed in compact mappings$/),
    );
  });

  it('reports an alias to an anchor not set before it at the alias', () => {
    const text = [
      '- id: a',
      '  severity: deny',
      '  message: &message never',
      "  rule: 'true'",
      '- id: b',
      '  severity: warn',
      '  message: *message',
      "  rule: 'true'",
      '- id: c',
      '  severity: warn',
      '  message: *nowhere',
      "  rule: 'true'",
      '',
    ].join('\n');
    expect(problems(text)).toEqual([
      '11:12: [2].message: YAML error: Unresolved alias (the anchor must be set before the alias): nowhere',
    ]);
    expect(parse(text.replace('*nowhere', '*message')).policies[2]!.message).toBe('never');
  });

  it('reports a CEL rule that does not compile at its line and column in the file', () => {
    expect(problems(TWO.replace("rule: 'true'", "rule: 'deployment.kind =='"))).toEqual([
      '4:28: a.rule: Unexpected token: EOF',
    ]);
    const literal = TWO.replace(
      "rule: 'true'",
      "rule: |\n    deployment.kind == 'deploy' &&\n      plan.nope",
    );
    expect(problems(literal)).toEqual(['6:12: a.rule: No such key: nope']);
  });

  it('never throws, and gives either policies or problems, each inside the text', () => {
    const piece = fc.constantFrom(
      '- ',
      'id: a',
      'severity: deny',
      'message: m',
      "rule: 'true'",
      'rule: x ==',
      '\n',
      '\n  ',
      '---\n',
      '[',
      ']',
      '{',
      '"',
      '&x ',
      '*x',
      '#',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const text = pieces.join('');
        const { policies, problems: found } = parse(text);
        expect(policies.length === 0).toBe(found.length > 0);
        const lines = text.split('\n');
        for (const { line, column } of found) {
          expect(line).toBeGreaterThanOrEqual(1);
          expect(line).toBeLessThanOrEqual(lines.length);
          expect(column).toBeGreaterThanOrEqual(1);
          expect(column).toBeLessThanOrEqual((lines[line - 1] ?? '').length + 1);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the position of a field of an item', () => {
  it('finds a policy field across documents, and falls back to the policy, then to 1:1', () => {
    const text = `id: z\nseverity: warn\nmessage: m\nrule: 'true'\n---\n${TWO}`;
    expect(locatePolicyField(text, 0, 'rule')).toEqual({ line: 4, column: 7 });
    expect(locatePolicyField(text, 2, 'criteria/0/envType')).toEqual({ line: 12, column: 16 });
    expect(locatePolicyField(text, 2, 'freeze/schedule')).toEqual({ line: 10, column: 3 });
    expect(locatePolicyField(text, 3, 'rule')).toEqual({ line: 1, column: 1 });
  });

  it('finds a path inside a profile, or its nearest ancestor', () => {
    const text = [
      '- id: p', // 1
      '  criteria: []', // 2
      '  patches:', // 3
      '    - target: { kind: Deployment }', // 4
      '      ops:', // 5
      '        - { op: add, path: /spec/replicas, value: 3 }', // 6
      '',
    ].join('\n');
    expect(locateDeclarationPath(text, 0, ['patches', '0', 'ops', '0', 'path'])).toEqual({
      line: 6,
      column: 28,
    });
    expect(locateDeclarationPath(text, 0, ['patches', '0', 'ops', '3'])).toEqual({ line: 5, column: 7 });
    expect(locateDeclarationPath(text, 1, ['id'])).toEqual({ line: 1, column: 1 });
    // The premise: the text is one document holding one list.
    expect(parseAllDocuments(text)).toHaveLength(1);
  });
});
