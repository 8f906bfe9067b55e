// Score's `before` (RenderedContainer.before): in which order a workload's containers start, what each waits
// for, and which run to completion: the rules every runtime that starts containers itself follows.
import type { FieldProblem } from '@pave/core';
import type { RenderedContainer } from './drivers.ts';

/** What a container must be before the containers it names in `before` start. */
export type BeforeReady = NonNullable<RenderedContainer['before']>[string]['ready'];

/** Whether `container` runs to completion: another container waits for it to complete. */
export function runsToCompletion(container: RenderedContainer): boolean {
  return Object.values(container.before ?? {}).some((entry) => entry.ready === 'complete');
}

/**
 * The containers `name` waits for before it starts, each with what it must be: those that name it in their
 * `before`, in `containers` order.
 */
export function waitsFor(
  containers: RenderedContainer[],
  name: string,
): Array<{ container: RenderedContainer; ready: BeforeReady }> {
  return containers.flatMap((container) => {
    const entry = container.name === name ? undefined : container.before?.[name];
    return entry ? [{ container, ready: entry.ready }] : [];
  });
}

/**
 * `containers` in the order they start: each after every container it waits for (see waitsFor), ties in name
 * order, so a workload without `before` starts in name order. Entries naming no container are left out;
 * containers on a cycle (refused by beforeProblems) come last, in name order.
 */
export function startOrder(given: RenderedContainer[]): RenderedContainer[] {
  const containers = [...given].sort((a, b) => compareText(a.name, b.name));
  const order: RenderedContainer[] = [];
  const placed = new Set<string>();
  for (;;) {
    const next = containers.find(
      (container) =>
        !placed.has(container.name) &&
        waitsFor(containers, container.name).every((first) => placed.has(first.container.name)),
    );
    if (!next) break;
    placed.add(next.name);
    order.push(next);
  }
  return [...order, ...containers.filter((container) => !placed.has(container.name))];
}

/**
 * What is wrong with the `before` entries of `containers` (`where`: the path of the workload's containers, e.g.
 * `workloads.api.containers`): a name that is not one of them, a container naming itself, `healthy` on a
 * container without a readiness or liveness probe to tell, and entries that wait for each other in a cycle (the
 * first one found, in name order). The control plane refuses these too; a runtime does not trust its caller.
 */
export function beforeProblems(
  containers: ReadonlyArray<
    Pick<RenderedContainer, 'name' | 'before'> & { readinessProbe?: unknown; livenessProbe?: unknown }
  >,
  where: string,
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const byName = new Map(containers.map((container) => [container.name, container]));
  const names = [...byName.keys()].sort(compareText);
  for (const container of containers) {
    for (const [next, entry] of Object.entries(container.before ?? {})) {
      const path = `${where}.${container.name}.before.${next}`;
      if (next === container.name) {
        problems.push({ path, message: 'a container cannot start before itself; remove this entry' });
      } else if (!byName.has(next)) {
        problems.push({
          path,
          message: `no container "${next}" in this workload (its containers: ${names.join(', ')})`,
        });
      }
      if (entry.ready === 'healthy' && !container.readinessProbe && !container.livenessProbe) {
        problems.push({
          path: `${path}.ready`,
          message:
            `"healthy" needs a readinessProbe or livenessProbe on container "${container.name}" to tell when ` +
            'it is healthy; add one, or use "started"',
        });
      }
    }
  }
  const open: string[] = [];
  const done = new Set<string>();
  const walk = (name: string): string[] | null => {
    const at = open.indexOf(name);
    if (at !== -1) return [...open.slice(at), name];
    if (done.has(name)) return null;
    open.push(name);
    for (const next of Object.keys(byName.get(name)?.before ?? {}).sort(compareText)) {
      if (next === name || !byName.has(next)) continue;
      const cycle = walk(next);
      if (cycle) return cycle;
    }
    open.pop();
    done.add(name);
    return null;
  };
  for (const name of names) {
    const cycle = walk(name);
    if (!cycle) continue;
    problems.push({
      path: `${where}.${cycle[0]}.before`,
      message:
        `these containers wait for each other: ${cycle.join(' → ')} (each starts before the next), so none ` +
        'could start; remove one of these before entries',
    });
    break;
  }
  return problems;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
