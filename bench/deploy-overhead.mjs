// `npm run bench` (second part): how much time `pave deploy --wait` adds to starting the same processes by
// hand. Three scenarios, each measured against a baseline bash script (bench/deploy-fixture/baseline.sh) that
// starts the same `node server.cjs` processes with PORT set and polls the same GET /healthz:
//
//   deploy 1     `pave deploy -f w0 --wait` into an empty environment      goal: at most +150 ms
//   deploy 20    `pave deploy -f w0 … -f w19 --wait` into an empty one      goal: at most 1.2x
//   rollback 10  `pave rollback --wait` after deploying set A then set B (B changes one variable of all 10
//                workloads), so all 10 are stopped and started again; the baseline restarts its 10 servers
//                (SIGTERM, wait for exit, start, poll). Reported; the issue sets no goal for it.
//
// Pave is timed as a user sees it: from spawning the CLI to its exit, so CLI start-up counts. Every run
// deploys to a new environment, deleted afterwards, so every deploy starts its processes from scratch. One
// `pave up` (SQLite, default settings) serves all runs. Each run measures every scenario once, baseline and
// Pave back to back (alternating which goes first), so load from other processes falls on both alike. The
// first run is a warm-up and is discarded. Figures are medians (and minima) over the other runs; overhead and
// ratio are medians of the per-run differences and ratios.
//
// The baseline polls every workload on its own loop at the interval of Pave's process runtime (POLL_MS in
// plugins/runtime-process/src/runtime.ts, read from the source; BENCH_BASELINE_POLL_MS overrides it).
//
// Settings (environment): BENCH_DEPLOY_RUNS (5, including the warm-up run), BENCH_BASELINE_POLL_MS.
// Writes bench/results/deploy-overhead.json. Exits non-zero if a deployment or the baseline fails, or if a
// process started by this run is still alive at the end (it is killed and named).
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  cleanUp,
  cleanupProblems,
  freePort,
  machine,
  machineLine,
  median,
  onCleanup,
  positiveInt,
  root,
  paveBin,
  startPave,
  cleanEnvironment,
  wasInterrupted,
} from './lib.mjs';

const baselineScript = join(root, 'bench/deploy-fixture/baseline.sh');

const runs = positiveInt('BENCH_DEPLOY_RUNS', 5);
if (runs < 2) throw new Error('BENCH_DEPLOY_RUNS must be at least 2: the first run is a warm-up');
const pollIntervals = {
  paveRuntimeProbeMs: constantIn('plugins/runtime-process/src/runtime.ts', 'POLL_MS'),
  paveWorkerPollMs: constantIn('packages/server/src/domain/deployments/worker.ts', 'POLL_MS'),
};
const baselinePollMs = positiveInt('BENCH_BASELINE_POLL_MS', pollIntervals.paveRuntimeProbeMs ?? 200);
const APP = 'bench';
const MAX_WORKLOADS = 20;

/** The scenarios, in the order each run measures them. */
const scenarios = [
  { id: 'deploy-1', label: 'deploy 1 workload', kind: 'deploy', workloads: 1, goal: { maxOverheadMs: 150 } },
  { id: 'deploy-20', label: 'deploy 20 workloads', kind: 'deploy', workloads: 20, goal: { maxRatio: 1.2 } },
  { id: 'rollback-10', label: 'rollback 10 workloads', kind: 'rollback', workloads: 10, goal: null },
];

/** The value of `const NAME = 123;` in one of Pave's source files, or null if it is not there any more. */
function constantIn(file, name) {
  try {
    const match = readFileSync(join(root, file), 'utf8').match(
      new RegExp(`const ${name}\\s*=\\s*([\\d_]+)\\s*;`),
    );
    return match ? Number(match[1].replaceAll('_', '')) : null;
  } catch {
    return null;
  }
}

let failed = false;

/**
 * Processes of this run: every process this bench starts (servers, supervisors, the baseline script) has its
 * working directory under `dir`, the run's temporary directory; `pave up` is stopped by pid before this runs.
 */
function processesUnder(dir) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      found.push({ pid: Number(entry), command });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

function killAll(found) {
  for (const { pid } of found) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

// ---- files ----

const SERVER_SOURCE = `// A workload for bench/deploy-overhead.mjs: an HTTP server on $PORT whose /healthz answers 200 at once.
const http = require('node:http');
const server = http.createServer((request, response) =>
  response.end(request.url === '/healthz' ? 'ok\\n' : \`\${process.env.VERSION}\\n\`),
);
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

function scoreFile(name, version) {
  return `apiVersion: score.dev/v1b1
metadata:
  name: ${name}
service:
  ports:
    web:
      port: 8080
containers:
  main:
    image: node:20
    command: ['node', 'server.cjs']
    variables:
      VERSION: ${version}
    readinessProbe:
      httpGet:
        path: /healthz
        port: 8080
`;
}

/** Writes server.cjs and, for w0…w19, a Score file of set A (VERSION a) and one of set B (VERSION b). */
function writeWorkloads(dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'server.cjs'), SERVER_SOURCE);
  for (let index = 0; index < MAX_WORKLOADS; index++) {
    writeFileSync(join(dir, `w${index}.a.score.yaml`), scoreFile(`w${index}`, 'a'));
    writeFileSync(join(dir, `w${index}.b.score.yaml`), scoreFile(`w${index}`, 'b'));
  }
  return (set, count) =>
    Array.from({ length: count }, (_, index) => join(dir, `w${index}.${set}.score.yaml`));
}

// ---- child processes ----

/** A TCP port that was free a moment ago on 127.0.0.1. */
async function freePorts(count) {
  const ports = new Set();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** Runs one command; resolves with its exit code, output, and wall time from spawn to exit (ms). */
function run(command, args, { env, cwd = root, timeoutMs = 180_000 } = {}) {
  return new Promise((resolveRun, reject) => {
    const spawnedAtEpochMs = Date.now();
    const startedAt = process.hrtime.bigint();
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const forget = onCleanup(`${[command, ...args].join(' ').slice(0, 80)} (pid ${child.pid})`, () =>
      child.kill('SIGKILL'),
    );
    child.once('error', (error) => {
      clearTimeout(timer);
      forget();
      reject(error);
    });
    child.once('exit', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - startedAt) / 1e6;
      const exitedAtEpochMs = Date.now();
      clearTimeout(timer);
      forget();
      // 'exit' can come before the pipes are drained; 'close' follows once they are.
      child.once('close', () =>
        resolveRun({ code, signal, stdout, stderr, ms, spawnedAtEpochMs, exitedAtEpochMs }),
      );
    });
  });
}

/** Runs a `pave` client command against the bench server; throws with its output if it does not exit 0. */
async function pave(server, dataDir, args) {
  const result = await run(process.execPath, [paveBin, ...args], {
    env: cleanEnvironment({ PAVE_SERVER: server.url, PAVE_DATA_DIR: dataDir, NO_COLOR: '1' }),
  });
  if (result.code !== 0) {
    throw new Error(
      `pave ${args.join(' ')} exited with ${result.signal ?? `code ${result.code}`}:\n${result.stderr.trim()}\n${result.stdout.trim().slice(-2000)}`,
    );
  }
  return result;
}

async function api(server, method, path, body) {
  const response = await fetch(server.url + path, {
    method,
    headers: {
      authorization: `Bearer ${server.token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(90_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text;
}

/**
 * Starts the baseline script for `ports` in its own process group. `ready()` resolves with the ms from
 * spawning (or from the last `restart()`) until the script says every server answers.
 */
function startBaseline(workloadsDir, ports) {
  const startedAt = process.hrtime.bigint();
  const child = spawn('bash', [baselineScript, workloadsDir, String(baselinePollMs), ...ports.map(String)], {
    cwd: workloadsDir,
    env: cleanEnvironment(),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  let done = false;
  const exited = new Promise((resolveExit) =>
    child.once('exit', (code, signal) => {
      done = true;
      resolveExit({ code, signal });
    }),
  );
  const killGroup = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const forget = onCleanup(`baseline script (pid ${child.pid})`, killGroup, killGroup);
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  lines.on('line', (line) => waiting.shift()?.resolve({ line, at: process.hrtime.bigint() }));
  void exited.then(({ code, signal }) => {
    for (const waiter of waiting.splice(0)) {
      waiter.reject(new Error(`the baseline script exited (${signal ?? `code ${code}`}): ${stderr.trim()}`));
    }
  });
  let from = startedAt;
  const nextLine = () =>
    new Promise((resolveLine, reject) => {
      if (done) reject(new Error(`the baseline script exited: ${stderr.trim()}`));
      else waiting.push({ resolve: resolveLine, reject });
    });
  return {
    async ready() {
      const { line, at } = await Promise.race([
        nextLine(),
        sleep(60_000).then(() => {
          throw new Error('the baseline script did not report ready within 60 s');
        }),
      ]);
      if (!line.startsWith('ready')) throw new Error(`the baseline script said "${line}"`);
      return { ms: Number(at - from) / 1e6, scriptMs: Number(line.split(' ')[1]) };
    },
    restart() {
      from = process.hrtime.bigint();
      child.stdin.write('restart\n');
    },
    async stop() {
      child.stdin.end('stop\n');
      if ((await Promise.race([exited, sleep(15_000).then(() => 'timeout')])) === 'timeout') killGroup();
      await exited;
      forget();
      killGroup(); // anything the script left behind in its group
    },
  };
}

// ---- one measurement each ----

async function baselineDeploy(workloadsDir, count) {
  const baseline = startBaseline(workloadsDir, await freePorts(count));
  try {
    return (await baseline.ready()).ms;
  } finally {
    await baseline.stop();
  }
}

async function baselineRestart(workloadsDir, count) {
  const baseline = startBaseline(workloadsDir, await freePorts(count));
  try {
    await baseline.ready();
    baseline.restart();
    return (await baseline.ready()).ms;
  } finally {
    await baseline.stop();
  }
}

/**
 * Where a Pave deployment's time went (ms), from its journal and the CLI's spawn and exit times: the journal
 * notes each workload's start before starting it, and the "wait ready" notes once every workload is ready. A phase
 * whose journal entries are missing (the journal changed) is null rather than a failure.
 */
function phases(detail, result) {
  const at = (value) => (value ? Date.parse(value) : NaN);
  const deploys = detail.journal.filter((entry) => entry.step === 'start' && entry.status === 'started');
  const readies = detail.journal.filter((entry) => entry.step === 'wait ready');
  const firstDeploy = at(deploys[0]?.at);
  const lastDeploy = at(deploys[deploys.length - 1]?.at);
  const firstReady = at(readies[0]?.at);
  const span = (from, to) => (Number.isFinite(to - from) ? to - from : null);
  return {
    cliUntilQueued: span(result.spawnedAtEpochMs, at(detail.createdAt)),
    queuedUntilStarted: span(at(detail.createdAt), at(detail.startedAt)),
    startedUntilFirstWorkload: span(at(detail.startedAt), firstDeploy),
    startingWorkloads: span(firstDeploy, lastDeploy),
    lastStartUntilAllReady: span(lastDeploy, firstReady),
    allReadyUntilFinished: span(firstReady, at(detail.finishedAt)),
    finishedUntilCliExit: span(at(detail.finishedAt), result.exitedAtEpochMs),
    // Workloads are started one after another; this is the mean step between two starts.
    perWorkloadStart: deploys.length > 1 ? span(firstDeploy, lastDeploy) / (deploys.length - 1) : null,
  };
}

function parseDetail(result, expect) {
  const detail = JSON.parse(result.stdout);
  if (detail.status !== 'succeeded')
    throw new Error(`deployment ${detail.id} ${detail.status}: ${detail.reason}`);
  if (detail.workloads.length !== expect.workloads) {
    throw new Error(
      `deployment ${detail.id} has ${detail.workloads.length} workloads, not ${expect.workloads}`,
    );
  }
  if (expect.kind && detail.kind !== expect.kind) {
    throw new Error(`deployment ${detail.id} is a ${detail.kind}, not a ${expect.kind}`);
  }
  return detail;
}

async function withEnvironment(server, env, body) {
  await api(server, 'POST', `/api/v1/apps/${APP}/envs`, { id: env, type: 'development' });
  try {
    return await body();
  } finally {
    // Awaits the runtime: every workload of the environment is stopped when this returns.
    await api(server, 'DELETE', `/api/v1/apps/${APP}/envs/${env}`);
  }
}

async function paveDeploy(server, dataDir, files, env) {
  return withEnvironment(server, env, async () => {
    const args = ['deploy', ...files.flatMap((file) => ['-f', file])];
    const result = await pave(server, dataDir, [...args, '--app', APP, '--env', env, '--wait', '-o', 'json']);
    const detail = parseDetail(result, { workloads: files.length });
    return { ms: result.ms, phases: phases(detail, result) };
  });
}

async function paveRollback(server, dataDir, setA, setB, env) {
  return withEnvironment(server, env, async () => {
    const target = ['--app', APP, '--env', env, '--wait', '-o', 'json'];
    const deployed = parseDetail(
      await pave(server, dataDir, ['deploy', ...setA.flatMap((file) => ['-f', file]), ...target]),
      { workloads: setA.length },
    );
    parseDetail(await pave(server, dataDir, ['deploy', ...setB.flatMap((file) => ['-f', file]), ...target]), {
      workloads: setB.length,
    });
    const result = await pave(server, dataDir, ['rollback', ...target]);
    const detail = parseDetail(result, { workloads: setA.length, kind: 'rollback' });
    if (detail.setId !== deployed.setId) {
      throw new Error(`rollback ${detail.id} deployed set ${detail.setId}, not set A ${deployed.setId}`);
    }
    return { ms: result.ms, phases: phases(detail, result) };
  });
}

// ---- figures ----

function summarize(scenario, measured) {
  const baseline = measured.map((entry) => entry.baselineMs);
  const paveMs = measured.map((entry) => entry.paveMs);
  const overheads = measured.map((entry) => entry.paveMs - entry.baselineMs);
  const ratios = measured.map((entry) => entry.paveMs / entry.baselineMs);
  const phaseNames = Object.keys(measured[0].phases);
  const row = {
    scenario: scenario.id,
    label: scenario.label,
    workloads: scenario.workloads,
    baselineMs: { median: median(baseline), min: Math.min(...baseline) },
    paveMs: { median: median(paveMs), min: Math.min(...paveMs) },
    overheadMs: { median: median(overheads), range: [Math.min(...overheads), Math.max(...overheads)] },
    ratio: { median: median(ratios), range: [Math.min(...ratios), Math.max(...ratios)] },
    paveMedianPhasesMs: Object.fromEntries(
      phaseNames.map((name) => [
        name,
        median(measured.map((entry) => entry.phases[name]).filter((value) => value !== null)),
      ]),
    ),
    goal: scenario.goal,
    met: null,
    runs: measured,
  };
  if (scenario.goal?.maxOverheadMs !== undefined)
    row.met = row.overheadMs.median <= scenario.goal.maxOverheadMs;
  if (scenario.goal?.maxRatio !== undefined) row.met = row.ratio.median <= scenario.goal.maxRatio;
  return row;
}

function printTable(rows) {
  const header = ['scenario', 'baseline ms', 'pave ms', 'overhead ms', 'ratio', 'goal', 'met?'];
  const goalText = (goal) =>
    goal === null
      ? '-'
      : goal.maxOverheadMs !== undefined
        ? `<= +${goal.maxOverheadMs} ms`
        : `<= ${goal.maxRatio}x`;
  const lines = rows.map((row) => [
    row.label,
    `${Math.round(row.baselineMs.median)} (min ${Math.round(row.baselineMs.min)})`,
    `${Math.round(row.paveMs.median)} (min ${Math.round(row.paveMs.min)})`,
    `+${Math.round(row.overheadMs.median)}`,
    `${row.ratio.median.toFixed(2)}x`,
    goalText(row.goal),
    row.met === null ? '-' : row.met ? 'yes' : 'NO',
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
  console.log("\nwhere Pave's time went (medians, ms):");
  for (const row of rows) {
    const text = Object.entries(row.paveMedianPhasesMs)
      .filter(([, ms]) => ms !== null)
      .map(([name, ms]) => `${name} ${Math.round(ms)}`)
      .join(', ');
    console.log(`  ${row.label}: ${text}`);
  }
}

// ---- main ----

async function main() {
  const info = machine();
  console.log(
    `deploy-overhead: ${runs} runs (the first is a warm-up), baseline polls every ${baselinePollMs} ms ` +
      `(Pave: runtime probe every ${pollIntervals.paveRuntimeProbeMs} ms, worker poll ${pollIntervals.paveWorkerPollMs} ms, ` +
      `--wait polls on the schedule of pollDelayMs in packages/cli/src/commands/progress.ts)\n` +
      `${machineLine(info)}\n`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'pave-bench-deploy-'));
  onCleanup(
    `temporary directory ${dir}`,
    () => rmSync(dir, { recursive: true, force: true }),
    () => rmSync(dir, { recursive: true, force: true }),
  );
  const workloadsDir = join(dir, 'workloads');
  const dataDir = join(dir, 'data');
  // After a failure, the end of Pave's log says what the server saw; it goes with the directory.
  onCleanup('pave up log', () => {
    const logFile = join(dataDir, 'pave-up.log');
    if ((failed || wasInterrupted() || cleanupProblems.length > 0) && existsSync(logFile)) {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-30);
      console.error(`\nlast lines of ${logFile}:\n${tail.map((line) => line.slice(0, 400)).join('\n')}`);
    }
  });
  // Runs after the server has stopped: anything still running from this directory was left behind.
  onCleanup(
    'processes left behind',
    async () => {
      let found = processesUnder(dir);
      // Servers and supervisors that were just told to stop get a moment to go.
      for (let attempt = 0; found.length > 0 && attempt < 20; attempt++) {
        await sleep(100);
        found = processesUnder(dir);
      }
      if (found.length > 0) {
        killAll(found);
        throw new Error(
          `killed ${found.length} left behind: ${found.map((p) => `${p.pid} ${p.command}`).join('; ')}`,
        );
      }
    },
    () => killAll(processesUnder(dir)),
  );
  const files = writeWorkloads(workloadsDir);
  const server = await startPave(dataDir);
  await api(server, 'POST', '/api/v1/apps', { id: APP });
  onCleanup(`app ${APP} and its workloads`, () => api(server, 'DELETE', `/api/v1/apps/${APP}?force=true`));

  const measured = new Map(scenarios.map((scenario) => [scenario.id, []]));
  const cli = { nodeStartMs: [], paveVersionMs: [], paveAppsGetMs: [] };
  for (let round = 0; round < runs; round++) {
    const warmUp = round === 0;
    for (const scenario of scenarios) {
      const env = `r${round}-${scenario.id}`;
      const measureBaseline = () =>
        scenario.kind === 'deploy'
          ? baselineDeploy(workloadsDir, scenario.workloads)
          : baselineRestart(workloadsDir, scenario.workloads);
      const measurePave = () =>
        scenario.kind === 'deploy'
          ? paveDeploy(server, dataDir, files('a', scenario.workloads), env)
          : paveRollback(
              server,
              dataDir,
              files('a', scenario.workloads),
              files('b', scenario.workloads),
              env,
            );
      let baselineMs;
      let paveResult;
      if (round % 2 === 0) {
        baselineMs = await measureBaseline();
        paveResult = await measurePave();
      } else {
        paveResult = await measurePave();
        baselineMs = await measureBaseline();
      }
      console.log(
        `  run ${round}${warmUp ? ' (warm-up)' : '          '}  ${scenario.label.padEnd(22)}` +
          `baseline ${String(Math.round(baselineMs)).padStart(5)} ms   pave ${String(Math.round(paveResult.ms)).padStart(5)} ms`,
      );
      if (!warmUp)
        measured.get(scenario.id).push({ baselineMs, paveMs: paveResult.ms, phases: paveResult.phases });
    }
    // The CLI's own start-up: a bare node, `pave --version` (no client code), one API call.
    const plain = cleanEnvironment();
    const node = await run(process.execPath, ['-e', '0'], { env: plain });
    const version = await run(process.execPath, [paveBin, '--version'], { env: plain });
    const appsGet = await pave(server, dataDir, ['apps', 'get', APP, '-o', 'json']);
    if (!warmUp) {
      cli.nodeStartMs.push(node.ms);
      cli.paveVersionMs.push(version.ms);
      cli.paveAppsGetMs.push(appsGet.ms);
    }
  }
  info.loadAverageAfter = loadavg().map((load) => Number(load.toFixed(2)));

  const rows = scenarios.map((scenario) => summarize(scenario, measured.get(scenario.id)));
  const cliMedians = Object.fromEntries(Object.entries(cli).map(([name, values]) => [name, median(values)]));
  printTable(rows);
  console.log(
    `\nCLI start-up (medians): node -e 0 ${Math.round(cliMedians.nodeStartMs)} ms, pave --version ` +
      `${Math.round(cliMedians.paveVersionMs)} ms, pave apps get (one API call) ${Math.round(cliMedians.paveAppsGetMs)} ms`,
  );
  console.log(
    `load average before ${info.loadAverageBefore.join(' ')}, after ${info.loadAverageAfter.join(' ')}`,
  );

  const resultsDir = join(root, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, 'deploy-overhead.json');
  const report = {
    benchmark: 'deploy-overhead',
    settings: { runs, warmUpRuns: 1, baselinePollMs },
    pollIntervals,
    machine: info,
    rows,
    cliStartup: { mediansMs: cliMedians, runsMs: cli },
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`results: ${file}`);
}

// Bounded in time: start-up allowance plus, per run, generous room for the three scenarios.
const budgetMs = (120 + runs * 150) * 1_000;
const watchdog = setTimeout(() => {
  console.error(`\ndeploy-overhead: gave up after ${Math.round(budgetMs / 1000)} s`);
  failed = true;
  void cleanUp().finally(() => process.exit(1));
}, budgetMs);

let exitCode = 0;
try {
  await main();
} catch (error) {
  failed = true;
  if (!wasInterrupted()) {
    console.error(`\ndeploy-overhead failed: ${error.stack ?? error}`);
    exitCode = 1;
  }
} finally {
  clearTimeout(watchdog);
  await cleanUp();
}
if (cleanupProblems.length > 0 && exitCode === 0) exitCode = 1;
process.exit(wasInterrupted() ? 130 : exitCode);
