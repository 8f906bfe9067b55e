import type { RenderedWorkload, RuntimeDriver } from '@pave/plugin-api';
import { decryptValues, valuesContent } from '../../values.ts';
import type { WorkloadResourceOutputs } from '../../resources/provision.ts';
import { renderSet } from '../render.ts';
import type { SetRun } from './phase.ts';

/** Render: expands every placeholder of the set with its pinned values and its resources' outputs. */
export async function render(
  run: SetRun,
  runtime: RuntimeDriver,
  resources: WorkloadResourceOutputs,
): Promise<RenderedWorkload[]> {
  const { store, box } = run.deps;
  const target = { app: run.target.app, env: run.target.env };
  const content =
    run.pinned.valuesVersion === null
      ? {}
      : await valuesContent(store.db, target.app, target.env, run.pinned.valuesVersion);
  return renderSet(
    store.db,
    {
      ...target,
      deploymentId: run.pinned.deploymentId,
      values: await decryptValues(box, content),
      fingerprint: (value) => box.fingerprint(value),
      resources,
      withProfiles: runtime.renderManifests !== undefined,
      // The process and docker runtimes probe readiness from the host: only a service port can be probed.
      runtime: runtime.name,
      ...(runtime.serviceAddress
        ? { serviceAddress: (workload, port) => runtime.serviceAddress!(target, workload, port) }
        : {}),
    },
    run.workloads,
  );
}
