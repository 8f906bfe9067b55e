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
 * The text of the file at `path`, which must be UTF-8 (see utf8Text); rejects with FileTooLargeError over
 * FILE_SIZE_LIMIT_BYTES (see readFileBytes), with the file system's error when it cannot be read.
 */
export async function readUtf8File(path: string): Promise<string> {
  return utf8Text(await readFileBytes(path));
}

/**
 * `bytes` as text, which must be UTF-8: throws NotUtf8FileError where they are not, rather than turning them
 * into U+FFFD, which would then be sent and stored in their place.
 */
export function utf8Text(bytes: Buffer): string {
  const { text, broken } = decodeUtf8(bytes);
  if (broken) throw new NotUtf8FileError(broken);
  return text;
}

/**
 * The bytes of the file at `path` (see readAtMost: /dev/zero and a pipe that never ends stop too); rejects with
 * the file system's error when it cannot be read.
 */
export async function readFileBytes(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    return await readAtMost(handle.createReadStream({ autoClose: false }), async (read) => {
      // A device, a pipe or a file of /proc has no size to tell.
      const info = await handle.stat();
      return info.isFile() && info.size >= read ? info.size : undefined;
    });
  } finally {
    await handle.close();
  }
}

/**
 * The bytes of `stream` (a file's, standard input), stopping once it has read more than FILE_SIZE_LIMIT_BYTES:
 * rejects with FileTooLargeError then, with the size `sizeOf` tells (given how many bytes were read).
 */
export async function readAtMost(
  stream: AsyncIterable<Uint8Array>,
  sizeOf: (read: number) => Promise<number | undefined> = () => Promise.resolve(undefined),
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    chunks.push(Buffer.from(chunk));
    total += chunk.length;
    if (total > FILE_SIZE_LIMIT_BYTES) throw new FileTooLargeError(await sizeOf(total));
  }
  return Buffer.concat(chunks, total);
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
