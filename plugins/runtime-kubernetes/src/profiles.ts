import { InputError } from '@pave/core';
import { ManifestPatchError, applyManifestPatches } from '@pave/core/profile-patch';
import type { RenderedWorkload } from '@pave/plugin-api';

/*
 * Workload profiles (RenderedWorkload.profiles) in the Kubernetes runtime. Their extra objects join the
 * workload's own manifests (see extra-manifests.ts: placed in the namespace, labelled as the workload's,
 * checked, applied and pruned with it); their patches are applied to the objects rendered for the workload,
 * which are then validated like any other.
 */

/**
 * `workload` with its profiles' extra objects after its own manifests (`manifests`), so that both are placed,
 * labelled, validated and pruned the same way. Without profile objects, `workload` itself.
 */
export function withProfileObjects(workload: RenderedWorkload): RenderedWorkload {
  const objects = workload.profiles?.objects ?? [];
  if (objects.length === 0) return workload;
  return { ...workload, manifests: [...(workload.manifests ?? []), ...objects] };
}

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
