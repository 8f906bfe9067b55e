import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeFileError } from './file-errors.ts';

/** Why {@link makeDirectories} could not make a directory: where, and what the file system said. */
export class UnmadeDirectory extends Error {
  constructor(
    /** The directory asked for, or the parent of it where things went wrong. */
    readonly path: string,
    /** `path` exists and is not a directory. */
    readonly notDirectory: boolean,
    /** What the file system refused: looking at `path` (`read`) or creating it; undefined with notDirectory. */
    readonly action: 'read' | 'create-directory' | undefined,
    override readonly cause: unknown,
  ) {
    super(`cannot make the directory ${path}`);
    this.name = 'UnmadeDirectory';
  }
}

/**
 * Creates `dir` and its missing parents, one level at a time, with `mode`; resolves the directories it
 * created, outermost first. Node's recursive mkdir never returns where the file system refuses a new
 * directory with ENOENT although its parent exists (as /proc does): it keeps trying the parent. Throws
 * UnmadeDirectory; {@link whyUnmade} says it in words.
 */
export function makeDirectories(dir: string, mode?: number): string[] {
  const missing: string[] = [];
  for (let path = dir; ; path = dirname(path)) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(path) !== path) {
        missing.unshift(path);
        continue;
      }
      throw new UnmadeDirectory(path, false, 'read', error);
    }
    if (!isDirectory) throw new UnmadeDirectory(path, true, undefined, undefined);
    break;
  }
  for (const path of missing) {
    try {
      mkdirSync(path, mode === undefined ? {} : { mode });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new UnmadeDirectory(path, false, 'create-directory', error);
      }
      // Made meanwhile, by someone else: what was wanted, unless it is a file.
      if (!isDirectory(path)) throw new UnmadeDirectory(path, true, undefined, undefined);
    }
  }
  return missing;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Why `dir` could not be made (an UnmadeDirectory of makeDirectories, or another error of the file system), in
 * words for a message that already names `dir`: e.g. `a file of that name is in the way`, `/srv/a is a file,
 * not a directory`, `cannot create /srv/a: permission denied`.
 */
export function whyUnmade(error: unknown, dir: string): string {
  if (!(error instanceof UnmadeDirectory)) return describeFileError(error, dir, 'create-directory');
  const self = error.path === dir;
  if (error.notDirectory) {
    return self ? 'a file of that name is in the way' : `${error.path} is a file, not a directory`;
  }
  const why = describeFileError(error.cause, error.path, error.action ?? 'create-directory');
  if (self) return why;
  return error.action === 'read' ? `${error.path}: ${why}` : `cannot create ${error.path}: ${why}`;
}
