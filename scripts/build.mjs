// Bundles the `pave` CLI (and the server it starts with `pave up`) into packages/cli/dist with esbuild, with
// every npm dependency inside except @photostructure/sqlite (SQLite, a native addon, the package's one runtime
// dependency), then packs the installable CLI into dist/pave-cli.tgz: `npm install -g ./dist/pave-cli.tgz`.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { basename, dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const cliManifest = JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8'));

// Build beside the old bundle and swap directories at the end, so that a `pave` started meanwhile (tests,
// benchmarks) never finds a half-written bundle.
const finalDir = join(root, 'packages/cli/dist');
const outdir = `${finalDir}.tmp-${process.pid}`;
const oldDir = `${finalDir}.old-${process.pid}`;
rmSync(outdir, { recursive: true, force: true });

// @pave/core's modules declare types, schemas and constants and do nothing else when loaded. Saying so lets
// esbuild leave out the ones a chunk does not use, so a command that imports only the API client (or one
// constant) from core's index does not load every zod schema with it.
const coreSource = join(root, 'packages/core/src');
const coreWithoutSideEffects = {
  name: 'core-without-side-effects',
  setup(build) {
    build.onResolve({ filter: /^(@pave\/core(\/.*)?|\..*)$/ }, async (args) => {
      if (args.pluginData === coreWithoutSideEffects) return undefined;
      if (!args.path.startsWith('@pave/core') && !args.importer.startsWith(coreSource)) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: coreWithoutSideEffects,
      });
      if (resolved.errors.length > 0 || !resolved.path.startsWith(coreSource)) return resolved;
      return { ...resolved, sideEffects: false };
    });
  },
};

/**
 * A plugin that gives the modules of package `dependent` that import a path matching `filter` the module
 * `contents` instead.
 */
function standIn(name, dependent, filter, contents) {
  const importer = new RegExp(`[\\\\/]node_modules[\\\\/]${dependent}[\\\\/]`);
  return {
    name,
    setup(build) {
      build.onResolve({ filter }, (args) =>
        importer.test(args.importer) ? { path: args.path, namespace: name } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: name }, () => ({ contents, loader: 'js' }));
    },
  };
}

// zod's namespace re-exports its 60-odd message locales (`z.locales`, ~370 kB of code); Pave uses none of them
// (zod's own English messages are imported apart), so each `pave` command that loads zod would only compile them.
const zodWithoutLocales = standIn('zod-without-locales', 'zod', /\/locales\/index\.js$/, 'export {};');

// Commander requires node:child_process when it loads, for subcommands that are executables of their own, which
// Pave has none of; loading it (with net, dgram and streams) cost every `pave` command a few ms of its start.
// Commander gets it on first use instead.
const commanderChildProcessOnUse = standIn(
  'commander-child-process-on-use',
  'commander',
  /^(node:)?child_process$/,
  "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });",
);

// The Score parser (packages/cli/src/score.ts) is bundled on its own, as dist/score-parser.cjs: in the split
// bundle it would share zod and yaml with the server's chunks, and a chunk shared that way holds every part of
// a module that any entry uses (all of zod's core, 160 kB). Built alone it holds only what parsing a Score file
// needs, and `pave validate` starts about 40 ms sooner. It is CommonJS so that the commands can load it with
// V8's code cache (packages/cli/src/score-compiled.ts, which their imports of score.ts are redirected to):
// Node 20 keeps no compiled code for ES modules.
const cliSource = join(root, 'packages/cli/src');
const scoreCompiled = join(cliSource, 'score-compiled.ts');
const scoreParserApart = {
  name: 'score-parser-apart',
  setup(build) {
    build.onResolve({ filter: /\/score\.ts$/ }, (args) =>
      join(args.resolveDir, args.path) === join(cliSource, 'score.ts') && args.importer !== scoreCompiled
        ? { path: scoreCompiled }
        : undefined,
    );
  },
};

const common = {
  bundle: true,
  plugins: [coreWithoutSideEffects, zodWithoutLocales, commanderChildProcessOnUse],
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // Less source for every `pave` command to read and compile at start-up, and for `pave up` to hold in memory
  // (the server chunk's source text stays in the heap: 4.6 MB before local names were shortened, 3.5 MB
  // after). Stack traces name bundle lines, and the source maps beside the bundles lead back to the code.
  minifyWhitespace: true,
  minifySyntax: true,
  minifyIdentifiers: true,
  // Functions and classes get short names too, so nothing may tell them apart by `name`: Pave's errors name
  // themselves (`override name = '…'`), and commander's errors, which take their class's name, are told
  // apart by their `code`. Keeping names cost a `name` redefinition per function created, at start-up and
  // for every closure Fastify creates per request: 8–10 % of the server's CPU per request, 5 MB of idle
  // memory and 90 ms of its first start (docs/benchmarks.md, "Callback hooks, shortened names, prepared
  // reads").
  keepNames: false,
  logLevel: 'warning',
  external: [
    // The runtime dependencies in packages/cli/package.json: installed beside the bundle.
    ...Object.keys(cliManifest.dependencies ?? {}),
    // Optional native speed-ups of ssh2 (under dockerode), loaded in try/catch: without them ssh2 uses JS.
    'cpu-features',
    '*.node',
  ],
  // Bundled CommonJS modules call require() and read __dirname; an ES module has neither, so each output file
  // defines them (pointing at itself: the packages that read files beside them do so in try/catch).
  banner: {
    js: [
      "import { createRequire as __paveCreateRequire } from 'node:module';",
      "import { fileURLToPath as __paveFileURLToPath } from 'node:url';",
      'const require = __paveCreateRequire(import.meta.url);',
      'const __filename = __paveFileURLToPath(import.meta.url);',
      // globalThis: a bundled module may declare a top-level `URL` of its own (uuid does), hoisted over this line.
      "const __dirname = __paveFileURLToPath(new globalThis.URL('.', import.meta.url));",
    ].join('\n'),
  },
};

// The server `pave up` runs: ES modules, split so that what only some set-ups use (OpenTelemetry, the Docker
// and Kubernetes clients) loads when used. It stays an ES module: as CommonJS (below) every call from one of
// its files into another goes through a getter, and the server took 9 % more CPU per API request and held 10 MB
// more while idle.
const serverDir = join(outdir, 'server');
const serverEntry = '../server/index.js';
await build({
  ...common,
  entryPoints: {
    index: join(root, 'packages/server/src/index.ts'),
    // The worker thread that checks and renders templates, found beside index.js (template-jobs.ts).
    'template-worker': join(root, 'packages/server/src/domain/template-worker.ts'),
  },
  outdir: serverDir,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
});

// The CLI, split: each command loads only its own code. esbuild splits ES modules only, but Node starts
// CommonJS sooner: with an ES module entry it first loads its ES module loader, and then reads every module
// asynchronously (about 10–15 ms of every `pave` command on a 2-core machine, see docs/benchmarks.md,
// "CommonJS for the CLI"). So the split ES modules are written to a scratch directory and each is then turned
// into a CommonJS file of its own (`.cjs`) that loads the others with require(); source maps lead through both
// steps back to the TypeScript. `pave up` imports the server above.
const splitDir = join(outdir, 'split');
await build({
  ...common,
  entryPoints: { pave: join(root, 'packages/cli/src/main.ts') },
  outdir: splitDir,
  plugins: [
    ...common.plugins,
    scoreParserApart,
    {
      name: 'server-apart',
      setup(build) {
        build.onResolve({ filter: /^@pave\/server$/ }, () => ({ path: serverEntry, external: true }));
      },
    },
  ],
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS has require, __filename and __dirname of its own; import.meta.url is given below.
  banner: {},
  define: { 'import.meta.url': 'import_meta_url' },
});
const toCommonJs = {
  ...common,
  outbase: splitDir,
  outdir,
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  banner: {},
  plugins: [
    {
      name: 'files-stay-apart',
      setup(build) {
        build.onResolve({ filter: /.*/ }, (args) => {
          if (args.kind === 'entry-point') return undefined;
          const relative = args.path.startsWith('./') || args.path.startsWith('../');
          if (args.path === serverEntry || !(relative || args.path.startsWith('node:'))) {
            return { path: args.path, external: true };
          }
          const path = relative ? args.path.replace(/\.js$/, '.cjs') : args.path;
          if (args.namespace === 'required' || args.kind !== 'dynamic-import')
            return { path, external: true };
          // import() of another file of the bundle or of a Node built-in: through a module that require()s it,
          // which esbuild loads when the import() runs. A plain import() would go through Node's ES module
          // loader, which is what this step saves.
          return { path, namespace: 'required' };
        });
        build.onLoad({ filter: /.*/, namespace: 'required' }, (args) => ({
          contents: `module.exports = require(${JSON.stringify(args.path)});`,
          loader: 'js',
        }));
      },
    },
  ],
};
// In a "type": "module" package esbuild gives import() Node's meaning for a CommonJS file (its `default` is
// the whole module.exports); these files were ES modules, and their `default` must stay what they exported.
writeFileSync(join(splitDir, 'package.json'), '{ "type": "commonjs" }\n');
const split = outputFiles(splitDir);
const readMetaUrl = split.filter((file) => readFileSync(file, 'utf8').includes('import_meta_url'));
await build({ ...toCommonJs, entryPoints: split.filter((file) => !readMetaUrl.includes(file)) });
await build({
  ...toCommonJs,
  entryPoints: readMetaUrl,
  // "use strict" first: a banner goes before esbuild's own, which would then not make the file strict.
  banner: { js: '"use strict";var import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
});
rmSync(splitDir, { recursive: true });
// The process runtime's supervisor host: one per data directory, started on a deploy's critical path, so it
// must start fast and stay small (it imports only node: built-ins and its own package's state/proc modules; see
// its README). An ES module of its own.
await build({
  ...common,
  entryPoints: { 'process-supervisor': join(root, 'plugins/runtime-process/src/supervisor/main.ts') },
  outdir,
});
// '../score-parser.cjs' (in score-compiled.ts) and the server's '../server/index.js' (in up.ts) are right from
// chunks/, where every command's code goes.
for (const file of outputFiles(outdir, '.cjs')) {
  const code = readFileSync(file, 'utf8');
  for (const path of ['../score-parser.cjs', serverEntry]) {
    if (dirname(file) !== join(outdir, 'chunks') && code.includes(path)) {
      throw new Error(`${file} loads ${path}, but only files in chunks/ can`);
    }
  }
}
await build({
  ...common,
  format: 'cjs',
  // CommonJS has require, __filename and __dirname of its own.
  banner: {},
  entryPoints: { 'score-parser': join(cliSource, 'score.ts') },
  outExtension: { '.js': '.cjs' },
  outdir,
});
// The embedded Postgres for machines without PostgreSQL: one detached PGlite server per database. One file,
// so PGlite's WebAssembly and data files (copied below) sit beside the code that loads them.
await build({
  ...common,
  entryPoints: { 'pglite-server': join(root, 'plugins/resource-postgres/src/pglite/main.ts') },
  outdir,
});
copyAssetsBesideCode(outdir, dirname(require.resolve('@electric-sql/pglite')));

// The portal: static files `pave up` serves at `/`.
const { build: viteBuild } = await import('vite');
await viteBuild({
  configFile: join(root, 'packages/web/vite.config.ts'),
  build: { outDir: join(outdir, 'portal'), emptyOutDir: true },
  logLevel: 'warn',
});

// The built-in templates `pave up` seeds (packages/server/templates), beside the bundle like the portal.
cpSync(join(root, 'packages/server/templates'), join(outdir, 'templates'), { recursive: true });

if (existsSync(finalDir)) renameSync(finalDir, oldDir);
renameSync(outdir, finalDir);
rmSync(oldDir, { recursive: true, force: true });
writeScoreParserCache(finalDir);

packCli();

/**
 * Copies the files bundled code loads at run time with `new URL('./name', import.meta.url)` (PGlite's .wasm
 * and .data) from `assetDir` next to the output file that loads them. Fails the build when one is missing,
 * rather than leaving an install that breaks on its first postgres resource.
 */
function copyAssetsBesideCode(dir, assetDir) {
  for (const file of outputFiles(dir)) {
    const code = readFileSync(file, 'utf8');
    for (const [, name] of code.matchAll(
      /new URL\(\s*["'](?:\.\/)?([\w.-]+\.(?:wasm|data))["']\s*,\s*import\.meta\.url\s*\)/g,
    )) {
      const target = join(dirname(file), name);
      if (existsSync(target)) continue;
      const source = join(assetDir, name);
      if (!existsSync(source)) {
        throw new Error(`${basename(file)} loads ${name} at run time, but ${assetDir} has no such file`);
      }
      copyFileSync(source, target);
    }
  }
}

/**
 * Writes the Score parser's code cache (dist/score-parser.cjs.cache) with the Node that builds, which is the
 * one `npm install` runs, in the directory the CLI runs from (the cache names it): the built CLI writes it when
 * it first parses a Score file and finds none. A Node of another version refuses it, and the CLI then writes
 * its own where it may. The packed CLI leaves it out: installed elsewhere, it writes its own.
 */
function writeScoreParserCache(dir) {
  const scratch = mkdtempSync(join(tmpdir(), 'pave-build-'));
  try {
    const file = join(scratch, 'score.yaml');
    // A file `pave validate` finds nothing to say about (a container without a command would be warned about,
    // in the middle of `npm install`'s output). What it said is shown only if it failed: the error carries it.
    writeFileSync(
      file,
      'apiVersion: score.dev/v1b1\nmetadata:\n  name: build\ncontainers:\n  main:\n    image: busybox\n' +
        '    command: ["true"]\n',
    );
    execFileSync(process.execPath, [join(dir, 'pave.cjs'), 'validate', '-f', file], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (!existsSync(join(dir, 'score-parser.cjs.cache'))) {
    throw new Error('the built CLI wrote no code cache for the Score parser (dist/score-parser.cjs.cache)');
  }
}

/** The files under `dir` whose names end with `extension`. */
function outputFiles(dir, extension = '.js') {
  return readdirSync(dir, { recursive: true })
    .filter((name) => name.endsWith(extension))
    .map((name) => join(dir, name));
}

/**
 * Packs packages/cli (its bin, the bundle and the portal) into dist/pave-cli.tgz: a self-contained package
 * whose only dependency npm fetches at install time is @photostructure/sqlite.
 */
function packCli() {
  const destination = join(root, 'dist');
  mkdirSync(destination, { recursive: true });
  const [packed] = JSON.parse(
    execFileSync(
      'npm',
      ['pack', '--json', '--workspace', 'packages/cli', '--pack-destination', destination],
      {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    ),
  );
  renameSync(join(destination, packed.filename), join(destination, 'pave-cli.tgz'));
}
