// `npm run bench`, eighth part: how fast `pave up` starts and how much memory it holds while idle.
//
// Each run starts `pave up` (SQLite, default settings) on a fresh data directory and times it from the spawn
// to the first 200 of GET /healthz (polled every 10 ms): the first start creates the store, the keys and the
// admin user. After 5 s of idling it reads the process's resident memory (VmRSS in /proc/<pid>/status),
// checks that an authenticated GET /api/v1/apps answers 200, stops it, and times a second start on the same
// data directory. Goals (issue #21): first start <= 1 s, idle RSS <= 100 MB.
//
// Settings (environment): BENCH_STARTUP_RUNS (5). Needs `npm run build`. Writes bench/results/startup.json.
// Exits non-zero when a start fails or the API answers wrongly, never because a goal is missed.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  cleanEnvironment,
  cleanUp,
  cleanupProblems,
  freePort,
  machine,
  machineLine,
  median,
  onCleanup,
  paveBin,
  positiveInt,
  root,
} from './lib.mjs';

const runs = positiveInt('BENCH_STARTUP_RUNS', 5);
const IDLE_MS = 5_000;
const GOALS = { firstStartMs: 1_000, idleRssMB: 100 };

/** Starts `pave up` on `dataDir`; resolves once /healthz answers 200, with the milliseconds that took. */
async function start(dataDir) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, [paveBin, 'up', '--data-dir', dataDir, '--port', String(port)], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: cleanEnvironment(),
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  let exited = false;
  const exit = new Promise((resolve) => child.once('exit', () => resolve((exited = true))));
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    if ((await Promise.race([exit, sleep(10_000).then(() => 'timeout')])) === 'timeout') {
      child.kill('SIGKILL');
      await exit;
    }
  };
  const forget = onCleanup(`pave up (pid ${child.pid})`, stop, () => exited || child.kill('SIGKILL'));
  const deadline = Date.now() + 30_000;
  while (!exited && Date.now() < deadline) {
    const healthy = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) {
      const ms = performance.now() - started;
      return {
        ms,
        url,
        pid: child.pid,
        stop: async () => {
          await stop();
          forget();
        },
      };
    }
    await sleep(10);
  }
  await stop();
  forget();
  throw new Error(`pave up did not answer /healthz (${exited ? 'it exited' : 'not within 30 s'}): ${stderr}`);
}

/** The resident memory of process `pid`, in MB. */
function rssMB(pid) {
  const kB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  return kB / 1024;
}

async function main() {
  const about = machine();
  console.log(`startup: first start and idle memory of pave up, ${runs} runs\n${machineLine(about)}`);
  const samples = [];
  for (let run = 1; run <= runs; run++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'pave-bench-startup-'));
    const forgetDir = onCleanup(`directory ${dataDir}`, () =>
      rmSync(dataDir, { recursive: true, force: true }),
    );
    try {
      const first = await start(dataDir);
      await sleep(IDLE_MS);
      const idleRss = rssMB(first.pid);
      const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
      const apps = await fetch(`${first.url}/api/v1/apps`, { headers: { authorization: `Bearer ${token}` } });
      const body = await apps.json();
      if (apps.status !== 200 || !Array.isArray(body.items)) {
        throw new Error(`GET /api/v1/apps answered ${apps.status}: ${JSON.stringify(body)}`);
      }
      await first.stop();
      const second = await start(dataDir);
      await second.stop();
      const sample = {
        firstStartMs: Math.round(first.ms),
        secondStartMs: Math.round(second.ms),
        idleRssMB: Math.round(idleRss),
      };
      samples.push(sample);
      console.log(
        `run ${run}/${runs}: first start ${sample.firstStartMs} ms, second start ${sample.secondStartMs} ms, ` +
          `idle RSS ${sample.idleRssMB} MB`,
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      forgetDir();
    }
  }
  const summary = Object.fromEntries(
    ['firstStartMs', 'secondStartMs', 'idleRssMB'].map((key) => [key, median(samples.map((s) => s[key]))]),
  );
  console.log(
    `\npave up, medians of ${runs}: first start ${summary.firstStartMs} ms (goal <= ${GOALS.firstStartMs}), ` +
      `second start ${summary.secondStartMs} ms, idle RSS ${summary.idleRssMB} MB (goal <= ${GOALS.idleRssMB})`,
  );
  for (const [key, goal] of Object.entries(GOALS)) {
    if (summary[key] > goal) console.log(`goal missed: ${key} ${summary[key]} > ${goal}`);
  }
  about.loadAverageAfter = loadavg().map((load) => Number(load.toFixed(2)));
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(
    join(root, 'bench/results/startup.json'),
    `${JSON.stringify({ machine: about, runs, goals: GOALS, summary, samples }, null, 2)}\n`,
  );
}

try {
  await main();
} catch (error) {
  console.error(`startup bench failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
if (cleanupProblems.length) process.exitCode = 1;
