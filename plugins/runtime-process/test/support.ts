import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { DriverContext, RenderedContainer, RenderedPort, RenderedWorkload } from '@pave/plugin-api';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIST = join(ROOT, 'packages/cli/dist');

/** The bundled supervisor as `npm run build` produces it. */
export const BUILT_SUPERVISOR = join(DIST, 'process-supervisor.js');

/** Builds the bundles if the supervisor is missing (npm test builds first; a lone vitest run may not). */
function ensureSupervisorBuilt(): void {
  if (!existsSync(BUILT_SUPERVISOR)) {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit', timeout: 60_000 });
  }
}

/**
 * `file` and every chunk it imports, recursively (an ES module bundle built with splitting; minified, so
 * `from"./x.js"`, `import"./x.js"` and `import("./x.js")` have no spaces).
 */
export function bundleFiles(file: string, seen = new Set<string>([file])): string[] {
  for (const match of readFileSync(file, 'utf8').matchAll(/\b(?:from|import)\s*\(?\s*["'](\.[^"']+)["']/g)) {
    const path = join(dirname(file), match[1] ?? '');
    if (!seen.has(path)) {
      seen.add(path);
      bundleFiles(path, seen);
    }
  }
  return [...seen];
}

/**
 * Copies the built supervisor (with its chunks) into `dir` and returns its path there, so a rebuild of
 * packages/cli/dist while the tests run cannot pull it away; builds it first if it is missing.
 */
export async function copySupervisor(dir: string): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      ensureSupervisorBuilt();
      for (const file of bundleFiles(BUILT_SUPERVISOR)) {
        const to = join(dir, relative(DIST, file));
        mkdirSync(dirname(to), { recursive: true });
        copyFileSync(file, to);
      }
      return join(dir, 'process-supervisor.js');
    } catch (error) {
      if (attempt === 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500)); // a build is replacing dist/
    }
  }
}

/** A port that was free a moment ago (bound to port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** A driver context whose logger keeps everything it is given, for assertions. */
export function testContext(options: { signal?: AbortSignal } = {}): DriverContext & {
  logged: string[];
} {
  const logged: string[] = [];
  const record =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      logged.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
    };
  return {
    logger: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') },
    signal: options.signal ?? new AbortController().signal,
    scratchDir: '/tmp',
    dryRun: false,
    logged,
  };
}

/** A one-container workload running `node <script>` from `dir`; `hash` is a digest of the inputs. */
export function nodeWorkload(
  name: string,
  options: {
    dir: string;
    script: string;
    env?: Record<string, string>;
    ports?: RenderedPort[];
    container?: Partial<RenderedContainer>;
    args?: string[];
  },
): RenderedWorkload {
  const container: RenderedContainer = {
    name: 'main',
    image: 'node:20',
    command: [process.execPath, options.script],
    args: options.args ?? [],
    env: options.env ?? {},
    files: [],
    workingDir: options.dir,
    ...options.container,
  };
  const ports = options.ports ?? [];
  return {
    name,
    containers: [container],
    ports,
    hash: createHash('sha256').update(JSON.stringify({ container, ports })).digest('hex'),
    deploymentId: `dep-${name}`,
  };
}

/** A TCP port declaration with the given host port. */
export function port(name: string, hostPort: number): RenderedPort {
  return { name, port: 8080, targetPort: 8080, protocol: 'TCP', hostPort };
}

/** Whether a process runs (a zombie does not). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Polls `condition` every 50 ms until it returns something truthy, and returns that; fails after `ms`. */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  ms = 10_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** GETs `http://127.0.0.1:<port><path>` and returns the body (bounded to 2 s). */
export async function httpText(portNumber: number, path = '/'): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${portNumber}${path}`, {
    signal: AbortSignal.timeout(2_000),
  });
  return response.text();
}

/** Tiny programs the tests run as workloads (CommonJS, so they run from any directory). */
export const FIXTURES: Record<string, string> = {
  'server.cjs': `
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
http.createServer((req, res) => {
  if (req.url === '/file') return res.end(fs.readFileSync(path.join(process.env.PAVE_FILES_DIR, 'etc/app/config.txt')));
  if (req.url === '/ports') return res.end(JSON.stringify({ PORT: process.env.PORT, PORT_ADMIN_API: process.env.PORT_ADMIN_API }));
  res.end(process.env.MESSAGE || '');
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on ' + process.env.PORT));
`,
  'worker.cjs': `
let n = 0;
console.log('worker started');
setInterval(() => {
  n += 1;
  if (n % 5 === 0) console.error('line ' + n); else console.log('line ' + n);
}, 100);
`,
  'fast-worker.cjs': `
let n = 0;
setInterval(() => { n += 1; console.log('line ' + n + ' ' + '.'.repeat(40)); }, 5);
`,
  'exit3.cjs': `
console.log('connecting to the database');
console.error('cannot connect to the database');
process.exit(3);
`,
  'exit-later.cjs': `
console.log('working');
setTimeout(() => { console.error('lost the connection'); process.exit(3); }, Number(process.env.EXIT_AFTER_MS));
setInterval(() => {}, 1000);
`,
  'segv.cjs': `
console.error('about to crash');
process.kill(process.pid, 'SIGSEGV');
`,
  'crash.cjs': `
console.log('started at ' + Date.now());
setTimeout(() => { console.error('crashing'); process.exit(1); }, Number(process.env.CRASH_AFTER_MS || 1000));
`,
  'flaky-health.cjs': `
const http = require('node:http');
const started = Date.now();
http.createServer((req, res) => {
  const healthy = Date.now() - started > Number(process.env.HEALTHY_AFTER_MS);
  res.statusCode = req.url === '/health' && !healthy ? 500 : 200;
  res.end(healthy ? 'ok' : 'not yet');
}).listen(Number(process.env.PORT), '127.0.0.1');
`,
  'ready-later.cjs': `
const fs = require('node:fs');
const path = require('node:path');
setTimeout(() => fs.writeFileSync(path.join(process.env.PAVE_FILES_DIR, 'ready'), 'yes'), 600);
setInterval(() => {}, 1000);
`,
  'spawner.cjs': `
const { spawn } = require('node:child_process');
const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
console.log('grandchild ' + grandchild.pid);
setInterval(() => {}, 1000);
`,
};

/**
 * A control plane in its own process: deploys the workload given in argv[2] (JSON: config, target,
 * workload) with a fresh ProcessRuntime, waits until it is ready, prints "ready" and kills itself with SIGKILL.
 */
export const CONTROL_PLANE = `
import { ProcessRuntime } from '@pave/runtime-process';
import { testContext } from './support.ts';
const { config, target, workload } = JSON.parse(process.argv[2]);
const runtime = ProcessRuntime.fromConfig(config);
await runtime.deploy(target, workload, testContext());
const result = await runtime.waitReady(target, workload.name, testContext(), { stableMs: 300 });
const report = result.ready ? 'ready' : JSON.stringify(result);
process.stdout.write(report + '\\n', () => process.kill(process.pid, 'SIGKILL'));
`;
