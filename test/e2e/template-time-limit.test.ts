import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';

/*
 * `pave up --template-time-limit` (env PAVE_TEMPLATE_TIME_LIMIT) sets how long one check or rendering of a
 * template may take before it is stopped (docs/templates.md, "Limits").
 */
describe('pave up --template-time-limit', () => {
  let dataDir: string;
  let work: string;
  let server: PaveProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-template-limit-'));
    work = mkdtempSync(join(tmpdir(), 'pave-template-limit-work-'));
    server = await startPave(['--data-dir', dataDir, '--template-time-limit', '1s']);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('stops checking a template at the limit it sets, and says so', async () => {
    // A pattern whose sample answers backtrack for minutes: only the time limit ends the check.
    const dir = join(work, 'letters');
    mkdirSync(join(dir, 'files'), { recursive: true });
    writeFileSync(
      join(dir, 'template.yaml'),
      [
        'id: letters',
        'title: Letters',
        'parameters:',
        '  type: object',
        '  properties:',
        '    name: { type: string }',
        "    word: { type: string, minLength: 32, pattern: '^([a-z]+)+!$' }",
        '  required: [name]',
        'files: []',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'files', 'README.md'), '{{ word }}\n');
    const result = await runPave(
      ['templates', 'apply', '-f', dir, '--dry-run'],
      clientEnv(server.url, dataDir),
    );
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(
      'word: trying sample answers against its pattern took longer than 1 second and was stopped',
    );
  }, 60_000);

  it('refuses a limit that is not a duration or is over 10 minutes, naming where it came from', async () => {
    const flag = await runPave(['up', '--data-dir', dataDir, '--template-time-limit', '1h']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--template-time-limit: "1h" is too long; use at most 10m');
    const env = await runPave(['up', '--data-dir', dataDir], { PAVE_TEMPLATE_TIME_LIMIT: 'soon' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('PAVE_TEMPLATE_TIME_LIMIT: "soon" is not a duration');
  }, 30_000);
});
