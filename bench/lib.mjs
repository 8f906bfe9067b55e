// What the benchmarks share: settings from the environment, a clean-up registry that also runs on Ctrl-C, free
// ports, medians and a description of the machine.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A whole-number setting from the environment variable `name`, or `fallback`. */
export function positiveInt(name, fallback, { allowZero = false } = {}) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new Error(`${name}="${raw}" must be a whole number${allowZero ? '' : ' above 0'}`);
  }
  return value;
}

// ---- clean-up: every resource registers how to release it; released in reverse order, also on failure ----

/** @type {{ name: string, release: () => Promise<void> | void, sync?: () => void }[]} */
const cleanups = [];
/** Messages of releases that failed. */
export const cleanupProblems = [];

/** Registers a resource to release at the end; the returned function unregisters it. */
export function onCleanup(name, release, sync) {
  const entry = { name, release, sync };
  cleanups.push(entry);
  return () => {
    const index = cleanups.indexOf(entry);
    if (index >= 0) cleanups.splice(index, 1);
  };
}

let cleaning = null;
/** Releases everything, once: the main path and a signal handler may both ask for it. */
export function cleanUp() {
  cleaning ??= releaseAll();
  return cleaning;
}
async function releaseAll() {
  while (cleanups.length > 0) {
    const entry = cleanups.pop();
    try {
      await entry.release();
    } catch (error) {
      cleanupProblems.push(`clean-up of ${entry.name} failed: ${error.message}`);
      console.error(`clean-up of ${entry.name} failed: ${error.message}`);
    }
  }
}
// Last resort if the process exits without running cleanUp(): kill children, remove directories.
process.on('exit', () => {
  for (const entry of cleanups.reverse()) {
    try {
      entry.sync?.();
    } catch {
      // nothing more can be done at exit
    }
  }
});
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping and cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}
/** Whether Ctrl-C (or SIGTERM) stopped the run. */
export function wasInterrupted() {
  return interrupted;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort() {
  const server = createServer();
  await new Promise((resolveListen, reject) =>
    server.once('error', reject).listen(0, '127.0.0.1', resolveListen),
  );
  const { port } = server.address();
  await new Promise((resolveClose) => server.close(resolveClose));
  return port;
}

/** The median of the non-null values, or null when there are none. */
export function median(values) {
  const sorted = values.filter((value) => value !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The machine, Node and commit a result was measured on. */
export function machine() {
  let commit = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    if (execFileSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' }).trim())
      commit += '+dirty';
  } catch {
    // not a git checkout
  }
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${platform()} ${release()}`,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    loadAverageBefore: loadavg().map((load) => Number(load.toFixed(2))),
    loadAverageAfter: null,
    commit,
  };
}

/** One line naming the machine, Node and the load average a bench starts on (every bench prints it first). */
export function machineLine(about) {
  return `${about.cpuModel}, ${about.cores} cores, ${about.memoryGiB} GiB, Node ${about.node}, load average ${about.loadAverageBefore.join(' ')}`;
}

// ---- PostgreSQL ----

/** `url` with its password hidden, for messages. */
export function redactUrl(url) {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/**
 * A throw-away `pave_bench_*` database on the server of `maintenanceUrl` (dropped by the clean-up registry):
 * resolves with its URL and name, or with `{ skipped }` saying why when PostgreSQL is unreachable.
 */
export async function createBenchDatabase(maintenanceUrl, { keep = false } = {}) {
  const { default: pg } = await import('pg');
  const name = `pave_bench_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: maintenanceUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
  } catch (error) {
    return {
      skipped: `PostgreSQL at ${redactUrl(maintenanceUrl)} is unreachable (${error.code ?? error.message})`,
    };
  }
  try {
    await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
  if (!keep)
    onCleanup(`database ${name}`, async () => {
      const admin = new pg.Client({ connectionString: maintenanceUrl, connectionTimeoutMillis: 3_000 });
      await admin.connect();
      try {
        await admin.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await admin.end();
      }
    });
  const url = new URL(maintenanceUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name };
}

// ---- a `pave up` of the repository's build ----

/** The built `pave` executable. */
export const paveBin = join(root, 'packages/cli/bin/pave.cjs');

/** The caller's environment without PAVE_* variables (they would override flags and PAVE_SERVER). */
export function cleanEnvironment(extra = {}) {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PAVE_'))),
    ...extra,
  };
}

/**
 * Starts `pave up` in `dataDir` on a free port, with `extraArgs` after its own flags (stopped by the clean-up
 * registry); resolves with its URL and admin token once /healthz is 200.
 */
export async function startPave(dataDir, extraArgs = []) {
  mkdirSync(dataDir, { recursive: true });
  const logFile = join(dataDir, 'pave-up.log');
  const out = openSync(logFile, 'a');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [paveBin, 'up', '--data-dir', dataDir, '--port', String(port), ...extraArgs];
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', out, out],
    env: cleanEnvironment(),
  });
  closeSync(out);
  let done = false;
  const exited = new Promise((resolveExit) => child.once('exit', () => resolveExit((done = true))));
  const stop = async () => {
    if (done) return;
    child.kill('SIGTERM');
    if ((await Promise.race([exited, sleep(10_000).then(() => 'timeout')])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  };
  onCleanup(`pave up (pid ${child.pid})`, stop, () => done || child.kill('SIGKILL'));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !done) {
    const healthy = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => response.ok,
      () => false,
    );
    // The admin token is written just after /healthz first answers.
    if (healthy && existsSync(join(dataDir, 'admin.token'))) {
      const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
      // pid and stop: for benches that watch the server's memory or stop it before the end.
      return { url, token, logFile, pid: child.pid, stop };
    }
    await sleep(100);
  }
  const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-10).join('\n');
  throw new Error(`pave up on ${url} did not start (${done ? 'it exited' : 'no 200 within 30 s'}):\n${tail}`);
}
