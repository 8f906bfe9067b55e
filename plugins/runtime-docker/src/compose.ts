// An environment's rendered workloads as a Compose file (Compose Specification), for `pave render --format
// compose`: the same containers the docker runtime runs, for plain Docker Compose or podman-compose. A pure
// function of what was rendered; it never writes a secret value into the text.
import { posix } from 'node:path';
import { stringify } from 'yaml';
import type {
  RenderableEnvironment,
  RenderedContainer,
  RenderedPort,
  RenderedProbe,
  RuntimeTarget,
} from '@pave/plugin-api';
import { runsToCompletion, startOrder, waitsFor, type BeforeReady } from '@pave/plugin-api';
import { PUBLISH_HOST_IP } from './container-spec.ts';
import { networkName } from './names.ts';
import { cpuShares, parseMemory, parseNanoCpus } from './quantities.ts';

/**
 * The name a container uses for the machine the Compose project runs on; every service whose values named
 * this machine's loopback gets `extra_hosts: ["host.docker.internal:host-gateway"]` so it resolves.
 */
export const COMPOSE_HOST_GATEWAY = 'host.docker.internal';

/** What renderCompose reads: the environment as every renderer sees it, plus what a Compose file adds. */
export interface ComposeEnvironment extends RenderableEnvironment {
  /** The deployment set the workloads come from, named in the header. */
  deploymentSet?: string | null;
}

/**
 * How a service reaches another workload's port in the Compose file (for the outputs of `service-port`
 * resources): by the workload's name on the project's network, at the container port, as the docker runtime.
 */
export function composeServiceAddress(
  workload: string,
  port: RenderedPort,
): { hostname: string; port: number } {
  return { hostname: workload, port: port.targetPort };
}

/**
 * The Compose file of `environment`'s workloads, as YAML with sorted keys under a comment header, ready for
 * `docker compose -f FILE up` or `podman-compose -f FILE up`:
 *
 * - one service per container: `<workload>` for a workload's first container to start (in name order, after
 *   those it waits for) that does not run to completion, which holds its ports and its network and so
 *   answers to the workload's name as in the docker runtime, and `<workload>-<container>` for its other
 *   containers, which share that network (`network_mode: service:<workload>`) and reach it on localhost, as
 *   in a pod. (Naming the first `<workload>` rather than giving it a network alias keeps the file readable by
 *   podman-compose 1.0, which has no aliases.)
 * - Score's `before` as `depends_on` of the containers that wait, with the condition its `ready` asks for
 *   (`service_started`, `service_healthy`, `service_completed_successfully`); a container another waits for
 *   to complete runs to completion: `restart: "no"`, on a network of its own (one that waits for it cannot
 *   hold the network it would join);
 * - `entrypoint` from Score's `command`, `command` from its `args`;
 * - `environment` with every value as rendered, except secret values (`secretKeys`): those are
 *   `${SERVICE_KEY:?…}` references, listed in the header as the variables to export (or to put in `.env`);
 * - this machine's loopback in values (`127.0.0.1`, `localhost`, `[::1]`, where a resource such as an
 *   embedded database listens) becomes `host.docker.internal`, mapped to the host gateway in `extra_hosts`;
 * - `ports` published on 127.0.0.1 at the host ports Pave allocated: `"127.0.0.1:<hostPort>:<targetPort>/<protocol>"`;
 * - files as `configs` with inline `content`, mounted at their target with their mode;
 * - volumes as bind mounts of an absolute `source` (else a named volume);
 * - a healthcheck from the readiness probe, else the liveness probe: exec as `CMD` (Score prefers exec when a
 *   probe has both), httpGet as a shell `wget || curl` of the container port;
 * - CPU and memory from Score's resources; the workload's annotations on each of its services.
 *
 * What has no Compose form (routes, liveness probes next to readiness probes, probes with headers, secret
 * and binary files) is left out and named in the header. Every `$` of a rendered value is written `$$`, so
 * Compose interpolates only the secret references. The text is YAML that YAML 1.1 readers (podman-compose's
 * PyYAML) read the same: `no`, `yes`, `on`… are quoted. Throws Error if two containers would get the same
 * service name.
 */
export function renderCompose(target: RuntimeTarget, environment: ComposeEnvironment): string {
  const exports: Array<{ variable: string; service: string; key: string }> = [];
  const leftOut: string[] = [];
  const services: Record<string, Record<string, unknown>> = {};
  const configs: Record<string, { content: string }> = {};
  const namedVolumes = new Set<string>();
  let rewroteHost = false;
  const workloads = [...environment.workloads].sort((a, b) => compareText(a.name, b.name));
  for (const workload of workloads) {
    const ordered = startOrder(workload.containers);
    const first = ordered.find((container) => !runsToCompletion(container)) ?? ordered[0];
    if (!first) continue;
    const owner = workload.name;
    const serviceOf = (container: RenderedContainer) =>
      container === first ? owner : `${workload.name}-${container.name}`;
    // Services that hold a network (the owner's is its other containers' too) whose values name the host.
    const needHost = new Set<string>();
    for (const container of ordered) {
      const name = serviceOf(container);
      if (services[name]) throw new Error(`two containers would both be the Compose service "${name}"`);
      const once = runsToCompletion(container);
      const ownNetwork = container === first || once;
      const secrets = new Set(environment.secretKeys(workload.name, container.name));
      const secretFiles = new Set(environment.secretFiles(workload.name, container.name));
      const service: Record<string, unknown> = {
        image: escape(container.image),
        // Like the docker runtime: an init process forwards signals, and services keep running, except one
        // that runs to completion (another waits for it to complete).
        init: true,
        restart: once ? 'no' : 'unless-stopped',
      };
      // Score (like Kubernetes): `command` replaces the image's entrypoint (which drops its command too, in
      // Compose as in Kubernetes), `args` its command.
      if (container.command) service.entrypoint = container.command.map(escape);
      if (container.args) service.command = container.args.map(escape);

      const environmentVars: Record<string, string> = {};
      for (const [key, value] of Object.entries(container.env)) {
        if (secrets.has(key)) {
          const variable = interpolationVariable(name, key);
          exports.push({ variable, service: name, key });
          environmentVars[key] = `\${${variable}:?export ${variable} (a secret Pave does not print)}`;
        } else {
          const local = rewriteLoopback(value);
          if (local !== value) needHost.add(ownNetwork ? name : owner);
          environmentVars[key] = escape(local);
        }
      }
      if (Object.keys(environmentVars).length > 0) service.environment = environmentVars;

      const mounts: Array<Record<string, unknown>> = [];
      container.files.forEach((file, index) => {
        if (file.binary) {
          leftOut.push(`file ${file.target} of service ${name}: binary content has no inline Compose form`);
        } else if (secretFiles.has(file.target)) {
          leftOut.push(`file ${file.target} of service ${name}: it holds a secret; mount it yourself`);
        } else {
          const config = `${name}-file-${index}`;
          configs[config] = { content: escape(file.content) };
          mounts.push({ source: config, target: file.target, mode: fileMode(file.mode) });
        }
      });
      if (mounts.length > 0) service.configs = mounts;

      const volumes = (container.volumes ?? []).map((volume) => {
        const source = volume.path ? posix.join(volume.source, posix.normalize(volume.path)) : volume.source;
        const bind = posix.isAbsolute(source);
        if (!bind) namedVolumes.add(source);
        return {
          type: bind ? 'bind' : 'volume',
          source: escape(source),
          target: volume.target,
          ...(volume.readOnly ? { read_only: true } : {}),
        };
      });
      if (volumes.length > 0) service.volumes = volumes;

      const healthcheck = healthcheckFor(container, workload.ports);
      if (healthcheck) service.healthcheck = healthcheck;
      else if (container.readinessProbe ?? container.livenessProbe) {
        const kind = container.readinessProbe ? 'readiness' : 'liveness';
        leftOut.push(
          `${kind} probe of service ${name}: an httpGet probe with headers (they may be credentials) has no mapping`,
        );
      }
      if (container.readinessProbe && container.livenessProbe) {
        leftOut.push(`liveness probe of service ${name}: Compose has one healthcheck, taken from readiness`);
      }
      Object.assign(service, resourceLimits(container));

      if (container === first) {
        if (workload.ports.length > 0) service.ports = workload.ports.map(publishedPort);
      } else if (!once) {
        // Sharing the first container's network, as in a pod: it reaches the others on localhost.
        service.network_mode = `service:${owner}`;
      }

      const dependsOn: Record<string, { condition: string }> = {};
      for (const { container: earlier, ready } of waitsFor(workload.containers, container.name)) {
        let condition = CONDITIONS[ready];
        if (ready === 'healthy' && !healthcheckFor(earlier, workload.ports)) {
          condition = CONDITIONS.started;
          leftOut.push(
            `before of service ${serviceOf(earlier)}: ${name} waits for it to start, not to be healthy (its probe has no healthcheck)`,
          );
        }
        dependsOn[serviceOf(earlier)] = { condition };
      }
      if (Object.keys(dependsOn).length > 0) service.depends_on = dependsOn;
      if (workload.annotations && Object.keys(workload.annotations).length > 0) {
        service.annotations = Object.fromEntries(
          Object.entries(workload.annotations).map(([key, value]) => [key, escape(value)]),
        );
      }
      services[name] = service;
    }
    // extra_hosts is refused next to `network_mode: service:…`: the owner carries it for the workload.
    for (const name of needHost) {
      services[name]!.extra_hosts = [`${COMPOSE_HOST_GATEWAY}:host-gateway`];
      rewroteHost = true;
    }
  }
  if (environment.routes.length > 0) {
    const routes = environment.routes.map((route) => `${route.host}${route.path} -> ${route.workload}`);
    leftOut.push(`routes (no ingress in Compose; use the published ports): ${routes.sort().join(', ')}`);
  }

  const project: Record<string, unknown> = { name: networkName(target), services };
  if (Object.keys(configs).length > 0) project.configs = configs;
  if (namedVolumes.size > 0) {
    project.volumes = Object.fromEntries([...namedVolumes].sort().map((volume) => [volume, {}]));
  }
  const header = headerLines(target, environment, { exports, leftOut, rewroteHost });
  // YAML 1.1 quoting: podman-compose (PyYAML) would read a bare `no` (a restart policy), `yes` or `on` as a boolean.
  const body = stringify(sortKeysDeep(project), {
    sortMapEntries: true,
    lineWidth: 0,
    singleQuote: true,
    version: '1.1',
  });
  return `${header.map((line) => (line ? `# ${line}` : '#')).join('\n')}\n${body}`;
}

/** The variable a secret is read from: service and key, upper case, `_` for anything else. */
function interpolationVariable(service: string, key: string): string {
  return `${service}_${key}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

// A host part naming this machine's loopback: after the start, `//`, `@` or a separator, and before a port,
// a path, a query, a separator or the end. `api.dev.shop.localhost` (a route's host) is not one.
const LOOPBACK_HOST = /(^|[/@=,;\s])(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?=$|[:/?#,;\s])/g;

/**
 * `value` with every host naming this machine's loopback replaced by host.docker.internal: inside a
 * container, 127.0.0.1 is the container itself, not the machine where Pave's resources listen.
 */
export function rewriteLoopback(value: string): string {
  return value.replace(LOOPBACK_HOST, (_match, before: string) => `${before}${COMPOSE_HOST_GATEWAY}`);
}

/** Compose interpolates `$`: a rendered value keeps its own by doubling them. */
function escape(value: string): string {
  return value.replaceAll('$', '$$$$');
}

function publishedPort(port: RenderedPort): string {
  return `${PUBLISH_HOST_IP}:${port.hostPort}:${port.targetPort}/${port.protocol.toLowerCase()}`;
}

/** Octal mode as Compose takes it (a number); Score's default 0644. */
function fileMode(mode: string | undefined): number {
  return mode && /^0?[0-7]{3}$/.test(mode) ? parseInt(mode, 8) : 0o644;
}

/** The `depends_on` condition of each `ready` of Score's `before`. */
const CONDITIONS: Record<BeforeReady, string> = {
  started: 'service_started',
  healthy: 'service_healthy',
  complete: 'service_completed_successfully',
};

/** The healthcheck of `container`: of its readiness probe, else of its liveness probe (see healthcheckOf). */
function healthcheckFor(container: RenderedContainer, ports: RenderedPort[]): Record<string, unknown> | null {
  const probe = container.readinessProbe ?? container.livenessProbe;
  return probe ? healthcheckOf(probe, ports) : null;
}

/**
 * The healthcheck of a probe, run inside the container: exec as it is (Score prefers exec when a probe has
 * both); httpGet as a shell command fetching the container port with wget, else curl (the image needs a shell
 * and one of them). Null for an httpGet probe with headers, whose values may be credentials.
 */
function healthcheckOf(probe: RenderedProbe, ports: RenderedPort[]): Record<string, unknown> | null {
  const timing = { interval: '5s', retries: 3, timeout: '3s' };
  if (probe.exec) return { test: ['CMD', ...probe.exec.command.map(escape)], ...timing };
  if (probe.httpGet) {
    if (probe.httpGet.httpHeaders?.length) return null;
    const { path, scheme } = probe.httpGet;
    // Rendered probe ports are host ports; inside the container it listens on the target port.
    const port = ports.find((p) => p.hostPort === probe.httpGet!.port)?.targetPort ?? probe.httpGet.port;
    const url = `${scheme === 'HTTPS' ? 'https' : 'http'}://127.0.0.1:${port}${path}`;
    const quoted = `'${url.replaceAll("'", "'\\''")}'`;
    const insecure = scheme === 'HTTPS';
    const script =
      `wget -q -O /dev/null ${insecure ? '--no-check-certificate ' : ''}${quoted} 2>/dev/null` +
      ` || curl -fsS -o /dev/null ${insecure ? '-k ' : ''}${quoted}`;
    return { test: ['CMD-SHELL', escape(script)], ...timing };
  }
  return null;
}

function resourceLimits(container: RenderedContainer): Record<string, unknown> {
  const { limits, requests } = container.resources ?? {};
  const memory = limits?.memory ? parseMemory(limits.memory) : null;
  const nanoCpus = limits?.cpu ? parseNanoCpus(limits.cpu) : null;
  const reservation = requests?.memory ? parseMemory(requests.memory) : null;
  const requestedCpus = requests?.cpu ? parseNanoCpus(requests.cpu) : null;
  return {
    ...(memory ? { mem_limit: memory } : {}),
    ...(nanoCpus ? { cpus: nanoCpus / 1e9 } : {}),
    ...(reservation ? { mem_reservation: reservation } : {}),
    ...(requestedCpus ? { cpu_shares: cpuShares(requestedCpus) } : {}),
  };
}

function headerLines(
  target: RuntimeTarget,
  environment: ComposeEnvironment,
  found: {
    exports: Array<{ variable: string; service: string; key: string }>;
    leftOut: string[];
    rewroteHost: boolean;
  },
): string[] {
  const set = environment.deploymentSet ? `, deployment set ${environment.deploymentSet}` : '';
  const lines = [
    `Compose file of app ${target.app}, environment ${target.env}${set}: \`pave render --format compose\`.`,
    "Services: <workload> for a workload's first container, <workload>-<container> for its others. Ports are",
    'published on 127.0.0.1 at the host ports Pave allocated (stop the environment in Pave first, or edit them).',
    'Files are configs with inline content (Docker Compose 2.23.1 or later mounts them).',
  ];
  if (found.exports.length > 0) {
    lines.push(
      '',
      'Secret values are not written here. Export these variables (or write them to a .env file next to',
      'this one) with the values Pave gives the workloads, loopback hosts written host.docker.internal:',
      ...found.exports
        .sort((a, b) => compareText(a.variable, b.variable))
        .map(({ variable, service, key }) => `  ${variable}  (service ${service}, variable ${key})`),
    );
  }
  if (found.rewroteHost) {
    lines.push(
      '',
      "Values naming this machine's loopback (127.0.0.1, localhost) say host.docker.internal instead, mapped",
      'to the host gateway: a resource listening on loopback only must also listen there to be reached.',
    );
  }
  if (found.leftOut.length > 0) {
    lines.push('', 'Left out:', ...found.leftOut.sort(compareText).map((line) => `  - ${line}`));
  }
  lines.push('');
  return lines;
}

function sortKeysDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => sortKeysDeep(item)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, item]) => item !== undefined)
        .sort(([a], [b]) => compareText(a, b))
        .map(([key, item]) => [key, sortKeysDeep(item)]),
    ) as T;
  }
  return value;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
