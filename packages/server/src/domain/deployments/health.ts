import type { HealthStatus } from '@pave/core';
import type { WorkloadStatus } from '@pave/plugin-api';

/** A health and, unless healthy, why: `api: crash-looping (5 restarts)`. */
export interface HealthAssessment {
  health: HealthStatus;
  detail?: string;
}

// Worst first: a degraded workload outweighs one the runtime cannot tell about, which outweighs one on its way.
const SEVERITY: readonly HealthStatus[] = ['degraded', 'unknown', 'progressing', 'healthy'];

/**
 * The health of one workload as its runtime reports it: ready is healthy (progressing while a deployment of
 * its environment runs, which may replace it); starting or running but not ready yet is progressing;
 * crash-looping or stopped (it is deployed, so it should run) is degraded.
 */
export function workloadHealth(
  workload: Pick<WorkloadStatus, 'workload' | 'state' | 'restarts' | 'detail'>,
  deploying: boolean,
): HealthAssessment {
  const name = workload.workload;
  switch (workload.state) {
    case 'ready':
      return deploying
        ? { health: 'progressing', detail: `${name}: a deployment is running` }
        : { health: 'healthy' };
    case 'starting':
      return { health: 'progressing', detail: `${name}: starting` };
    case 'running':
      return {
        health: 'progressing',
        detail: `${name}: not ready yet${workload.detail ? ` (${workload.detail})` : ''}`,
      };
    case 'crash-looping':
      return { health: 'degraded', detail: `${name}: crash-looping (${restarts(workload.restarts)})` };
    case 'stopped':
      return {
        health: 'degraded',
        detail: `${name}: stopped${workload.detail ? ` (${workload.detail})` : ''}`,
      };
  }
}

/** What {@link environmentHealth} looks at. */
export interface EnvironmentHealthInput {
  /** Why the runtime target cannot be reached; undefined when it answered. */
  unreachable?: string | undefined;
  /** Whether a deployment of the environment is queued or running. */
  deploying: boolean;
  /** The workloads of the environment's current set: each should run. */
  expected: readonly string[];
  /**
   * Whether the environment has a current set, i.e. a deployment into it succeeded. Without one and with
   * nothing running, there is nothing whose health could be known.
   */
  deployed: boolean;
  /** What the runtime reports. */
  workloads: ReadonlyArray<Pick<WorkloadStatus, 'workload' | 'state' | 'restarts' | 'detail'>>;
}

/**
 * The health of an environment and of each workload the runtime reports. The environment's is the worst of
 * its workloads' (degraded > unknown > progressing > healthy), its detail the reasons of the workloads that
 * are that bad. A workload of the current set that the runtime does not report is degraded (missing), or
 * progressing while a deployment runs. Unreachable targets are unknown. An environment nothing was ever
 * deployed into (no deployment succeeded, say the first one failed) with nothing running is unknown, `nothing
 * deployed yet`, as Argo CD does not call an application healthy whose resources are missing; one whose current
 * set was emptied on purpose (every workload removed) is healthy, as an Argo CD application without resources
 * is. A deployment on its way makes either progressing.
 */
export function environmentHealth(input: EnvironmentHealthInput): {
  environment: HealthAssessment;
  workloads: Map<string, HealthAssessment>;
} {
  const workloads = new Map<string, HealthAssessment>();
  if (input.unreachable !== undefined) {
    return {
      environment: {
        health: 'unknown',
        detail: `the runtime target cannot be reached: ${input.unreachable}`,
      },
      workloads,
    };
  }
  for (const workload of input.workloads) {
    workloads.set(workload.workload, workloadHealth(workload, input.deploying));
  }
  const assessments = [...workloads.values()];
  for (const name of input.expected) {
    if (workloads.has(name)) continue;
    assessments.push(
      input.deploying
        ? { health: 'progressing', detail: `${name}: not running yet` }
        : { health: 'degraded', detail: `${name}: missing (deployed, but not running)` },
    );
  }
  if (assessments.length === 0 && input.deploying) {
    assessments.push({ health: 'progressing', detail: 'a deployment is running' });
  } else if (assessments.length === 0 && !input.deployed) {
    assessments.push({ health: 'unknown', detail: 'nothing deployed yet' });
  }
  return { environment: worstOf(assessments), workloads };
}

/**
 * The worst of several healths, with the reasons of those that are that bad joined by `; `; healthy (with no
 * detail) when there are none.
 */
export function worstOf(assessments: readonly HealthAssessment[]): HealthAssessment {
  const worst = SEVERITY.find((health) => assessments.some((a) => a.health === health)) ?? 'healthy';
  if (worst === 'healthy') return { health: 'healthy' };
  const reasons = assessments.filter((a) => a.health === worst && a.detail).map((a) => a.detail!);
  return reasons.length ? { health: worst, detail: reasons.join('; ') } : { health: worst };
}

function restarts(count: number): string {
  return count === 1 ? '1 restart' : `${count} restarts`;
}
