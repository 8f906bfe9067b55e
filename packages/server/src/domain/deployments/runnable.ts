import { manifestSource, type FieldProblem } from '@pave/core';
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
      containers: Object.entries(source.spec.containers).map(([container, spec]) => ({
        name: container,
        image: spec.image,
        ...(spec.command ? { command: spec.command } : {}),
        ...(spec.files ? { files: spec.files } : {}),
        ...(spec.volumes ? { volumes: spec.volumes } : {}),
        ...(spec.readinessProbe ? { readinessProbe: spec.readinessProbe } : {}),
      })),
      ...(source.manifests?.length
        ? {
            manifests: source.manifests.map((entry, index) => ({
              source: manifestSource(entry, index),
              manifest: entry.manifest,
            })),
          }
        : {}),
    }).map((failure) => ({ path: `workloads.${name}.${failure.property}`, message: failure.reason })),
  );
}

/**
 * Workloads of a set that carry their own manifests (`pave deploy --manifests`) when `runtime` renders none
 * (it has no `renderManifests`): one problem per such workload at `workloads.<name>.manifests`, saying which
 * target the environment runs on (`where`, e.g. `target local (process)`) and how to fix it. Empty when the
 * runtime renders manifests or no workload has any.
 */
export function unrenderableManifests(
  runtime: RuntimeDriver,
  workloads: SetWorkloads,
  where = `the ${runtime.name} runtime`,
): FieldProblem[] {
  if (runtime.renderManifests) return [];
  return Object.entries(workloads)
    .filter(([, source]) => (source.manifests?.length ?? 0) > 0)
    .map(([name]) => ({
      path: `workloads.${name}.manifests`,
      message:
        `workload ${name}: --manifests needs a Kubernetes runtime target; this environment runs on ${where}. ` +
        'Deploy without --manifests or move the environment to a kubernetes target (`pave targets`)',
    }));
}
