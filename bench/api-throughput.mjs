// `npm run bench`: requests/s and latency of an authenticated GET /api/v1/apps/{app} on a real `pave up`,
// against a bare Fastify route returning the same JSON body (bench/bare-fastify.mjs). Every server runs in
// its own child process on loopback; autocannon runs in this process. Pave is measured with SQLite and with
// PostgreSQL (skipped, with the reason, when 127.0.0.1:5432 does not answer), each at the default log level
// (info: every request is logged) and at warn.
//
// Settings (environment): BENCH_DURATION seconds per measured run (10), BENCH_WARMUP seconds of warm-up
// before each (3), BENCH_CONNECTIONS (50), BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/postgres, the
// maintenance database in which a throw-away pave_bench_* database is created and dropped).
// Writes bench/results/api-throughput.json. Exits non-zero if any response was not 2xx, did not carry the
// expected body, errored or timed out.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, availableParallelism, tmpdir, totalmem, release, platform } from 'node:os';
import { join, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import pg from 'pg';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

const settings = {
  durationSeconds: positiveInt('BENCH_DURATION', 10),
  warmupSeconds: positiveInt('BENCH_WARMUP', 3, { allowZero: true }),
  connections: positiveInt('BENCH_CONNECTIONS', 50),
  pipelining: 1,
};
const maintenanceUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PATH = '/api/v1/apps/shop';
const GOAL_RATIO = 0.5;

function positiveInt(name, fallback, { allowZero = false } = {}) {
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
function onCleanup(name, release, sync) {
  const entry = { name, release, sync };
  cleanups.push(entry);
  return () => {
    const index = cleanups.indexOf(entry);
    if (index >= 0) cleanups.splice(index, 1);
  };
}
async function cleanUp() {
  while (cleanups.length > 0) {
    const entry = cleanups.pop();
    try {
      await entry.release();
    } catch (error) {
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

function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  onCleanup(`temporary directory ${dir}`, remove, remove);
  return dir;
}

// ---- child processes ----

/** Spawns a server process and registers its clean-up; resolves the handle once it is spawned. */
function spawnServer(name, args, { stdout, stderr, env }) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', stdout, stderr], env });
  const exited = new Promise((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit({ code, signal })),
  );
  let done = false;
  void exited.then(() => (done = true));
  const stop = async () => {
    if (done) return;
    child.kill('SIGTERM');
    const timer = sleep(5_000).then(() => 'timeout');
    if ((await Promise.race([exited, timer])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  };
  const forget = onCleanup(`${name} (pid ${child.pid})`, stop, () => done || child.kill('SIGKILL'));
  return {
    child,
    exited,
    isRunning: () => !done,
    async stop() {
      forget();
      await stop();
    },
  };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
async function freePort() {
  const server = createServer();
  await new Promise((resolveListen, reject) =>
    server.once('error', reject).listen(0, '127.0.0.1', resolveListen),
  );
  const { port } = server.address();
  await new Promise((resolveClose) => server.close(resolveClose));
  return port;
}

/**
 * Starts `pave up` on a free loopback port with its stdout in a file in `dataDir` (as a service's stdout
 * usually is) and resolves with its URL once GET /healthz answers 200. (At --log-level warn Pave does not log
 * its "is listening on" line, so readiness is polled rather than read from the log.)
 */
async function startPave({ dataDir, store, logLevel }) {
  const logFile = join(dataDir, `pave-${logLevel}.log`);
  const stderrFile = join(dataDir, `pave-${logLevel}.stderr`);
  const out = openSync(logFile, 'a');
  const err = openSync(stderrFile, 'a');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [
    join(root, 'packages/cli/bin/pave.js'),
    'up',
    '--data-dir',
    dataDir,
    '--port',
    String(port),
    '--log-level',
    logLevel,
  ];
  if (store) args.push('--store', store);
  // PAVE_* variables from the caller's shell would override the flags above.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PAVE_')));
  const server = spawnServer(`pave up (${logLevel})`, args, { stdout: out, stderr: err, env });
  closeSync(out);
  closeSync(err);
  const deadline = Date.now() + 30_000;
  let reason = 'GET /healthz did not answer 200 within 30 s';
  while (Date.now() < deadline) {
    if (!server.isRunning()) {
      reason = 'it exited';
      break;
    }
    const healthy = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return { ...server, url, logFile };
    await sleep(100);
  }
  await server.stop();
  const tail = (file) => readFileSync(file, 'utf8').trim().split('\n').slice(-10).join('\n');
  throw new Error(
    `pave up on ${url} did not start (${reason}).\nstdout:\n${tail(logFile)}\nstderr:\n${tail(stderrFile)}`,
  );
}

/** Starts bench/bare-fastify.mjs serving `bodyFile`; resolves with its URL. */
async function startBareFastify(bodyFile) {
  const server = spawnServer('bare Fastify', [join(root, 'bench/bare-fastify.mjs'), bodyFile], {
    stdout: 'pipe',
    stderr: 'pipe',
    env: process.env,
  });
  let stderr = '';
  server.child.stderr.on('data', (chunk) => (stderr += chunk));
  const url = await new Promise((resolveUrl, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error('bare Fastify did not start within 10 s')), 10_000);
    server.child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolveUrl(JSON.parse(line).url);
      }
    });
    void server.exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`bare Fastify exited with code ${code}: ${stderr.trim()}`));
    });
  }).catch(async (error) => {
    await server.stop();
    throw error;
  });
  server.child.stdout.resume();
  return { ...server, url };
}

// ---- HTTP set-up ----

async function api(url, token, method, path, body) {
  const response = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text;
}

/** Creates app `shop` with environment `dev` (unless they exist) and returns GET /api/v1/apps/shop's body. */
async function seedPave(url, token) {
  const existing = await fetch(url + PATH, { headers: { authorization: `Bearer ${token}` } });
  if (existing.status === 404) {
    await api(url, token, 'POST', '/api/v1/apps', { id: 'shop' });
    await api(url, token, 'POST', '/api/v1/apps/shop/envs', { id: 'dev', type: 'development' });
  }
  return api(url, token, 'GET', PATH);
}

// ---- load ----

/** One autocannon run; throws if any response was not a 2xx carrying `expectBody`. */
async function load(url, { headers, expectBody, seconds }) {
  const result = await autocannon({
    url: url + PATH,
    headers,
    expectBody,
    connections: settings.connections,
    pipelining: settings.pipelining,
    duration: seconds,
  });
  const problems = [];
  if (result.errors) problems.push(`${result.errors} connection errors`);
  if (result.timeouts) problems.push(`${result.timeouts} timeouts`);
  if (result.non2xx) problems.push(`${result.non2xx} non-2xx responses`);
  if (result.mismatches) problems.push(`${result.mismatches} responses with an unexpected body`);
  if (result['2xx'] === 0) problems.push('no 2xx responses at all');
  if (interrupted) problems.push('interrupted');
  if (problems.length > 0) throw new Error(`load on ${url}${PATH} failed: ${problems.join(', ')}`);
  return result;
}

/** Warm-up, then the measured run; returns one results row. */
async function measure(target, url, options) {
  process.stdout.write(`  ${target.padEnd(26)} `);
  if (settings.warmupSeconds > 0) await load(url, { ...options, seconds: settings.warmupSeconds });
  const result = await load(url, { ...options, seconds: settings.durationSeconds });
  const row = {
    target,
    requestsPerSecond: result.requests.average,
    requestsPerSecondStddev: result.requests.stddev,
    requests: result.requests.total,
    latencyMs: {
      mean: result.latency.average,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    throughputBytesPerSecond: result.throughput.average,
  };
  console.log(`${Math.round(row.requestsPerSecond)} req/s, p99 ${row.latencyMs.p99} ms`);
  return row;
}

// ---- PostgreSQL ----

/** Creates a throw-away database; resolves with its URL, or with `{ skipped }` when PostgreSQL is unreachable. */
async function createBenchDatabase() {
  const name = `pave_bench_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: maintenanceUrl, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
  } catch (error) {
    return {
      skipped: `PostgreSQL at ${redact(maintenanceUrl)} is unreachable (${error.code ?? error.message})`,
    };
  }
  try {
    await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
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

function redact(url) {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

// ---- report ----

function machine() {
  const cpuList = cpus();
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
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    commit,
    versions: {
      pave: JSON.parse(readFileSync(join(root, 'packages/server/package.json'), 'utf8')).version,
      fastify: require('fastify/package.json').version,
      autocannon: require('autocannon/package.json').version,
    },
  };
}

function printTable(rows, bare) {
  const header = ['target', 'req/s', '±sd', 'p50 ms', 'p99 ms', 'vs bare'];
  const lines = rows.map((row) => [
    row.target,
    String(Math.round(row.requestsPerSecond)),
    String(Math.round(row.requestsPerSecondStddev)),
    String(row.latencyMs.p50),
    String(row.latencyMs.p99),
    row === bare ? '1.00' : (row.requestsPerSecond / bare.requestsPerSecond).toFixed(2),
  ]);
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...lines.map((line) => line[column].length)),
  );
  const format = (cells) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
      .join('  ');
  console.log(`\n${format(header)}\n${widths.map((width) => '-'.repeat(width)).join('  ')}`);
  for (const line of lines) console.log(format(line));
}

// ---- main ----

async function main() {
  const info = machine();
  console.log(
    `api-throughput: GET ${PATH}, ${settings.connections} connections, pipelining ${settings.pipelining}, ` +
      `${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s per target\n` +
      `${info.cpuModel}, ${info.cores} cores, Node ${info.node}\n`,
  );
  const engines = [{ engine: 'sqlite', store: undefined }];
  const skipped = [];
  const database = await createBenchDatabase();
  if (database.skipped) {
    skipped.push({ target: 'pave postgres', reason: database.skipped });
    console.log(`  skipping PostgreSQL: ${database.skipped}`);
  } else {
    engines.push({ engine: 'postgres', store: database.url });
  }

  const rows = [];
  let bare;
  for (const { engine, store } of engines) {
    const dataDir = tempDir(`pave-bench-${engine}-`);
    for (const logLevel of ['info', 'warn']) {
      const pave = await startPave({ dataDir, store, logLevel });
      const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
      const body = await seedPave(pave.url, token);
      if (!bare) {
        // The baseline serves the body Pave just returned, byte for byte.
        const bodyFile = join(tempDir('pave-bench-bare-'), 'body.json');
        writeFileSync(bodyFile, body);
        const server = await startBareFastify(bodyFile);
        bare = {
          ...(await measure('bare fastify', server.url, { expectBody: body })),
          engine: null,
          logLevel: null,
        };
        rows.push(bare);
        await server.stop();
      }
      const row = await measure(`pave ${engine}, log ${logLevel}`, pave.url, {
        headers: { authorization: `Bearer ${token}` },
        expectBody: body,
      });
      rows.push({ ...row, engine, logLevel, ratioToBare: row.requestsPerSecond / bare.requestsPerSecond });
      await pave.stop();
    }
  }

  printTable(rows, bare);
  const paveRows = rows.filter((row) => row !== bare);
  const worst = Math.min(...paveRows.map((row) => row.ratioToBare));
  console.log(
    `\ngoal: Pave at least ${GOAL_RATIO} of bare Fastify's req/s; ` +
      `lowest ratio ${worst.toFixed(2)} (${worst >= GOAL_RATIO ? 'met' : 'NOT met'})`,
  );
  for (const skip of skipped) console.log(`skipped ${skip.target}: ${skip.reason}`);

  const resultsDir = join(root, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, 'api-throughput.json');
  writeFileSync(
    file,
    `${JSON.stringify({ benchmark: 'api-throughput', path: PATH, settings, machine: info, goalRatio: GOAL_RATIO, rows, skipped }, null, 2)}\n`,
  );
  console.log(`results: ${file}`);
}

// Bounded in time: start-up allowance plus five targets' runs, then give up and clean up.
const budgetMs = (60 + 5 * (settings.warmupSeconds + settings.durationSeconds + 30)) * 1_000;
const watchdog = setTimeout(() => {
  console.error(`\napi-throughput: gave up after ${Math.round(budgetMs / 1000)} s`);
  void cleanUp().finally(() => process.exit(1));
}, budgetMs);

let exitCode = 0;
try {
  await main();
} catch (error) {
  if (!interrupted) {
    console.error(`\napi-throughput failed: ${error.stack ?? error}`);
    exitCode = 1;
  }
} finally {
  clearTimeout(watchdog);
  await cleanUp();
}
process.exit(interrupted ? 130 : exitCode);
