// `npm run bench` (fifth part): how fast one `pave up` delivers webhooks to a fast local receiver.
//
// One `pave up` (SQLite, default settings, `--webhook-allow 127.0.0.1/32`) and, in this process, a node:http
// receiver on 127.0.0.1 that verifies every request's Standard Webhooks signature (`standardwebhooks`, as a
// customer's receiver would) and answers 200 at once.
//
// (a) Latency: one webhook taking `values.changed`; BENCH_WEBHOOK_EVENTS (300) events, each made by one API call
//     (PATCH …/envs/latency/values, one after the other). Latency is from the event's `time` (set by the
//     server when it records the change) to the receiver reading the request (same machine, same clock).
// (b) Throughput: BENCH_WEBHOOK_FANOUT (10) webhooks each taking every `values.changed` of an app with 20
//     environments; BENCH_WEBHOOK_BURST (10) app-level value changes, each of which records one event per
//     environment (10 × 20 = 200 events, so 2 000 deliveries), made at once. Deliveries/s is the number of
//     deliveries over the time from the first receipt to the last.
//
// Goals (the webhooks issue): p99 < 500 ms, and ≥ 500 deliveries/s from one replica on this 2-core machine.
// Writes bench/results/webhook-delivery.json; exits non-zero on failure (a bad signature, a lost or doubled
// delivery), not when a goal is missed.
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import {
  cleanUp,
  cleanupProblems,
  machine,
  machineLine,
  onCleanup,
  positiveInt,
  root,
  startPave,
} from './lib.mjs';

const EVENTS = positiveInt('BENCH_WEBHOOK_EVENTS', 300);
const FANOUT = positiveInt('BENCH_WEBHOOK_FANOUT', 10);
const BURST = positiveInt('BENCH_WEBHOOK_BURST', 10);
const ENVS = 20;
const GOAL_P99_MS = 500;
const GOAL_PER_SECOND = 500;

/** The `q` quantile (0…1) of sorted numbers, nearest rank. */
function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** A receiver that verifies each request with the secret of the webhook its path names, and records it. */
async function startReceiver() {
  const verifiers = new Map();
  const received = [];
  const problems = [];
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const at = Date.now();
      const webhook = request.url.slice(1);
      try {
        const event = verifiers.get(webhook).verify(Buffer.concat(chunks).toString('utf8'), request.headers);
        received.push({ webhook, delivery: request.headers['webhook-id'], event, at });
        response.end('ok');
      } catch (error) {
        problems.push(`${webhook}: ${error.message}`);
        response.statusCode = 400;
        response.end('bad signature');
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup('webhook receiver', () => new Promise((resolve) => server.close(resolve)));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    received,
    problems,
    trust: (webhook, secret) => verifiers.set(webhook, new Webhook(secret)),
  };
}

async function main() {
  const about = machine();
  console.log(
    `webhook-delivery: (a) ${EVENTS} events to 1 webhook, (b) ${BURST * ENVS} events to ${FANOUT} webhooks\n` +
      `${machineLine(about)}\n`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'pave-bench-webhooks-'));
  onCleanup(`directory ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const server = await startPave(join(dir, 'data'), ['--webhook-allow', '127.0.0.1/32']);
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
  const receiver = await startReceiver();
  /** Creates a webhook of `app` posting to `/<name>`, and tells the receiver its secret; returns the name. */
  const addWebhook = async (app, name) => {
    const created = await call('POST', '/webhooks', {
      name,
      app,
      url: `${receiver.url}/${name}`,
      events: ['values.changed'],
    });
    receiver.trust(name, created.secret);
    return name;
  };
  const waitFor = async (count, what) => {
    const deadline = Date.now() + 120_000;
    while (receiver.received.length < count && Date.now() < deadline) await sleep(20);
    if (receiver.received.length < count) {
      throw new Error(`${what}: ${receiver.received.length} of ${count} deliveries arrived within 120 s`);
    }
  };

  // (a) latency
  await call('POST', '/apps', { id: 'latency' });
  await call('POST', '/apps/latency/envs', { id: 'dev', type: 'development' });
  const single = await addWebhook('latency', 'latency');
  const madeFrom = Date.now();
  for (let n = 1; n <= EVENTS; n++) {
    await call('PATCH', '/apps/latency/envs/dev/values', { set: { STEP: { value: String(n) } } });
  }
  const madeMs = Date.now() - madeFrom;
  await waitFor(EVENTS, 'latency');
  const latencies = receiver.received
    .filter((r) => r.webhook === single)
    .map((r) => r.at - Date.parse(r.event.time))
    .sort((a, b) => a - b);
  const latency = {
    events: latencies.length,
    eventsPerSecondMade: Math.round((EVENTS / madeMs) * 1000),
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    maxMs: latencies.at(-1),
  };
  console.log(
    `(a) ${latency.events} events made at ${latency.eventsPerSecondMade}/s: event to delivery ` +
      `p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms, max ${latency.maxMs} ms ` +
      `(goal p99 < ${GOAL_P99_MS} ms: ${latency.p99Ms < GOAL_P99_MS ? 'met' : 'NOT met'})`,
  );

  // (b) throughput
  await call('POST', '/apps', { id: 'fanout' });
  for (let n = 1; n <= ENVS; n++)
    await call('POST', '/apps/fanout/envs', { id: `e${n}`, type: 'development' });
  const fanout = [];
  for (let n = 1; n <= FANOUT; n++) fanout.push(await addWebhook('fanout', `fan-${n}`));
  const before = receiver.received.length;
  const burstFrom = Date.now();
  await Promise.all(
    Array.from({ length: BURST }, (_, n) =>
      call('PATCH', '/apps/fanout/values', { set: { [`BURST_${n}`]: { value: 'x' } } }),
    ),
  );
  const burstMadeMs = Date.now() - burstFrom;
  const expected = BURST * ENVS * FANOUT;
  await waitFor(before + expected, 'throughput');
  const burst = receiver.received.slice(before);
  const spanMs = burst.at(-1).at - burst[0].at;
  const throughput = {
    webhooks: FANOUT,
    events: BURST * ENVS,
    deliveries: burst.length,
    eventsMadeInMs: burstMadeMs,
    firstDeliveryAfterMs: burst[0].at - burstFrom,
    spanMs,
    deliveriesPerSecond: Math.round((burst.length / spanMs) * 1000),
  };
  console.log(
    `(b) ${throughput.events} events × ${FANOUT} webhooks (made in ${burstMadeMs} ms): ${throughput.deliveries} ` +
      `deliveries from first to last in ${spanMs} ms = ${throughput.deliveriesPerSecond}/s ` +
      `(goal ≥ ${GOAL_PER_SECOND}/s: ${throughput.deliveriesPerSecond >= GOAL_PER_SECOND ? 'met' : 'NOT met'})`,
  );

  // Every delivery once, each webhook's in the order of the events.
  const problems = [...receiver.problems];
  for (const webhook of [single, ...fanout]) {
    const mine = receiver.received.filter((r) => r.webhook === webhook);
    if (new Set(mine.map((r) => r.delivery)).size !== mine.length)
      problems.push(`${webhook}: a doubled delivery`);
    if (mine.some((r, i) => i > 0 && Number(r.event.id) <= Number(mine[i - 1].event.id))) {
      problems.push(`${webhook}: deliveries out of order`);
    }
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));

  about.loadAverageAfter = loadavg().map((load) => Number(load.toFixed(2)));
  const file = join(root, 'bench/results/webhook-delivery.json');
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify({ benchmark: 'webhook-delivery', machine: about, latency, throughput }, null, 2)}\n`,
  );
  console.log(`results: ${file}`);
}

// Bounded in time: both parts finish well within this, even on a busy machine.
const watchdog = setTimeout(() => {
  console.error('\nwebhook-delivery: gave up after 5 minutes');
  void cleanUp().finally(() => process.exit(1));
}, 300_000);
try {
  await main();
} catch (error) {
  console.error(`\nwebhook-delivery failed: ${error.stack ?? error}`);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
  await cleanUp();
}
if (cleanupProblems.length) process.exitCode = 1;
