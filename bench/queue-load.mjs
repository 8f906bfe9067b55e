// `npm run bench`, ninth part: the deployment queue under load. Two `pave up` replicas share one PostgreSQL
// store; 100 environments get 5 deployments each, all queued at once (in rounds: every environment's first,
// then every environment's second, …), and the bench waits for the queue to drain.
//
// The deployments deploy an empty set (no workloads), so what is measured is the queue itself: leases,
// scheduling and bookkeeping, not the runtime. Reported: the drain time, deployments per second, each
// deployment's wait (queued → started) as p50/p95/max, the longest wait per environment (the worst and the
// median environment: a starved environment shows as a worst far above the median), and how the work split
// between the replicas.
//
// Checks (a failure exits non-zero): every deployment succeeds, each environment's deployments start in the
// order they were queued and never overlap, and both replicas take part.
//
// Settings (environment): BENCH_QUEUE_ENVS (100), BENCH_QUEUE_PER_ENV (5), BENCH_PG_URL
// (postgres://postgres@127.0.0.1:5432/postgres: a throw-away pave_bench_* database is created and dropped).
// Needs `npm run build`. Writes bench/results/queue-load.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  cleanUp,
  cleanupProblems,
  createBenchDatabase,
  machine,
  machineLine,
  median,
  onCleanup,
  positiveInt,
  root,
  startPave,
} from './lib.mjs';

const envCount = positiveInt('BENCH_QUEUE_ENVS', 100);
const perEnv = positiveInt('BENCH_QUEUE_PER_ENV', 5);
const maintenanceUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The p-th percentile (0–1) of `values` by nearest rank. */
function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

async function main() {
  const about = machine();
  console.log(
    `queue load: ${envCount} environments × ${perEnv} deployments, 2 replicas on PostgreSQL\n${machineLine(about)}`,
  );
  const database = await createBenchDatabase(maintenanceUrl);
  if (database.skipped) {
    console.log(`skipped: ${database.skipped}`);
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'pave-bench-queue-'));
  onCleanup(`directory ${dataDir}`, () => rmSync(dataDir, { recursive: true, force: true }));
  // Both replicas share the data directory: the master key and the admin token the first one writes.
  const replicas = [];
  for (let i = 0; i < 2; i++) replicas.push(await startPave(dataDir, ['--store', database.url]));
  const call = async (replica, method, path, body) => {
    const response = await fetch(`${replica.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${replica.token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const [first] = replicas;
  await call(first, 'POST', '/apps', { id: 'load' });
  const envs = Array.from({ length: envCount }, (_, i) => `e${i}`);
  for (let i = 0; i < envs.length; i += 10) {
    await Promise.all(
      envs
        .slice(i, i + 10)
        .map((env) => call(first, 'POST', '/apps/load/envs', { id: env, type: 'development' })),
    );
  }

  // Queue every deployment as fast as the API takes them, alternating the replicas that take them.
  const queued = [];
  const started = performance.now();
  for (let round = 0; round < perEnv; round++) {
    await Promise.all(
      envs.map(async (env, i) => {
        const deployment = await call(
          replicas[(i + round) % 2],
          'POST',
          `/apps/load/envs/${env}/deployments`,
          {
            workloads: [],
            message: `round ${round}`,
          },
        );
        queued.push({ env, id: deployment.id, round });
      }),
    );
  }
  const queuedMs = performance.now() - started;

  // Wait for the queue to drain.
  const details = new Map();
  for (;;) {
    const pending = queued.filter((q) => !details.has(q.id));
    const seen = await Promise.all(
      pending.map((q) => call(first, 'GET', `/apps/load/envs/${q.env}/deployments/${q.id}`)),
    );
    for (const detail of seen) {
      if (['succeeded', 'failed', 'cancelled'].includes(detail.status))
        details.set(String(detail.id), detail);
    }
    if (details.size === queued.length) break;
    if (performance.now() - started > 15 * 60_000)
      throw new Error('the queue did not drain within 15 minutes');
    await sleep(250);
  }
  const drainMs = performance.now() - started;

  // Correctness: all succeeded, in order per environment, one at a time.
  const failed = [...details.values()].filter((d) => d.status !== 'succeeded');
  if (failed.length > 0) {
    throw new Error(
      `${failed.length} deployments did not succeed, e.g. ${failed[0].id}: ${failed[0].reason}`,
    );
  }
  const waits = [];
  const worstByEnv = [];
  const byReplica = new Map();
  for (const env of envs) {
    const runs = queued
      .filter((q) => q.env === env)
      .map((q) => details.get(String(q.id)))
      .sort((a, b) => Number(a.id) - Number(b.id));
    let worst = 0;
    for (let i = 0; i < runs.length; i++) {
      const run = runs[i];
      const wait = Date.parse(run.startedAt) - Date.parse(run.createdAt);
      waits.push(wait);
      worst = Math.max(worst, wait);
      const message = run.journal.find((entry) => entry.step === 'run')?.message ?? 'unknown';
      const replica = message.replace(/^run by replica /u, '');
      byReplica.set(replica, (byReplica.get(replica) ?? 0) + 1);
      const next = runs[i + 1];
      if (next && Date.parse(next.startedAt) < Date.parse(run.finishedAt)) {
        throw new Error(`${env}: deployment ${next.id} started before ${run.id} finished`);
      }
    }
    worstByEnv.push(worst);
  }
  if (byReplica.size < 2) throw new Error(`only one replica ran deployments: ${[...byReplica.keys()]}`);

  const summary = {
    deployments: queued.length,
    queueMs: Math.round(queuedMs),
    drainMs: Math.round(drainMs),
    deploymentsPerSecond: Number(((queued.length / drainMs) * 1000).toFixed(1)),
    waitMs: { p50: percentile(waits, 0.5), p95: percentile(waits, 0.95), max: Math.max(...waits) },
    worstWaitPerEnvMs: {
      median: median(worstByEnv),
      max: Math.max(...worstByEnv),
      min: Math.min(...worstByEnv),
    },
    byReplica: Object.fromEntries(byReplica),
  };
  console.log(
    `${summary.deployments} deployments queued in ${summary.queueMs} ms, drained in ${summary.drainMs} ms ` +
      `(${summary.deploymentsPerSecond}/s)\n` +
      `wait queued → started: p50 ${summary.waitMs.p50} ms, p95 ${summary.waitMs.p95} ms, max ${summary.waitMs.max} ms\n` +
      `longest wait per environment: median ${summary.worstWaitPerEnvMs.median} ms, ` +
      `worst ${summary.worstWaitPerEnvMs.max} ms, best ${summary.worstWaitPerEnvMs.min} ms\n` +
      `by replica: ${[...byReplica].map(([replica, n]) => `${replica}: ${n}`).join('; ')}`,
  );
  about.loadAverageAfter = loadavg().map((load) => Number(load.toFixed(2)));
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(
    join(root, 'bench/results/queue-load.json'),
    `${JSON.stringify({ machine: about, envs: envCount, perEnv, summary }, null, 2)}\n`,
  );
}

try {
  await main();
} catch (error) {
  console.error(`queue-load bench failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
if (cleanupProblems.length) process.exitCode = 1;
