import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import {
  manifestName,
  manifestSource,
  type SetDiff,
  type WorkloadChange,
  type WorkloadSource,
} from '@pave/core';
import { canonicalJson } from '../canonical-json.ts';
import type { SetWorkloads } from './sets.ts';
import { valueChanges, valueChangesHidingSecrets, type ValuesContent } from '../values.ts';

/** One side of a comparison: a set (or nothing) and how to name it for people. */
export interface DiffSide {
  setId: string | null;
  label: string;
  workloads: SetWorkloads;
  /** The values the side runs with, if known. */
  values?: ValuesContent;
}

/**
 * Compares two deployment sets: per workload whether it is added, removed, updated (with the dotted paths
 * of the fields that differ) or kept, and a unified diff of the sets as YAML with sorted keys. Secrets both
 * sides hold are compared only with `compareSecrets` (see valueChangesHidingSecrets).
 */
export function diffSets(from: DiffSide, to: DiffSide, options = { compareSecrets: true }): SetDiff {
  const names = [...new Set([...Object.keys(from.workloads), ...Object.keys(to.workloads)])].sort();
  const changes: WorkloadChange[] = names.map((workload) => {
    const before = from.workloads[workload];
    const after = to.workloads[workload];
    const manifests = manifestChanges(before, after);
    const extra = manifests.length > 0 ? { manifests } : {};
    if (!before) return { workload, action: 'add', fields: [], ...extra };
    if (!after) return { workload, action: 'remove', fields: [], ...extra };
    const fields = changedPaths(before, after, '');
    return { workload, action: fields.length ? 'update' : 'keep', fields, ...extra };
  });
  // The same stored set has no differences; two sides without one (an empty environment, a patch not yet
  // saved as a set) are compared as they are.
  const unified =
    from.setId !== null && from.setId === to.setId
      ? ''
      : createTwoFilesPatch(
          from.label,
          to.label,
          asYaml(from.workloads),
          asYaml(to.workloads),
          undefined,
          undefined,
          {
            context: 3,
          },
        );
  return {
    from: { setId: from.setId, label: from.label },
    to: { setId: to.setId, label: to.label },
    changes,
    values: (options.compareSecrets ? valueChanges : valueChangesHidingSecrets)(
      from.values ?? {},
      to.values ?? {},
    ),
    unified: changes.every((change) => change.action === 'keep') ? '' : unified,
  };
}

/**
 * The workload's own manifests (`--manifests`) added, removed or changed between two versions of it, each
 * known by `Kind/name` (what it is in the cluster), sorted by that name.
 */
function manifestChanges(
  before: WorkloadSource | undefined,
  after: WorkloadSource | undefined,
): NonNullable<WorkloadChange['manifests']> {
  const byName = (source: WorkloadSource | undefined) =>
    new Map(
      (source?.manifests ?? []).map((entry, index) => [
        manifestName(entry.manifest),
        { manifest: entry.manifest, source: manifestSource(entry, index) },
      ]),
    );
  const old = byName(before);
  const next = byName(after);
  const names = [...new Set([...old.keys(), ...next.keys()])].sort();
  return names.flatMap((manifest): NonNullable<WorkloadChange['manifests']> => {
    const a = old.get(manifest);
    const b = next.get(manifest);
    if (!a) return [{ action: 'add', manifest, source: b!.source }];
    if (!b) return [{ action: 'remove', manifest, source: a.source }];
    return canonicalJson(a.manifest) === canonicalJson(b.manifest)
      ? []
      : [{ action: 'update', manifest, source: b.source }];
  });
}

function asYaml(workloads: SetWorkloads): string {
  if (Object.keys(workloads).length === 0) return '';
  return stringify(JSON.parse(canonicalJson(workloads)), { sortMapEntries: true, lineWidth: 0 });
}

function changedPaths(a: unknown, b: unknown, prefix: string): string[] {
  if (canonicalJson(a) === canonicalJson(b)) return [];
  const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(a) || !isObject(b)) return [prefix || '(root)'];
  const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
  return keys.flatMap((key) =>
    changedPaths(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      prefix ? `${prefix}.${key}` : key,
    ),
  );
}
