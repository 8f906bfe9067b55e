import type { Logger } from 'pino';
import type { RuntimeDriver } from '@pave/plugin-api';
import type { Executor } from '../../../store/index.ts';
import type { OrchestratorDeps } from '../orchestrator.ts';
import type { DeploymentRequest, LeaseFence } from '../records.ts';
import type { SetWorkloads } from '../sets.ts';
import type { JournalNote, ResourceTarget } from '../../resources/provision.ts';

/** The phases of applying a set, in the order they run; a failed deployment names the one that failed. */
export const PHASES = [
  'plan',
  'reach target',
  'provision',
  'switch target',
  'render',
  'remove',
  'start',
  'wait ready',
  'routes',
  'prune',
] as const;
export type PhaseName = (typeof PHASES)[number];

/**
 * Thrown inside a run when the replica is stopping or lost its lease: the deployment is left to be resumed.
 * `leaseLost`: a write found that another replica (or an environment deletion) holds the environment's lease
 * now; the run stops without undoing anything, since the lease's holder is in charge of the deployment.
 */
export class DeploymentInterrupted extends Error {
  override name = 'DeploymentInterrupted';
  constructor(
    message: string,
    readonly leaseLost = false,
  ) {
    super(message);
  }
}

/**
 * A phase that did not complete: which one, the driver whose call failed (if one did), and what it said.
 * `journaled` when the phase already journaled each workload's failure, so it is not repeated.
 */
export class PhaseFailed extends Error {
  override name = 'PhaseFailed';
  constructor(
    readonly phase: PhaseName,
    message: string,
    readonly driver: string | null = null,
    readonly journaled = false,
  ) {
    super(message);
  }
}

/** One run of the phases: everything a phase needs to know about the set it applies and where. */
export interface SetRun {
  deps: OrchestratorDeps;
  target: ResourceTarget;
  workloads: SetWorkloads;
  /** The deployment the workloads are labelled with and the values version they run with. */
  pinned: { deploymentId: string; valuesVersion: number | null };
  options: Pick<
    DeploymentRequest,
    'timeoutSeconds' | 'prune' | 'allowDataLoss' | 'cloneDataFrom' | 'recreateMissing'
  > & {
    /** A rollback: unused stateful resources are kept, not refused. */
    keepUnused?: boolean;
    /** The stability window of workloads without a readiness probe. */
    minReadySeconds: number;
  };
  /** Aborted when the control plane stops or loses the environment's lease: the run is interrupted. */
  signal: AbortSignal;
  note: JournalNote;
  /** What every write of the run goes through: it lands only while the replica holds the lease. */
  fence: LeaseFence;
  logger: Logger;
  /**
   * Keeps the run's progress with its deployment, for a run of the deployment's own set; a rollback's run of
   * the previous set has none.
   */
  record?: ProgressRecord | undefined;
}

/**
 * What a failed run had done when it stopped, so the rollback decision knows what to undo: whether any
 * workload changed, which workloads it started, and which resources it created (in order).
 */
export interface RunProgress {
  touched: boolean;
  started: string[];
  created: string[];
}

/**
 * A deployment's progress, kept in the store as it changes: a run resumed after the control plane died
 * starts from what the interrupted runs had done, so its failure undoes that too, as theirs would have.
 */
export interface ProgressRecord {
  /** What interrupted runs of the deployment had done; nothing for a first run. */
  earlier: RunProgress;
  /**
   * Stores `progress` with the deployment, with `db` when given (the transaction that records the change it
   * is about). The switch-target, remove and start phases save before they call the runtime, so a run that
   * dies in the call counts as having made the change; provisioning saves a resource it created in the
   * transaction that stores its record, so one whose run dies between the driver's create and that
   * transaction is not known to the resumed run. Rejects with DeploymentInterrupted (`leaseLost`), saving
   * nothing, once the run's replica no longer holds the environment's lease.
   */
  save(progress: RunProgress, db?: Executor): Promise<void>;
}

/** The runtime a run deploys to, with the name its failures are reported under. */
export interface PlannedRuntime {
  runtime: RuntimeDriver;
  /** Passed back to EnvironmentTargets.commit (the move to a new target), when targets are in use. */
  move: { runtime: RuntimeDriver; moving: boolean } | null;
}

/** A message for people from anything thrown, with the field problems an InputError carries. */
export function messageOf(error: unknown): string {
  const problems = (error as { errors?: Array<{ path: string; message: string }> }).errors ?? [];
  const message = error instanceof Error ? error.message : String(error);
  return [message, ...problems.map((problem) => `${problem.path}: ${problem.message}`)].join('; ');
}

/**
 * Runs one phase. Anything it throws becomes PhaseFailed naming the phase and `driver`, so every failure
 * reaches the same rollback decision; when `interrupted` has aborted, the throw was the interruption.
 */
export async function runPhase<T>(
  phase: PhaseName,
  driver: string | null,
  interrupted: AbortSignal,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof PhaseFailed || error instanceof DeploymentInterrupted) throw error;
    if (interrupted.aborted) throw new DeploymentInterrupted('the control plane is stopping');
    throw new PhaseFailed(phase, messageOf(error), driver);
  }
}
