import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ScoreProblem } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { OutputFormat } from '../output/output.ts';
import { addOutputOption, examples } from './client-options.ts';

/** What `pave validate -o json` prints: one entry per file, in the order given. */
export interface ValidateReport {
  files: { file: string; valid: boolean; problems: ScoreProblem[] }[];
}

/** Score files were read but have problems; the problems are already printed. Exit code 1. */
export class ScoreFilesInvalidError extends Error {
  override name = 'ScoreFilesInvalidError';
}

/**
 * `pave validate -f FILE…`: checks Score files offline (YAML syntax, the Score v1b1 schema, placeholders) and
 * prints every problem as `file:line:column: json.path: message` on stderr; `-o json` prints a
 * {@link ValidateReport} on stdout instead. Exits 1 when any file has problems, 2 when a file cannot be read.
 */
export function registerValidateCommand(program: Command, io: CliIo): void {
  addOutputOption(
    program
      .command('validate')
      .description('Check Score files (apiVersion score.dev/v1b1) offline: YAML, schema and placeholders')
      .requiredOption(
        '-f, --file <files...>',
        'Score files to check (repeat -f or list several; - reads stdin)',
      ),
  )
    .addHelpText(
      'after',
      examples(
        'pave validate -f score.yaml',
        'pave validate -f api/score.yaml -f worker/score.yaml',
        'pave validate -f services/*/score.yaml -o json',
      ),
    )
    .action(async (options: { file: string[]; output: OutputFormat }) => {
      const texts = await readScoreFiles(options.file, io);
      // Loaded here, not at the top, so that `pave --help` does not pay for the Score schema.
      const { formatScoreProblem, parseScore } = await import('@pave/core');
      const report: ValidateReport = {
        files: texts.map(({ file, text }) => {
          const { problems } = parseScore(text, file);
          return { file, valid: problems.length === 0, problems };
        }),
      };
      const invalid = report.files.filter((entry) => !entry.valid);
      if (options.output === 'json') {
        io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else if (invalid.length === 0) {
        io.stdout.write(`${plural(report.files.length, 'file')} valid\n`);
      } else {
        for (const entry of invalid) {
          for (const problem of entry.problems) io.stderr.write(`${formatScoreProblem(problem)}\n`);
        }
      }
      if (invalid.length > 0) {
        const count = invalid.reduce((sum, entry) => sum + entry.problems.length, 0);
        throw new ScoreFilesInvalidError(
          `${plural(count, 'problem')} in ${invalid.length} of ${plural(report.files.length, 'file')}`,
        );
      }
    });
}

// Reads every file before validating any, so that a typo in one path is reported alone and plainly.
async function readScoreFiles(files: string[], io: CliIo): Promise<{ file: string; text: string }[]> {
  const failures: string[] = [];
  const texts = await Promise.all(
    files.map(async (file) => {
      try {
        return { file, text: file === '-' ? await io.readStdin() : await readFile(file, 'utf8') };
      } catch (error) {
        failures.push(`${file}: ${readFailure(error)}`);
        return { file, text: '' };
      }
    }),
  );
  if (failures.length === 1) throw new CliUsageError(`cannot read ${failures[0]}`);
  if (failures.length > 1) {
    throw new CliUsageError(
      `cannot read ${failures.length} files:\n${failures.map((line) => `  - ${line}`).join('\n')}`,
    );
  }
  return texts;
}

function readFailure(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory; pass the Score file inside it, e.g. score.yaml';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return (error as Error).message;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
