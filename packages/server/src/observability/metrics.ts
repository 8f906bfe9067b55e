import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkloadStatus } from '@pave/plugin-api';
import type { Store } from '../store/index.ts';

/*
 * Label policy: every label value comes from a short list Pave itself defines (phases, outcomes, deployment
 * kinds, HTTP methods and status codes, route patterns, driver names) or an admin does (runtime target
 * names). None carries an app, environment, user, URL, value or secret: per-app detail is in traces and the
 * API, and a metric series per app would grow without bound.
 */

/** Seconds buckets for HTTP requests: 5 ms to 10 s. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds buckets for deployment phases, whole deployments and driver calls: 10 ms to 15 min. */
const WORK_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900];

/** The HTTP methods a label may name; anything else is `other`. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The workload states a runtime reports (WorkloadStatus.state); each is exported, 0 when none is in it. */
const WORKLOAD_STATES: readonly WorkloadStatus['state'][] = [
  'starting',
  'running',
  'ready',
  'crash-looping',
  'stopped',
];

/** How long the workload counts are kept before a scrape asks the runtimes again. */
export const WORKLOAD_CACHE_MS = 10_000;
/** At most this many environments are asked for their workloads per refresh (the rest are not counted). */
export const WORKLOAD_ENVIRONMENT_LIMIT = 500;

/**
 * Where the workload gauge reads from: the workloads of at most `limit` environments that run something, each
 * environment with its runtime target's name (the `target` label) and its workloads' states. An environment
 * whose runtime does not answer before `signal` aborts is left out.
 */
export interface WorkloadSource {
  workloads(
    limit: number,
    signal: AbortSignal,
  ): Promise<Array<{ target: string; states: Array<WorkloadStatus['state']> }>>;
}

/** What PaveMetrics reads at scrape time. */
export interface MetricsSources {
  store: Store;
  /** Without it, `pave_workloads` is not exported. */
  workloads?: WorkloadSource;
  /** Also export the Node.js process metrics (collectDefaultMetrics); default true. */
  processMetrics?: boolean;
}

/**
 * Pave's Prometheus metrics in a registry of their own (not prom-client's global one), so several control
 * planes in one process (tests) each export their own. `render()` is the `/metrics` body.
 */
export class PaveMetrics {
  readonly registry = new Registry();
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly deployments: Counter<'kind' | 'outcome'>;
  readonly deploymentDuration: Histogram<'kind' | 'outcome'>;
  readonly phaseDuration: Histogram<'phase' | 'outcome'>;
  readonly resourceDriverDuration: Histogram<'driver' | 'operation' | 'outcome'>;
  readonly runtimeDriverDuration: Histogram<'driver' | 'operation' | 'outcome'>;
  readonly webhookDeliveries: Counter<'outcome'>;
  readonly loginFailures: Counter<'reason'>;
  private workloadCounts: { at: number; counts: Map<string, number> } | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    this.httpRequestDuration = new Histogram({
      name: 'pave_http_request_duration_seconds',
      help: 'HTTP requests served, by method, route pattern (not the URL) and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.deployments = new Counter({
      name: 'pave_deployments_total',
      help: 'Deployments this replica ran to their end, by kind and outcome (succeeded or failed)',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.deploymentDuration = new Histogram({
      name: 'pave_deployment_duration_seconds',
      help: 'How long deployments ran on this replica, from start to finish (rollback included)',
      labelNames: ['kind', 'outcome'],
      buckets: WORK_BUCKETS,
      registers,
    });
    this.phaseDuration = new Histogram({
      name: 'pave_deployment_phase_duration_seconds',
      help: 'How long each phase of applying a set took (plan, provision, ..., prune), by outcome',
      labelNames: ['phase', 'outcome'],
      buckets: WORK_BUCKETS,
      registers,
    });
    this.resourceDriverDuration = new Histogram({
      name: 'pave_resource_driver_duration_seconds',
      help: 'Resource driver calls (check, diff, create, update, read, delete), by driver, operation and outcome',
      labelNames: ['driver', 'operation', 'outcome'],
      buckets: WORK_BUCKETS,
      registers,
    });
    this.runtimeDriverDuration = new Histogram({
      name: 'pave_runtime_driver_duration_seconds',
      help: 'Runtime driver calls (deploy, waitReady, remove, destroy), by driver, operation and outcome',
      labelNames: ['driver', 'operation', 'outcome'],
      buckets: WORK_BUCKETS,
      registers,
    });
    this.webhookDeliveries = new Counter({
      name: 'pave_webhook_delivery_attempts_total',
      help: 'Webhook delivery attempts, by outcome (succeeded: a 2xx in time; failed: anything else)',
      labelNames: ['outcome'],
      registers,
    });
    this.loginFailures = new Counter({
      name: 'pave_login_failures_total',
      help: 'Refused logins, by reason (rejected: wrong credentials; rate_limited: too many failures)',
      labelNames: ['reason'],
      registers,
    });
    const store = sources.store;
    new Gauge({
      name: 'pave_deployment_queue_depth',
      help: 'Deployments queued and not yet started, across all replicas',
      registers,
      collect: async function () {
        const queue = await queueOf(store);
        this.set(queue.depth);
      },
    });
    new Gauge({
      name: 'pave_deployment_queue_oldest_age_seconds',
      help: 'How long the oldest queued deployment has waited (0 when none waits)',
      registers,
      collect: async function () {
        const queue = await queueOf(store);
        this.set(queue.oldestAgeSeconds);
      },
    });
    if (sources.workloads) {
      const countWorkloads = () => this.countWorkloads();
      new Gauge({
        name: 'pave_workloads',
        help: `Workloads by runtime target and state, as the runtimes report them (refreshed at most every ${WORKLOAD_CACHE_MS / 1000} s)`,
        labelNames: ['target', 'state'],
        registers,
        collect: async function () {
          this.reset();
          for (const [key, count] of await countWorkloads()) {
            const [target, state] = key.split('\u0000') as [string, string];
            this.set({ target, state }, count);
          }
        },
      });
    }
    if (sources.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'pave_' });
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The Content-Type of `render()`'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Records one HTTP request; `route` is the matched route pattern, or undefined when none matched. */
  observeRequest(method: string, route: string | undefined, status: number, seconds: number): void {
    this.httpRequestDuration.observe(
      {
        method: METHODS.has(method) ? method : 'other',
        route: route ?? '(unmatched)',
        status: String(status),
      },
      seconds,
    );
  }

  /** Workload counts by runtime and state, from a cache no older than WORKLOAD_CACHE_MS. */
  private async countWorkloads(): Promise<Map<string, number>> {
    const cached = this.workloadCounts;
    if (cached && Date.now() - cached.at < WORKLOAD_CACHE_MS) return cached.counts;
    this.refreshing ??= this.refreshWorkloads().finally(() => (this.refreshing = undefined));
    await this.refreshing;
    return this.workloadCounts?.counts ?? new Map();
  }

  private async refreshWorkloads(): Promise<void> {
    const counts = new Map<string, number>();
    // One slow or unreachable runtime must not hold the scrape: its environments are skipped this time.
    const environments = await this.sources.workloads!.workloads(
      WORKLOAD_ENVIRONMENT_LIMIT,
      AbortSignal.timeout(5_000),
    );
    for (const { target } of environments) {
      for (const state of WORKLOAD_STATES) counts.set(`${target}\u0000${state}`, 0);
    }
    for (const { target, states } of environments) {
      for (const state of states) {
        const key = `${target}\u0000${state}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    this.workloadCounts = { at: Date.now(), counts };
  }
}

/** The deployment queue: how many deployments wait, and how long the oldest has waited. One query. */
async function queueOf(store: Store): Promise<{ depth: number; oldestAgeSeconds: number }> {
  const row = await store.db
    .selectFrom('deployments')
    .select((eb) => [eb.fn.countAll().as('depth'), eb.fn.min('created_at').as('oldest')])
    .where('status', '=', 'queued')
    .executeTakeFirst();
  const oldest = row?.oldest ? Date.parse(String(row.oldest)) : NaN;
  return {
    depth: Number(row?.depth ?? 0),
    oldestAgeSeconds: Number.isNaN(oldest) ? 0 : Math.max(0, (Date.now() - oldest) / 1000),
  };
}
