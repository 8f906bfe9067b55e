import type { Attributes } from '@opentelemetry/api';
import {
  DriverRegistry,
  RuntimeRegistry,
  type ResourceDriver,
  type ResourceInputs,
  type RuntimeDriver,
} from '@pave/plugin-api';
import type { Store } from '../store/index.ts';
import type { PaveMetrics } from './metrics.ts';
import { inSpan } from './tracing.ts';

/** What a deployment's telemetry names: never a value, only where it runs. */
export interface DeploymentAbout {
  app: string;
  env: string;
  deploymentId: number;
}

/**
 * Metrics and spans of deployments: a root span per deployment run with a child per phase (driver calls
 * nest under the phase that makes them), and the deployment and phase metrics. Without metrics it only
 * traces; without a trace exporter the spans are no-ops.
 */
export class DeploymentTelemetry {
  constructor(
    private readonly store: Store,
    private readonly metrics?: PaveMetrics,
  ) {}

  /**
   * Runs one deployment (`fn`) in its root span. When it ends (not interrupted), it is counted by kind and
   * outcome as the store recorded it; a run that rejects for another reason is a failure (the worker records
   * it so). `interrupted` tells an interruption (the deployment resumes later) from an end.
   */
  async deployment<T>(about: DeploymentAbout, interrupted: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    return inSpan(
      'deployment',
      { 'pave.app': about.app, 'pave.env': about.env, 'pave.deployment.id': String(about.deploymentId) },
      async (span) => {
        let failure: unknown;
        let result: T | undefined;
        try {
          result = await fn();
        } catch (error) {
          failure = error;
        }
        // A run that resolved has ended, whatever the signal says now; one that rejected while stopping was
        // interrupted, and resumes later.
        const wasInterrupted =
          failure !== undefined &&
          (interrupted.aborted || (failure as Error | undefined)?.name === 'DeploymentInterrupted');
        if (wasInterrupted) {
          span.setAttribute('pave.outcome', 'interrupted');
          throw failure;
        }
        const row = await this.store.db
          .selectFrom('deployments')
          .select(['kind', 'status'])
          .where('id', '=', about.deploymentId)
          .executeTakeFirst()
          .catch(() => undefined);
        const kind = row?.kind ?? 'deploy';
        const outcome =
          failure !== undefined ? 'failed' : row?.status === 'succeeded' ? 'succeeded' : 'failed';
        span.setAttributes({ 'pave.deployment.kind': kind, 'pave.outcome': outcome });
        this.metrics?.deployments.inc({ kind, outcome });
        this.metrics?.deploymentDuration.observe({ kind, outcome }, (performance.now() - started) / 1000);
        if (failure !== undefined) throw failure;
        return result as T;
      },
      { root: true },
    );
  }

  /** Runs one phase of applying a set (`fn`) in its span, and records its duration and outcome. */
  async phase<T>(
    about: { app: string; env: string; deploymentId?: number | undefined },
    phase: string,
    driver: string | null,
    fn: () => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    const attributes: Attributes = {
      'pave.app': about.app,
      'pave.env': about.env,
      ...(about.deploymentId !== undefined ? { 'pave.deployment.id': String(about.deploymentId) } : {}),
      'pave.phase': phase,
      ...(driver ? { 'pave.driver': driver } : {}),
    };
    let outcome = 'failed';
    try {
      const result = await inSpan(`phase ${phase}`, attributes, fn);
      outcome = 'succeeded';
      return result;
    } finally {
      this.metrics?.phaseDuration.observe({ phase, outcome }, (performance.now() - started) / 1000);
    }
  }
}

/** The calls of a runtime driver that are timed and traced; the others (status, logs) pass through. */
const RUNTIME_OPERATIONS = new Set(['deploy', 'waitReady', 'remove', 'destroy']);
/** The calls of a resource driver that are timed and traced: all of its verbs. */
const RESOURCE_OPERATIONS = new Set(['check', 'diff', 'create', 'update', 'read', 'delete']);

/**
 * The same runtimes, each driver they build timed (`pave_runtime_driver_duration_seconds`) and traced
 * (`runtime <operation>` spans with app, env, workload and driver) on deploy, waitReady, remove and destroy.
 * A driver keeps its capabilities: optional methods it lacks stay absent.
 */
export function instrumentRuntimes(runtimes: RuntimeRegistry, metrics?: PaveMetrics): RuntimeRegistry {
  const instrumented = new RuntimeRegistry();
  for (const type of runtimes.types()) {
    const factory = runtimes.get(type);
    instrumented.register({
      type,
      fromConfig: (config) => instrumentRuntime(factory.fromConfig(config), metrics),
    });
  }
  return instrumented;
}

/** One runtime driver, timed and traced as instrumentRuntimes says. */
function instrumentRuntime(runtime: RuntimeDriver, metrics?: PaveMetrics): RuntimeDriver {
  return instrumentCalls(runtime, RUNTIME_OPERATIONS, (operation, args) => {
    const target = args[0] as { app?: unknown; env?: unknown } | undefined;
    const workload = args[1] as { name?: unknown } | string | undefined;
    const name = typeof workload === 'string' ? workload : workload?.name;
    return {
      span: `runtime ${operation}`,
      attributes: {
        'pave.driver': runtime.name,
        'pave.operation': operation,
        ...(typeof target?.app === 'string' ? { 'pave.app': target.app } : {}),
        ...(typeof target?.env === 'string' ? { 'pave.env': target.env } : {}),
        ...(typeof name === 'string' ? { 'pave.workload': name } : {}),
      },
      observe: (outcome, seconds) =>
        metrics?.runtimeDriverDuration.observe({ driver: runtime.name, operation, outcome }, seconds),
    };
  });
}

/**
 * The same resource drivers, each timed (`pave_resource_driver_duration_seconds`) and traced (`resource
 * <operation>` spans with app, env, resource type and address, and driver) on every verb. Inputs, outputs
 * and ids are never recorded.
 */
export function instrumentResourceDrivers(
  drivers: DriverRegistry<ResourceDriver>,
  metrics?: PaveMetrics,
): DriverRegistry<ResourceDriver> {
  const instrumented = new DriverRegistry<ResourceDriver>('resource');
  for (const name of drivers.names()) {
    const driver = drivers.get(name);
    instrumented.register(
      instrumentCalls(driver, RESOURCE_OPERATIONS, (operation, args) => {
        // check and create take the inputs first; the other verbs take the resource's id first.
        const inputs = (operation === 'check' || operation === 'create' ? args[0] : args[1]) as
          ResourceInputs | undefined;
        const scope = inputs?.scope;
        return {
          span: `resource ${operation}`,
          attributes: {
            'pave.driver': driver.name,
            'pave.operation': operation,
            ...(scope
              ? {
                  'pave.app': scope.app,
                  'pave.env': scope.env,
                  'pave.resource.type': scope.type,
                  'pave.resource.address': scope.address,
                }
              : {}),
          },
          observe: (outcome, seconds) =>
            metrics?.resourceDriverDuration.observe({ driver: driver.name, operation, outcome }, seconds),
        };
      }),
    );
  }
  return instrumented;
}

interface CallRecording {
  span: string;
  attributes: Attributes;
  observe(outcome: 'succeeded' | 'failed', seconds: number): void;
}

/**
 * A view of `driver` whose `operations` run in a span and are timed; everything else (other methods, fields,
 * absent optional methods) is the driver's own. Methods run with the driver itself as `this`.
 */
function instrumentCalls<T extends object>(
  driver: T,
  operations: ReadonlySet<string>,
  record: (operation: string, args: unknown[]) => CallRecording,
): T {
  return new Proxy(driver, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (typeof property !== 'string' || !operations.has(property)) return method.bind(target);
      return async (...args: unknown[]) => {
        const recording = record(property, args);
        const started = performance.now();
        let outcome: 'succeeded' | 'failed' = 'failed';
        try {
          const result = await inSpan(recording.span, recording.attributes, async () =>
            method.apply(target, args),
          );
          outcome = 'succeeded';
          return result;
        } finally {
          recording.observe(outcome, (performance.now() - started) / 1000);
        }
      };
    },
  });
}
