/*
 * The resource graph of a deployment set: which resources the set's workloads declare, which of them are shared,
 * and in which order they must be provisioned because one resource's params use another's outputs. Pure
 * functions; the orchestrator provisions in `nodes` order, and `pave resources graph` prints renderGraphText.
 */
import {
  BUILT_IN_RESOURCE_TYPES,
  DEFAULT_RESOURCE_CLASS,
  InputError,
  dependencyOrder,
  findPlaceholders,
  formatScorePath,
  resourceCycleMessage,
  type FieldProblem,
  type ScoreResource,
} from '@pave/core';
import type { SetWorkloads } from '../deployments/sets.ts';

/** A workload's name for a resource: which workload uses it, under which resource name. */
export interface ResourceConsumer {
  workload: string;
  name: string;
}

/** One resource of a set: a workload's own resource, or a shared one that several workloads use. */
export interface ResourceNode {
  /** `<workload>.<name>`, or `shared.<id>` for a resource with a Score `id`. */
  address: string;
  type: string;
  /** Score's `class`, "default" when the Score file names none. */
  class: string;
  /** The resource id definitions match on (`resId`): the Score `id` of a shared resource, else the address. */
  resId: string;
  /** Declared with a Score `id`: one resource for every workload that declares that id. */
  shared: boolean;
  /** A type Pave resolves itself (`environment`, `service-port`): shown in the graph, never provisioned. */
  builtIn: boolean;
  /** The Score `params`, placeholders unexpanded; for a shared resource, those of the declaration that sets them. */
  params: Record<string, unknown>;
  /** Every workload resource that is this node, sorted by workload, then name. */
  consumers: ResourceConsumer[];
  /** Addresses of the resources whose outputs this one's params use, sorted. */
  dependsOn: string[];
}

/** An edge of the graph: a workload uses a resource, or a resource's params use another resource's outputs. */
export interface ResourceEdge {
  /** A workload name (`uses`) or a resource address (`depends-on`). */
  from: string;
  /** A resource address. */
  to: string;
  kind: 'uses' | 'depends-on';
}

/** The resources of a deployment set and how they relate, see {@link buildResourceGraph}. */
export interface SetResourceGraph {
  /** In the order to provision them: every resource after the resources it depends on, ties by address. */
  nodes: ResourceNode[];
  /** `uses` edges sorted by workload and address, then `depends-on` edges sorted by address. */
  edges: ResourceEdge[];
}

/** The prefix of a shared resource's address: `shared.<id>`. */
export const SHARED_ADDRESS_PREFIX = 'shared.';

/**
 * The graph address of a workload's resource: `shared.<id>` when it has a Score `id` (it is shared), else
 * `<workload>.<name>`.
 */
export function resourceAddress(workload: string, name: string, resource: Pick<ScoreResource, 'id'>): string {
  return resource.id === undefined ? `${workload}.${name}` : `${SHARED_ADDRESS_PREFIX}${resource.id}`;
}

const BUILT_IN_TYPES: ReadonlySet<string> = new Set(BUILT_IN_RESOURCE_TYPES);

// One workload's declaration of a resource.
interface Declaration {
  workload: string;
  name: string;
  resource: ScoreResource;
  address: string;
}

const pathOf = (declaration: Declaration, ...rest: Array<string | number>): string =>
  formatScorePath(['workloads', declaration.workload, 'resources', declaration.name, ...rest]);

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const hasParams = (
  resource: ScoreResource,
): resource is ScoreResource & { params: Record<string, unknown> } =>
  resource.params !== undefined && Object.keys(resource.params).length > 0;

/**
 * Builds the resource graph of a set's workloads. Each Score resource becomes a node at `<workload>.<name>`;
 * resources with a Score `id` are shared: every declaration of that id (with the same type and class) is one
 * node at `shared.<id>`, whose consumers are all the declaring workloads. Built-in types (`environment`,
 * `service-port`) are nodes too, flagged `builtIn`. A placeholder `${resources.<other>…}` in a resource's
 * params (in any string, however deep) makes it depend on the workload's resource `<other>`; other placeholders
 * (`${metadata.name}`) and escaped ones (`$${…}`) do not count.
 *
 * Throws an InputError listing every problem at once, each at a path like `workloads.<w>.resources.<n>.id`:
 * one shared id declared with different types or classes, or with different params; a shared address taken by
 * a workload's own resource (a workload named `shared`); a params placeholder naming a resource the workload
 * does not declare, or a `${` never closed; and dependency cycles, printed as `a -> b -> a`.
 */
export function buildResourceGraph(workloads: SetWorkloads): SetResourceGraph {
  const problems: FieldProblem[] = [];
  const declarations: Declaration[] = [];
  for (const workload of Object.keys(workloads).sort(compare)) {
    const resources = workloads[workload]?.spec.resources ?? {};
    for (const name of Object.keys(resources).sort(compare)) {
      const resource = resources[name] as ScoreResource;
      declarations.push({ workload, name, resource, address: resourceAddress(workload, name, resource) });
    }
  }

  // Group declarations into nodes; the first declaration (by workload, then name) sets type and class.
  const groups = new Map<string, Declaration[]>();
  for (const declaration of declarations) {
    const group = groups.get(declaration.address);
    if (group) group.push(declaration);
    else groups.set(declaration.address, [declaration]);
  }
  const nodes = new Map<string, ResourceNode>();
  for (const [address, group] of groups) {
    const [first, ...others] = group as [Declaration, ...Declaration[]];
    const shared = first.resource.id !== undefined;
    const kind = (d: Declaration) =>
      `${d.resource.type} (class ${d.resource.class ?? DEFAULT_RESOURCE_CLASS})`;
    let paramsFrom = hasParams(first.resource) ? first : undefined;
    for (const other of others) {
      if ((other.resource.id !== undefined) !== shared) {
        const own = shared ? other : first;
        const sharedOne = shared ? first : other;
        problems.push({
          path: pathOf(own),
          message:
            `its address ${address} is also the address of the shared resource with id "${sharedOne.resource.id}" ` +
            `(${pathOf(sharedOne)}); rename the workload "${own.workload}" or change that id`,
        });
      } else if (kind(other) !== kind(first)) {
        problems.push({
          path: pathOf(other, 'id'),
          message:
            `shared resource id "${other.resource.id}" is declared here as ${kind(other)} but as ${kind(first)} ` +
            `at ${pathOf(first)}; one id is one resource: use the same type and class, or a different id`,
        });
      } else if (hasParams(other.resource)) {
        if (!paramsFrom) paramsFrom = other;
        else if (canonical(other.resource.params) !== canonical(paramsFrom.resource.params)) {
          problems.push({
            path: pathOf(other, 'params'),
            message:
              `shared resource id "${other.resource.id}" gets different params here than at ` +
              `${pathOf(paramsFrom, 'params')}; set params in one declaration only, or make them the same`,
          });
        }
      }
    }
    nodes.set(address, {
      address,
      type: first.resource.type,
      class: first.resource.class ?? DEFAULT_RESOURCE_CLASS,
      resId: shared ? (first.resource.id as string) : address,
      shared,
      builtIn: BUILT_IN_TYPES.has(first.resource.type),
      params: paramsFrom?.resource.params ?? first.resource.params ?? {},
      consumers: group.map(({ workload, name }) => ({ workload, name })),
      dependsOn: [],
    });
  }

  // Dependencies, remembering for each edge where it comes from (for cycle messages).
  const origins = new Map<string, Map<string, string>>();
  for (const declaration of declarations) {
    const resources = workloads[declaration.workload]?.spec.resources ?? {};
    const declared = Object.keys(resources).sort(compare);
    forEachString(declaration.resource.params ?? {}, [], (text, at) => {
      const path = pathOf(declaration, 'params', ...at);
      const { placeholders, unterminated } = findPlaceholders(text);
      for (const placeholder of placeholders) {
        const [root, other] = placeholder.parts;
        if (root !== 'resources') continue;
        if (other === undefined) {
          problems.push({
            path,
            message: `\${${placeholder.ref}} needs a resource name, e.g. \${resources.db.host}`,
          });
          continue;
        }
        // hasOwn: a name like "constructor" must not find Object.prototype's.
        const target = Object.hasOwn(resources, other) ? resources[other] : undefined;
        if (target === undefined) {
          problems.push({
            path,
            message:
              `\${${placeholder.ref}} names resource "${other}", which workload ${declaration.workload} does not ` +
              `declare; declared resources: ${declared.length > 0 ? declared.join(', ') : '(none)'}. Declare it ` +
              'under resources: or fix the name',
          });
          continue;
        }
        const to = resourceAddress(declaration.workload, other, target);
        const from = origins.get(declaration.address) ?? new Map<string, string>();
        origins.set(declaration.address, from);
        if (!from.has(to)) from.set(to, path);
      }
      if (unterminated !== undefined) {
        problems.push({
          path,
          message: `"\${" at offset ${unterminated} has no closing "}"; close it, or write $\${ for a literal \${`,
        });
      }
    });
  }
  for (const [address, targets] of origins) {
    (nodes.get(address) as ResourceNode).dependsOn = [...targets.keys()].sort(compare);
  }

  // The same detection as parseScore's (`pave validate`) for one file, here across the set's workloads.
  const { order, cycles } = dependencyOrder(
    new Map([...nodes].map(([address, node]) => [address, node.dependsOn])),
  );
  for (const cycle of cycles) {
    const [start, next] = cycle as [string, string];
    problems.push({ path: origins.get(start)?.get(next) ?? start, message: resourceCycleMessage(cycle) });
  }
  if (problems.length > 0) {
    const summary = problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ');
    throw new InputError(`the resources of the deployment set are inconsistent: ${summary}`, problems);
  }

  const ordered = order.map((address) => nodes.get(address) as ResourceNode);
  // A workload may declare one shared id under two names; it still uses the resource once.
  const uses: ResourceEdge[] = [
    ...new Set(
      ordered.flatMap((node) =>
        node.consumers.map(({ workload }) => JSON.stringify([workload, node.address])),
      ),
    ),
  ]
    .map((key) => JSON.parse(key) as [string, string])
    .sort(([fromA, toA], [fromB, toB]) => compare(fromA, fromB) || compare(toA, toB))
    .map(([from, to]) => ({ from, to, kind: 'uses' as const }));
  const dependsOn: ResourceEdge[] = [...ordered]
    .sort((a, b) => compare(a.address, b.address))
    .flatMap((node) => node.dependsOn.map((to) => ({ from: node.address, to, kind: 'depends-on' as const })));
  return { nodes: ordered, edges: [...uses, ...dependsOn] };
}

// Calls `visit` with every string inside `value` and its path; object keys are not expanded by Score.
function forEachString(
  value: unknown,
  path: Array<string | number>,
  visit: (text: string, path: Array<string | number>) => void,
): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, index) => forEachString(item, [...path, index], visit));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) forEachString(item, [...path, key], visit);
  }
}

function canonical(value: unknown): string {
  const sorted = (item: unknown): unknown =>
    Array.isArray(item)
      ? item.map(sorted)
      : typeof item === 'object' && item !== null
        ? Object.fromEntries(
            Object.keys(item)
              .sort(compare)
              .map((key) => [key, sorted((item as Record<string, unknown>)[key])]),
          )
        : item;
  return JSON.stringify(sorted(value));
}

/**
 * Renders a graph as a text tree for terminals (`pave resources graph`): each workload (by name) with its
 * resources (by name), their type and class, where a resource is shared (its address and the other workloads
 * that use it) or built in, and under each resource the resources it depends on. The same graph always gives
 * the same text; an empty graph gives a line saying so.
 */
export function renderGraphText(graph: SetResourceGraph): string {
  const byAddress = new Map(graph.nodes.map((node) => [node.address, node]));
  const byWorkload = new Map<string, Array<{ name: string; node: ResourceNode }>>();
  for (const node of graph.nodes) {
    for (const { workload, name } of node.consumers) {
      byWorkload.set(workload, [...(byWorkload.get(workload) ?? []), { name, node }]);
    }
  }
  if (byWorkload.size === 0) return 'no resources\n';

  const lines: string[] = [];
  for (const workload of [...byWorkload.keys()].sort(compare)) {
    lines.push(workload);
    const resources = (byWorkload.get(workload) ?? []).sort((a, b) => compare(a.name, b.name));
    const width = Math.max(...resources.map(({ name }) => name.length));
    resources.forEach(({ name, node }, position) => {
      const last = position === resources.length - 1;
      const notes: string[] = [];
      if (node.shared) {
        const others = [...new Set(node.consumers.map((c) => c.workload).filter((w) => w !== workload))];
        notes.push(
          `shared as ${node.address}${others.length > 0 ? `, also used by ${others.join(', ')}` : ''}`,
        );
      }
      if (node.builtIn) notes.push('built-in');
      const kind = `${node.type} (class ${node.class})`;
      lines.push(
        `${last ? '└── ' : '├── '}${name.padEnd(width)}  ${kind}${notes.length > 0 ? `  [${notes.join('; ')}]` : ''}`,
      );
      node.dependsOn.forEach((dependency, index) => {
        const target = byAddress.get(dependency);
        const what = target ? ` (${target.type})` : '';
        const branch = index === node.dependsOn.length - 1 ? '└── ' : '├── ';
        lines.push(`${last ? '    ' : '│   '}${branch}depends on ${dependency}${what}`);
      });
    });
  }
  return `${lines.join('\n')}\n`;
}
