// Bundles the `pave` CLI (and the server it starts with `pave up`) into packages/cli/dist with esbuild.
// npm dependencies stay external and load from node_modules; Pave's own workspace packages are bundled.
import { build } from 'esbuild';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const workspaces = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;
const external = new Set();
for (const workspace of workspaces) {
  const manifest = JSON.parse(readFileSync(join(root, workspace, 'package.json'), 'utf8'));
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    if (!name.startsWith('@pave/')) external.add(name);
  }
}

// Build beside the old bundle and swap directories at the end, so that a `pave` started meanwhile (tests,
// benchmarks) never finds a half-written bundle.
const finalDir = join(root, 'packages/cli/dist');
const outdir = `${finalDir}.tmp-${process.pid}`;
const oldDir = `${finalDir}.old-${process.pid}`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: {
    pave: join(root, 'packages/cli/src/main.ts'),
    // The process runtime's supervisor: one per running container, so it must start fast and stay small
    // (it imports only node: built-ins and its own package's state/proc modules; see its README).
    'process-supervisor': join(root, 'plugins/runtime-process/src/supervisor/main.ts'),
    // The embedded Postgres for machines without PostgreSQL: one detached PGlite server per database.
    'pglite-server': join(root, 'plugins/resource-postgres/src/pglite/main.ts'),
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  chunkNames: 'chunks/[name]-[hash]',
  external: [...external].flatMap((name) => [name, `${name}/*`]),
  logLevel: 'warning',
});

// The portal: static files `pave up` serves at `/`.
const { build: viteBuild } = await import('vite');
await viteBuild({
  configFile: join(root, 'packages/web/vite.config.ts'),
  build: { outDir: join(outdir, 'portal'), emptyOutDir: true },
  logLevel: 'warn',
});

if (existsSync(finalDir)) renameSync(finalDir, oldDir);
renameSync(outdir, finalDir);
rmSync(oldDir, { recursive: true, force: true });
