import type { ScoreService, ScoreServicePort, ScoreWorkload } from './schema.ts';

/*
 * Probes and service ports. Pave renders a probe's `httpGet.port` that names a port of `service.ports` as that
 * port's host port, and any other port as it is: the container's own port, which Kubernetes and Compose probe
 * directly (the official samples probe such ports, at readiness and liveness). The process and docker runtimes
 * run readiness probes from the host, at a service port's host port, and run no liveness probes: there a
 * readiness probe of another port cannot be run, which checkScoreProbePorts reports for them. It is checked
 * where the runtime is known: `pave validate --app --env` and the server's render for those runtimes. The
 * service-port and route resources name a workload's port by name or number, through servicePortOf.
 */

/** The runtimes that run readiness probes from the host, at the host port Pave gives the probed service port. */
export const HOST_PROBING_RUNTIMES: readonly string[] = ['process', 'docker'];

/** A probe of a port that is not a service port: where it is in the spec and what to do about it. */
export interface ProbePortProblem {
  /** Path of the port in the spec: containers, NAME, readinessProbe, httpGet, port. */
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
 * One problem for each readiness probe of `workload` whose `httpGet.port` is not a port of its `service.ports`
 * (see {@link probedServicePort}) when it runs on `runtime` and that is one of {@link HOST_PROBING_RUNTIMES},
 * at the port's path, naming the ports the workload does declare. Empty on any other runtime (kubernetes
 * probes the container port), and when the runtime is not known (`undefined`): such probes are valid Score.
 */
export function checkScoreProbePorts(workload: ScoreWorkload, runtime?: string): ProbePortProblem[] {
  if (runtime === undefined || !HOST_PROBING_RUNTIMES.includes(runtime)) return [];
  const problems: ProbePortProblem[] = [];
  for (const [name, container] of Object.entries(workload.containers)) {
    const port = container.readinessProbe?.httpGet?.port;
    if (port === undefined || probedServicePort(workload.service, port) !== undefined) continue;
    problems.push({
      path: ['containers', name, 'readinessProbe', 'httpGet', 'port'],
      message:
        `port ${port} is not a port of service.ports, and the ${runtime} runtime runs readiness probes from ` +
        'the host, at the host port Pave gives a service port; declare it in service.ports, or probe a ' +
        `declared one (workload "${workload.metadata.name}" declares ${describeServicePorts(workload.service)})`,
    });
  }
  return problems;
}

/**
 * The port of `service.ports` that `ref` names, as a `service-port` or `route` resource's `params.port` does:
 * by name, else (a number, or a string of digits) the first port (by name) whose `port` is it, else the first
 * whose `targetPort` is. Undefined when none is.
 */
export function servicePortOf(
  service: ScoreService | undefined,
  ref: string | number,
): { name: string; port: ScoreServicePort } | undefined {
  const ports = sortedPorts(service);
  const named = ports.find(([name]) => name === String(ref));
  const number = typeof ref === 'number' ? ref : /^[0-9]+$/u.test(ref) ? Number(ref) : undefined;
  const found =
    named ??
    (number === undefined
      ? undefined
      : (ports.find(([, declared]) => declared.port === number) ??
        ports.find(([, declared]) => declared.targetPort === number)));
  return found ? { name: found[0], port: found[1] } : undefined;
}

/**
 * Why a route's `params.port` (as written, placeholders not expanded) cannot be served for `workload`: a name
 * that is not one of its `service.ports`. Undefined for a declared name, a number (Pave's proxy checks those
 * once the route is provisioned) and a string with a placeholder in it (only known once expanded).
 */
export function routePortProblem(workload: ScoreWorkload, port: unknown): string | undefined {
  if (typeof port !== 'string' || port.includes('${') || /^[0-9]+$/u.test(port)) return undefined;
  if (servicePortOf(workload.service, port) !== undefined) return undefined;
  return (
    `"${port}" is not a port of service.ports; name one (workload "${workload.metadata.name}" declares ` +
    `${describeServicePorts(workload.service)}), or give its port number`
  );
}

/**
 * A route's `params.port` as Pave's route drivers take it: the name of a port of `workload`'s `service.ports`
 * becomes that port's `port`; anything else is left as it is (for the driver to check).
 */
export function resolveRoutePort(workload: ScoreWorkload, port: unknown): unknown {
  if (typeof port !== 'string' || /^[0-9]+$/u.test(port)) return port;
  return servicePortOf(workload.service, port)?.port.port ?? port;
}

function sortedPorts(service: ScoreService | undefined) {
  return Object.entries(service?.ports ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

/** The ports of `service`, for messages: `admin: port 9000; web: port 80, targetPort 3000`, or `none`. */
export function describeServicePorts(service: ScoreService | undefined): string {
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
