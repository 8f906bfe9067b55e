// What the process runtime refuses before changing anything: every problem, where it is, how to fix it.
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { InputError } from '@pave/core';
import { runtimeNameProblems, type RenderedWorkload, type RuntimeTarget } from '@pave/plugin-api';
import { checkFiles } from './files.ts';

/** Rejects names that are not DNS labels: they become directory names. */
export function assertValidNames(target: RuntimeTarget, workload?: string): void {
  const problems = runtimeNameProblems(target, workload);
  if (problems.length > 0) throw new InputError('invalid names for the process runtime', problems);
}

/** Every reason the process runtime cannot run `workload`, at once. */
export function assertValid(target: RuntimeTarget, workload: RenderedWorkload): void {
  const problems = runtimeNameProblems(target, workload);
  for (const container of workload.containers) {
    const path = `containers.${container.name}`;
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
