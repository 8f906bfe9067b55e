// What the Docker runtime refuses before changing anything: every problem, where it is, how to fix it.
import { posix } from 'node:path';
import { InputError, type FieldProblem } from '@pave/core';
import {
  runtimeNameProblems,
  type CheckFailure,
  type RenderedContainer,
  type RenderedWorkload,
  type RuntimeTarget,
  type WorkloadShape,
} from '@pave/plugin-api';
import { beforeProblems } from '@pave/plugin-api';
import { checkFiles } from './files.ts';
import { parseMemory, parseNanoCpus } from './quantities.ts';

/** Rejects names that are not DNS labels: they become container, network and directory names. */
export function assertValidNames(target: RuntimeTarget, workload?: string): void {
  const problems = runtimeNameProblems(target, workload);
  if (problems.length > 0) throw new InputError('invalid names for the docker runtime', problems);
}

/**
 * Why the Docker runtime cannot run `workload` whatever its placeholders expand to (see RuntimeDriver.check):
 * a container whose image is `.` (the Score file's directory, to be built) or missing.
 */
export function shapeFailures(workload: WorkloadShape): CheckFailure[] {
  return workload.containers.flatMap((container): CheckFailure[] => {
    const property = `containers.${container.name}.image`;
    if (container.image === '.') {
      return [
        {
          property,
          reason:
            `container "${container.name}" has the image ".", which stands for an image built from the ` +
            `Score file's directory, and the docker runtime builds no images: build one (e.g. ` +
            `\`podman build -t web:dev .\` or \`docker build -t web:dev .\`) and deploy it with ` +
            `\`pave deploy --image web:dev\`, or deploy to a process target, which runs the container's ` +
            `"command" on the host`,
        },
      ];
    }
    if (!container.image.trim()) {
      return [
        {
          property,
          reason: `container "${container.name}" names no image: set its "image" in the Score file`,
        },
      ];
    }
    return [];
  });
}

/** Every reason the Docker runtime cannot run `workload`, at once (an InputError listing them). */
export function assertValid(target: RuntimeTarget, workload: RenderedWorkload): void {
  const problems = runtimeNameProblems(target, workload);
  problems.push(
    ...shapeFailures(workload).map((failure) => ({ path: failure.property, message: failure.reason })),
  );
  for (const container of workload.containers) {
    const path = `containers.${container.name}`;
    problems.push(...containerProblems(container, path));
  }
  problems.push(...beforeProblems(workload.containers, 'containers'));
  workload.ports.forEach((port, index) => {
    const path = `ports[${index}]`;
    if (!isPort(port.hostPort)) {
      problems.push({ path: `${path}.hostPort`, message: `port "${port.name}" has no valid host port` });
    }
    if (!isPort(port.targetPort)) {
      problems.push({
        path: `${path}.targetPort`,
        message: `port "${port.name}": ${port.targetPort} is not a port number (1-65535)`,
      });
    }
    if (port.protocol !== 'TCP' && port.protocol !== 'UDP') {
      problems.push({
        path: `${path}.protocol`,
        message: `port "${port.name}": protocol "${String(port.protocol)}" is neither TCP nor UDP`,
      });
    }
  });
  if (problems.length > 0) {
    throw new InputError(
      `the docker runtime cannot run workload "${workload.name}": ${problems.map((problem) => problem.message).join('; ')}`,
      problems,
    );
  }
}

function containerProblems(container: RenderedContainer, path: string): FieldProblem[] {
  const problems: FieldProblem[] = checkFiles(container.name, container.files);
  (container.volumes ?? []).forEach((volume, index) => {
    const where = `${path}.volumes[${index}]`;
    if (!posix.isAbsolute(volume.source)) {
      problems.push({
        path: `${where}.source`,
        message: `"${volume.source}" is not an absolute host path (the docker runtime bind-mounts volumes)`,
      });
    }
    if (!posix.isAbsolute(volume.target)) {
      problems.push({ path: `${where}.target`, message: `"${volume.target}" is not an absolute path` });
    }
    // Docker resolves a bind's source on the host when the container starts: a symbolic link the workload
    // made inside its own volume (`sub -> /`) would have it mount whatever the link names.
    if (volume.path !== undefined) {
      problems.push({
        path: `${where}.path`,
        message:
          `the docker runtime mounts a volume whole, not a path inside it ("${volume.path}"): a workload could ` +
          'point that path anywhere on the host with a symbolic link; leave `path` out and use the directory ' +
          'inside the mounted volume',
      });
    }
  });
  const { limits, requests } = container.resources ?? {};
  for (const [kind, quantities] of [
    ['limits', limits],
    ['requests', requests],
  ] as const) {
    if (quantities?.memory !== undefined && parseMemory(quantities.memory) === null) {
      problems.push({
        path: `${path}.resources.${kind}.memory`,
        message: `"${quantities.memory}" is not a memory quantity such as "128Mi" or "1Gi"`,
      });
    }
    if (quantities?.cpu !== undefined && parseNanoCpus(quantities.cpu) === null) {
      problems.push({
        path: `${path}.resources.${kind}.cpu`,
        message: `"${quantities.cpu}" is not a CPU quantity such as "500m" or "2"`,
      });
    }
  }
  const httpGet = container.readinessProbe?.httpGet;
  if (httpGet && !isPort(httpGet.port)) {
    problems.push({
      path: `${path}.readinessProbe.httpGet.port`,
      message: `${httpGet.port} is not a port number (1-65535)`,
    });
  }
  return problems;
}

function isPort(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 65535;
}
