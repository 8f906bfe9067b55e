// `npm run bench` (third part): how long Pave takes to provision a `postgres` resource, on the embedded default
// (a Postgres Pave runs itself) and with the `postgres-server` driver on an existing server.
//
// One `pave up` (SQLite, default settings) serves all runs. Each run creates a new environment per scenario and
// deploys one workload that asks for a postgres; the figure is the provisioning step as the deployment journal
// records it ("created in N ms": the driver's create, from check to outputs), plus the whole deployment and the
// environment's deletion (which drops the database and its role), as a client sees them.
//
//   embedded   environment type `development`: the built-in `default-postgres` definition (postgres-embedded).
//              The first run also starts the embedded server (initdb on first use); it is reported apart.
//   server     environment type `staging`: a `postgres-server` definition pointed at BENCH_PG_ADMIN_URL
//              (default postgres://postgres@127.0.0.1:5432/postgres).
//
// Settings (environment): BENCH_PROVISION_RUNS (6, the first one reported as cold), BENCH_PG_ADMIN_URL.
// Writes bench/results/provision-postgres.json. Exits non-zero if a deployment or deletion fails.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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

const runs = positiveInt('BENCH_PROVISION_RUNS', 6);
if (runs < 2) throw new Error('BENCH_PROVISION_RUNS must be at least 2: the first run is reported as cold');
const adminUrl = process.env.BENCH_PG_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

const workload = (dir) => ({
  dir,
  spec: {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'app' },
    containers: {
      main: {
        image: 'node:20',
        command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'],
        variables: { DATABASE_URL: '${resources.db.url}' },
      },
    },
    resources: { db: { type: 'postgres' } },
  },
});

async function main() {
  const about = machine();
  console.log(`postgres provisioning, ${runs} runs\n${machineLine(about)}`);
  const dir = mkdtempSync(join(tmpdir(), 'pave-bench-provision-'));
  onCleanup(`directory ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  // The embedded PostgreSQL outlives `pave up` by design (workloads use it): stop it after Pave.
  onCleanup('the embedded PostgreSQL', () => stopEmbeddedServer(join(dir, 'data')));
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
  await call('POST', '/apps', { id: 'bench' });
  onCleanup('app bench', () => call('DELETE', '/apps/bench?force=true').catch(() => undefined));
  await call('POST', '/resource-definitions/apply', {
    definitions: [
      {
        id: 'bench-postgres-server',
        type: 'postgres',
        driver: 'postgres-server',
        driverInputs: { secrets: { adminUrl } },
        criteria: [{ envType: 'staging' }],
      },
    ],
  });

  const scenarios = [
    { name: 'embedded', envType: 'development' },
    { name: 'server', envType: 'staging' },
  ];
  const samples = Object.fromEntries(scenarios.map((s) => [s.name, []]));
  for (let run = 0; run < runs; run++) {
    for (const scenario of scenarios) {
      const env = `${scenario.name}-${run}`;
      await call('POST', '/apps/bench/envs', { id: env, type: scenario.envType });
      const started = performance.now();
      const queued = await call('POST', `/apps/bench/envs/${env}/deployments`, {
        workloads: [workload(dir)],
        // A 1 s stability window for the probe-less workload, as the runtimes had before it was 5 s by
        // default, so the whole-deployment figure stays comparable with the ones recorded in the docs.
        minReadySeconds: 1,
      });
      let detail;
      for (;;) {
        detail = await call('GET', `/apps/bench/envs/${env}/deployments/${queued.id}`);
        if (detail.status === 'succeeded' || detail.status === 'failed') break;
        await sleep(20);
      }
      const deployMs = performance.now() - started;
      if (detail.status !== 'succeeded')
        throw new Error(`${scenario.name} deployment failed: ${detail.reason}`);
      const created = detail.journal.find((entry) => /^app\.db: created in \d+ ms$/.test(entry.message));
      if (!created) throw new Error(`${scenario.name}: the journal records no provisioning of app.db`);
      const provisionMs = Number(/in (\d+) ms/.exec(created.message)[1]);
      const deleteStarted = performance.now();
      await call('DELETE', `/apps/bench/envs/${env}`);
      const deleteMs = performance.now() - deleteStarted;
      samples[scenario.name].push({
        provisionMs,
        deployMs: Math.round(deployMs),
        deleteMs: Math.round(deleteMs),
      });
      console.log(
        `run ${run + 1}/${runs} ${scenario.name.padEnd(8)} provision ${String(provisionMs).padStart(5)} ms  ` +
          `deployment ${String(Math.round(deployMs)).padStart(5)} ms  delete ${String(Math.round(deleteMs)).padStart(5)} ms`,
      );
    }
  }

  const summary = Object.fromEntries(
    scenarios.map(({ name }) => {
      const [cold, ...warm] = samples[name];
      return [
        name,
        {
          cold,
          warmMedian: {
            provisionMs: median(warm.map((s) => s.provisionMs)),
            deployMs: median(warm.map((s) => s.deployMs)),
            deleteMs: median(warm.map((s) => s.deleteMs)),
          },
          warmMin: { provisionMs: Math.min(...warm.map((s) => s.provisionMs)) },
        },
      ];
    }),
  );
  console.log('\npostgres provisioning (ms)         first run   median of the others   min');
  for (const { name } of scenarios) {
    const s = summary[name];
    console.log(
      `  ${name.padEnd(10)} provision          ${String(s.cold.provisionMs).padStart(7)}   ${String(s.warmMedian.provisionMs).padStart(20)}   ${String(s.warmMin.provisionMs).padStart(5)}`,
    );
    console.log(
      `  ${name.padEnd(10)} whole deployment   ${String(s.cold.deployMs).padStart(7)}   ${String(s.warmMedian.deployMs).padStart(20)}`,
    );
    console.log(
      `  ${name.padEnd(10)} environment delete ${String(s.cold.deleteMs).padStart(7)}   ${String(s.warmMedian.deleteMs).padStart(20)}`,
    );
  }
  about.loadAverageAfter = loadavg().map((load) => Number(load.toFixed(2)));
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(
    join(root, 'bench/results/provision-postgres.json'),
    `${JSON.stringify({ machine: about, runs, summary, samples }, null, 2)}\n`,
  );
}

/** Stops the embedded PostgreSQL server of `dataDir` (its pid is in the driver's state file), if it runs. */
async function stopEmbeddedServer(dataDir) {
  const stateFile = join(dataDir, 'resources/postgres/system-server.json');
  if (!existsSync(stateFile)) return;
  const { pid } = JSON.parse(readFileSync(stateFile, 'utf8'));
  if (!pid) return;
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await sleep(100);
}

try {
  await main();
} finally {
  await cleanUp();
}
if (cleanupProblems.length) process.exitCode = 1;
