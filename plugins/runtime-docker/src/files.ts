// A container's `files`: written on the host under <workload dir>/<container>/files/<target path> and
// bind-mounted read-only at their target. A new version's files replace the old ones only once it runs:
// until then the old ones wait in files.previous, so a failed deployment can put them back for the
// version that keeps running (a restarted container mounts its files again from these paths).
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { FieldProblem } from '@pave/core';
import type { RenderedFile } from '@pave/plugin-api';

/** Mode of a file that does not set one: owner only, since rendered content may hold secrets. */
export const DEFAULT_FILE_MODE = 0o600;

/** A file on the host and where it is mounted in the container. */
export interface FileMount {
  source: string;
  target: string;
}

/**
 * The file's path relative to the container's files directory, or null if `target` names no file.
 * Resolved as if from the root, so ".." cannot climb out of the directory.
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
  const targets = new Set<string>();
  files.forEach((file, index) => {
    const path = `containers.${container}.files[${index}]`;
    const relative = relativeFilePath(file.target);
    if (relative === null) {
      problems.push({ path: `${path}.target`, message: `"${file.target}" does not name a file` });
    } else if (targets.has(relative)) {
      problems.push({ path: `${path}.target`, message: `two files are mounted at "/${relative}"` });
    } else {
      targets.add(relative);
    }
    if (fileMode(file.mode) === null) {
      problems.push({ path: `${path}.mode`, message: `"${file.mode}" is not an octal mode such as "0644"` });
    }
  });
  return problems;
}

/** `<containerDir>/files`: where a container's files live while its version runs. */
export function filesDir(containerDir: string): string {
  return join(containerDir, 'files');
}

function previousDir(containerDir: string): string {
  return join(containerDir, 'files.previous');
}

/**
 * Writes `files` (checked with checkFiles) into a fresh `<containerDir>/files`, moving the current one
 * aside (see commitFiles, restoreFiles), each file with its mode in directories only root can enter.
 */
export async function stageFiles(containerDir: string, files: RenderedFile[]): Promise<FileMount[]> {
  const dir = filesDir(containerDir);
  await rm(previousDir(containerDir), { recursive: true, force: true });
  await rename(dir, previousDir(containerDir)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const mounts: FileMount[] = [];
  for (const file of files) {
    const relative = relativeFilePath(file.target) ?? '';
    const source = join(dir, relative);
    await mkdir(dirname(source), { recursive: true, mode: 0o700 });
    const content = file.binary ? Buffer.from(file.content, 'base64') : file.content;
    const mode = fileMode(file.mode) ?? DEFAULT_FILE_MODE;
    await writeFile(source, content, { mode });
    await chmod(source, mode); // exactly `mode`, whatever the umask
    mounts.push({ source, target: `/${relative}` });
  }
  return mounts;
}

/** The new version runs: forgets the previous version's files. */
export async function commitFiles(containerDir: string): Promise<void> {
  await rm(previousDir(containerDir), { recursive: true, force: true });
}

/** The new version failed: deletes its files and puts the previous version's back. */
export async function restoreFiles(containerDir: string): Promise<void> {
  await rm(filesDir(containerDir), { recursive: true, force: true });
  await rename(previousDir(containerDir), filesDir(containerDir)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
