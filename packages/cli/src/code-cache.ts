// Loading a CommonJS bundle with V8's code cache. Node 20 keeps no compiled code between runs for ES modules
// (Node 22's module compile cache does), so a short-lived command compiles the same code on every start:
// about 40 ms of `pave validate` went to compiling and lazily compiling the Score parser. A vm.Script can take
// the code V8 compiled last time (`cachedData`), which V8 checks against the source, its own version and its
// flags, and refuses when any differs; the script is then compiled as if there were no cache.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/** Where the code cache of the CommonJS bundle `file` is kept: beside it. */
export function codeCacheFile(file: string): string {
  return `${file}.cache`;
}

/**
 * Runs the CommonJS bundle `file` (which may `require` only what Node resolves from beside it) and answers its
 * exports, compiled from the code cache beside it when V8 accepts that cache. Without one, or when V8 refuses
 * it (another Node version), `warmUp` runs once with the exports, so that the functions a command calls are
 * compiled too, and the cache is written for the next run. A cache that cannot be written (a read-only
 * install) only costs that run's speed.
 */
export function requireWithCodeCache<T extends object>(file: string, warmUp: (exports: T) => void): T {
  const source = readFileSync(file, 'utf8');
  const cacheFile = codeCacheFile(file);
  const cachedData = readCache(cacheFile, file);
  // Node's own CommonJS wrapper, on the bundle's first line, so that line numbers in stack traces stay.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  const module = { exports: {} as T };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  if (cachedData === undefined || script.cachedDataRejected) {
    try {
      warmUp(module.exports);
      writeAtomically(cacheFile, Buffer.concat([Buffer.from(`${file}\n`), script.createCachedData()]));
    } catch {
      // No cache this time: the next run compiles again and tries once more.
    }
  }
  return module.exports;
}

/**
 * The code in the cache of `file`, when it was written for `file` where it is now: V8 keeps the file name the
 * code was compiled under (stack traces would name the directory the build wrote it in), so the cache starts
 * with that name and a line break. V8 itself checks the source only by its length: the build writes the bundle
 * and its cache together, and a rebuilt bundle comes without one.
 */
function readCache(cacheFile: string, file: string): Buffer | undefined {
  let content: Buffer;
  try {
    content = readFileSync(cacheFile);
  } catch {
    return undefined;
  }
  const header = Buffer.from(`${file}\n`);
  return content.subarray(0, header.length).equals(header) ? content.subarray(header.length) : undefined;
}

/** Writes `file` through a temporary file beside it, so that a concurrent run reads the old cache or the new one. */
function writeAtomically(file: string, data: Buffer): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, data);
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
