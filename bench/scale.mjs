// How Pave behaves with a year of history: a store seeded with 1 000 apps, 10 000 environments, 1 000 000
// finished deployments (with journals), 100 000 values versions and the audit entries all of that writes
// (about 1.1 million), on SQLite and on PostgreSQL, then served by a real `pave up` (the built CLI).
//
// Seeding goes through Pave's own domain functions, bundled with esbuild from packages/server/src and run in
// this process: createApp, createEnvironment, patchValues, and per deployment insertDeployment (which writes
// its audit entry and its deployment.queued event), saveSet, recordRunStart, journal and recordSuccess or
// recordFailure (which keep the DORA facts). Nothing is inserted with raw SQL, so the audit log is a real hash
// chain (keyed with the store's audit key, loaded as `pave up` loads it) that `pave audit verify` checks. For
// speed the calls are batched, 1 000 to a transaction (100 on PostgreSQL): the domain functions that open a
// transaction of their own are given the batch's transaction as their store (on SQLite the store has one
// connection, so nothing may use `store.db` inside a transaction). One deployment in 20 fails. One
// environment (the "hot" one, the first environment of the first app) gets 5 100 deployments whatever the
// scale, so that its 100th page exists; the other deployments go round the other environments, interleaved
// in time over a year. Every scale seeds at least 50 apps (a page of GET /apps), 10 environments each.
//
// Before seeding, `pave up` starts once on the empty store (it creates the admin user, the master key and
// the audit key); after, PostgreSQL gets the `vacuum analyze` that autovacuum would have run by then (SQLite
// gets nothing: Pave does not run ANALYZE), then a checkpoint on either engine, so that no write-back from
// seeding overlaps the requests. Then `pave up` starts again; once it has looked at every environment for
// stopped workloads to restart (it does so after it starts listening; the bench reports how long that took),
// the bench measures, sequentially over one keep-alive connection from a process of its own per endpoint
// (bench/timed-get.mjs: the bench's own process, with the heap seeding left it, added milliseconds to every
// request), BENCH_SCALE_REQUESTS (200) requests per endpoint after 20 warm-up requests:
// p50/p95/max of list apps (first page, and the last page by following nextCursor when GET /apps pages),
// get an app, list the hot environment's deployments (first page and the 100th, by following nextCursor),
// get a deployment, diff two deployments, the default diff of a typical environment (its previous successful
// deployment against its current one), the audit log filtered by the hot app; then the portal's
// environment page of the hot environment in Chromium (time from navigation start until the deployment
// table has rows and the Rollback button is enabled; 5 loads after 1 warm-up; skipped without Chromium), and
// `pave audit verify` over the whole chain (the CLI; the server walks the chain: its wall time, and the peak
// RSS of `pave up`, which does the walk, and of the CLI; meanwhile GET /apps/:app every 100 ms, to show whether
// the API still answers). `pave up`'s RSS is sampled every 50 ms throughout.
//
// Settings (environment):
//   BENCH_SCALE           comma-separated scales, each a fraction of the full size (0.01) or a number of
//                         deployments (10000); default 1 (the full size). `BENCH_SCALE=10000,1000000` measures
//                         the growth from 10 k to 1 M rows in one run.
//   BENCH_SCALE_ENGINES   sqlite,postgres (default both)
//   BENCH_SCALE_REQUESTS  measured requests per endpoint (200)
//   BENCH_SCALE_BATCH     domain calls per seeding transaction (1000 on SQLite, 100 on PostgreSQL)
//   BENCH_PG_URL          postgres://postgres@127.0.0.1:5432/postgres (a throw-away pave_bench_* database)
//   BENCH_CHROMIUM        /usr/bin/chromium
//   BENCH_SCALE_KEEP      1 keeps each seeded store (the PostgreSQL database, the SQLite data directory) and
//                         prints where it is, to look into it afterwards; drop or remove it yourself
// Goals (reported, never failing the run): every list/get p95 <= 10 ms on SQLite and <= 20 ms on PostgreSQL
// at 1 M rows; p95 growth from the smallest to the largest scale <= 1.5x; audit verify of 1 M entries under
// 30 s in constant memory; `pave up` RSS <= 250 MB under load. Writes bench/results/scale.json (results of
// other scales measured earlier are kept, one per engine and scale). Exits non-zero on wrong results only: a
// non-2xx answer, a failed verify, counts that do not match.
/* global document, window -- the functions given to the page run in the browser */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import {
  cleanEnvironment,
  cleanUp,
  cleanupProblems,
  createBenchDatabase,
  machine,
  machineLine,
  onCleanup,
  paveBin,
  positiveInt,
  redactUrl,
  root,
  startPave,
  wasInterrupted,
} from './lib.mjs';

const FULL = { apps: 1_000, envsPerApp: 10, deployments: 1_000_000, valuesVersions: 100_000 };
const HOT_DEPLOYMENTS = 5_100;
const PAGE = 50;
const DEEP_PAGE = 100;
const YEAR_MS = 365 * 86_400_000;
const GOALS = { p95Ms: { sqlite: 10, postgres: 20 }, growth: 1.5, verifySeconds: 30, rssMB: 250 };
// RSS is sampled in MiB; the goal is in MB (250 MB is 238.4 MiB).
const MIB_PER_MB = 1e6 / 2 ** 20;

const requests = positiveInt('BENCH_SCALE_REQUESTS', 200);
// Calls per transaction. PostgreSQL keeps every version of a row updated in one transaction (the head of the
// audit chain, the event cursor, the environment) until it commits, so long transactions slow down there.
const batchSize = (engine) => positiveInt('BENCH_SCALE_BATCH', engine === 'postgres' ? 100 : 1_000);
const WARM_UP = 20;
const maintenanceUrl = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const chromiumPath = process.env.BENCH_CHROMIUM || '/usr/bin/chromium';
const keepStores = process.env.BENCH_SCALE_KEEP === '1';
const engines = (process.env.BENCH_SCALE_ENGINES || 'sqlite,postgres').split(',').map((e) => e.trim());
for (const engine of engines) {
  if (engine !== 'sqlite' && engine !== 'postgres') {
    throw new Error(`BENCH_SCALE_ENGINES: "${engine}" is neither sqlite nor postgres`);
  }
}

/** The scales to run, as fractions of the full size. */
function scales() {
  const raw = process.env.BENCH_SCALE || '1';
  return raw.split(',').map((part) => {
    const value = Number(part.trim());
    if (!Number.isFinite(value) || value <= 0) {
      throw new Error(
        `BENCH_SCALE: "${part}" is neither a fraction (0.01) nor a number of deployments (10000)`,
      );
    }
    return value <= 1 ? value : value / FULL.deployments;
  });
}

/** What a scale seeds. */
function sizes(fraction) {
  // At least a page of apps at every scale, so that the first page of GET /apps answers the same 50 apps at
  // 10 k rows as at 1 M and its growth compares like with like (10 k rows alone would seed 10 apps).
  const apps = Math.max(PAGE, Math.round(FULL.apps * fraction));
  const deployments = Math.max(2, Math.round(FULL.deployments * fraction));
  return {
    fraction,
    apps,
    environments: apps * FULL.envsPerApp,
    deployments,
    hotDeployments: Math.min(HOT_DEPLOYMENTS, Math.floor(deployments / 2)),
    valuesVersions: Math.max(1, Math.round(FULL.valuesVersions * fraction)),
  };
}

// ---- Pave's domain layer, bundled from source (@photostructure/sqlite, pg and the other packages stay outside) ----

const cacheDir = join(root, 'node_modules/.cache/pave-bench');
mkdirSync(cacheDir, { recursive: true });
const bundle = join(cacheDir, `scale-${process.pid}.mjs`);
await build({
  stdin: {
    contents: [
      "export { openStore } from './packages/server/src/store/index.ts';",
      "export { createApp } from './packages/server/src/domain/apps.ts';",
      "export { createEnvironment } from './packages/server/src/domain/environments.ts';",
      "export { patchValues, latestValuesVersion } from './packages/server/src/domain/values.ts';",
      "export { insertDeployment } from './packages/server/src/domain/deployments/service.ts';",
      "export { saveSet } from './packages/server/src/domain/deployments/sets.ts';",
      "export { recordRunStart, recordSuccess, recordFailure, journal } from './packages/server/src/domain/deployments/records.ts';",
      "export { loadAuditKey } from './packages/server/src/domain/audit-key.ts';",
      "export { keyringSource } from './packages/server/src/secrets/keyring.ts';",
      "export { SecretBox } from './packages/server/src/secrets/secret-box.ts';",
      "export { sql } from 'kysely';",
    ].join('\n'),
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: bundle,
  plugins: [
    {
      // Third-party packages load from node_modules as they are; Pave's workspace packages are bundled.
      name: 'external-packages',
      setup(builder) {
        builder.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@pave/') || args.path.startsWith('node:') ? undefined : { external: true },
        );
      },
    },
  ],
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
const domain = await import(pathToFileURL(bundle).href);
rmSync(bundle, { force: true });

// ---- seeding ----

/** A store-shaped view of one transaction, for domain functions that take a store and open their own. */
function within(store, tx) {
  return {
    engine: store.engine,
    location: store.location,
    db: tx,
    transaction: (fn) => fn(tx),
    ping: async () => undefined,
    close: async () => undefined,
  };
}

/** Prints progress (rows/s) at most every 2 s. */
function progress(label, total) {
  const started = performance.now();
  let shown = started;
  return {
    tick(done) {
      const at = performance.now();
      if (at - shown < 2_000 && done < total) return;
      shown = at;
      const rate = done / ((at - started) / 1000);
      const left = rate > 0 ? (total - done) / rate : 0;
      process.stdout.write(
        `\r    ${label}: ${done}/${total} (${Math.round(rate)}/s${done < total ? `, ~${Math.round(left)} s left` : ''})     ` +
          (done >= total ? '\n' : ''),
      );
    },
    seconds: () => (performance.now() - started) / 1000,
  };
}

/** Runs `each(i, store)` for i in [0, total), batchSize() to a transaction. Resolves with the seconds it took. */
async function batched(store, label, total, each) {
  const shown = progress(label, total);
  const batch = batchSize(store.engine);
  for (let from = 0; from < total; from += batch) {
    if (wasInterrupted()) throw new Error('interrupted');
    const to = Math.min(total, from + batch);
    await store.transaction(async (tx) => {
      const view = within(store, tx);
      for (let i = from; i < to; i++) await each(i, view);
    });
    shown.tick(to);
  }
  return shown.seconds();
}

const appId = (i) => `app-${String(i).padStart(4, '0')}`;
const envId = (i) => `env-${i % FULL.envsPerApp}`;
const at = (ms) => new Date(ms).toISOString();

/** The workload of a deployment; `tag` varies it, so deployments differ by set. */
const workload = (app, tag) => ({
  dir: `/srv/${app}`,
  spec: {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'web' },
    containers: { main: { image: `registry.example.com/${app}:1.${tag}`, variables: { TAG: String(tag) } } },
    service: { ports: { http: { port: 8080 } } },
  },
});

async function seed(store, dataDir, size) {
  // As `pave up` does at start: the audit key, so that the entries are chained with it.
  const keyring = domain.keyringSource(dataDir, cleanEnvironment());
  const box = new domain.SecretBox(store.db, keyring);
  await domain.loadAuditKey(store.db, box);
  keyring.load();
  await box.init();
  const admin = await store.db
    .selectFrom('users')
    .select(['id', 'username'])
    .where('username', '=', 'admin')
    .executeTakeFirstOrThrow();
  const context = {
    actor: {
      userId: admin.id,
      username: admin.username,
      tokenId: '',
      tokenName: 'bench',
      tokenExpiresAt: null,
      grants: [],
      tokenScope: null,
    },
    requestId: 'bench-scale',
  };
  const timings = {};
  timings.apps = await batched(store, 'apps', size.apps, (i, view) =>
    domain.createApp(view, context, { id: appId(i) }),
  );
  timings.environments = await batched(store, 'environments', size.environments, (i, view) =>
    domain.createEnvironment(view, context, appId(Math.floor(i / FULL.envsPerApp)), {
      id: envId(i),
      type: 'development',
    }),
  );
  // Values versions: each patch sets one value of one environment to a new value, giving it a new version.
  timings.valuesVersions = await batched(store, 'values versions', size.valuesVersions, (i, view) => {
    const env = i % size.environments;
    return domain.patchValues(view, box, context, appId(Math.floor(env / FULL.envsPerApp)), envId(env), {
      set: { LOG_LEVEL: { value: `level-${i}` }, FEATURE_FLAGS: { value: `flags-${i % 7}` } },
    });
  });

  // Deployments: the hot environment (index 0) takes hotDeployments of them, spread evenly over the year;
  // the others go round the remaining environments.
  const start = Date.now() - YEAR_MS;
  const step = YEAR_MS / size.deployments;
  const others = size.environments - 1;
  const sets = new Map();
  const previousSet = new Map();
  const valuesVersion = new Map();
  let nextOther = 0;
  const failed = { count: 0 };
  timings.deployments = await batched(store, 'deployments', size.deployments, async (i, view) => {
    const tx = view.db;
    const hot =
      others === 0 ||
      Math.floor(((i + 1) * size.hotDeployments) / size.deployments) >
        Math.floor((i * size.hotDeployments) / size.deployments);
    const env = hot ? 0 : 1 + (nextOther++ % others);
    const app = appId(Math.floor(env / FULL.envsPerApp));
    const target = { app, env: envId(env) };
    const tag = i % 200;
    const source = workload('app', tag);
    let setId = sets.get(tag);
    if (!setId) {
      setId = await domain.saveSet(tx, { web: source });
      sets.set(tag, setId);
    }
    if (!valuesVersion.has(env)) {
      valuesVersion.set(env, await domain.latestValuesVersion(tx, target.app, target.env));
    }
    const created = start + i * step;
    const request = { upsert: [source], timeoutSeconds: 60, autoRollback: true };
    const commit = { id: null, commit: `c0ffee${i.toString(16)}`, commitTime: at(created - 3_600_000) };
    const deployment = await domain.insertDeployment(
      tx,
      context,
      target,
      'deploy',
      request,
      `release 1.${tag}`,
      commit,
      () => at(created),
    );
    const id = Number(deployment.id);
    await domain.recordRunStart(tx, id, {
      setId,
      previousSetId: previousSet.get(env) ?? null,
      valuesVersion: valuesVersion.get(env),
      startedAt: at(created + 1_000),
    });
    await domain.journal(tx, id, { step: 'plan', status: 'succeeded', message: '1 workload to deploy' });
    await domain.journal(tx, id, {
      step: 'deploy',
      workload: 'web',
      status: 'started',
      message: 'deploying',
    });
    const finished = () => at(created + 30_000 + (i % 10) * 1_000);
    if (i % 20 === 19) {
      failed.count += 1;
      await domain.journal(tx, id, {
        step: 'ready',
        workload: 'web',
        status: 'failed',
        message: 'not ready within 60 s',
      });
      await domain.recordFailure(tx, id, 'web: not ready within 60 s', false, finished);
    } else {
      await domain.journal(tx, id, { step: 'ready', workload: 'web', status: 'succeeded', message: 'ready' });
      if (!(await domain.recordSuccess(tx, id, { ...target, setId }, undefined, finished))) {
        throw new Error(`deployment ${id} could not be recorded as succeeded`);
      }
      previousSet.set(env, setId);
    }
  });
  return { timings, failed: failed.count };
}

/** Row counts of what was seeded, to check the seeding and to report. */
async function counts(store) {
  const count = async (table) =>
    Number(
      (
        await store.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    apps: await count('apps'),
    environments: await count('environments'),
    deployments: await count('deployments'),
    journalEntries: await count('deployment_journal'),
    valuesVersions: await count('env_value_versions'),
    auditEntries: await count('audit_entries'),
    events: await count('events'),
  };
}

// ---- measuring ----

/** The p-th percentile (0–1) of `values` by nearest rank. */
function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}
const round = (ms) => Number(ms.toFixed(2));

/** The resident set (VmRSS) and its peak (VmHWM) of a process, in MiB; null once it is gone. */
function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'mu').exec(status)?.[1] ?? NaN);
    const rss = kib('VmRSS');
    // An exited process not yet reaped has no memory lines.
    return Number.isNaN(rss) ? null : { rss: rss / 1024, peak: kib('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** Samples a process's RSS every 50 ms until stopped; resolves with the highest seen, in MiB. */
function sampleRss(pid) {
  let max = 0;
  const take = () => {
    const memory = memoryOf(pid);
    if (memory) max = Math.max(max, memory.rss);
  };
  take();
  const timer = setInterval(take, 50);
  return {
    stop() {
      clearInterval(timer);
      take();
      return Number(max.toFixed(1));
    },
  };
}

/**
 * Samples the V8 heap of `pave up` from its /metrics every 200 ms until stopped; resolves with the largest
 * size seen of each heap space (young generation, old generation, large objects), in MiB. That tells what an
 * RSS peak was made of: V8's heap, or memory outside it (SQLite's page cache, native buffers).
 */
function sampleHeap(server) {
  const largest = {};
  let stopped = false;
  const poll = (async () => {
    while (!stopped) {
      const response = await fetch(`${server.url}/metrics`, {
        headers: { authorization: `Bearer ${server.token}` },
      }).catch(() => null);
      const text = response?.ok ? await response.text() : '';
      for (const match of text.matchAll(/^\w*nodejs_heap_space_size_total_bytes\{space="(\w+)"\} (\d+)/gmu)) {
        const mib = Number(match[2]) / 2 ** 20;
        if (mib > 0) largest[match[1]] = Math.max(largest[match[1]] ?? 0, Number(mib.toFixed(1)));
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await poll;
      return largest;
    },
  };
}

/**
 * Waits until `pave up` has looked at every environment for stopped workloads to restart (it does so once,
 * after it starts listening: a query and a question to the runtime per environment); resolves with how long
 * that took, by its log line.
 */
async function startUpScan(logFile, from) {
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline) {
    const line = readFileSync(logFile, 'utf8')
      .slice(from)
      .split('\n')
      .find((text) => text.includes('looked for stopped workloads'));
    if (line) {
      const { environments, ms } = JSON.parse(line);
      return { environments, ms };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`pave up did not finish looking for stopped workloads within 10 minutes (${logFile})`);
}

/** Runs bench/timed-get.mjs: `count` sequential GETs of `url`; resolves with what it printed. */
function timedGets(server, url, count) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bench/timed-get.mjs'), url, String(count)], {
      env: cleanEnvironment({ BENCH_TOKEN: server.token }),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`bench/timed-get.mjs exited with ${code}`)),
    );
  });
}

async function measure(engine, size, dataDir, storeArgs) {
  // The log of the first start (before seeding) comes first in the same file.
  const logFile = join(dataDir, 'pave-up.log');
  const logged = existsSync(logFile) ? readFileSync(logFile, 'utf8').length : 0;
  const server = await startPave(dataDir, storeArgs);
  // Measure the server as it runs, not while it takes stock after its start.
  const startUp = await startUpScan(server.logFile, logged);
  const idleRss = memoryOf(server.pid)?.rss ?? null;
  const problems = [];
  const call = async (path) => {
    const response = await fetch(`${server.url}/api/v1${path}`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  };
  // Each endpoint's requests go from a process of their own (bench/timed-get.mjs), the same for every scale.
  const timed = async (name, path, check) => {
    const { status, samples, bytes, body } = await timedGets(
      server,
      `${server.url}/api/v1${path}`,
      WARM_UP + requests,
    );
    if (status < 200 || status > 299) {
      problems.push(`${name}: GET ${path} answered ${status}: ${body.slice(0, 300)}`);
      return { name, path, error: `HTTP ${status}` };
    }
    const problem = check?.(JSON.parse(body));
    if (problem) {
      problems.push(`${name}: GET ${path}: ${problem}`);
      return { name, path, error: problem };
    }
    const measured = samples.slice(WARM_UP);
    return {
      name,
      path,
      p50: round(percentile(measured, 0.5)),
      p95: round(percentile(measured, 0.95)),
      max: round(Math.max(...measured)),
      bytes,
    };
  };

  const rssUnderLoad = sampleRss(server.pid);
  const hotApp = appId(0);
  const hotEnv = envId(0);
  const endpoints = [];
  const notes = [];

  // List apps: the first page, and, when GET /apps pages ({items, nextCursor}), the last page.
  const firstApps = await call(`/apps?limit=${PAGE}`);
  const paged = !Array.isArray(firstApps) && Array.isArray(firstApps?.items);
  endpoints.push(
    await timed('list apps, first page', `/apps?limit=${PAGE}`, (body) => {
      const items = Array.isArray(body) ? body : body.items;
      const expected = paged ? Math.min(PAGE, size.apps) : size.apps;
      return items.length === expected ? null : `${items.length} apps, expected ${expected}`;
    }),
  );
  if (paged) {
    let cursor = firstApps.nextCursor;
    let page = 1;
    let lastCursor = null;
    while (cursor) {
      lastCursor = cursor;
      page += 1;
      cursor = (await call(`/apps?limit=${PAGE}&cursor=${encodeURIComponent(cursor)}`)).nextCursor;
    }
    if (lastCursor) {
      endpoints.push(
        await timed(
          `list apps, last page (${page})`,
          `/apps?limit=${PAGE}&cursor=${encodeURIComponent(lastCursor)}`,
        ),
      );
    } else {
      notes.push('list apps: one page only at this scale, no deep page');
    }
  } else {
    notes.push(
      'GET /apps does not page yet (it answers every app in one array): only its first and only "page" is measured',
    );
  }

  endpoints.push(
    await timed('get app', `/apps/${hotApp}`, (body) =>
      body.environments?.length === FULL.envsPerApp ? null : `${body.environments?.length} environments`,
    ),
  );

  // The hot environment's deployments: first page, then the 100th by following nextCursor.
  const deploymentsPath = `/apps/${hotApp}/envs/${hotEnv}/deployments`;
  endpoints.push(
    await timed('list deployments, first page', `${deploymentsPath}?limit=${PAGE}`, (body) =>
      body.items.length === PAGE ? null : `${body.items.length} deployments on the first page`,
    ),
  );
  let page = await call(`${deploymentsPath}?limit=${PAGE}`);
  const newest = page.items[0];
  let pageNumber = 1;
  let cursor = null;
  while (pageNumber < DEEP_PAGE && page.nextCursor) {
    cursor = page.nextCursor;
    page = await call(`${deploymentsPath}?limit=${PAGE}&cursor=${cursor}`);
    pageNumber += 1;
  }
  if (cursor) {
    endpoints.push(
      await timed(
        `list deployments, page ${pageNumber}`,
        `${deploymentsPath}?limit=${PAGE}&cursor=${cursor}`,
      ),
    );
  }
  if (pageNumber < DEEP_PAGE) notes.push(`the hot environment has ${pageNumber} pages, not ${DEEP_PAGE}`);

  // A deployment from the middle of the history, and a diff of two with other sets and values versions.
  const middle = page.items[Math.floor(page.items.length / 2)];
  endpoints.push(
    await timed('get deployment', `${deploymentsPath}/${middle.id}`, (body) =>
      body.journal?.length >= 3 ? null : `journal of ${body.journal?.length} entries`,
    ),
  );
  endpoints.push(
    await timed(
      'diff two deployments',
      `/apps/${hotApp}/envs/${hotEnv}/diff?from=${middle.id}&to=${newest.id}`,
    ),
  );
  // A typical environment's default diff: its previous successful deployment against its current one, which
  // has to find the previous one among the whole history.
  const typical = size.environments > 1 ? size.environments - 1 : 0;
  const typicalPath = `/apps/${appId(Math.floor(typical / FULL.envsPerApp))}/envs/${envId(typical)}`;
  endpoints.push(
    await timed('diff, default (typical env)', `${typicalPath}/diff`, (body) =>
      body && typeof body === 'object' ? null : 'no diff',
    ),
  );
  endpoints.push(
    await timed('audit log of an app', `/audit?app=${hotApp}`, (body) =>
      body.items.length > 0 ? null : 'no entries',
    ),
  );

  // The portal's environment page, in Chromium.
  const portal = existsSync(chromiumPath)
    ? await portalPage(server, hotApp, hotEnv)
    : { skipped: `no Chromium at ${chromiumPath}` };
  const rssUnderLoadMiB = rssUnderLoad.stop();

  // `pave audit verify` over the whole chain: the CLI asks, the server walks the chain.
  writeFileSync(`/proc/${server.pid}/clear_refs`, '5'); // resets the server's peak RSS (VmHWM)
  const rssBeforeVerify = memoryOf(server.pid)?.rss ?? null;
  const verify = await auditVerify(server);
  const afterVerify = memoryOf(server.pid);
  if (!verify.ok) problems.push(`audit verify: ${verify.error}`);
  await server.stop();
  return {
    endpoints,
    notes,
    portal,
    verify: {
      ...verify,
      serverRssBeforeMiB: rssBeforeVerify && Number(rssBeforeVerify.toFixed(1)),
      serverPeakRssMiB: afterVerify && Number(afterVerify.peak.toFixed(1)),
    },
    rss: { idleMiB: idleRss && Number(idleRss.toFixed(1)), underLoadMaxMiB: rssUnderLoadMiB },
    startUp,
    problems,
  };
}

async function auditVerify(server) {
  const started = performance.now();
  const child = spawn(process.execPath, [paveBin, 'audit', 'verify', '-o', 'json'], {
    cwd: root,
    env: cleanEnvironment({ PAVE_SERVER: server.url, PAVE_TOKEN: server.token }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const serverRss = sampleRss(server.pid);
  const serverHeap = sampleHeap(server);
  const cliRss = sampleRss(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  // Meanwhile, how long the API takes to answer a small read (on SQLite the walk shares its one connection).
  let done = false;
  const apiDuringVerify = [];
  const probe = (async () => {
    while (!done) {
      const sent = performance.now();
      const response = await fetch(`${server.url}/api/v1/apps/${appId(0)}`, {
        headers: { authorization: `Bearer ${server.token}` },
      });
      await response.text();
      if (!done) apiDuringVerify.push(performance.now() - sent);
      await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
  })();
  const code = await exited;
  done = true;
  await probe;
  const wallSeconds = Number(((performance.now() - started) / 1000).toFixed(2));
  const serverMax = serverRss.stop();
  const serverHeapMiB = await serverHeap.stop();
  const cliMax = cliRss.stop();
  let result = null;
  try {
    result = JSON.parse(stdout);
  } catch {
    // reported below
  }
  const ok = code === 0 && result?.ok === true;
  return {
    ok,
    entries: result?.entries ?? null,
    keyedFrom: result?.keyedFrom ?? null,
    wallSeconds,
    serverRssMaxMiB: serverMax,
    serverHeapMaxMiB: serverHeapMiB,
    cliRssMaxMiB: cliMax,
    apiDuringVerifyMs: apiDuringVerify.length
      ? { p50: round(percentile(apiDuringVerify, 0.5)), max: round(Math.max(...apiDuringVerify)) }
      : null,
    ...(ok ? {} : { error: `exit ${code}: ${(stderr || stdout).trim().slice(0, 500)}` }),
  };
}

/** Loads the environment page 1 + 5 times; the time from navigation start until it shows its history. */
async function portalPage(server, app, env) {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'pave-bench-chromium-'));
  const forgetProfile = onCleanup(`Chromium profile ${profile}`, () =>
    rmSync(profile, { recursive: true, force: true }),
  );
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
    ],
    viewport: { width: 1280, height: 800 },
  });
  const forgetBrowser = onCleanup('Chromium', () => context.close());
  try {
    await context.addInitScript((token) => {
      window.sessionStorage.setItem('pave.token', token);
    }, server.token);
    const samples = [];
    let rows = null;
    for (let run = 0; run <= 5; run++) {
      const page = await context.newPage();
      await page.goto(`${server.url}/#/apps/${app}/envs/${env}`, { waitUntil: 'commit' });
      const handle = await page.waitForFunction(
        () => {
          const shown = document.querySelectorAll('table[aria-label="Deployment history"] tbody tr').length;
          const rollback = [...document.querySelectorAll('button')].find(
            (b) => b.textContent.trim() === 'Rollback',
          );
          return shown > 0 && rollback && !rollback.disabled ? { ms: performance.now(), shown } : false;
        },
        undefined,
        { polling: 'raf', timeout: 60_000 },
      );
      const value = await handle.jsonValue();
      await page.close();
      rows = value.shown;
      if (run > 0) samples.push(value.ms);
    }
    return {
      loads: samples.length,
      rowsShown: rows,
      p50: round(percentile(samples, 0.5)),
      max: round(Math.max(...samples)),
    };
  } finally {
    await context.close();
    forgetBrowser();
    rmSync(profile, { recursive: true, force: true });
    forgetProfile();
  }
}

// ---- one engine at one scale ----

async function run(engine, size) {
  const dataDir = mkdtempSync(join(tmpdir(), `pave-bench-scale-${engine}-`));
  const removeDir = () => {
    if (!keepStores) rmSync(dataDir, { recursive: true, force: true });
  };
  const forgetDir = onCleanup(`directory ${dataDir}`, removeDir);
  let url;
  if (engine === 'postgres') {
    const database = await createBenchDatabase(maintenanceUrl, { keep: keepStores });
    if (database.skipped) return { engine, size, skipped: database.skipped };
    url = database.url;
  }
  const storeArgs = url ? ['--store', url] : [];
  try {
    // The first start creates the admin user, the master key and the audit key, as on any installation.
    const first = await startPave(dataDir, storeArgs);
    await first.stop();

    const store = await domain.openStore({ url, dataDir });
    const closeStore = onCleanup(`${engine} store`, () => store.close());
    let seeded;
    let rows;
    try {
      console.log(`  ${engine}: seeding`);
      seeded = await seed(store, dataDir, size);
      // Measure a store at rest, as after a quiet night: PostgreSQL vacuumed and analyzed (as autovacuum
      // would have), then every dirty page written out (else the checkpoints after seeding, gigabytes at
      // 1 M rows, write while the requests are measured); SQLite's write-ahead log folded into the database.
      if (engine === 'postgres') {
        await domain.sql`vacuum analyze`.execute(store.db);
        await domain.sql`checkpoint`.execute(store.db);
      } else {
        await domain.sql`pragma wal_checkpoint(truncate)`.execute(store.db);
      }
      rows = await counts(store);
    } finally {
      await store.close();
      closeStore();
    }
    const seedSeconds = Object.values(seeded.timings).reduce((a, b) => a + b, 0);
    const problems = [];
    for (const [what, expected] of [
      ['apps', size.apps],
      ['environments', size.environments],
      ['deployments', size.deployments],
      ['valuesVersions', size.valuesVersions],
    ]) {
      if (rows[what] !== expected) problems.push(`seeded ${rows[what]} ${what}, expected ${expected}`);
    }
    const seeding = {
      seconds: Number(seedSeconds.toFixed(1)),
      secondsByKind: Object.fromEntries(
        Object.entries(seeded.timings).map(([kind, s]) => [kind, Number(s.toFixed(1))]),
      ),
      deploymentsPerSecond: Math.round(size.deployments / seeded.timings.deployments),
      // Every row a deployment writes: itself, 3 journal entries, an audit entry and an event.
      rowsPerSecond: Math.round(
        (rows.deployments + rows.journalEntries + rows.auditEntries + rows.events + rows.valuesVersions) /
          seedSeconds,
      ),
      failedDeployments: seeded.failed,
    };
    console.log(
      `  ${engine}: seeded in ${seeding.seconds} s (${seeding.deploymentsPerSecond} deployments/s): ` +
        Object.entries(rows)
          .map(([what, n]) => `${n} ${what}`)
          .join(', '),
    );
    const measured = await measure(engine, size, dataDir, storeArgs);
    problems.push(...measured.problems);
    delete measured.problems;
    return { engine, size, rows, seeding, ...measured, problems };
  } finally {
    removeDir();
    forgetDir();
    if (keepStores) console.log(`  kept: ${url ? redactUrl(url) : dataDir} (BENCH_SCALE_KEEP)`);
  }
}

// ---- report ----

function table(result) {
  const lines = [];
  const goal = GOALS.p95Ms[result.engine];
  lines.push(
    `\n${result.engine}, ${result.rows.deployments} deployments, ${result.rows.auditEntries} audit entries, ` +
      `${result.rows.apps} apps, ${result.rows.environments} environments, ${result.rows.valuesVersions} values versions`,
  );
  lines.push(
    `  seeded in ${result.seeding.seconds} s: ${result.seeding.deploymentsPerSecond} deployments/s, ` +
      `${result.seeding.rowsPerSecond} rows/s (${JSON.stringify(result.seeding.secondsByKind)})`,
  );
  lines.push(
    `  ${'request'.padEnd(34)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'max ms'.padStart(8)}  bytes`,
  );
  for (const e of result.endpoints) {
    if (e.error) {
      lines.push(`  ${e.name.padEnd(34)} ERROR ${e.error}`);
      continue;
    }
    const flag = e.p95 > goal ? `  > ${goal} ms goal` : '';
    lines.push(
      `  ${e.name.padEnd(34)} ${String(e.p50).padStart(8)} ${String(e.p95).padStart(8)} ${String(e.max).padStart(8)}  ${e.bytes}${flag}`,
    );
  }
  const portal = result.portal.skipped
    ? `skipped (${result.portal.skipped})`
    : `p50 ${result.portal.p50} ms, max ${result.portal.max} ms over ${result.portal.loads} loads (${result.portal.rowsShown} rows shown)`;
  lines.push(`  portal environment page (Chromium): ${portal}`);
  const v = result.verify;
  lines.push(
    `  pave audit verify: ${v.ok ? `ok, ${v.entries} entries` : `FAILED ${v.error}`} in ${v.wallSeconds} s; ` +
      `pave up RSS ${v.serverRssBeforeMiB} MiB before, peak ${v.serverPeakRssMiB} MiB during ` +
      `(V8 heap spaces at their largest: ${Object.entries(v.serverHeapMaxMiB ?? {})
        .map(([space, mib]) => `${space} ${mib}`)
        .join(', ')} MiB); CLI peak ${v.cliRssMaxMiB} MiB` +
      (v.apiDuringVerifyMs
        ? `; GET /apps/:app meanwhile p50 ${v.apiDuringVerifyMs.p50} ms, max ${v.apiDuringVerifyMs.max} ms`
        : ''),
  );
  lines.push(
    `  pave up RSS: ${result.rss.idleMiB} MiB after start, max ${result.rss.underLoadMaxMiB} MiB under load`,
  );
  if (result.startUp) {
    lines.push(
      `  start-up: looked for stopped workloads in ${result.startUp.environments} environments in ` +
        `${result.startUp.ms} ms (measured after it)`,
    );
  }
  const slow = result.endpoints.filter((e) => e.p95 > goal).map((e) => e.name);
  const verifyGrowthMiB = Number((v.serverPeakRssMiB - v.serverRssBeforeMiB).toFixed(1));
  const rssPeakMiB = Math.max(result.rss.underLoadMaxMiB, v.serverPeakRssMiB);
  lines.push(
    `  goals: p95 <= ${goal} ms ${slow.length ? `MISSED by ${slow.join(', ')}` : 'met'}; ` +
      `verify < ${GOALS.verifySeconds} s ${v.wallSeconds < GOALS.verifySeconds ? 'met' : 'MISSED'} ` +
      `(server RSS grew ${verifyGrowthMiB} MiB while verifying); ` +
      `RSS <= ${GOALS.rssMB} MB ${rssPeakMiB <= GOALS.rssMB * MIB_PER_MB ? 'met' : 'MISSED'} ` +
      `(peak ${rssPeakMiB} MiB, the audit walk included)`,
  );
  for (const note of result.notes) lines.push(`  note: ${note}`);
  for (const problem of result.problems) lines.push(`  WRONG: ${problem}`);
  return lines.join('\n');
}

/** p95 growth from the smallest to the largest scale measured, per engine and request. */
function growth(results) {
  const out = {};
  for (const engine of ['sqlite', 'postgres']) {
    const measured = results
      .filter((r) => r.engine === engine && !r.skipped)
      .sort((a, b) => a.rows.deployments - b.rows.deployments);
    if (measured.length < 2) continue;
    const small = measured[0];
    const large = measured.at(-1);
    out[engine] = {
      from: small.rows.deployments,
      to: large.rows.deployments,
      p95: Object.fromEntries(
        large.endpoints.flatMap((e) => {
          // Deep pages are named by their page number, which is the same at every scale for deployments.
          const before = small.endpoints.find(
            (s) => s.name.replace(/\d+\)?$/u, '') === e.name.replace(/\d+\)?$/u, ''),
          );
          return before && before.p95 && e.p95 ? [[e.name, Number((e.p95 / before.p95).toFixed(2))]] : [];
        }),
      ),
    };
  }
  return out;
}

/** Merges `fresh` into bench/results/scale.json (re-read each time: runs of other scales stay). */
function save(file, about, fresh) {
  let earlier = [];
  try {
    earlier = JSON.parse(readFileSync(file, 'utf8')).results ?? [];
  } catch {
    // first run
  }
  const key = (r) => `${r.engine}@${r.size.deployments}`;
  const replaced = new Set(fresh.map(key));
  const all = [...earlier.filter((r) => !replaced.has(key(r))), ...fresh];
  const grew = growth(all);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify({ goals: GOALS, machine: about, growth: grew, results: all }, null, 2)}\n`,
  );
  return grew;
}

async function main() {
  const about = machine();
  const runs = scales().map(sizes);
  console.log(
    `scale: ${runs.map((s) => `${s.deployments} deployments`).join(', ')} on ${engines.join(', ')}; ` +
      `${requests} requests per endpoint after ${WARM_UP} warm-up\n${machineLine(about)}`,
  );
  const file = join(root, 'bench/results/scale.json');
  const results = [];
  let grew = {};
  for (const size of runs) {
    for (const engine of engines) {
      console.log(`\n${engine} at ${size.deployments} deployments`);
      const result = await run(engine, size);
      if (result.skipped) {
        console.log(`  ${engine}: skipped: ${result.skipped}`);
      } else {
        result.measuredAt = new Date().toISOString();
        result.loadAverage = loadavg().map((load) => Number(load.toFixed(2)));
        console.log(table(result));
      }
      results.push(result);
      about.loadAverageAfter = loadavg().map((load) => Number(load.toFixed(2)));
      grew = save(file, about, results);
    }
  }
  for (const [engine, g] of Object.entries(grew)) {
    console.log(`\n${engine}: p95 growth from ${g.from} to ${g.to} deployments (goal <= ${GOALS.growth}x)`);
    for (const [name, factor] of Object.entries(g.p95)) {
      console.log(`  ${name.padEnd(34)} ${factor}x${factor > GOALS.growth ? '  (goal missed)' : ''}`);
    }
  }
  console.log(`\nresults: ${file}`);
  const wrong = results.flatMap((r) => r.problems ?? []);
  if (wrong.length > 0) throw new Error(`wrong results:\n  ${wrong.join('\n  ')}`);
}

try {
  await main();
} catch (error) {
  // Ctrl-C (or SIGTERM) is not a failure to explain with a stack: the handler has said what it stops.
  console.error(
    wasInterrupted() ? '\nscale bench interrupted' : `\nscale bench failed: ${error.stack ?? error}`,
  );
  process.exitCode = 1;
} finally {
  await cleanUp();
}
if (cleanupProblems.length) process.exitCode = 1;
