import { createServer } from 'node:net';
import { posix } from 'node:path';
import {
  InputError,
  checkScoreProbePorts,
  formatScorePath,
  manifestSource,
  probedServicePort,
  resourceOutputsJson,
  resourceReference,
  routePortProblem,
  servicePortOf,
  substitutePlaceholders,
  type FieldProblem,
  type ResourceChange,
  type ScoreContainer,
  type ScoreContainerProbe,
  type ScoreWorkload,
  type WorkloadSource,
} from '@pave/core';
import { beforeProblems } from '@pave/plugin-api';
import type {
  RenderedContainer,
  RenderedFile,
  RenderedPort,
  RenderedProbe,
  RenderedVolume,
  RenderedWorkload,
  ResourceOutputs as DriverOutputs,
} from '@pave/plugin-api';
import { isUniqueViolation, type Executor } from '../../store/index.ts';
import { hashOf } from '../canonical-json.ts';
import { profilesForEnvironment } from '../profiles.ts';
import { buildResourceGraph } from '../resources/graph.ts';
import { resourceRows, workloadOutputs } from '../resources/provision.ts';
import { deployableValueKeys, valuesContent } from '../values.ts';
import type { SetWorkloads } from './sets.ts';

/**
 * Where host ports for workloads are allocated from: below Linux's ephemeral range (32768–60999 by default), from
 * which the kernel gives outgoing connections their local ports, so that none can take a workload's port.
 */
export const HOST_PORT_RANGE = { from: 20_000, to: 32_767 } as const;

/** The environment a set is rendered for. */
export interface RenderTarget {
  app: string;
  env: string;
  deploymentId: string;
  /** The environment's values (plaintext, in memory only): the outputs of `environment` resources. */
  values?: Record<string, string>;
  /**
   * Maps a variable's value to what the workload's hash covers. A keyed fingerprint keeps secrets out of
   * hashes, which runtimes store on disk. Default: the value itself.
   */
  fingerprint?: (value: string) => string;
  /** How workloads reach another workload's port (see RuntimeDriver.serviceAddress); default 127.0.0.1:hostPort. */
  serviceAddress?: (workload: string, port: RenderedPort) => { hostname: string; port: number };
  /** Outputs of the provisioned resources, by workload then resource name (see provisionResources). */
  resources?: Map<string, Map<string, { type: string; values: Record<string, string> }>>;
  /**
   * Attach the workload profiles matched to the environment (`pave profiles`): for a runtime that renders
   * manifests. Others ignore profiles, and leaving them out keeps their workloads' hashes, so changing a profile
   * does not restart their workloads. Default false.
   */
  withProfiles?: boolean;
  /**
   * Only check that the set renders, as a plan does before anything is provisioned (see checkSetRenders): no
   * host port is allocated (a port without one renders as host port 0), and a resource that `resources` lacks
   * and Pave does not resolve itself counts as provisioned by the deployment, with outputs only its driver knows
   * (any output of it resolves). Default false.
   */
  dryRun?: boolean;
  /**
   * The name of the runtime the set runs on. On one that runs readiness probes from the host (process, docker:
   * HOST_PROBING_RUNTIMES) a readiness probe must probe a service port (see checkScoreProbePorts). Default:
   * not known, so not checked (kubernetes and Compose probe the container port).
   */
  runtime?: string;
}

/**
 * Renders every workload of a set for one environment: allocates (or reuses) its host ports, expands
 * placeholders where Score expands them (variables, file content) and maps probe ports to host ports.
 * Rejects with InputError listing every problem (unknown resource types, bad placeholders, service-port and
 * route resources naming a port the workload lacks, and on the process and docker runtimes readiness probes of
 * ports that are not service ports).
 */
export async function renderSet(
  db: Executor,
  target: RenderTarget,
  workloads: SetWorkloads,
): Promise<RenderedWorkload[]> {
  const ports = new Map<string, RenderedPort[]>();
  for (const [name, source] of Object.entries(workloads)) {
    ports.set(name, await allocatePorts(db, target, name, source.spec));
  }
  const problems: FieldProblem[] = [];
  const rendered: RenderedWorkload[] = [];
  // The workload profiles matched to the environment (`pave profiles`), for runtimes that render manifests.
  const profilesOf = target.withProfiles ? await profilesForEnvironment(db, target) : () => undefined;
  for (const [name, source] of Object.entries(workloads).sort(([a], [b]) => a.localeCompare(b))) {
    const outputs = resolveResources(
      name,
      source.spec,
      ports,
      problems,
      target.values ?? {},
      target.resources?.get(name),
      target.serviceAddress,
      target.dryRun === true,
    );
    const workloadPorts = ports.get(name) ?? [];
    // Name the Score file when the client sent it, so people know where to look.
    const file = source.file ? `${source.file}: ` : '';
    // A deployment request refuses these in the workloads it is sent; a set saved earlier may have one.
    for (const problem of checkScoreProbePorts(source.spec, target.runtime)) {
      problems.push({
        path: `${file}workloads.${name}.${formatScorePath(problem.path)}`,
        message: problem.message,
      });
    }
    const containers: RenderedContainer[] = [];
    for (const [containerName, container] of Object.entries(source.spec.containers).sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      const where = `${file}workloads.${name}.containers.${containerName}`;
      const expand = (text: string, path: string) => {
        try {
          return substitutePlaceholders(text, (parts) => resolvePlaceholder(parts, source.spec, outputs));
        } catch (error) {
          problems.push({ path: `${where}.${path}`, message: (error as Error).message });
          return text;
        }
      };
      containers.push({
        name: containerName,
        image: container.image,
        ...(container.command ? { command: container.command } : {}),
        ...(container.args ? { args: container.args } : {}),
        env: Object.fromEntries(
          Object.entries(container.variables ?? {})
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([key, value]) => [key, expand(value, `variables.${key}`)]),
        ),
        files: renderFiles(container, expand, where, problems),
        workingDir: source.dir,
        ...probe('readinessProbe', container.readinessProbe, source.spec, workloadPorts),
        ...probe('livenessProbe', container.livenessProbe, source.spec, workloadPorts),
        ...renderVolumes(container, source.spec, expand, where, problems),
        ...(container.resources ? { resources: container.resources } : {}),
        ...(container.before ? { before: container.before } : {}),
      });
    }
    // Score's `before`, checked as every runtime checks it (see @pave/plugin-api's beforeProblems).
    const ordered = Object.entries(source.spec.containers).map(([container, spec]) => ({
      name: container,
      ...(spec.before ? { before: spec.before } : {}),
      readinessProbe: spec.readinessProbe,
      livenessProbe: spec.livenessProbe,
    }));
    problems.push(...beforeProblems(ordered, `${file}workloads.${name}.containers`));
    // The developer's own manifests (`--manifests`) count in the hash, so changing one rolls the workload
    // out; a workload without any hashes as before.
    const manifests = source.manifests?.map((entry, index) => ({
      source: manifestSource(entry, index),
      manifest: entry.manifest,
    }));
    // Profiles count in the hash too, so changing one that applies rolls the workload out.
    const profiles = profilesOf(name);
    const annotations = source.spec.metadata.annotations;
    const body = {
      name,
      containers,
      ports: workloadPorts,
      ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
      ...(manifests?.length ? { manifests } : {}),
      ...(profiles ? { profiles } : {}),
    };
    const fingerprint = target.fingerprint ?? ((value: string) => value);
    const hashed = {
      ...body,
      containers: containers.map((container) => ({
        ...container,
        env: Object.fromEntries(
          Object.entries(container.env).map(([key, value]) => [key, fingerprint(value)]),
        ),
        files: container.files.map((file) => ({ ...file, content: fingerprint(file.content) })),
      })),
    };
    rendered.push({ ...body, hash: hashOf(hashed), deploymentId: target.deploymentId });
  }
  if (problems.length > 0) {
    throw new InputError(`the deployment set cannot be rendered for ${target.app}/${target.env}`, problems);
  }
  return rendered;
}

/**
 * Refuses a set the deployment's render would refuse, with the same InputError (every problem), checked in a
 * dry run of renderSet: what a plan (`plan: true`) checks, so that it does not say yes to a set whose deployment
 * would fail after it was queued. Nothing is allocated or provisioned and no runtime is asked. A resource that
 * `resources` (planResources' changes for the set) keeps renders with the outputs stored for it, so naming one
 * it lacks is refused as the deployment refuses it; a resource not provisioned yet, or one the deployment
 * updates or replaces (its driver makes its outputs anew), may have any output. The environment's values are
 * those of values version `valuesVersion` (default: those of the layers, which a deployment records as a
 * version and pins when it starts, see deployableValueKeys). Of values and outputs only the names are read:
 * no secret reaches the check or its messages.
 */
export async function checkSetRenders(
  db: Executor,
  target: {
    app: string;
    env: string;
    valuesVersion?: number | null | undefined;
    /** The name of the runtime the deployment would run on (see RenderTarget.runtime); default not known. */
    runtime?: string | undefined;
  },
  workloads: SetWorkloads,
  resources: readonly ResourceChange[],
): Promise<void> {
  const { app, env, valuesVersion, runtime } = target;
  const keys =
    valuesVersion === undefined
      ? await deployableValueKeys(db, app, env)
      : valuesVersion === null
        ? []
        : Object.keys(await valuesContent(db, app, env, valuesVersion));
  const values = Object.fromEntries(keys.map((key) => [key, '']));
  const provisioned = await keptOutputNames(db, target, workloads, resources);
  await renderSet(
    db,
    {
      app,
      env,
      deploymentId: 'plan',
      values,
      resources: provisioned,
      dryRun: true,
      ...(runtime === undefined ? {} : { runtime }),
    },
    workloads,
  );
}

/**
 * The outputs the set's kept resources render with, as provisionResources hands them to the render: those
 * stored for the resource at the node's address, each an empty string (only their names matter to a check).
 * Left out, as the deployment may have its driver update them: a resource kept while one whose outputs its
 * params use is not (its inputs change with them), and one provisioned before its inputs were stored
 * (migration 0011), which planning compares by its params alone.
 */
async function keptOutputNames(
  db: Executor,
  target: { app: string; env: string },
  workloads: SetWorkloads,
  resources: readonly ResourceChange[],
) {
  const kept = new Set(
    resources.filter((change) => change.action === 'keep').map((change) => change.address),
  );
  const graph = buildResourceGraph(workloads);
  const rows = await resourceRows(db, target.app, target.env);
  const names = (list: string[]) => Object.fromEntries(list.map((name) => [name, '']));
  const outputs = new Map<string, DriverOutputs>();
  // Nodes come after the resources their params use, so those are settled first.
  for (const node of graph.nodes) {
    const row = rows.get(node.address);
    if (node.builtIn || !row || row.type !== node.type || row.inputs === null) continue;
    if (!kept.has(node.address)) continue;
    if (!node.dependsOn.every((address) => outputs.has(address))) continue;
    outputs.set(node.address, {
      values: names(Object.keys(JSON.parse(row.output_values) as Record<string, string>)),
      secrets: names(JSON.parse(row.secret_names) as string[]),
    });
  }
  return workloadOutputs(workloads, graph.nodes, outputs);
}

function renderFiles(
  container: ScoreContainer,
  expand: (text: string, path: string) => string,
  where: string,
  problems: FieldProblem[],
): RenderedFile[] {
  const entries: Array<[string, Record<string, unknown>]> = Array.isArray(container.files)
    ? container.files.map((file) => [String(file.target ?? ''), file as Record<string, unknown>])
    : Object.entries(container.files ?? {});
  return entries.map(([target, file]) => {
    const path = `${where}.files.${target}`;
    const mode = typeof file.mode === 'string' ? { mode: file.mode } : {};
    if (typeof file.binaryContent === 'string')
      return { target, content: file.binaryContent, binary: true, ...mode };
    if (typeof file.content === 'string') {
      return {
        target,
        content: file.noExpand ? file.content : expand(file.content, `files.${target}.content`),
        ...mode,
      };
    }
    problems.push({
      path: `${path}.source`,
      message: 'the client must send the content of `source` files (the pave CLI reads them from disk)',
    });
    return { target, content: '', ...mode };
  });
}

/** The sources a Score volume may have: `${resources.NAME}`, as Score writes it, or its `source` output. */
const VOLUME_SOURCE = /^\$\{resources\.([^.}]+)(?:\.source)?\}$/;

/**
 * A container's volumes, each mounting the directory of a `volume` resource of the workload (its `source`
 * output), optionally a `path` inside it. Nothing else may be a source: a host path there would hand the
 * workload whatever the runtime's host can read (Pave's data directory, another environment's volumes, the
 * container engine's socket), and a `path` may not climb out of the volume.
 */
function renderVolumes(
  container: ScoreContainer,
  spec: ScoreWorkload,
  expand: (text: string, path: string) => string,
  where: string,
  problems: FieldProblem[],
): { volumes?: RenderedVolume[] } {
  if (!container.volumes) return {};
  const entries: Array<[string, { source: string; path?: string; readOnly?: boolean }]> = Array.isArray(
    container.volumes,
  )
    ? container.volumes.map((volume) => [String(volume.target ?? ''), volume])
    : Object.entries(container.volumes);
  return {
    volumes: entries.map(([target, volume]) => {
      const at = `${where}.volumes.${target}`;
      const name = VOLUME_SOURCE.exec(volume.source.trim())?.[1];
      if (name === undefined || spec.resources?.[name]?.type !== 'volume') {
        const volumes = Object.entries(spec.resources ?? {})
          .filter(([, resource]) => resource.type === 'volume')
          .map(([resource]) => `\${resources.${resource}}`);
        problems.push({
          path: `${at}.source`,
          message:
            `"${volume.source}" is not a volume resource of the workload: a volume's source must be ` +
            `\${resources.NAME} of a resource of type volume under its resources ` +
            `(${volumes.length ? `here: ${volumes.join(', ')}` : 'it declares none'}); ` +
            'a workload mounts only volumes Pave provisions for its environment, never a host path',
        });
        return { source: '', target };
      }
      if (volume.path !== undefined) {
        const inside = posix.normalize(volume.path);
        if (posix.isAbsolute(inside) || inside === '..' || inside.startsWith('../')) {
          problems.push({
            path: `${at}.path`,
            message: `"${volume.path}" climbs out of the volume: a path is relative to the volume's directory, inside it`,
          });
        }
      }
      return {
        source: expand(`\${resources.${name}.source}`, `volumes.${target}.source`),
        target,
        ...(volume.path ? { path: volume.path } : {}),
        ...(volume.readOnly ? { readOnly: true } : {}),
      };
    }),
  };
}

/**
 * A probe with its httpGet port mapped to the host port of the service port it names (see probedServicePort),
 * or left as it is when it names none: the container's own port, which kubernetes and Compose probe (the
 * process and docker runtimes cannot, which checkScoreProbePorts reports for them).
 */
function probe(
  key: 'readinessProbe' | 'livenessProbe',
  spec: ScoreContainerProbe | undefined,
  workload: ScoreWorkload,
  ports: RenderedPort[],
): Partial<Record<typeof key, RenderedProbe>> {
  if (!spec) return {};
  const rendered: RenderedProbe = {};
  if (spec.exec) rendered.exec = { command: spec.exec.command };
  if (spec.httpGet) {
    const { port, ...rest } = spec.httpGet;
    const name = probedServicePort(workload.service, port);
    const served = ports.find((p) => p.name === name);
    rendered.httpGet = { ...rest, port: served ? served.hostPort : port };
  }
  return { [key]: rendered };
}

/**
 * Outputs of the workload's resources, by resource name. `unknown`: a resource a dry run takes to be provisioned
 * later, whose outputs only its driver knows; any output of it resolves, to an empty string.
 */
type ResourceOutputs = Map<string, { type: string; values: Record<string, string>; unknown?: true }>;

/** The resource types this version of Pave provisions, with what each outputs. */
function resolveResources(
  workload: string,
  spec: ScoreWorkload,
  ports: Map<string, RenderedPort[]>,
  problems: FieldProblem[],
  values: Record<string, string>,
  provisioned: Map<string, { type: string; values: Record<string, string> }> | undefined,
  serviceAddress: RenderTarget['serviceAddress'],
  dryRun: boolean,
): ResourceOutputs {
  const outputs: ResourceOutputs = new Map();
  for (const [name, resource] of Object.entries(spec.resources ?? {})) {
    const path = `workloads.${workload}.resources.${name}`;
    if (resource.type === 'route') {
      // Pave's proxy routes to a port of this workload: a name must be one of its service.ports.
      const problem = routePortProblem(spec, resource.params?.port);
      if (problem) problems.push({ path: `${path}.params.port`, message: problem });
    }
    const provided = provisioned?.get(name);
    if (provided) {
      outputs.set(name, provided);
      continue;
    }
    if (resource.type === 'environment') {
      // Score's standard type for configuration: its outputs are the environment's values.
      outputs.set(name, { type: resource.type, values });
      continue;
    }
    if (resource.type === 'service-port') {
      const params = resource.params ?? {};
      const other = typeof params.workload === 'string' ? params.workload : undefined;
      const otherPorts = other ? ports.get(other) : undefined;
      if (!other || !otherPorts) {
        problems.push({
          path: `${path}.params.workload`,
          message: `must name a workload of this environment${other ? `; "${other}" is not deployed here` : ''}`,
        });
        continue;
      }
      const port = servicePort(other, otherPorts, params.port, `${path}.params.port`, problems);
      if (!port) continue;
      outputs.set(name, {
        type: resource.type,
        values: serviceAddress
          ? (({ hostname, port: reached }) => ({ hostname, port: String(reached) }))(
              serviceAddress(other, port),
            )
          : { hostname: '127.0.0.1', port: String(port.hostPort) },
      });
      continue;
    }
    if (dryRun) {
      // The plan has found a definition that provisions it, or refused the set (planResources).
      outputs.set(name, { type: resource.type, values: {}, unknown: true });
      continue;
    }
    problems.push({
      path: `${path}.type`,
      message:
        `resource "${name}" of type "${resource.type}" was not provisioned; ` +
        `\`pave defs match --type ${resource.type}\` shows which resource definition should provision it`,
    });
  }
  return outputs;
}

/**
 * The port of workload `other` (its rendered `ports`) that a service-port resource's `params.port` names, by
 * name or number as servicePortOf finds it; without one, its first port (by name). Undefined, with a problem
 * at `path` naming the ports it has, when it has none or none is named so (score-compose's "unknown service
 * port"): a typo must not reach another port.
 */
function servicePort(
  other: string,
  ports: RenderedPort[],
  ref: unknown,
  path: string,
  problems: FieldProblem[],
): RenderedPort | undefined {
  if (ports.length === 0) {
    problems.push({ path, message: `workload "${other}" declares no service ports` });
    return undefined;
  }
  const listed = ports.map((p) => `${p.name} (port ${p.port}, ${p.protocol})`).join(', ');
  if (ref === undefined) return ports[0];
  if (typeof ref !== 'string' && typeof ref !== 'number') {
    problems.push({
      path,
      message:
        `must be the name or the port number of a service port of workload "${other}", not ` +
        `${Array.isArray(ref) ? 'a list' : ref === null ? 'null' : typeof ref === 'object' ? 'a map' : `a ${typeof ref}`}; its service.ports: ${listed}`,
    });
    return undefined;
  }
  const service = {
    ports: Object.fromEntries(ports.map((p) => [p.name, { port: p.port, targetPort: p.targetPort }])),
  };
  const found = servicePortOf(service, ref);
  if (!found) {
    problems.push({
      path,
      message: `workload "${other}" has no service port "${ref}"; name one of its service.ports: ${listed}`,
    });
    return undefined;
  }
  return ports.find((p) => p.name === found.name);
}

function resolvePlaceholder(parts: string[], spec: ScoreWorkload, outputs: ResourceOutputs): string {
  const [root, ...rest] = parts;
  if (root === 'metadata') {
    let value: unknown = spec.metadata;
    for (const part of rest) {
      value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
    }
    if (value === undefined) throw new Error(`\${${parts.join('.')}} names no metadata field`);
    return typeof value === 'string' ? value : JSON.stringify(value);
  }
  if (root === 'resources') {
    const provided = rest[0] === undefined ? undefined : outputs.get(rest[0]);
    if (rest[0] !== undefined && !provided) {
      throw new Error(`\${${parts.join('.')}}: resource "${rest[0]}" has no outputs`);
    }
    // The rule pave validate applies too: `${resources.NAME}` is every output, as JSON; nothing after one.
    const reference = resourceReference(parts);
    if ('problem' in reference || !provided) {
      throw new Error(
        'problem' in reference ? reference.problem : `\${${parts.join('.')}} names no resource`,
      );
    }
    const { resource, output } = reference;
    const { type, values } = provided;
    if (provided.unknown) return '';
    // Its secret outputs included: the text then holds each secret (JSON-escaped where JSON escapes), as a
    // placeholder of the one output does, and is as secret.
    if (output === undefined) return resourceOutputsJson(values);
    const value = Object.hasOwn(values, output) ? values[output] : undefined;
    if (value === undefined) {
      const known = Object.keys(values).sort().join(', ') || 'none';
      throw new Error(
        type === 'environment'
          ? `\${${parts.join('.')}}: the environment has no value ${output}; set it with \`pave values set ${output}=…\``
          : `\${${parts.join('.')}}: resource "${resource}" has no output "${output}" (it has: ${known})`,
      );
    }
    return value;
  }
  throw new Error(
    `\${${parts.join('.')}} is not a placeholder Score knows; use \${metadata.…}, \${resources.NAME.OUTPUT} ` +
      'or ${resources.NAME}',
  );
}

/** The host ports of one workload, allocated on first use (not in a dry run) and stable afterwards. */
async function allocatePorts(
  db: Executor,
  target: RenderTarget,
  workload: string,
  spec: ScoreWorkload,
): Promise<RenderedPort[]> {
  const declared = Object.entries(spec.service?.ports ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (declared.length === 0) return [];
  const existing = await db
    .selectFrom('port_allocations')
    .select(['port_name', 'host_port'])
    .where('app_id', '=', target.app)
    .where('env_id', '=', target.env)
    .where('workload', '=', workload)
    .execute();
  const byName = new Map(existing.map((row) => [row.port_name, Number(row.host_port)]));
  const result: RenderedPort[] = [];
  for (const [name, port] of declared) {
    // A dry run takes no port: one not allocated yet renders as 0, which no check looks at.
    let hostPort = byName.get(name) ?? (target.dryRun ? 0 : undefined);
    for (let attempt = 0; hostPort === undefined && attempt < 50; attempt++) {
      const candidate =
        HOST_PORT_RANGE.from + Math.floor(Math.random() * (HOST_PORT_RANGE.to - HOST_PORT_RANGE.from));
      if (!(await portIsFree(candidate))) continue;
      try {
        await db
          .insertInto('port_allocations')
          .values({ app_id: target.app, env_id: target.env, workload, port_name: name, host_port: candidate })
          .execute();
        hostPort = candidate;
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
    }
    if (hostPort === undefined) throw new Error(`no free host port found for ${workload}.${name}`);
    result.push({
      name,
      port: port.port,
      targetPort: port.targetPort ?? port.port,
      protocol: port.protocol ?? 'TCP',
      hostPort,
    });
  }
  return result;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The source of a workload, for messages. */
export function describeSource(source: WorkloadSource): string {
  return source.file ?? source.dir;
}
