import type { FieldProblem } from '@pave/core';
import type { RuntimeDriver } from '@pave/plugin-api';
import type { SetWorkloads } from './sets.ts';

/**
 * Why `runtime` cannot run workloads of a set (its `check` capability), as field problems at
 * `workloads.<name>.<property>`; empty when it can, or when the runtime does not check. Asked when a
 * deployment is planned, before anything is provisioned or started.
 */
export function unrunnable(runtime: RuntimeDriver, workloads: SetWorkloads): FieldProblem[] {
  if (!runtime.check) return [];
  return Object.entries(workloads).flatMap(([name, source]) =>
    runtime.check!({
      name,
      containers: Object.entries(source.spec.containers).map(([container, spec]) => ({
        name: container,
        image: spec.image,
        ...(spec.command ? { command: spec.command } : {}),
        ...(spec.args ? { args: spec.args } : {}),
      })),
    }).map((failure) => ({ path: `workloads.${name}.${failure.property}`, message: failure.reason })),
  );
}
