// What the process runtime refuses before changing anything: every problem, where it is, how to fix it.
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { formatScorePath as scorePath, InputError } from '@pave/core';
import {
  runtimeNameProblems,
  type CheckFailure,
  type RenderedWorkload,
  type RuntimeTarget,
  type WorkloadShape,
} from '@pave/plugin-api';
import { fileMode, relativeFilePath } from './files.ts';

/** Rejects names that are not DNS labels: they become directory names. */
export function assertValidNames(target: RuntimeTarget, workload?: string): void {
  const problems = runtimeNameProblems(target, workload);
  if (problems.length > 0) throw new InputError('invalid names for the process runtime', problems);
}

/** The hosts a readiness probe may name: this machine's loopback. */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/**
 * Why the process runtime cannot run `workload` whatever its placeholders expand to (see RuntimeDriver.check),
 * each at its path in the Score file (`containers.main.volumes["/data"].path`; a deprecated list item by its
 * index): a container without `command`, since a process cannot run an image's entrypoint; a file target that
 * names no file; a `path` inside a volume; a readiness probe aimed at another host.
 */
export function shapeFailures(workload: WorkloadShape): CheckFailure[] {
  return workload.containers.flatMap((container) => {
    const failures: CheckFailure[] = [];
    const at = (...path: Array<string | number>) => scorePath(['containers', container.name, ...path]);
    if (!container.command?.length) {
      failures.push({
        property: at('command'),
        reason:
          `container "${container.name}" has no "command", and the process runtime runs commands on this ` +
          `host, not images ("${container.image}"): give it a "command" in the Score file, e.g. ` +
          `["node", "server.js"] (paths are relative to the Score file's directory), or deploy it to a ` +
          `docker or kubernetes target to run the image`,
      });
    }
    for (const [key, file] of scoreEntries(container.files)) {
      const target = typeof key === 'number' ? (file as { target?: string }).target : key;
      if (typeof target !== 'string' || relativeFilePath(target) !== null) continue;
      failures.push({
        property: typeof key === 'number' ? at('files', key, 'target') : at('files', key),
        reason:
          `"${target}" does not name a file: the process runtime writes each file under the container's ` +
          'files directory; give the path of a file, e.g. /etc/app/config.yaml',
      });
    }
    // The sandbox binds the path as it finds it: a symbolic link the workload made inside its own volume
    // (`sub -> another environment's volume`) would be followed.
    for (const [key, volume] of scoreEntries(container.volumes)) {
      if (volume.path === undefined) continue;
      failures.push({
        property: at('volumes', key, 'path'),
        reason:
          `the process runtime uses a volume whole, not a path inside it ("${volume.path}"): a workload could ` +
          'point that path elsewhere with a symbolic link; leave `path` out and use the directory inside the volume',
      });
    }
    const host = container.readinessProbe?.httpGet?.host;
    // The runtime probes from this machine, on the workload's own host port: another host would have Pave
    // send requests where the workload's author points it.
    if (host !== undefined && !LOOPBACK_NAMES.has(host.toLowerCase())) {
      failures.push({
        property: at('readinessProbe', 'httpGet', 'host'),
        reason:
          `"${host}" is not this machine: the process runtime probes the workload where it runs, so leave ` +
          '`host` out (or use localhost, 127.0.0.1 or ::1)',
      });
    }
    return failures;
  });
}

/** The entries of a Score map (by key) or deprecated list (by index) of files or volumes. */
function scoreEntries<Item, ListItem>(
  value: Record<string, Item> | ListItem[] | undefined,
): Array<[key: string, item: Item] | [index: number, item: ListItem]> {
  if (!value) return [];
  if (Array.isArray(value)) return value.map((item, index) => [index, item]);
  return Object.entries(value);
}

/**
 * The shape of a rendered workload, as the Score file's map form has it: files and volumes keyed by target
 * (what a rendered workload keeps of the Score file), so a refusal at start names them as check would.
 */
function renderedShape(workload: RenderedWorkload): WorkloadShape {
  return {
    containers: workload.containers.map((container) => ({
      name: container.name,
      image: container.image,
      ...(container.command ? { command: container.command } : {}),
      files: Object.fromEntries(container.files.map((file) => [file.target, { content: '' }])),
      volumes: Object.fromEntries(
        (container.volumes ?? []).map((volume) => [
          volume.target,
          { source: volume.source, ...(volume.path !== undefined ? { path: volume.path } : {}) },
        ]),
      ),
      ...(container.readinessProbe ? { readinessProbe: container.readinessProbe } : {}),
    })),
  };
}

/**
 * Every reason the process runtime cannot run `workload`, at once: an InputError whose message names the
 * workload and whose problems say each reason once, at its path (those check gives at the Score file's).
 */
export function assertValid(target: RuntimeTarget, workload: RenderedWorkload): void {
  const problems = runtimeNameProblems(target, workload);
  problems.push(
    ...shapeFailures(renderedShape(workload)).map((failure) => ({
      path: failure.property,
      message: failure.reason,
    })),
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
    for (const file of container.files) {
      if (fileMode(file.mode) !== null) continue;
      problems.push({
        path: scorePath(['containers', container.name, 'files', file.target, 'mode']),
        message: `"${file.mode}" is not an octal mode such as "0644"`,
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
    // The control plane prints the problems after the message (`path: reason` each): not in it as well.
    throw new InputError(`the process runtime cannot run workload "${workload.name}"`, problems);
  }
}
