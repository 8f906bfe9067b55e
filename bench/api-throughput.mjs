// `npm run bench`: requests/s and latency of an authenticated GET /api/v1/apps/{app} on a real `pave up`,
// against a bare Fastify route returning the same JSON body (bench/bare-fastify.mjs), and against the floor
// (bench/floor-fastify.mjs): the least an authenticated server can do for the same answer from Pave's SQLite
// file (the token hashed and cached, one prepared query), which shows how close to bare Fastify any such
// server comes on the machine. Every server runs in its own child process on loopback; autocannon runs in
// this process. Pave is measured with SQLite and with
// PostgreSQL (skipped, with the reason, when PostgreSQL does not answer), each at the default log level
// (info: every request is logged, to a file) and at warn.
//
// All servers start first; then each round measures every target once, in turn, so that load from other
// processes on the machine falls on all targets alike. A target's figures are the median over rounds; the
// ratio is the median of the per-round ratios (Pave req/s / bare Fastify req/s in the same round).
//
// Settings (environment): BENCH_DURATION seconds per measured run (10), BENCH_WARMUP seconds of warm-up per
// target before the first round (3), BENCH_ROUNDS (3), BENCH_CONNECTIONS (50), BENCH_PG_URL
// (postgres://postgres@127.0.0.1:5432/postgres: where a throw-away pave_bench_* database is created and
// dropped), BENCH_CPU_PROF (a directory: Pave runs under `node --cpu-prof` and leaves one profile per target
// there). Writes bench/results/api-throughput.json. Exits non-zero if any response was not a 2xx with the
// expected body, or a request errored or timed out.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import {
  cleanUp,
  createBenchDatabase,
  freePort,
  machine as describeMachine,
  machineLine,
  median,
  onCleanup,
  positiveInt,
  root,
  wasInterrupted,
} from './lib.mjs';

const require = createRequire(import.meta.url);

const settings = {
  durationSeconds: positiveInt('BENCH_DURATION', 10),
  warmupSeconds: positiveInt('BENCH_WARMUP', 3, { allowZero: true }),
  rounds: positiveInt('BENCH_ROUNDS', 3),
  connections: positiveInt('BENCH_CONNECTIONS', 50),
  pipelining: 1,
};
const maintenanceUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PATH = '/api/v1/apps/shop';
const GOAL_RATIO = 0.5;

function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  onCleanup(`temporary directory ${dir}`, remove, remove);
  return dir;
}

// ---- child processes ----

/** Spawns a server process and registers its clean-up (SIGTERM, then SIGKILL after 5 s). */
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

/**
 * Starts `pave up` on a free loopback port with its stdout in a file in `dataDir` (as a service's stdout
 * usually is) and resolves with its URL once GET /healthz answers 200. (At --log-level warn Pave does not log
 * its "is listening on" line, so readiness is polled rather than read from the log.)
 */
async function startPave({ dataDir, store, logLevel }) {
  const logFile = join(dataDir, `pave-${logLevel}.log`);
  const stderrFile = join(dataDir, `pave-${logLevel}-stderr.log`);
  const out = openSync(logFile, 'a');
  const err = openSync(stderrFile, 'a');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const profileDir = process.env.BENCH_CPU_PROF
    ? resolve(process.env.BENCH_CPU_PROF, `${basename(dataDir)}-${logLevel}`)
    : null;
  const args = [
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    join(root, 'packages/cli/bin/pave.cjs'),
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

/**
 * Starts a Fastify script of bench/ (bare-fastify.mjs, floor-fastify.mjs) with its one argument; resolves with
 * its URL, which it prints as a JSON line once it listens.
 */
async function startFastifyScript(name, script, argument) {
  const server = spawnServer(name, [join(root, 'bench', script), argument], {
    stdout: 'pipe',
    stderr: 'pipe',
    env: process.env,
  });
  let stderr = '';
  server.child.stderr.on('data', (chunk) => (stderr += chunk));
  const url = await new Promise((resolveUrl, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 10 s`)), 10_000);
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
      reject(new Error(`${name} exited with code ${code}: ${stderr.trim()}`));
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
/** The admin token `pave up` writes into `dataDir` on first start (just after /healthz first answers). */
async function adminToken(dataDir) {
  const file = join(dataDir, 'admin.token');
  for (let waited = 0; !existsSync(file); waited += 50) {
    if (waited >= 10_000) throw new Error(`pave up wrote no ${file} within 10 s`);
    await sleep(50);
  }
  return readFileSync(file, 'utf8').trim();
}

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
async function load(target, seconds) {
  const result = await autocannon({
    url: target.url + PATH,
    headers: target.headers,
    expectBody: target.body,
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
  if (wasInterrupted()) problems.push('interrupted');
  if (problems.length > 0)
    throw new Error(`load on ${target.name} (${target.url}${PATH}) failed: ${problems.join(', ')}`);
  return result;
}

/** CPU time (user + system) a process has used so far, in ms; null where /proc is missing. */
function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of /proc/PID/stat (utime, stime), counted from after the command name; in clock ticks.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
const CLOCK_TICKS = 100;

/** One measured run of `target`: requests/s, latency and the server's CPU time per request. */
async function measure(target) {
  const cpuBefore = cpuMs(target.server.child.pid);
  const result = await load(target, settings.durationSeconds);
  const cpuAfter = cpuMs(target.server.child.pid);
  return {
    requestsPerSecond: result.requests.average,
    requests: result.requests.total,
    latencyMs: {
      mean: result.latency.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    serverCpuMicrosPerRequest:
      cpuBefore === null || cpuAfter === null
        ? null
        : ((cpuAfter - cpuBefore) * 1000) / result.requests.total,
  };
}

/** A target's figures over all rounds: medians, plus each round's numbers. */
function summarize(target, runs, bareRuns) {
  const ratios = bareRuns
    ? runs.map((run, round) => run.requestsPerSecond / bareRuns[round].requestsPerSecond)
    : null;
  return {
    target: target.name,
    kind: target.kind ?? (target.engine ? 'pave' : 'bare'),
    engine: target.engine ?? null,
    logLevel: target.logLevel ?? null,
    requestsPerSecond: median(runs.map((run) => run.requestsPerSecond)),
    latencyMs: {
      p50: median(runs.map((run) => run.latencyMs.p50)),
      p99: median(runs.map((run) => run.latencyMs.p99)),
    },
    serverCpuMicrosPerRequest: median(runs.map((run) => run.serverCpuMicrosPerRequest)),
    ratioToBare: ratios ? median(ratios) : 1,
    ratioToBareRange: ratios ? [Math.min(...ratios), Math.max(...ratios)] : [1, 1],
    runs,
  };
}

// ---- PostgreSQL ----

// ---- report ----

function machine() {
  return {
    ...describeMachine(),
    versions: {
      pave: JSON.parse(readFileSync(join(root, 'packages/server/package.json'), 'utf8')).version,
      fastify: require('fastify/package.json').version,
      autocannon: require('autocannon/package.json').version,
    },
  };
}

function printTable(rows) {
  const header = ['target', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'req/s vs bare (range)'];
  const lines = rows.map((row) => [
    row.target,
    String(Math.round(row.requestsPerSecond)),
    String(row.latencyMs.p50),
    String(row.latencyMs.p99),
    row.serverCpuMicrosPerRequest === null ? '-' : String(Math.round(row.serverCpuMicrosPerRequest)),
    row.engine === null
      ? '1'
      : `${row.ratioToBare.toFixed(2)} (${row.ratioToBareRange.map((ratio) => ratio.toFixed(2)).join('-')})`,
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

/**
 * Starts `pave up` at each log level, seeds it, and returns one target per process. On PostgreSQL both share
 * the store (and the data directory with its keys); a SQLite store belongs to one `pave up`, so each gets its
 * own data directory.
 */
async function paveTargets(engine, store) {
  const sharedDir = engine === 'sqlite' ? null : tempDir(`pave-bench-${engine}-`);
  const targets = [];
  for (const logLevel of ['info', 'warn']) {
    const dataDir = sharedDir ?? tempDir(`pave-bench-${engine}-${logLevel}-`);
    const server = await startPave({ dataDir, store, logLevel });
    const token = await adminToken(dataDir);
    const body = await seedPave(server.url, token);
    targets.push({
      name: `pave ${engine}, log ${logLevel}`,
      engine,
      logLevel,
      dataDir,
      server,
      url: server.url,
      headers: { authorization: `Bearer ${token}` },
      body,
    });
  }
  return targets;
}

async function main() {
  const info = machine();
  console.log(
    `api-throughput: GET ${PATH}, ${settings.connections} connections, pipelining ${settings.pipelining}, ` +
      `${settings.rounds} rounds of ${settings.durationSeconds} s per target after ${settings.warmupSeconds} s warm-up\n` +
      `${machineLine(info)}\n`,
  );
  const skipped = [];
  const paves = await paveTargets('sqlite', undefined);
  const database = await createBenchDatabase(maintenanceUrl);
  if (database.skipped) {
    skipped.push({ target: 'pave postgres', reason: database.skipped });
    console.log(`skipping PostgreSQL: ${database.skipped}`);
  } else {
    paves.push(...(await paveTargets('postgres', database.url)));
  }
  // The baseline serves the body Pave returned, byte for byte.
  const bodyFile = join(tempDir('pave-bench-bare-'), 'body.json');
  writeFileSync(bodyFile, paves[0].body);
  const bareServer = await startFastifyScript('bare Fastify', 'bare-fastify.mjs', bodyFile);
  const bare = {
    name: 'bare fastify',
    server: bareServer,
    url: bareServer.url,
    headers: {},
    body: paves[0].body,
  };
  // The floor reads the first SQLite Pave's store, with its token.
  const floorServer = await startFastifyScript(
    'floor Fastify',
    'floor-fastify.mjs',
    join(paves[0].dataDir, 'pave.db'),
  );
  const floor = {
    name: 'floor (token + query)',
    kind: 'floor',
    engine: 'sqlite',
    server: floorServer,
    url: floorServer.url,
    headers: paves[0].headers,
    body: paves[0].body,
  };
  const targets = [bare, floor, ...paves];

  if (settings.warmupSeconds > 0) {
    console.log(`warming up (${settings.warmupSeconds} s each)`);
    for (const target of targets) await load(target, settings.warmupSeconds);
  }
  const runs = new Map(targets.map((target) => [target, []]));
  for (let round = 1; round <= settings.rounds; round++) {
    for (const target of targets) {
      const run = await measure(target);
      runs.get(target).push(run);
      console.log(
        `  round ${round}  ${target.name.padEnd(22)} ${String(Math.round(run.requestsPerSecond)).padStart(6)} req/s` +
          `  p99 ${String(run.latencyMs.p99).padStart(4)} ms`,
      );
    }
  }
  for (const target of targets) await target.server.stop();
  info.loadAverageAfter = loadavg().map((load) => Number(load.toFixed(2)));

  const bareRuns = runs.get(bare);
  const rows = targets.map((target) =>
    summarize(target, runs.get(target), target === bare ? null : bareRuns),
  );
  printTable(rows);
  const paveRows = rows.filter((row) => row.engine !== null && row.kind !== 'floor');
  const worst = Math.min(...paveRows.map((row) => row.ratioToBare));
  const floorRow = rows.find((row) => row.kind === 'floor');
  console.log(
    `\ngoal: Pave at least ${GOAL_RATIO} of bare Fastify's req/s; ` +
      `lowest median ratio ${worst.toFixed(2)} (${worst >= GOAL_RATIO ? 'met' : 'NOT met'}); ` +
      `the floor (an authenticated server doing nothing else) ${floorRow.ratioToBare.toFixed(2)}`,
  );
  for (const skip of skipped) console.log(`skipped ${skip.target}: ${skip.reason}`);

  const resultsDir = join(root, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, 'api-throughput.json');
  const report = {
    benchmark: 'api-throughput',
    path: PATH,
    settings,
    machine: info,
    goalRatio: GOAL_RATIO,
    rows,
    skipped,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`results: ${file}`);
}

// Bounded in time: start-up allowance plus six targets' runs, then give up and clean up.
const budgetMs =
  (120 + 6 * (settings.warmupSeconds + settings.rounds * (settings.durationSeconds + 10))) * 1_000;
const watchdog = setTimeout(() => {
  console.error(`\napi-throughput: gave up after ${Math.round(budgetMs / 1000)} s`);
  void cleanUp().finally(() => process.exit(1));
}, budgetMs);

let exitCode = 0;
try {
  await main();
} catch (error) {
  if (!wasInterrupted()) {
    console.error(`\napi-throughput failed: ${error.stack ?? error}`);
    exitCode = 1;
  }
} finally {
  clearTimeout(watchdog);
  await cleanUp();
}
process.exit(wasInterrupted() ? 130 : exitCode);
