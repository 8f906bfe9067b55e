import { readFile } from 'node:fs/promises';
import { decodeUtf8, type NotUtf8 } from '@pave/core';
import { CliUsageError } from './errors.ts';

/** The file argument that stands for standard input, as in `pave defs apply -f -` and `pave deploy -f -`. */
export const STDIN_ARGUMENT = '-';

/** How messages name a file argument: `<stdin>` for `-`, the argument as given otherwise. */
export function fileArgumentName(file: string): string {
  return file === STDIN_ARGUMENT ? '<stdin>' : file;
}

/**
 * The text of a file given on the command line: standard input, read with `readStdin`, for `-`; otherwise the
 * file at `path` (default: the argument itself) as UTF-8 (see readUtf8File). Rejects with the file system's
 * error when the file cannot be read, or NotUtf8FileError: callers say which file it is and why (see
 * describeFileError).
 */
export async function readFileArgument(
  file: string,
  readStdin: () => Promise<string>,
  path: string = file,
): Promise<string> {
  return file === STDIN_ARGUMENT ? readStdin() : readUtf8File(path);
}

/** A file whose bytes are not UTF-8, and where (describeFileError says it, by its code `ENOTUTF8`). */
export class NotUtf8FileError extends Error {
  readonly code = 'ENOTUTF8';
  constructor(readonly broken: NotUtf8) {
    super('the file is not UTF-8');
  }
}

/**
 * The text of the file at `path`, which must be UTF-8: rejects with NotUtf8FileError where it is not, rather
 * than turning those bytes into U+FFFD, which would then be sent and stored in their place; with the file
 * system's error when it cannot be read.
 */
export async function readUtf8File(path: string): Promise<string> {
  const { text, broken } = decodeUtf8(await readFile(path));
  if (broken) throw new NotUtf8FileError(broken);
  return text;
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
