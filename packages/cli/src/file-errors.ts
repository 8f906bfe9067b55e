import { dirname } from 'node:path';
import { describeNotUtf8, type NotUtf8 } from '@pave/core';

/** What the CLI was doing with a path when the file system refused. */
export type FileAction = 'read' | 'read-directory' | 'write' | 'create-directory';

/** What {@link describeFileError} adds for the caller's kind of file. */
export interface FileErrorHints {
  /** What to pass instead of a directory given for a file (EISDIR), e.g. `pass the YAML file inside it`. */
  directory?: string;
}

/**
 * Why a file-system call on `path` failed, in words for the person who gave the path, never Node's own
 * message: e.g. `the directory /missing/dir does not exist` (writing /missing/dir/x.env), `permission denied`,
 * `the file system is read-only`. The caller says which file and what to do.
 */
export function describeFileError(
  error: unknown,
  path: string,
  action: FileAction,
  hints: FileErrorHints = {},
): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      if (action === 'read') return 'no such file';
      if (action === 'read-directory') return 'no such directory';
      // A directory is created once its parent exists, so there it is the file system that refuses (/proc).
      return action === 'write'
        ? `the directory ${dirname(path)} does not exist`
        : `${dirname(path)} does not allow directories to be created in it`;
    case 'ENOTDIR':
      // Listing a directory, it is most likely the path itself.
      return action === 'read-directory'
        ? 'it is not a directory'
        : 'a part of the path is a file, not a directory';
    case 'EEXIST':
      // mkdir over a file of the same name.
      return 'a file of that name is in the way';
    case 'EISDIR':
      return hints.directory ? `it is a directory; ${hints.directory}` : 'it is a directory, not a file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'no space is left on the device';
    case 'EDQUOT':
      return 'the disk quota is used up';
    case 'ENAMETOOLONG':
      return 'the name is too long';
    case 'ELOOP':
      return 'too many symbolic links (a loop?)';
    case 'ENOTUTF8':
      return notUtf8((error as { broken: NotUtf8 }).broken);
    default:
      return otherFileError(error, code);
  }
}

/** Why a file that is not UTF-8 cannot be read, with where and how to convert it. */
export function notUtf8(broken: NotUtf8): string {
  return (
    `it is not UTF-8: ${describeNotUtf8(broken)} does not begin a UTF-8 character; ` +
    'convert the file to UTF-8, e.g. `iconv -f latin1 -t utf-8`'
  );
}

// Node's message without the call and path it repeats: "EIO: i/o error, open '/x'" becomes "i/o error (EIO)".
function otherFileError(error: unknown, code: string | undefined): string {
  const message = error instanceof Error ? error.message : String(error);
  const reason = /^[A-Z0-9_]+: (.+?), \w+ '/.exec(message)?.[1];
  return reason && code ? `${reason} (${code})` : message;
}
