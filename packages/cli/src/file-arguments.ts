import { open } from 'node:fs/promises';
import { REQUEST_BODY_LIMIT_BYTES, decodeUtf8, type NotUtf8 } from '@pave/core';
import { CliUsageError } from './errors.ts';

/** The file argument that stands for standard input, as in `pave defs apply -f -` and `pave deploy -f -`. */
export const STDIN_ARGUMENT = '-';

/** How messages name a file argument: `<stdin>` for `-`, the argument as given otherwise. */
export function fileArgumentName(file: string): string {
  return file === STDIN_ARGUMENT ? '<stdin>' : file;
}

/**
 * The most the CLI reads from a file it is given: 16 MiB, well above the 1 MiB the server takes in a request
 * (REQUEST_BODY_LIMIT_BYTES), so that no file it could send is refused, while /dev/zero or a file given by
 * mistake stops it at once instead of filling its memory.
 */
export const FILE_SIZE_LIMIT_BYTES = 16 * 1024 * 1024;

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
 * A file larger than FILE_SIZE_LIMIT_BYTES, and its size when it has one (devices and pipes have none): what
 * describeFileError says, by its code `EFILETOOLARGE`, is its message.
 */
export class FileTooLargeError extends Error {
  readonly code = 'EFILETOOLARGE';
  constructor(readonly size: number | undefined) {
    const mib = (bytes: number) => bytes / 1_048_576;
    const limit = `${mib(FILE_SIZE_LIMIT_BYTES)} MiB`;
    const what =
      size === undefined
        ? `it holds more than ${limit}`
        : `it is ${mib(size).toFixed(1)} MiB (${size} bytes)`;
    super(
      `${what}; Pave reads at most ${limit} from a file and sends at most ${mib(REQUEST_BODY_LIMIT_BYTES)} MiB ` +
        'in a request: give the file you meant, or a smaller one',
    );
  }
}

/**
 * The text of the file at `path`, which must be UTF-8: rejects with NotUtf8FileError where it is not, rather
 * than turning those bytes into U+FFFD, which would then be sent and stored in their place; with
 * FileTooLargeError over FILE_SIZE_LIMIT_BYTES (see readFileBytes); with the file system's error when it cannot
 * be read.
 */
export async function readUtf8File(path: string): Promise<string> {
  const { text, broken } = decodeUtf8(await readFileBytes(path));
  if (broken) throw new NotUtf8FileError(broken);
  return text;
}

/**
 * The bytes of the file at `path`, reading at most FILE_SIZE_LIMIT_BYTES + 1 of them: rejects with
 * FileTooLargeError when there are more (so that /dev/zero and a pipe that never ends stop too), with the file
 * system's error when it cannot be read.
 */
export async function readFileBytes(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // Reads from where the last read ended (position null): a pipe or a device cannot seek.
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, FILE_SIZE_LIMIT_BYTES + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > FILE_SIZE_LIMIT_BYTES) {
        // A device, a pipe or a file of /proc has no size to tell.
        const info = await handle.stat();
        throw new FileTooLargeError(info.isFile() && info.size >= total ? info.size : undefined);
      }
    }
    return Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
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
