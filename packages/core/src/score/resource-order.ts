/*
 * The order resources must be provisioned in because one resource's params use another's outputs
 * (`${resources.db.host}` in the params of `route`), and the cycles that make an order impossible. One
 * implementation for both sides: the server's planner orders a deployment set's resource graph with it, and
 * parseScore (so `pave validate` and `pave deploy`) refuses a Score file whose resource params form a cycle
 * before anything is sent.
 */
import { findPlaceholders } from './placeholders.ts';

/** What {@link dependencyOrder} makes of a dependency graph. */
export interface DependencyOrder {
  /** Every vertex that is on no cycle and depends on none, after the vertices it depends on; ties by name. */
  order: string[];
  /**
   * One cycle per strongly connected component of the vertices left out of `order`, as a path that starts and
   * ends at the component's smallest vertex, e.g. `['a', 'b', 'a']`; `['a', 'a']` for a vertex that depends on
   * itself. Sorted by first vertex; empty exactly when `order` holds every vertex.
   */
  cycles: string[][];
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Orders the vertices of a dependency graph, given as each vertex's dependencies, so that every vertex comes
 * after what it depends on (Kahn's algorithm, always taking the smallest ready vertex: the one such order with
 * ties broken by name, whatever order the map lists them in). A dependency that is not a key of the map is
 * ignored. The vertices it cannot place are on a cycle or depend on one; `cycles` names the shortest cycle
 * through each strongly connected component of them, which is what a user has to break.
 */
export function dependencyOrder(dependsOn: ReadonlyMap<string, readonly string[]>): DependencyOrder {
  const edgesOf = (vertex: string) =>
    [...new Set(dependsOn.get(vertex) ?? [])].filter((dependency) => dependsOn.has(dependency));
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const vertex of dependsOn.keys()) {
    const edges = edgesOf(vertex);
    waitingOn.set(vertex, edges.length);
    for (const dependency of edges) {
      const list = dependents.get(dependency);
      if (list) list.push(vertex);
      else dependents.set(dependency, [vertex]);
    }
  }
  // Kept sorted, the next vertex to place at `ready[next]`: a resort or shift per vertex was quadratic.
  const ready = [...waitingOn].filter(([, count]) => count === 0).map(([vertex]) => vertex);
  ready.sort(compare);
  const order: string[] = [];
  for (let next = 0; next < ready.length; next++) {
    const vertex = ready[next] as string;
    order.push(vertex);
    for (const dependent of dependents.get(vertex) ?? []) {
      const left = (waitingOn.get(dependent) ?? 0) - 1;
      waitingOn.set(dependent, left);
      if (left === 0) ready.splice(insertionPoint(ready, dependent, next + 1), 0, dependent);
    }
  }
  if (order.length === dependsOn.size) return { order, cycles: [] };

  const placed = new Set(order);
  const stuck = [...dependsOn.keys()].filter((vertex) => !placed.has(vertex)).sort(compare);
  const stuckEdgesOf = (vertex: string) => edgesOf(vertex).filter((dependency) => !placed.has(dependency));
  const cycles = stronglyConnected(stuck, stuckEdgesOf)
    .map((component) => shortestCycle(component, stuckEdgesOf))
    .filter((cycle): cycle is string[] => cycle !== undefined)
    .sort((a, b) => compare(a[0] as string, b[0] as string));
  return { order, cycles };
}

/**
 * The message for resource params that form `cycle` (as {@link dependencyOrder} gives it, by resource names or
 * addresses): the cycle as `a -> b -> a`, then `note` in brackets if given, why it cannot be deployed and how to
 * fix it. The same words from the server's planner and from `pave validate`.
 */
export function resourceCycleMessage(cycle: readonly string[], note?: string): string {
  return (
    `resource params form a cycle: ${cycle.join(' -> ')}${note === undefined ? '' : ` (${note})`}; ` +
    'a resource cannot use its own outputs, directly or ' +
    'through other resources: remove one of these references (set that param to a literal value instead)'
  );
}

/** A cycle in a Score file's resource params, at the placeholder where it starts. */
export interface ResourceCycleProblem {
  /** The resource names of the cycle, e.g. `['a', 'b', 'a']`. */
  cycle: string[];
  /** Path of the string that holds the first reference of the cycle, e.g. resources, a, params, host. */
  path: (string | number)[];
  /** Offset of that placeholder (`${resources.b.host}`) in the string. */
  offset: number;
  /** Length of the placeholder text. */
  length: number;
  /** The cycle and how to break it, see {@link resourceCycleMessage}. */
  message: string;
}

type Json = Record<string, unknown>;

const isMap = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The cycles among a Score spec's resources: a placeholder `${resources.<other>…}` in a resource's params (in
 * any string, however deep; escaped ones do not count) makes it depend on `<other>`, whose outputs must exist
 * before its params can be filled, so a cycle can never be provisioned. Found as the server's planner finds
 * them ({@link dependencyOrder}); resources of the file that declare the same Score `id` are one resource, as
 * on the server, named by the first of their names. Each cycle is reported once, starting at its smallest
 * name, at the first placeholder in that resource's params that names the next one: where the server reports
 * it too when no shared resource (whose address sorts differently) is on the cycle. `spec` may be
 * any parsed YAML: parts without the shape of a Score workload, and placeholders naming undeclared resources,
 * are skipped (checkScorePlaceholders reports those). Empty when there is no cycle.
 */
export function checkScoreResourceCycles(spec: unknown): ResourceCycleProblem[] {
  if (!isMap(spec) || !isMap(spec.resources)) return [];
  const resources = spec.resources;
  const names = Object.keys(resources).sort(compare);
  // One vertex per resource, except that the names of one shared id are one vertex, as they are on the server.
  const vertexOf = new Map<string, string>();
  const firstWithId = new Map<string, string>();
  for (const name of names) {
    const id = isMap(resources[name]) ? resources[name].id : undefined;
    if (typeof id !== 'string') {
      vertexOf.set(name, name);
      continue;
    }
    if (!firstWithId.has(id)) firstWithId.set(id, name);
    vertexOf.set(name, firstWithId.get(id) as string);
  }

  const dependsOn = new Map<string, string[]>();
  // For each edge, the first placeholder that makes it: where a cycle starting with that edge is reported.
  const origins = new Map<string, Omit<ResourceCycleProblem, 'cycle' | 'message'>>();
  // For each edge, the name its first placeholder uses for the resource it reaches (one of a shared id's names).
  const namedAs = new Map<string, string>();
  for (const name of names) {
    const from = vertexOf.get(name) as string;
    if (!dependsOn.has(from)) dependsOn.set(from, []);
    const resource = resources[name];
    if (!isMap(resource) || resource.params === undefined) continue;
    forEachString(resource.params, ['resources', name, 'params'], (text, path) => {
      for (const placeholder of findPlaceholders(text).placeholders) {
        const [root, other] = placeholder.parts;
        if (root !== 'resources' || other === undefined || !Object.hasOwn(resources, other)) continue;
        const to = vertexOf.get(other) as string;
        const edge = JSON.stringify([from, to]);
        if (origins.has(edge)) continue;
        origins.set(edge, { path, offset: placeholder.start, length: placeholder.end - placeholder.start });
        namedAs.set(edge, other);
        (dependsOn.get(from) as string[]).push(to);
      }
    });
  }

  return dependencyOrder(dependsOn).cycles.map((cycle) => {
    const [start, next] = cycle as [string, string];
    const at = origins.get(JSON.stringify([start, next])) as Omit<ResourceCycleProblem, 'cycle' | 'message'>;
    // The cycle as the file spells it: each step by the name its placeholder uses, so a step into a shared id
    // through another of its names reads as written, and that those names are one resource is said.
    const spelled = [
      start,
      ...cycle.slice(1).map((to, step) => namedAs.get(JSON.stringify([cycle[step], to]))),
    ];
    const shared = [...new Set(cycle)].flatMap((vertex) => {
      const id = resources[vertex] as Json;
      const names = [
        ...new Set(spelled.filter((name) => name !== undefined && vertexOf.get(name) === vertex)),
      ];
      return names.length > 1
        ? [`${names.join(' and ')} declare the same id "${String(id.id)}": one resource`]
        : [];
    });
    const note = shared.length === 0 ? undefined : shared.join('; ');
    return { cycle, ...at, message: resourceCycleMessage(spelled as string[], note) };
  });
}

// Calls `visit` with every string inside `value` and its path; object keys are not expanded by Score.
function forEachString(
  value: unknown,
  path: (string | number)[],
  visit: (text: string, path: (string | number)[]) => void,
): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((item, index) => forEachString(item, [...path, index], visit));
  else if (isMap(value))
    for (const [key, item] of Object.entries(value)) forEachString(item, [...path, key], visit);
}

// Tarjan's strongly connected components of the graph on `vertices`, without recursion: a long chain of
// resources must not exhaust the stack.
function stronglyConnected(vertices: string[], edgesOf: (vertex: string) => string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  // The depth-first path: each vertex with its edges and how many of them were followed.
  const frames: { vertex: string; edges: string[]; followed: number }[] = [];
  const enter = (vertex: string): void => {
    index.set(vertex, index.size);
    low.set(vertex, index.get(vertex) as number);
    stack.push(vertex);
    onStack.add(vertex);
    frames.push({ vertex, edges: edgesOf(vertex), followed: 0 });
  };
  for (const root of vertices) {
    if (index.has(root)) continue;
    enter(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1] as (typeof frames)[number];
      const { vertex } = frame;
      if (frame.followed < frame.edges.length) {
        const next = frame.edges[frame.followed++] as string;
        if (!index.has(next)) enter(next);
        else if (onStack.has(next))
          low.set(vertex, Math.min(low.get(vertex) as number, index.get(next) as number));
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent)
        low.set(parent.vertex, Math.min(low.get(parent.vertex) as number, low.get(vertex) as number));
      if (low.get(vertex) === index.get(vertex)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop() as string;
          onStack.delete(member);
          component.push(member);
        } while (member !== vertex);
        components.push(component);
      }
    }
  }
  return components;
}

// Where `vertex` goes in the sorted `list` at or after `from`.
function insertionPoint(list: string[], vertex: string, from: number): number {
  let low = from;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compare(list[middle] as string, vertex) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

// The shortest cycle through the smallest vertex of a component (breadth-first, neighbours in name order), as
// a path that ends where it starts; undefined for a single vertex without a self-reference.
function shortestCycle(component: string[], edgesOf: (vertex: string) => string[]): string[] | undefined {
  const members = new Set(component);
  const start = [...component].sort(compare)[0] as string;
  const parent = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const vertex = queue[head] as string;
    for (const next of [...edgesOf(vertex)].sort(compare)) {
      if (!members.has(next)) continue;
      if (next === start) {
        const backwards = [start, vertex];
        while (backwards.at(-1) !== start) backwards.push(parent.get(backwards.at(-1) as string) as string);
        return backwards.reverse();
      }
      if (!parent.has(next)) {
        parent.set(next, vertex);
        queue.push(next);
      }
    }
  }
  return undefined;
}
