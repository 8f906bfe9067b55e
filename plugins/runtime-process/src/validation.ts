// What the process runtime refuses before changing anything: every problem, where it is, how to fix it.
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { DNS_LABEL_RULE, InputError, isDnsLabel, type FieldProblem } from '@pave/core';
import type { RenderedWorkload, RuntimeTarget } from '@pave/plugin-api';
import { checkFiles } from './files.ts';

/** Rejects names that are not DNS labels: they become directory names. */
export function assertValidNames(target: RuntimeTarget, workload?: string): void {
  const problems = nameProblems(target, workload);
  if (problems.length > 0) throw new InputError('invalid names for the process runtime', problems);
}

function nameProblems(target: RuntimeTarget, workload?: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (!isDnsLabel(target.app)) problems.push({ path: 'app', message: `"${target.app}" ${DNS_LABEL_RULE}` });
  if (!isDnsLabel(target.env)) problems.push({ path: 'env', message: `"${target.env}" ${DNS_LABEL_RULE}` });
  if (workload !== undefined && !isDnsLabel(workload)) {
    problems.push({ path: 'workload', message: `"${workload}" ${DNS_LABEL_RULE}` });
  }
  return problems;
}

/** Every reason the process runtime cannot run `workload`, at once. */
export function assertValid(target: RuntimeTarget, workload: RenderedWorkload): void {
  const problems = nameProblems(target, workload.name);
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
    if (!container.command?.length) {
      problems.push({
        path: `${path}.command`,
        message:
          `the process runtime runs "command" + "args" on this host and cannot run the entrypoint of image ` +
          `"${container.image}": add "command" to container "${container.name}" in the Score file`,
      });
    }
    if (!isAbsolute(container.workingDir)) {
      problems.push({
        path: `${path}.workingDir`,
        message: `"${container.workingDir}" is not an absolute path`,
      });
    } else if (!existsSync(container.workingDir)) {
      problems.push({
        path: `${path}.workingDir`,
        message: `the directory "${container.workingDir}" (where the Score file is) does not exist on this host`,
      });
    }
    problems.push(...checkFiles(container.name, container.files));
  }
  workload.ports.forEach((port, index) => {
    if (!Number.isInteger(port.hostPort) || port.hostPort < 1 || port.hostPort > 65535) {
      problems.push({
        path: `ports[${index}].hostPort`,
        message: `port "${port.name}" has no valid host port`,
      });
    }
  });
  if (problems.length > 0) {
    throw new InputError(`the process runtime cannot run workload "${workload.name}"`, problems);
  }
}
