// `npm run bench`, sixth part: how long evaluating policies takes per deployment, the work the server adds to
// every deployment, rollback and promotion plan. 50 policies (CEL rules per container, per workload and per
// deployment, promotion gates and freezes) against a set of 20 workloads with 2 containers and a route each.
// The evaluator (packages/core/src/policy-eval.ts) is bundled with esbuild and run in this process, first
// cold (rules compiled on first use), then warm (compiled rules are cached, as in a running server).
//
// Settings (environment): BENCH_POLICY_RUNS measured evaluations (500). Goal: the median below 10 ms.
// Writes bench/results/policy-eval.json. Exits non-zero when a verdict is wrong (the fixture must pass every
// policy), never because the goal is missed.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { machine as describeMachine, machineLine, median, positiveInt, root } from './lib.mjs';

const about = describeMachine();
console.log(machineLine(about));

const runs = positiveInt('BENCH_POLICY_RUNS', 500);
const dir = mkdtempSync(join(tmpdir(), 'pave-bench-policy-'));
const bundle = join(dir, 'policy-eval.mjs');
await build({
  entryPoints: [join(root, 'packages/core/src/policy-eval.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: bundle,
  logLevel: 'warning',
});
const { evaluatePolicies } = await import(pathToFileURL(bundle).href);
rmSync(dir, { recursive: true, force: true });

const RULES = [
  {
    each: 'container',
    rule: 'container.image.contains("@") || (container.image.matches(":[^/:]+$") && !container.image.endsWith(":latest"))',
  },
  {
    each: 'container',
    rule: 'has(container.resources) && has(container.resources.limits) && has(container.resources.limits.memory)',
  },
  { each: 'workload', rule: 'has(workload.metadata.annotations) || workload.metadata.name.size() < 40' },
  {
    rule: 'plan.resources.all(r, r.type != "route" || (has(r.params.host) && r.params.host.endsWith(".example.com")))',
  },
  { rule: '!deployment.allowDataLoss' },
];
const policies = Array.from({ length: 50 }, (_, i) => {
  const base = { id: `policy-${i}`, severity: i % 3 === 0 ? 'warn' : 'deny', message: `policy ${i}` };
  if (i % 10 === 8) return { ...base, promotionGate: { from: 'staging', within: '7d' } };
  if (i % 10 === 9)
    return { ...base, freeze: { schedule: '0 16 * * FRI', duration: '64h', timezone: 'Europe/Berlin' } };
  // Distinct texts, so that 40 rules are compiled, not 5.
  const { each, rule } = RULES[i % RULES.length];
  return { ...base, ...(each ? { each } : {}), rule: `(${rule}) || app == "not-${i}"` };
});
const workloads = Array.from({ length: 20 }, (_, i) => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name: `service-${i}` },
  containers: {
    main: {
      image: `registry.example.com/shop/service-${i}:1.${i}.0`,
      resources: { limits: { memory: '256Mi' } },
      variables: { PORT: '8080' },
    },
    sidecar: { image: 'envoyproxy/envoy:v1.30.1', resources: { limits: { memory: '64Mi' } } },
  },
  resources: { web: { type: 'route', params: { host: `s${i}.example.com`, path: '/', port: 8080 } } },
}));
const input = () => ({
  app: 'shop',
  environment: { id: 'prod', type: 'production' },
  deployment: { kind: 'deploy', actor: 'ada', allowDataLoss: false, prune: false },
  workloads,
  resources: workloads.map((w) => ({ address: `${w.metadata.name}.web`, type: 'route', action: 'keep' })),
  valueKeys: ['DATABASE_URL', 'API_KEY'],
  now: new Date('2026-12-02T12:00:00Z'),
  setSuccesses: [{ envId: 'staging', envType: 'staging', finishedAt: '2026-12-01T12:00:00Z' }],
});

const time = () => {
  const start = process.hrtime.bigint();
  const verdicts = evaluatePolicies(policies, input());
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (verdicts.some((v) => v.outcome === 'deny')) throw new Error('the fixture should pass every policy');
  return ms;
};
const coldMs = time();
for (let i = 0; i < 20; i++) time();
const samples = Array.from({ length: runs }, time).sort((a, b) => a - b);
const result = {
  policies: policies.length,
  workloads: workloads.length,
  containers: workloads.length * 2,
  // CEL evaluations per deployment: container rules once per container, workload rules per workload.
  celEvaluations: policies.reduce(
    (n, p) => n + (p.each === 'container' ? 40 : p.each === 'workload' ? 20 : p.rule ? 1 : 0),
    0,
  ),
  coldMs: Number(coldMs.toFixed(2)),
  medianMs: Number(median(samples).toFixed(3)),
  p95Ms: Number(samples[Math.floor(samples.length * 0.95)].toFixed(3)),
  maxMs: Number(samples.at(-1).toFixed(3)),
  runs,
  goalMs: 10,
  machine: about,
};
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/policy-eval.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `policy evaluation, ${result.policies} policies × ${result.workloads} workloads (${result.containers} containers): ` +
    `cold ${result.coldMs} ms, median ${result.medianMs} ms, p95 ${result.p95Ms} ms, max ${result.maxMs} ms ` +
    `over ${runs} runs (goal < ${result.goalMs} ms)`,
);
// A bench measures and reports; a missed goal does not fail `npm run bench` (a wrong verdict does, above).
if (result.medianMs >= result.goalMs)
  console.log(`goal missed: the median takes ${result.goalMs} ms or more`);
