import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ScoreWorkload, formatScoreProblem, parseScore } from '../../src/index.ts';
import { NEGATIVE_SAMPLES, SAMPLES_DIR, listSamples, officialValidator } from './support.ts';

const samples = listSamples();

// The corpus is vendored in test/fixtures/score-samples (PAVE_SCORE_SAMPLES points elsewhere).
describe(`Score samples in ${SAMPLES_DIR}`, () => {
  it('include the negative cases named in MANIFEST.md and dozens of real workloads', () => {
    expect(samples).toEqual(expect.arrayContaining([...NEGATIVE_SAMPLES]));
    expect(samples.length).toBeGreaterThanOrEqual(50);
  });

  describe.each(samples.filter((sample) => !NEGATIVE_SAMPLES.has(sample)))('positive sample %s', (sample) => {
    it('validates with no problems, as it does against the official schema', () => {
      const text = readFileSync(join(SAMPLES_DIR, sample), 'utf8');
      expect(officialValidator(parse(text))).toBe(true);
      const result = parseScore(text, sample);
      expect(result.problems.map(formatScoreProblem)).toEqual([]);
      expect(result.workload?.apiVersion).toBe('score.dev/v1b1');
    });
  });

  describe.each([...NEGATIVE_SAMPLES])('negative sample %s', (sample) => {
    it('is refused, as the official schema refuses it, with problems that point into the file', () => {
      const text = readFileSync(join(SAMPLES_DIR, sample), 'utf8');
      expect(officialValidator(parse(text))).toBe(false);
      const result = parseScore(text, sample);
      expect(result.workload).toBeUndefined();
      expect(result.problems.length).toBeGreaterThan(0);
      for (const problem of result.problems) {
        expect(problem.line).toBeGreaterThanOrEqual(1);
        expect(problem.column).toBeGreaterThanOrEqual(1);
      }
    });
  });

  it('get the same schema verdict from the zod schema and from the official schema (ajv)', () => {
    const verdicts = samples.map((sample) => {
      const data: unknown = parse(readFileSync(join(SAMPLES_DIR, sample), 'utf8'));
      return { sample, zod: ScoreWorkload.safeParse(data).success, ajv: officialValidator(data) };
    });
    expect(verdicts.filter((verdict) => verdict.zod !== verdict.ajv)).toEqual([]);
  });

  it('refuse the missing-containers cases for that reason, at the document', () => {
    const text = readFileSync(join(SAMPLES_DIR, 'spec@d8af847-unmerged/samples/score-minimal.yaml'), 'utf8');
    expect(parseScore(text, 'score-minimal.yaml').problems).toEqual([
      expect.objectContaining({ path: '(root)', message: expect.stringContaining('"containers"') }),
    ]);
  });
});

describe('the sample corpus location', () => {
  it.skipIf(Boolean(process.env.PAVE_SCORE_SAMPLES))(
    'defaults to the vendored copy in the repository',
    () => {
      expect(SAMPLES_DIR.replaceAll('\\', '/')).toMatch(/\/test\/fixtures\/score-samples$/u);
      expect(existsSync(join(SAMPLES_DIR, 'MANIFEST.md'))).toBe(true);
    },
  );
});
