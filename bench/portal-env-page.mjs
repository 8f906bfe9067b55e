// `npm run bench` (fourth part): how long the portal's environment page takes to become interactive for an
// environment with 50 deployments, in the system Chromium (/usr/bin/chromium, driven by playwright-core).
//
// One `pave up` (SQLite, default settings) serves the built portal and the API. The bench creates an app and a
// `development` environment and queues 50 deployments of one trivial process workload (each with another
// value of one variable, so each is a new set), all at once through the API, then waits until the worker has
// run them all. The page is then loaded BENCH_PORTAL_RUNS times (default 5, after one warm-up load that fills
// the browser's cache), each in a new tab of one fresh Chromium profile, signed in with the admin token (put
// in the tab's sessionStorage before the portal starts, as the sign-in form would).
//
// A load is timed in the page: from navigation start (performance.timeOrigin) until the deployment history
// table shows all 50 rows AND the Rollback button is enabled (its target is known: deployments and status
// are loaded, and the user's permissions decided), checked on every animation frame. That covers the HTML,
// the bundle, the session check (/whoami) and the page's own requests. DOMContentLoaded is reported too.
//
// Settings (environment): BENCH_PORTAL_RUNS (5), BENCH_CHROMIUM (/usr/bin/chromium). Writes
// bench/results/portal-env-page.json. Skips (exit 0) when Chromium is missing; exits non-zero on failure.
/* global document, window -- the functions given to the page run in the browser */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import {
  cleanUp,
  cleanupProblems,
  machine,
  machineLine,
  median,
  onCleanup,
  positiveInt,
  root,
  startPave,
} from './lib.mjs';

const runs = positiveInt('BENCH_PORTAL_RUNS', 5);
const chromiumPath = process.env.BENCH_CHROMIUM || '/usr/bin/chromium';
const DEPLOYMENTS = 50;
const APP = 'bench';
const ENV = 'history';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The trivial workload: a process that idles; `run` makes each deployment's set differ. */
const workload = (dir, run) => ({
  dir,
  spec: {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'idle' },
    containers: {
      main: {
        image: 'node:20',
        command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'],
        variables: { RUN: String(run) },
      },
    },
  },
});

/** Runs in the page on every frame: the time since navigation start once the page is usable, else false. */
const interactive = (expectedRows) => {
  const rows = document.querySelectorAll('table[aria-label="Deployment history"] tbody tr').length;
  const rollback = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Rollback');
  return rows === expectedRows && rollback && !rollback.disabled ? performance.now() : false;
};

async function main() {
  const about = machine();
  const chromiumVersion = execFileSync(chromiumPath, ['--version'], {
    encoding: 'utf8',
    // Debian's wrapper script complains on stderr about its own memory check; the version is on stdout.
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
  console.log(
    `portal-env-page: ${runs} runs (after one warm-up), ${DEPLOYMENTS} deployments, ${chromiumVersion}\n` +
      `${machineLine(about)}\n`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'pave-bench-portal-'));
  onCleanup(`directory ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const server = await startPave(join(dir, 'data'));
  const call = async (method, path, body) => {
    const response = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${server.token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  await call('POST', '/apps', { id: APP });
  // Deleting the app stops its workload; registered before anything runs so a failure cleans up too.
  onCleanup(`app ${APP}`, () => call('DELETE', `/apps/${APP}?force=true`));
  await call('POST', `/apps/${APP}/envs`, { id: ENV, type: 'development' });

  const queuedAt = Date.now();
  for (let run = 1; run <= DEPLOYMENTS; run++) {
    await call('POST', `/apps/${APP}/envs/${ENV}/deployments`, {
      workloads: [workload(dir, run)],
      message: `bench run ${run}`,
    });
  }
  const deadline = Date.now() + 300_000;
  let items = [];
  while (Date.now() < deadline) {
    ({ items } = await call('GET', `/apps/${APP}/envs/${ENV}/deployments?limit=${DEPLOYMENTS}`));
    if (items.length === DEPLOYMENTS && items.every((d) => d.status === 'succeeded' || d.status === 'failed'))
      break;
    await sleep(250);
  }
  const failed = items.filter((d) => d.status !== 'succeeded');
  if (items.length !== DEPLOYMENTS || failed.length > 0) {
    throw new Error(
      `expected ${DEPLOYMENTS} successful deployments, have ${items.length}; not succeeded: ` +
        failed.map((d) => `#${d.id} ${d.status} ${d.reason ?? ''}`).join('; '),
    );
  }
  const setupMs = Date.now() - queuedAt;
  console.log(`  ${DEPLOYMENTS} deployments queued and run in ${(setupMs / 1000).toFixed(1)} s`);

  const profile = mkdtempSync(join(tmpdir(), 'pave-bench-chromium-'));
  onCleanup(`Chromium profile ${profile}`, () => rmSync(profile, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 800 },
  });
  onCleanup('Chromium', () => context.close());
  // As the sign-in form does: the tab keeps the token in sessionStorage, which the portal reads at start.
  await context.addInitScript((token) => window.sessionStorage.setItem('pave.token', token), server.token);

  const target = `${server.url}/#/apps/${APP}/envs/${ENV}`;
  const samples = [];
  for (let run = 0; run <= runs; run++) {
    const warmUp = run === 0;
    const page = await context.newPage();
    const startedAt = Date.now();
    await page.goto(target, { waitUntil: 'commit' });
    const handle = await page.waitForFunction(interactive, DEPLOYMENTS, { polling: 'raf', timeout: 60_000 });
    const interactiveMs = await handle.jsonValue();
    const wallMs = Date.now() - startedAt;
    const domContentLoadedMs = await page.evaluate(
      () => performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? null,
    );
    await page.close();
    console.log(
      `  run ${run}${warmUp ? ' (warm-up)' : '          '}  interactive ${interactiveMs.toFixed(0).padStart(5)} ms` +
        `   DOMContentLoaded ${String(Math.round(domContentLoadedMs)).padStart(4)} ms   (wall ${wallMs} ms)`,
    );
    if (!warmUp) samples.push({ interactiveMs, domContentLoadedMs, wallMs });
  }
  about.loadAverageAfter = loadavg().map((load) => Number(load.toFixed(2)));

  const interactiveAll = samples.map((s) => s.interactiveMs);
  const summary = {
    interactiveMs: {
      median: median(interactiveAll),
      min: Math.min(...interactiveAll),
      max: Math.max(...interactiveAll),
    },
    domContentLoadedMs: { median: median(samples.map((s) => s.domContentLoadedMs)) },
    wallMs: { median: median(samples.map((s) => s.wallMs)) },
  };
  console.log(
    `\nenvironment page with ${DEPLOYMENTS} deployments interactive: median ${summary.interactiveMs.median.toFixed(0)} ms, ` +
      `min ${summary.interactiveMs.min.toFixed(0)} ms, max ${summary.interactiveMs.max.toFixed(0)} ms ` +
      `(DOMContentLoaded median ${Math.round(summary.domContentLoadedMs.median)} ms)`,
  );
  const file = join(root, 'bench/results/portal-env-page.json');
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        benchmark: 'portal-env-page',
        settings: { runs, warmUpRuns: 1, deployments: DEPLOYMENTS, viewport: '1280x800' },
        browser: chromiumVersion,
        machine: about,
        setup: { deploymentsQueuedAndRunMs: setupMs },
        summary,
        samples,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`results: ${file}`);
}

if (!existsSync(chromiumPath)) {
  console.log(`portal-env-page: skipped, no Chromium at ${chromiumPath} (apt-get install -y chromium)`);
  process.exit(0);
}
// Bounded in time: the deployments, the browser and the loads all finish well within this.
const watchdog = setTimeout(() => {
  console.error('\nportal-env-page: gave up after 10 minutes');
  void cleanUp().finally(() => process.exit(1));
}, 600_000);
try {
  await main();
} catch (error) {
  console.error(`\nportal-env-page failed: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await cleanUp();
}
if (cleanupProblems.length) process.exitCode = 1;
