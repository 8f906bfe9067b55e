// Loaded lazily by the `apply -f` commands of declarations files (defs, targets, policies, profiles,
// templates): reads the file and prints its problems. Parsing and checking it is core's
// (`@pave/core/declarations`), shared with the portal.
import { formatScorePath, formatScoreProblem, type ApiError } from '@pave/core';
import type { DeclarationProblem } from '@pave/core/declarations';
import { CliUsageError } from './errors.ts';
import type { CliIo } from './io.ts';
import { escapeControlCharacters } from './output/terminal-text.ts';
import { fileArgumentName, readFileArgument } from './file-arguments.ts';
import { describeFileError } from './file-errors.ts';

/** Renders a problem as one line: `file:line:column: json.path: message`. */
export function formatDeclarationProblem(problem: DeclarationProblem): string {
  return formatScoreProblem(problem);
}

/** The name `pave defs apply` knows {@link formatDeclarationProblem} by. */
export const formatDefinitionProblem = formatDeclarationProblem;

/**
 * Reads the declarations file given with `-f`; `-` reads it from stdin with `readStdin`. Throws CliUsageError
 * naming the kind of file (`noun`, e.g. `targets`), the file and why, when it cannot be read.
 */
export async function readDeclarationsFile(
  file: string,
  noun: string,
  readStdin: () => Promise<string>,
): Promise<string> {
  try {
    return await readFileArgument(file, readStdin);
  } catch (error) {
    const why = describeFileError(error, file, 'read', { directory: 'pass the YAML file inside it' });
    throw new CliUsageError(`cannot read the ${noun} file ${fileArgumentName(file)}: ${why}`);
  }
}

/** The items of a declarations file as sent: its text, the name messages give it, the ids of its items. */
export interface SentDeclarations {
  text: string;
  name: string;
  ids: readonly string[];
}

/**
 * Runs `request`, a call that sends the items of a declarations file under `collection` (`definitions`,
 * `targets`, `policies`, `profiles`). When the server refuses fields of them (what only it can check: a driver
 * it does not have, an environment type that does not exist), each is printed on stderr at its line and column
 * in the file, as a problem found before sending is, and `fail(summary)` is thrown; other errors as they are.
 * `locate` finds a JSON pointer inside the N-th item (default: the YAML node at it).
 */
export async function withFilePositions<T>(
  file: SentDeclarations,
  collection: string,
  io: CliIo,
  fail: (summary: string) => Error,
  request: () => Promise<T>,
  locate?: (text: string, index: number, pointer: string) => { line: number; column: number },
): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (!(error instanceof Error) || error.name !== 'ApiError') throw error;
    const fields = (error as ApiError).problem.errors ?? [];
    const pattern = new RegExp(`^/${collection}/(\\d+)/(.+)$`, 'u');
    const located = fields.map((field) => pattern.exec(field.path));
    if (fields.length === 0 || located.some((match) => match === null)) throw error;
    const { locateDeclarationPath } = await import('@pave/core/declarations');
    const at =
      locate ??
      ((text: string, index: number, pointer: string) =>
        locateDeclarationPath(text, index, segmentsOf(pointer)));
    fields.forEach((field, index) => {
      const [, position = '', pointer = ''] = located[index]!;
      const item = Number(position);
      const segments = segmentsOf(pointer).map((part) => (/^\d+$/u.test(part) ? Number(part) : part));
      io.stderr.write(
        `${formatDeclarationProblem({
          file: file.name,
          ...at(file.text, item, pointer),
          path: formatScorePath(
            file.ids[item] === undefined ? [item, ...segments] : [file.ids[item], ...segments],
          ),
          message: escapeControlCharacters(field.message, { keepLineBreaks: true }),
        })}\n`,
      );
    });
    throw fail(
      `${fields.length} problem${fields.length === 1 ? '' : 's'} in ${file.name}, found by the server; nothing was applied`,
    );
  }
}

// The segments of a JSON pointer without its first slash (`criteria/0/envType`), unescaped.
function segmentsOf(pointer: string): string[] {
  return pointer.split('/').map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
}
