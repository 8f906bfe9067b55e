import { accessSync, constants, readdirSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { CliUsageError } from './errors.ts';
import { makeDirectories, UnmadeDirectory } from './directories.ts';
import { describeFileError } from './file-errors.ts';

/**
 * Makes sure `pave up` can keep its state in `dir` (an absolute path) before the server starts: creates it and
 * its missing parents (mode 0700; see makeDirectories), and checks that it is a directory this process may
 * write to. `source` names where the directory came from (`--data-dir`, `PAVE_DATA_DIR`, or the default) for
 * the message. Throws CliUsageError saying which
 * directory, why, and to choose another.
 */
export function prepareDataDir(dir: string, source: DataDirSource): void {
  const fail = (why: string) => unusableDataDir(dir, source, why);
  let created: string[];
  try {
    created = makeDirectories(dir, 0o700);
  } catch (error) {
    if (!(error instanceof UnmadeDirectory)) throw error;
    const { path } = error;
    if (error.notDirectory) throw fail(path === dir ? 'it is not a directory' : `${path} is not a directory`);
    const why = describeFileError(error.cause, path, error.action ?? 'create-directory');
    if (error.action === 'read') throw fail(why);
    throw fail(path === dir ? `cannot create it: ${why}` : `cannot create ${path}: ${why}`);
  }
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw fail(describeFileError(error, dir, 'write'));
  }
  if (created.length === 0) {
    const others = foreignEntries(dir);
    if (others.length > 0) {
      const shown =
        others.slice(0, 3).join(', ') + (others.length > 3 ? `, … (${others.length} in all)` : '');
      throw fail(
        `it holds directories or hidden files that are not Pave's (${shown}), as a home or a project does, ` +
          'and pave up makes everything in its data directory its own (no access for group or others), so it ' +
          'takes only a new directory, one with plain files only (a log, a secret file), or one it made',
      );
    }
  }
}

/** What `pave up` keeps at the top of its data directory: one of them marks a directory as Pave's. */
const PAVE_ENTRIES = new Set(['pave.db', 'master.key', 'admin.token', 'pave.lock', 'runtime', 'replicas']);

/**
 * Whether the directory `dir` holds one of the entries `pave up` keeps in its data directory (pave.db,
 * master.key, admin.token, pave.lock, runtime/, replicas/). Throws the file-system error when `dir` cannot be read.
 */
export function isPaveDataDir(dir: string): boolean {
  return readdirSync(dir).some((name) => PAVE_ENTRIES.has(name));
}

/**
 * What in an existing directory that is not Pave's (none of PAVE_ENTRIES) shows it to be someone else's: its
 * subdirectories, symbolic links and hidden entries, as a home directory or a project given as `--data-dir`
 * by mistake has, whose files must keep their modes. Plain files (a log the service's output goes to, the
 * OIDC client secret) are no sign of that.
 */
function foreignEntries(dir: string): string[] {
  const entries = readdirSync(dir, { withFileTypes: true });
  if (entries.some((entry) => PAVE_ENTRIES.has(entry.name))) return [];
  return entries
    .filter((entry) => !entry.isFile() || entry.name.startsWith('.'))
    .map((entry) => `${entry.name}${entry.isDirectory() ? '/' : ''}`)
    .sort();
}

/**
 * The error to show for a file-system error the server's start met in the data directory `dir` (it could not
 * change the modes of /proc's files, say), in the words of {@link prepareDataDir}; undefined for any other
 * error.
 */
export function dataDirFailure(
  error: unknown,
  dir: string,
  source: DataDirSource,
): CliUsageError | undefined {
  const { code, path, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  if (typeof code !== 'string' || typeof path !== 'string' || !isWithin(path, dir)) return undefined;
  const why = describeFileError(error, path, syscall === 'mkdir' ? 'create-directory' : 'write');
  return unusableDataDir(dir, source, syscall ? `${syscall} ${path}: ${why}` : `${path}: ${why}`);
}

function unusableDataDir(dir: string, source: DataDirSource, why: string): CliUsageError {
  const fix =
    source === 'default'
      ? 'choose another with --data-dir or PAVE_DATA_DIR'
      : `give ${source} a directory that pave up may create and write to`;
  const where = source === 'default' ? '' : `${source}: `;
  return new CliUsageError(`${where}cannot use ${dir} as the data directory: ${why}; ${fix}`);
}

function isWithin(path: string, dir: string): boolean {
  const from = relative(dir, resolve(path));
  return from === '' || (!from.startsWith('..') && !isAbsolute(from));
}

/** Where the data directory of `pave up` was given: a flag, its variable, or neither (~/.pave). */
export type DataDirSource = '--data-dir' | 'PAVE_DATA_DIR' | 'default';
