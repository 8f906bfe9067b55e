// What the process runtime refuses before changing anything: every problem, where it is, how to fix it.
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { InputError } from '@pave/core';
import {
  runtimeNameProblems,
  type CheckFailure,
  type RenderedWorkload,
  type RuntimeTarget,
  type WorkloadShape,
} from '@pave/plugin-api';
import { checkFiles } from './files.ts';

/** Rejects names that are not DNS labels: they become directory names. */
export function assertValidNames(target: RuntimeTarget, workload?: string): void {
  const problems = runtimeNameProblems(target, workload);
  if (problems.length > 0) throw new InputError('invalid names for the process runtime', problems);
}

/**
 * Why the process runtime cannot run `workload` whatever its placeholders expand to (see RuntimeDriver.check):
 * a container without `command`, since a process cannot run an image's entrypoint.
 */
export function shapeFailures(workload: WorkloadShape): CheckFailure[] {
  return workload.containers
    .filter((container) => !container.command?.length)
    .map((container) => ({
      property: `containers.${container.name}.command`,
      reason:
        `container "${container.name}" has no "command", and the process runtime runs commands on this ` +
        `host, not images ("${container.image}"): give it a "command" in the Score file, e.g. ` +
        `["node", "server.js"] (paths are relative to the Score file's directory), or deploy it to a ` +
        `docker or kubernetes target to run the image`,
    }));
}

/** The hosts a readiness probe may name: this machine's loopback. */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/** Every reason the process runtime cannot run `workload`, at once; the message lists them all. */
export function assertValid(target: RuntimeTarget, workload: RenderedWorkload): void {
  const problems = runtimeNameProblems(target, workload);
  problems.push(
    ...shapeFailures(workload).map((failure) => ({ path: failure.property, message: failure.reason })),
  );
  for (const container of workload.containers) {
    const path = `containers.${container.name}`;
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
    (container.volumes ?? []).forEach((volume, index) => {
      // The sandbox binds the path as it finds it: a symbolic link the workload made inside its own volume
      // (`sub -> another environment's volume`) would be followed.
      if (volume.path !== undefined) {
        problems.push({
          path: `${path}.volumes[${index}].path`,
          message:
            `the process runtime uses a volume whole, not a path inside it ("${volume.path}"): a workload could ` +
            'point that path elsewhere with a symbolic link; leave `path` out and use the directory inside the volume',
        });
      }
    });
    const host = container.readinessProbe?.httpGet?.host;
    // The runtime probes from this machine, on the workload's own host port: another host would have Pave
    // send requests where the workload's author points it.
    if (host !== undefined && !LOOPBACK_NAMES.has(host.toLowerCase())) {
      problems.push({
        path: `${path}.readinessProbe.httpGet.host`,
        message:
          `"${host}" is not this machine: the process runtime probes the workload where it runs, so leave ` +
          '`host` out (or use localhost, 127.0.0.1 or ::1)',
      });
    }
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
    throw new InputError(
      `the process runtime cannot run workload "${workload.name}": ${problems.map((problem) => problem.message).join('; ')}`,
      problems,
    );
  }
}
