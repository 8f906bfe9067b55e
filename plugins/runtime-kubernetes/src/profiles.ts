import { InputError } from '@pave/core';
import { ManifestPatchError, applyManifestPatches } from '@pave/core/profile-patch';
import type { RenderedWorkload } from '@pave/plugin-api';

/*
 * Workload profiles (RenderedWorkload.profiles) in the Kubernetes runtime. Their extra objects are handled
 * like the workload's own manifests (see extra-manifests.ts: placed in the namespace, labelled as the
 * workload's, checked, applied and pruned with it) but not bounded by the target's `manifests` setting: the
 * platform team wrote them. Their patches are applied to the objects Pave renders for the workload only, not
 * to the developer's manifests, whose shape Pave does not know; those the `manifests` setting bounds instead.
 */

/**
 * The objects rendered for one workload with its profiles' patches applied: each patch, in order, to every
 * object its target selects (same kind, and same metadata.name when it names one), on copies. Without
 * patches, `objects` as they are. Throws InputError naming the profile, the patch index, the operation
 * index, the op and path, and why, e.g. `profile prod-hardening, patch 0, operation 1 (add
 * /spec/template/spec/securityContext): the path does not exist in the object … (Deployment api)`.
 */
export function applyProfilePatches<T extends object>(
  objects: readonly T[],
  workload: Pick<RenderedWorkload, 'name' | 'profiles'>,
): T[] {
  const patches = workload.profiles?.patches ?? [];
  if (patches.length === 0) return [...objects];
  try {
    return applyManifestPatches(objects as unknown as Array<Record<string, unknown>>, patches) as T[];
  } catch (error) {
    if (!(error instanceof ManifestPatchError)) throw error;
    throw new InputError(`a profile cannot be applied to workload ${workload.name}`, [
      {
        path: `workloads.${workload.name}.profiles.${error.patch.profile}.patches[${error.patch.index}].ops[${error.operation}]`,
        message: error.message,
      },
    ]);
  }
}
