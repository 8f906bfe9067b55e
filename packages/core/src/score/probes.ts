import type { ScoreService, ScoreWorkload } from './schema.ts';

/*
 * Probes and service ports. Pave maps a probe's `httpGet.port` to the host port of the service port it names,
 * so a probe of a port the workload's `service.ports` lacks cannot be rendered on any runtime. The Score schema
 * allows it (the official samples do it: on Kubernetes a probe reaches the container directly); the rule is
 * Pave's, checked by `parseScore` with `renderable` (`pave validate` and `pave deploy`, at the port's line) and
 * by the server's render, through these functions.
 */

/** The probes a Score container may have, in the order their problems are reported. */
const SCORE_PROBES = ['readinessProbe', 'livenessProbe'] as const;

/** A probe of a port that is not a service port: where it is in the spec and what to do about it. */
export interface ProbePortProblem {
  /** Path of the port in the spec: containers, NAME, readinessProbe or livenessProbe, httpGet, port. */
  path: string[];
  /** What is wrong and how to fix it, naming the ports the workload declares. */
  message: string;
}

/**
 * The name of the service port a probe of `port` reaches: the first of the ports (by name) whose `targetPort`
 * (by default its `port`) is `port`, else the first whose `port` is. Undefined when none is.
 */
export function probedServicePort(service: ScoreService | undefined, port: number): string | undefined {
  const ports = sortedPorts(service);
  return (
    ports.find(([, declared]) => (declared.targetPort ?? declared.port) === port)?.[0] ??
    ports.find(([, declared]) => declared.port === port)?.[0]
  );
}

/**
 * One problem for each readiness or liveness probe of `workload` whose `httpGet.port` is not a port of its
 * `service.ports` (see {@link probedServicePort}), at the port's path, naming the ports the workload does
 * declare. Empty when every probed port is declared.
 */
export function checkScoreProbePorts(workload: ScoreWorkload): ProbePortProblem[] {
  const problems: ProbePortProblem[] = [];
  for (const [name, container] of Object.entries(workload.containers)) {
    for (const probe of SCORE_PROBES) {
      const port = container[probe]?.httpGet?.port;
      if (port === undefined || probedServicePort(workload.service, port) !== undefined) continue;
      problems.push({
        path: ['containers', name, probe, 'httpGet', 'port'],
        message:
          `port ${port} is not a port of service.ports; declare it there so Pave can map it to a host port, or ` +
          `probe a declared one (workload "${workload.metadata.name}" declares ${declaredPorts(workload.service)})`,
      });
    }
  }
  return problems;
}

function sortedPorts(service: ScoreService | undefined) {
  return Object.entries(service?.ports ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

// `web: port 80, targetPort 3000; admin: port 9000`, or `none`.
function declaredPorts(service: ScoreService | undefined): string {
  const ports = sortedPorts(service);
  if (ports.length === 0) return 'none';
  return ports
    .map(([name, { port, targetPort }]) =>
      targetPort === undefined || targetPort === port
        ? `${name}: port ${port}`
        : `${name}: port ${port}, targetPort ${targetPort}`,
    )
    .join('; ');
}
