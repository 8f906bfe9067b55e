import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import officialSchema from './score-v1b1.json' with { type: 'json' };

/**
 * The Score sample corpus (Score files copied from the public Score repositories, see its MANIFEST.md): env
 * PAVE_SCORE_SAMPLES, else the copy in `test/fixtures/score-samples`.
 */
export const SAMPLES_DIR =
  process.env.PAVE_SCORE_SAMPLES ??
  fileURLToPath(new URL('../../../../test/fixtures/score-samples', import.meta.url));

/** The samples that MANIFEST.md says fail the official schema. */
export const NEGATIVE_SAMPLES = new Set([
  'score-compose/examples/07-overrides/overrides.compose.yaml',
  'spec@d8af847-unmerged/samples/score-minimal.yaml',
  'spec@d8af847-unmerged/samples/score-with-extensions.yaml',
]);

/** Every *.yaml / *.yml under the sample corpus, as paths relative to it; empty when the corpus is absent. */
export function listSamples(): string[] {
  if (!existsSync(SAMPLES_DIR)) return [];
  return (readdirSync(SAMPLES_DIR, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((path) => /\.ya?ml$/u.test(path))
    .map((path) => relative(SAMPLES_DIR, join(SAMPLES_DIR, path)).split('\\').join('/'))
    .sort();
}

/**
 * The official Score v1b1 JSON schema (score-spec/spec commit 1c2427db, `score-v1b1.json`, Apache-2.0; this
 * copy is only reformatted) compiled with ajv for draft 2020-12: the reference our zod schema must agree with.
 */
export const officialValidator = new Ajv2020({ allErrors: true, strict: false }).compile(officialSchema);
