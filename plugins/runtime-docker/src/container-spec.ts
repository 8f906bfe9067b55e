// The Docker Engine API body that creates one container of a workload: a pure function of what was rendered.
import type Docker from 'dockerode';
import type {
  RenderedContainer,
  RenderedPort,
  RenderedProbe,
  RenderedWorkload,
  RuntimeTarget,
} from '@pave/plugin-api';
import { runsToCompletion } from '@pave/plugin-api';
import type { FileMount } from './files.ts';
import { LABELS } from './names.ts';
import { cpuShares, parseMemory, parseNanoCpus } from './quantities.ts';

/** Where ports are published on the host: loopback only, like the process runtime's processes. */
export const PUBLISH_HOST_IP = '127.0.0.1';

/** Everything containerSpec needs to know about one container of a new version. */
export interface ContainerPlan {
  target: RuntimeTarget;
  workload: RenderedWorkload;
  container: RenderedContainer;
  /** The container's name (see containerName). */
  name: string;
  /** The environment's network (see networkName). */
  network: string;
  /**
   * Null for the workload's first container, which joins the network under the workload's name and
   * publishes its ports; the id of that container for the others, which share its network namespace, so
   * a workload's containers reach each other on localhost as in a Kubernetes pod. Ignored for a container
   * that runs to completion (Score's `before`): it joins the network without a name of its own, since the
   * first container may be one that waits for it.
   */
  joins: string | null;
  files: FileMount[];
}

/** The create-container body for `plan`: labels, command, environment, mounts, limits, network, ports. */
export function containerSpec(plan: ContainerPlan): Docker.ContainerCreateOptions {
  const { target, workload, container } = plan;
  const completes = runsToCompletion(container);
  const owner = plan.joins === null && !completes;
  const joins = completes ? null : plan.joins;
  // A container that runs to completion is not ready at some point: it is done (its probes are not run).
  const readiness =
    container.readinessProbe && !completes ? persistableProbe(container.readinessProbe) : null;
  const labels: Record<string, string> = {
    [LABELS.app]: target.app,
    [LABELS.env]: target.env,
    [LABELS.workload]: workload.name,
    [LABELS.container]: container.name,
    [LABELS.deployment]: workload.deploymentId,
    [LABELS.hash]: workload.hash,
    [LABELS.ports]: JSON.stringify(workload.ports),
    ...(readiness ? { [LABELS.readiness]: JSON.stringify(readiness) } : {}),
    ...(completes ? { [LABELS.completes]: 'true' } : {}),
    ...(joins ? { [LABELS.joins]: joins } : {}),
  };
  const hostConfig: Docker.HostConfig = {
    // An init process forwards signals and reaps zombies, so a server running as PID 1 stops when asked.
    Init: true,
    // One that runs to completion runs once: the deploy waits for it, and what waits for it started after.
    RestartPolicy: { Name: completes ? 'no' : 'unless-stopped' },
    Mounts: [
      ...plan.files.map((file): Docker.MountSettings => ({
        Type: 'bind',
        Source: file.source,
        Target: file.target,
        ReadOnly: true,
      })),
      ...(container.volumes ?? []).map((volume): Docker.MountSettings => ({
        Type: 'bind',
        Source: volume.source,
        Target: volume.target,
        ReadOnly: volume.readOnly ?? false,
      })),
    ],
    NetworkMode: joins ? `container:${joins}` : plan.network,
    ...resourceLimits(container),
    ...(owner && workload.ports.length > 0 ? { PortBindings: portBindings(workload.ports) } : {}),
  };
  return {
    name: plan.name,
    Image: container.image,
    // Score (like Kubernetes): `command` replaces the image's entrypoint, `args` its command.
    ...(container.command ? { Entrypoint: container.command, Cmd: container.args ?? [] } : {}),
    ...(!container.command && container.args ? { Cmd: container.args } : {}),
    Env: Object.entries(container.env)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => `${key}=${value}`),
    Labels: labels,
    ...(owner && workload.ports.length > 0
      ? { ExposedPorts: Object.fromEntries(workload.ports.map((port) => [portKey(port), {}])) }
      : {}),
    HostConfig: hostConfig,
    ...(owner
      ? { NetworkingConfig: { EndpointsConfig: { [plan.network]: { Aliases: [workload.name] } } } }
      : {}),
  };
}

/** `8080/tcp`: how the Engine API names a container port. */
export function portKey(port: Pick<RenderedPort, 'targetPort' | 'protocol'>): string {
  return `${port.targetPort}/${port.protocol.toLowerCase()}`;
}

function portBindings(ports: RenderedPort[]): Record<string, Array<{ HostIp: string; HostPort: string }>> {
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const port of ports) {
    const key = portKey(port);
    (bindings[key] ??= []).push({ HostIp: PUBLISH_HOST_IP, HostPort: String(port.hostPort) });
  }
  return bindings;
}

function resourceLimits(container: RenderedContainer): Partial<Docker.HostConfig> {
  const { limits, requests } = container.resources ?? {};
  const memory = limits?.memory ? parseMemory(limits.memory) : null;
  const nanoCpus = limits?.cpu ? parseNanoCpus(limits.cpu) : null;
  const reservation = requests?.memory ? parseMemory(requests.memory) : null;
  const requestedCpus = requests?.cpu ? parseNanoCpus(requests.cpu) : null;
  return {
    ...(memory ? { Memory: memory } : {}),
    ...(nanoCpus ? { NanoCpus: nanoCpus } : {}),
    ...(reservation ? { MemoryReservation: reservation } : {}),
    ...(requestedCpus ? { CpuShares: cpuShares(requestedCpus) } : {}),
  };
}

/**
 * The part of a readiness probe that may be kept in a container label (anyone who can inspect containers
 * reads labels): an httpGet probe without headers, whose values may be credentials, or an exec probe.
 * Null when nothing may be kept; the runtime then judges a container it did not deploy by its running time.
 */
export function persistableProbe(probe: RenderedProbe): RenderedProbe | null {
  if (probe.httpGet && !probe.httpGet.httpHeaders?.length) return { httpGet: probe.httpGet };
  if (probe.exec && !probe.httpGet) return { exec: probe.exec };
  return null;
}
