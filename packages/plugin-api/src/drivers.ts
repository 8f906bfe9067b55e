import type { DriverContext } from './context.ts';

/** A reference to what a runtime driver deployed, kept by the control plane and handed back later. */
export interface RuntimeRef {
  driver: string;
  /** Driver-specific identifiers (process ids, container ids, namespace…), JSON-serialisable. */
  state: Record<string, unknown>;
}

/** What a runtime reports about one deployed workload. */
export interface WorkloadStatus {
  workload: string;
  state: 'starting' | 'ready' | 'failed' | 'stopped';
  detail?: string;
}

/**
 * Runs workloads somewhere: local processes, Docker/Podman, Kubernetes. Required: `name`, `apply`,
 * `status`, `destroy`. Optional methods are capabilities: a runtime without `logs` cannot stream logs.
 *
 * - `apply` makes the runtime match `plan` (start, update or stop workloads) and resolves with a ref once
 *   the change is submitted; it rejects if the runtime refused the change, leaving what ran before running.
 * - `status` never changes anything.
 * - `destroy` removes everything `ref` names; removing what is already gone succeeds.
 */
export interface RuntimeDriver<Plan = unknown> {
  readonly name: string;
  apply(plan: Plan, ctx: DriverContext): Promise<RuntimeRef>;
  status(ref: RuntimeRef, ctx: DriverContext): Promise<WorkloadStatus[]>;
  destroy(ref: RuntimeRef, ctx: DriverContext): Promise<void>;
  logs?(
    ref: RuntimeRef,
    options: { workload?: string; follow: boolean },
    ctx: DriverContext,
  ): AsyncIterable<string>;
}

/** A problem `check` found in a resource's inputs, with where it is. */
export interface CheckFailure {
  property: string;
  reason: string;
}

/** What `diff` decided. */
export interface ResourceDiff {
  changes: boolean;
  /** The change cannot be made in place: the resource is deleted and created anew. */
  replace?: boolean;
  /** Input properties that differ. */
  changedProperties?: string[];
}

/**
 * Provisions one kind of resource (a database, a cache, a DNS name…), following Pulumi's dynamic provider
 * verbs and failure rules:
 * - `check` validates inputs and returns every failure at once (an empty list means valid);
 * - `create`: if it rejects, the resource must not exist;
 * - `update`: if it rejects, the resource keeps its previous outputs;
 * - `read` returns the current outputs, or null if the resource is gone;
 * - `delete`: if it rejects, the resource is assumed to still exist; deleting a missing one succeeds.
 */
export interface ResourceDriver<Inputs = Record<string, unknown>, Outputs = Record<string, unknown>> {
  readonly name: string;
  check(inputs: Inputs, ctx: DriverContext): Promise<CheckFailure[]>;
  diff(id: string, olds: Inputs, news: Inputs, ctx: DriverContext): Promise<ResourceDiff>;
  create(inputs: Inputs, ctx: DriverContext): Promise<{ id: string; outputs: Outputs }>;
  update(id: string, olds: Inputs, news: Inputs, ctx: DriverContext): Promise<{ outputs: Outputs }>;
  read(id: string, inputs: Inputs, ctx: DriverContext): Promise<{ outputs: Outputs } | null>;
  delete(id: string, inputs: Inputs, ctx: DriverContext): Promise<void>;
}
