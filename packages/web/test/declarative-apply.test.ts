import { describe, expect, it } from 'vitest';
import { parsePoliciesFile } from '@pave/core/declarations';
import { itemProblemLines, problemLine } from '../src/components/declarative-apply.tsx';
import { checkPolicies } from '../src/pages/platform-policies.tsx';
import { checkProfiles } from '../src/pages/platform-profiles.tsx';

// How the Apply YAML forms check a text is core's (packages/core/test/declarations.test.ts): here, that the
// tabs check with it, and how the form says its problems and the server's.

const POLICIES = [
  '- id: a', // 1
  '  severity: deny', // 2
  '  message: never', // 3
  "  rule: 'true'", // 4
  '- id: b', // 5
  '  criteria:', // 6
  '    - envType: prodution', // 7
  '  severity: warn', // 8
  '  message: a typo', // 9
  "  rule: 'true'", // 10
  '',
].join('\n');

const PROFILES = [
  '- id: p', // 1
  '  criteria: []', // 2
  '  patches:', // 3
  '    - target: { kind: Deployment }', // 4
  '      ops:', // 5
  '        - { op: add, path: /metadata/annotations/example.com~1team, value: shop }', // 6
  '---', // 7
  'id: q', // 8
  'criteria: []', // 9
  'patches: []', // 10
  'objects: [{ apiVersion: v1, kind: ConfigMap, metadata: { name: x } }]', // 11
  '',
].join('\n');

describe('checking the text of the Apply YAML forms', () => {
  it('finds what `pave policies apply -f` finds, at the same lines and columns', async () => {
    const text = POLICIES.replace("rule: 'true'", "rule: 'deployment.kind =='");
    const checked = await checkPolicies(text, 'the text');
    expect(checked.items).toEqual([]);
    expect(checked.problems).toEqual(parsePoliciesFile(text, 'the text').problems);
    expect(checked.problems.map(problemLine)).toEqual(['Line 4, column 28: a.rule: Unexpected token: EOF']);
  });

  it('gives the policies and profiles of a text without problems, defaults applied', async () => {
    expect((await checkPolicies(POLICIES, 'policies.yaml')).items.map((policy) => policy.id)).toEqual([
      'a',
      'b',
    ]);
    const profiles = await checkProfiles(PROFILES, 'profiles.yaml');
    expect(profiles.problems).toEqual([]);
    expect(profiles.items.map((profile) => [profile.id, profile.patches.length])).toEqual([
      ['p', 1],
      ['q', 0],
    ]);
  });
});

describe("the lines for the server's problems with the items", () => {
  it('says a problem with a policy field as a problem found before sending, at its line and column', async () => {
    const checked = await checkPolicies(POLICIES, 'the text');
    expect(
      itemProblemLines(
        [
          { path: '/policies/1/criteria/0/envType', message: 'environment type "prodution" does not exist' },
          { path: '/policies/0/rule', message: 'is refused' },
          { path: '/policies/1', message: 'is refused as a whole' },
        ],
        { list: 'policies', checked },
      ),
    ).toEqual([
      'Line 7, column 16: b.criteria[0].envType: environment type "prodution" does not exist',
      'Line 4, column 9: a.rule: is refused',
      'Line 5, column 3: b: is refused as a whole',
    ]);
  });

  it('locates a profile field across documents, unescaping `~1` and `~0` in the pointer', async () => {
    const checked = await checkProfiles(PROFILES, 'profiles.yaml');
    expect(
      itemProblemLines(
        [
          { path: '/profiles/0/patches/0/ops/0/path', message: 'cannot apply' },
          { path: '/profiles/1/patches', message: 'must not be empty' },
        ],
        { list: 'profiles', checked },
      ),
    ).toEqual([
      'Line 6, column 28: p.patches[0].ops[0].path: cannot apply',
      'Line 10, column 10: q.patches: must not be empty',
    ]);
  });

  it('says a problem outside the items, or with an item the text does not have, as a sentence', async () => {
    const checked = await checkPolicies(POLICIES, 'the text');
    expect(
      itemProblemLines(
        [
          { path: '/', message: 'the request body is invalid' },
          { path: '/dryRun', message: 'must be a boolean' },
          { path: '/profiles/0/rule', message: 'is required' },
          { path: '/policies/4/rule', message: 'is required' },
        ],
        { list: 'policies', checked },
      ),
    ).toEqual([
      'The request body is invalid.',
      'DryRun must be a boolean.',
      'Rule is required.',
      'Rule is required.',
    ]);
  });
});
