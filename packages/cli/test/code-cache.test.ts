import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { codeCacheFile } from '../src/code-cache.ts';

/** What one load in a process of its own saw. */
interface Load {
  warmUps: number;
  greeting: string;
  where: string;
  stack: string;
}

// A CommonJS bundle as esbuild writes one: it requires a built-in and reads __dirname.
const SOURCE = `"use strict";
const { basename } = require('node:path');
exports.greet = (name) => 'hello ' + name;
exports.fail = function fail() { throw new Error('failed on purpose'); };
exports.where = basename(__dirname);
`;

// Each load runs in a Node process of its own, as each `pave` command does: within one process V8 reuses what
// it compiled before and never looks at the cache.
const LOADER = `import { requireWithCodeCache } from './code-cache.mjs';
let warmUps = 0;
const bundle = requireWithCodeCache(process.argv[2], (loaded) => {
  warmUps += 1;
  loaded.greet('warm-up');
  if (process.argv[3] === 'fail') loaded.fail();
});
let stack = '';
try { bundle.fail(); } catch (error) { stack = error.stack; }
console.log(JSON.stringify({ warmUps, greeting: bundle.greet('you'), where: bundle.where, stack }));
`;

describe('loading a CommonJS bundle with V8 code cache', () => {
  let loaderDir: string;
  let dir: string;
  let file: string;
  let warmUps: number;
  const load = (at = file, warmUp: 'fail' | 'ok' = 'ok'): Load => {
    const seen = JSON.parse(
      execFileSync(process.execPath, [join(loaderDir, 'loader.mjs'), at, warmUp], { encoding: 'utf8' }),
    ) as Load;
    warmUps += seen.warmUps;
    return seen;
  };

  beforeAll(() => {
    loaderDir = mkdtempSync(join(tmpdir(), 'pave-code-cache-loader-'));
    buildSync({
      entryPoints: [fileURLToPath(new URL('../src/code-cache.ts', import.meta.url))],
      outfile: join(loaderDir, 'code-cache.mjs'),
      format: 'esm',
      platform: 'node',
      logLevel: 'error',
    });
    writeFileSync(join(loaderDir, 'loader.mjs'), LOADER);
  });
  afterAll(() => rmSync(loaderDir, { recursive: true, force: true }));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pave-code-cache-'));
    file = join(dir, 'bundle.cjs');
    writeFileSync(file, SOURCE);
    warmUps = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the cache on the first load, after the warm-up, and uses it from then on', () => {
    const first = load();
    expect(first.greeting).toBe('hello you');
    expect(first.where).toBe(dir.split('/').at(-1));
    expect(warmUps).toBe(1);
    const written = readFileSync(codeCacheFile(file));
    expect(written.subarray(0, file.length + 1).toString()).toBe(`${file}\n`);
    expect(written.length).toBeGreaterThan(file.length + 1);

    const second = load();
    expect(second.greeting).toBe('hello you');
    expect(second.stack).toContain(file);
    expect(warmUps, 'V8 took the cache: no warm-up, nothing written').toBe(1);
    expect(readFileSync(codeCacheFile(file)).equals(written)).toBe(true);
  });

  it('compiles afresh and rewrites a cache that V8 refuses or that is not a cache', () => {
    load();
    writeFileSync(file, `${SOURCE}exports.more = 1;\n`);
    expect(load().greeting).toBe('hello you');
    expect(warmUps, 'a bundle of another length: V8 refused the cache').toBe(2);
    expect(load().greeting).toBe('hello you');
    expect(warmUps).toBe(2);

    writeFileSync(codeCacheFile(file), Buffer.concat([Buffer.from(`${file}\n`), Buffer.alloc(64, 7)]));
    expect(load().greeting).toBe('hello you');
    expect(warmUps).toBe(3);
    expect(load().greeting).toBe('hello you');
    expect(warmUps).toBe(3);
  });

  it('ignores a cache written for the bundle in another directory, whose file names it would keep', () => {
    load();
    const moved = join(dir, 'moved');
    mkdirSync(moved);
    cpSync(file, join(moved, 'bundle.cjs'));
    cpSync(codeCacheFile(file), codeCacheFile(join(moved, 'bundle.cjs')));
    const bundle = load(join(moved, 'bundle.cjs'));
    expect(bundle.where).toBe('moved');
    expect(warmUps, 'the copied cache names the old place: compiled afresh').toBe(2);
    expect(bundle.stack).toContain(join(moved, 'bundle.cjs'));
    expect(load(join(moved, 'bundle.cjs')).stack).toContain(join(moved, 'bundle.cjs'));
    expect(warmUps, 'the rewritten cache is used').toBe(2);
    expect(
      readFileSync(codeCacheFile(join(moved, 'bundle.cjs')))
        .subarray(0, moved.length)
        .toString(),
    ).toBe(moved);
  });

  it('still loads when the cache cannot be written', () => {
    mkdirSync(codeCacheFile(file));
    expect(load().greeting).toBe('hello you');
    expect(load().greeting).toBe('hello you');
    expect(warmUps, 'no cache: each load warms up and tries to write').toBe(2);
    expect(statSync(codeCacheFile(file)).isDirectory()).toBe(true);
  });

  it('loads the bundle even when the warm-up throws, and writes no cache then', () => {
    expect(load(file, 'fail').greeting).toBe('hello you');
    expect(() => statSync(codeCacheFile(file))).toThrow();
  });
});
