// A container's `files`. A process cannot be given its own root directory, so a file's absolute target
// path is placed under <workload dir>/files/<container>/ instead (announced to the process as PAVE_FILES_DIR).
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { FieldProblem } from '@pave/core';
import type { RenderedFile } from '@pave/plugin-api';

/** Mode of a file that does not set one: owner only, since rendered content may hold secrets. */
export const DEFAULT_FILE_MODE = 0o600;

/**
 * The file's path relative to the container's files directory, or null if `target` names no file. Resolved
 * as if from the root, so ".." cannot climb out of the directory.
 */
export function relativeFilePath(target: string): string | null {
  const relative = posix.normalize(`/${target}`).slice(1);
  return relative === '' || relative.endsWith('/') ? null : relative;
}

/** The numeric mode for `mode` ("0644", "755"), the default when absent, or null if it is not octal. */
export function fileMode(mode: string | undefined): number | null {
  if (mode === undefined) return DEFAULT_FILE_MODE;
  return /^0?[0-7]{3}$/.test(mode) ? parseInt(mode, 8) : null;
}

/** Every problem with `files`, each with its place (`containers.<name>.files[<i>]`). */
export function checkFiles(container: string, files: RenderedFile[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  files.forEach((file, index) => {
    const path = `containers.${container}.files[${index}]`;
    if (relativeFilePath(file.target) === null) {
      problems.push({ path: `${path}.target`, message: `"${file.target}" does not name a file` });
    }
    if (fileMode(file.mode) === null) {
      problems.push({ path: `${path}.mode`, message: `"${file.mode}" is not an octal mode such as "0644"` });
    }
  });
  return problems;
}

/** Replaces `dir` with exactly `files` (checked with checkFiles first), each with its mode. */
export async function writeFiles(dir: string, files: RenderedFile[]): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const file of files) {
    const path = join(dir, relativeFilePath(file.target) ?? '');
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const content = file.binary ? Buffer.from(file.content, 'base64') : file.content;
    const mode = fileMode(file.mode) ?? DEFAULT_FILE_MODE;
    await writeFile(path, content, { mode });
    await chmod(path, mode); // exactly `mode`, whatever the umask
  }
}
