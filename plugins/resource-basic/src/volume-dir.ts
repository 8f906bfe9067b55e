import { chmod, cp, mkdir, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from '@pave/core';
import type {
  CheckFailure,
  DriverContext,
  ResourceDiff,
  ResourceDriver,
  ResourceInputs,
  ResourceOutputs,
  ResourceScope,
} from '@pave/plugin-api';
import { describeValue, shortHash } from './names.ts';

/** Configuration of the volume-dir driver. */
export interface VolumeDirDriverConfig {
  /** Pave's data directory; volumes live in `<dataDir>/volumes/`. */
  dataDir: string;
}

/** A path segment that can be used as it is: starts with a letter or digit, no separators, not `.`/`..`. */
const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Pave's default `volume` on a fresh machine: a directory on the control plane's host,
 * `<dataDir>/volumes/<app>/<env>/<address>`, created with mode 0700.
 *
 * - Outputs: `{ source: <absolute path> }` (no secrets).
 * - Path segments that are not plain names (letters, digits, `.`, `_`, `-`, starting with a letter or digit)
 *   are sanitised and suffixed with a hash of the original, so distinct scopes keep distinct directories and
 *   no app, environment or address can reach outside `<dataDir>/volumes`.
 * - id: the directory relative to `<dataDir>/volumes`, `<app>/<env>/<address>` (sanitised); `read` and
 *   `delete` refuse ids that are not of that form.
 * - `create` with `cloneFrom` copies the directory named by `cloneFrom.values.source` (recursively, symlinks
 *   as they are); if the copy fails the new directory is removed and `create` rejects. A directory that
 *   already exists (a retried create) is kept as it is, without cloning into it.
 * - `delete` removes the directory and its contents (and parent directories left empty); a missing one is
 *   fine. `diff` never reports changes: a volume has no inputs.
 */
export class VolumeDirDriver implements ResourceDriver {
  readonly name = 'volume-dir';
  private readonly root: string;

  private constructor(config: VolumeDirDriverConfig) {
    this.root = join(resolve(config.dataDir), 'volumes');
  }

  /** A volume-dir driver keeping volumes under `<config.dataDir>/volumes`; InputError without a dataDir. */
  static fromConfig(config: VolumeDirDriverConfig): VolumeDirDriver {
    if (typeof config?.dataDir !== 'string' || config.dataDir === '') {
      throw new InputError('the volume-dir driver needs a data directory', [
        { path: 'dataDir', message: "set it to Pave's data directory" },
      ]);
    }
    return new VolumeDirDriver(config);
  }

  /** Only `cloneFrom` can be wrong: its `values.source` must be an absolute path. */
  async check(inputs: ResourceInputs, _ctx: DriverContext): Promise<CheckFailure[]> {
    const source = inputs.cloneFrom?.values.source;
    if (inputs.cloneFrom && (typeof source !== 'string' || !isAbsolute(source))) {
      return [
        {
          property: 'cloneFrom.values.source',
          reason: `the volume to copy from must have an absolute "source" path, not ${describeValue(source)}`,
        },
      ];
    }
    return [];
  }

  /** Never a change: the directory depends only on the scope. */
  async diff(
    _id: string,
    _olds: ResourceInputs,
    _news: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<ResourceDiff> {
    return { changes: false };
  }

  /**
   * Creates the directory (mode 0700) and, with `cloneFrom`, copies the source directory into it. If this
   * rejects, the directory does not exist (unless it existed before the call).
   */
  async create(
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ id: string; outputs: ResourceOutputs }> {
    const id = volumeId(inputs.scope);
    const dir = this.locate(id);
    if (!(await makeDirectory(dir))) {
      ctx.logger.info('volume directory exists already; keeping it as it is', {
        address: inputs.scope.address,
      });
      return { id, outputs: outputsOf(dir) };
    }
    try {
      if (inputs.cloneFrom) await this.copyInto(dir, inputs.cloneFrom.values.source);
      await chmod(dir, 0o700);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return { id, outputs: outputsOf(dir) };
  }

  /** The same directory; recreated (empty) if it went missing. */
  async update(
    id: string,
    _olds: ResourceInputs,
    _news: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    const dir = this.locate(id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return { outputs: outputsOf(dir) };
  }

  /** The directory's outputs, or null when it is not there. */
  async read(
    id: string,
    _inputs: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs } | null> {
    const dir = this.locate(id);
    const found = await stat(dir).catch(() => undefined);
    return found?.isDirectory() ? { outputs: outputsOf(dir) } : null;
  }

  /** Removes the directory with everything in it; succeeds when it is already gone. */
  async delete(id: string, _inputs: ResourceInputs, _ctx: DriverContext): Promise<void> {
    const dir = this.locate(id);
    await rm(dir, { recursive: true, force: true });
    // Tidy the app and env directories once their last volume is gone; rmdir refuses non-empty ones.
    for (const parent of [dirname(dir), dirname(dirname(dir))]) {
      const removed = await rmdir(parent).then(
        () => true,
        () => false,
      );
      if (!removed) break;
    }
  }

  /** The absolute directory of `id`; InputError for anything but `<app>/<env>/<address>` of safe segments. */
  private locate(id: string): string {
    const segments = id.split('/');
    const dir = resolve(this.root, ...segments);
    const rel = relative(this.root, dir);
    if (
      segments.length !== 3 ||
      !segments.every((segment) => SAFE_SEGMENT.test(segment)) ||
      rel.startsWith('..') ||
      rel.split(sep).length !== 3
    ) {
      throw new InputError(`"${id}" is not a volume-dir id`, [
        { path: 'id', message: 'volume-dir ids are <app>/<env>/<address>, as create returned them' },
      ]);
    }
    return dir;
  }

  private async copyInto(dir: string, source: unknown): Promise<void> {
    if (typeof source !== 'string' || !isAbsolute(source)) {
      throw new InputError('the volume to copy from has no absolute "source" path', [
        {
          path: 'cloneFrom.values.source',
          message: `must be an absolute path, not ${describeValue(source)}`,
        },
      ]);
    }
    const found = await stat(source).catch(() => undefined);
    if (!found?.isDirectory()) {
      throw new InputError(`cannot copy volume data from ${source}: it is not a directory`, [
        { path: 'cloneFrom.values.source', message: 'the source volume directory does not exist' },
      ]);
    }
    await cp(source, dir, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  }
}

/**
 * Creates `dir` (mode 0700) and its parents; false when it existed already. Tries twice because a delete
 * in the same environment may remove an empty parent in between.
 */
async function makeDirectory(dir: string): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    await mkdir(dirname(dir), { recursive: true, mode: 0o700 });
    try {
      await mkdir(dir, { mode: 0o700 });
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'ENOENT' || attempt === 2) throw error;
    }
  }
}

/** `<app>/<env>/<address>` with each segment made safe. */
function volumeId(scope: ResourceScope): string {
  return [scope.app, scope.env, scope.address].map(safeSegment).join('/');
}

/**
 * `segment` when it is a safe path segment, else a sanitised form (other characters replaced by "_",
 * leading dots, "_" and "-" dropped) with a hash of the original appended, so two different names never
 * share a directory.
 */
function safeSegment(segment: string): string {
  if (SAFE_SEGMENT.test(segment)) return segment;
  const cleaned = segment
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^[._-]+/, '')
    .slice(0, 80);
  return `${cleaned || 'x'}-${shortHash(segment, 8)}`;
}

function outputsOf(dir: string): ResourceOutputs {
  return { values: { source: dir }, secrets: {} };
}
