// How fast the installed `pave` CLI starts, next to a bare `node -e 0` (issue #21, CLI part):
//
//   pave --version                       reported; no goal
//   pave apps list (one API call)        goal: median at most 1.5x node -e 0
//   pave validate -f <one Score file>    goal: median at most 1.6x node -e 0
//
// Runs the built CLI (packages/cli/bin/pave.cjs, as `npm install -g` installs it; never npx) against one
// `pave up` on a temporary data directory, with the app it creates. Each round runs every command once, in
// turn, so load from other processes falls on all alike; the first BENCH_CLI_WARMUP rounds are discarded.
// Figures are wall times from spawn to exit: medians and 90th percentiles, and the ratio of the medians.
//
// Settings (environment): BENCH_CLI_RUNS (20 measured rounds), BENCH_CLI_WARMUP (3). Needs `npm run build`
// (builds nothing itself). Writes bench/results/cli-start.json. Exits non-zero when a command fails or prints
// the wrong thing (`apps list -o json` must list the app; validate must exit 0), never because a goal is
// missed: those are printed as "goal missed" lines.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cleanEnvironment,
  cleanUp,
  cleanupProblems,
  machine,
  machineLine,
  median,
  onCleanup,
  paveBin,
  positiveInt,
  root,
  startPave,
  wasInterrupted,
} from './lib.mjs';

const runs = positiveInt('BENCH_CLI_RUNS', 20);
const warmUp = positiveInt('BENCH_CLI_WARMUP', 3, { allowZero: true });
const APP = 'bench-cli';
const SCORE_FILE = join(root, 'test/fixtures/data-app/api.score.yaml');

/**
 * The commands timed, in the order each round runs them. `check` throws when a run printed the wrong thing;
 * `goalRatio` is the most the median may be, as a multiple of node -e 0's.
 */
const COMMANDS = [
  { id: 'node', label: 'node -e 0', args: ['-e', '0'], node: true, goalRatio: null },
  { id: 'version', label: 'pave --version', args: ['--version'], goalRatio: null, check: checkVersion },
  {
    id: 'apps-list',
    label: 'pave apps list',
    args: ['apps', 'list', '-o', 'json'],
    goalRatio: 1.5,
    check: checkAppsList,
  },
  {
    id: 'validate',
    label: 'pave validate -f (1 file)',
    args: ['validate', '-f', SCORE_FILE],
    goalRatio: 1.6,
    check: () => {},
  },
];

function checkVersion(result) {
  if (!/^\d+\.\d+\.\d+/.test(result.stdout.trim())) throw new Error(`printed "${result.stdout.trim()}"`);
}

function checkAppsList(result) {
  const body = JSON.parse(result.stdout);
  if (!Array.isArray(body.items) || !body.items.some((app) => app.id === APP)) {
    throw new Error(`does not list app ${APP}: ${result.stdout.slice(0, 200)}`);
  }
}

/** Runs one command; resolves with its exit code, output and wall time from spawn to exit (ms). */
function run(args, env) {
  return new Promise((resolveRun, reject) => {
    const startedAt = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const forget = onCleanup(`${args.join(' ').slice(0, 80)} (pid ${child.pid})`, () =>
      child.kill('SIGKILL'),
    );
    child.once('error', (error) => {
      clearTimeout(timer);
      forget();
      reject(error);
    });
    child.once('exit', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - startedAt) / 1e6;
      clearTimeout(timer);
      forget();
      child.once('close', () => resolveRun({ code, signal, stdout, stderr, ms }));
    });
  });
}

/** Runs `command` once; throws with its output when it fails or prints the wrong thing. */
async function measure(command, env) {
  const args = command.node ? command.args : [paveBin, ...command.args];
  const result = await run(args, env);
  if (result.code !== 0) {
    throw new Error(
      `${command.label} exited ${result.signal ?? result.code}: ${(result.stderr || result.stdout).trim()}`,
    );
  }
  try {
    command.check?.(result);
  } catch (error) {
    throw new Error(`${command.label}: ${error.message}`, { cause: error });
  }
  return result.ms;
}

/** The `fraction` quantile of `values` (nearest rank), or null when there are none. */
function quantile(values, fraction) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

async function main() {
  const about = machine();
  console.log(
    `cli-start: ${runs} rounds after ${warmUp} warm-up rounds, each command once per round\n${machineLine(about)}`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'pave-bench-cli-'));
  onCleanup(
    `temporary directory ${dir}`,
    () => rmSync(dir, { recursive: true, force: true }),
    () => rmSync(dir, { recursive: true, force: true }),
  );
  const server = await startPave(join(dir, 'data'));
  // The CLI finds the server and token in the environment, as a user's shell would give them.
  const env = cleanEnvironment({ PAVE_SERVER: server.url, PAVE_TOKEN: server.token, NO_COLOR: '1' });
  const created = await run([paveBin, 'apps', 'create', APP, '-o', 'json'], env);
  if (created.code !== 0) throw new Error(`pave apps create ${APP} failed: ${created.stderr.trim()}`);

  const samples = Object.fromEntries(COMMANDS.map((command) => [command.id, []]));
  for (let round = 0; round < warmUp + runs; round++) {
    for (const command of COMMANDS) {
      const ms = await measure(command, env);
      if (round >= warmUp) samples[command.id].push(ms);
    }
  }
  about.loadAverageAfter = loadavg().map((load) => Number(load.toFixed(2)));

  const nodeMedian = median(samples.node);
  const rows = COMMANDS.map((command) => {
    const medianMs = median(samples[command.id]);
    const ratio = medianMs / nodeMedian;
    return {
      command: command.id,
      label: command.label,
      medianMs,
      p90Ms: quantile(samples[command.id], 0.9),
      ratioToNode: ratio,
      goalRatio: command.goalRatio,
      met: command.goalRatio === null ? null : ratio <= command.goalRatio,
    };
  });

  const header = ['command', 'median ms', 'p90 ms', 'x node', 'goal', 'met?'];
  const lines = rows.map((row) => [
    row.label,
    row.medianMs.toFixed(0),
    row.p90Ms.toFixed(0),
    `${row.ratioToNode.toFixed(2)}x`,
    row.goalRatio === null ? '-' : `<= ${row.goalRatio}x`,
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
  for (const row of rows) {
    if (row.met === false) {
      console.log(
        `goal missed: ${row.label} ${row.ratioToNode.toFixed(2)}x node -e 0 (goal <= ${row.goalRatio}x)`,
      );
    }
  }
  console.log(
    `load average before ${about.loadAverageBefore.join(' ')}, after ${about.loadAverageAfter.join(' ')}`,
  );

  const resultsDir = join(root, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, 'cli-start.json');
  const report = {
    benchmark: 'cli-start',
    settings: { runs, warmUpRounds: warmUp, scoreFile: 'test/fixtures/data-app/api.score.yaml' },
    machine: about,
    rows,
    samplesMs: samples,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`results: ${file}`);
}

let exitCode = 0;
try {
  await main();
} catch (error) {
  if (!wasInterrupted()) {
    console.error(`\ncli-start failed: ${error.stack ?? error}`);
    exitCode = 1;
  }
} finally {
  await cleanUp();
}
if (cleanupProblems.length > 0 && exitCode === 0) exitCode = 1;
process.exit(wasInterrupted() ? 130 : exitCode);
