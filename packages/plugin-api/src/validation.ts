import { DNS_LABEL_RULE, isDnsLabel, type FieldProblem } from '@pave/core';
import type { RenderedWorkload, RuntimeTarget } from './drivers.ts';

/**
 * What every runtime refuses in names, since they become container, network, namespace and directory
 * names: an app, environment or workload (and, given a workload, its containers) that is not a DNS label, a
 * workload without containers, two containers with one name. Returns every problem, with where it is.
 */
export function runtimeNameProblems(
  target: RuntimeTarget,
  workload?: string | RenderedWorkload,
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (!isDnsLabel(target.app)) problems.push({ path: 'app', message: `"${target.app}" ${DNS_LABEL_RULE}` });
  if (!isDnsLabel(target.env)) problems.push({ path: 'env', message: `"${target.env}" ${DNS_LABEL_RULE}` });
  const name = typeof workload === 'string' ? workload : workload?.name;
  if (name !== undefined && !isDnsLabel(name)) {
    problems.push({ path: 'workload', message: `"${name}" ${DNS_LABEL_RULE}` });
  }
  if (workload === undefined || typeof workload === 'string') return problems;
  if (workload.containers.length === 0) {
    problems.push({ path: 'containers', message: 'a workload needs at least one container' });
  }
  const seen = new Set<string>();
  for (const container of workload.containers) {
    const path = `containers.${container.name}`;
    if (!isDnsLabel(container.name)) {
      problems.push({ path, message: `container name "${container.name}" ${DNS_LABEL_RULE}` });
    } else if (seen.has(container.name)) {
      problems.push({ path, message: `two containers are named "${container.name}"` });
    }
    seen.add(container.name);
  }
  return problems;
}
