import { readFile } from 'node:fs/promises';
import { CliUsageError } from './errors.ts';

/** The file argument that stands for standard input, as in `pave defs apply -f -` and `pave deploy -f -`. */
export const STDIN_ARGUMENT = '-';

/** How messages name a file argument: `<stdin>` for `-`, the argument as given otherwise. */
export function fileArgumentName(file: string): string {
  return file === STDIN_ARGUMENT ? '<stdin>' : file;
}

/**
 * The text of a file given on the command line: standard input, read with `readStdin`, for `-`; otherwise the
 * file at `path` (default: the argument itself) as UTF-8. Rejects with the file system's error when the file
 * cannot be read: callers say which file it is and why (see describeFileError).
 */
export async function readFileArgument(
  file: string,
  readStdin: () => Promise<string>,
  path: string = file,
): Promise<string> {
  return file === STDIN_ARGUMENT ? readStdin() : readFile(path, 'utf8');
}

/**
 * Refuses `-` given more than once among the files of `flag`: standard input can be read once. Throws
 * CliUsageError.
 */
export function refuseRepeatedStdin(files: readonly string[], flag = '-f'): void {
  const times = files.filter((file) => file === STDIN_ARGUMENT).length;
  if (times > 1) {
    throw new CliUsageError(
      `${flag} - is given ${times} times; standard input can be read once: give it once, the other files by name`,
    );
  }
}
