import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import type { SetDiff, WorkloadChange } from '@pave/core';
import { canonicalJson } from '../canonical-json.ts';
import type { SetWorkloads } from './sets.ts';
import { valueChanges, type ValuesContent } from '../values.ts';

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
 * of the fields that differ) or kept, and a unified diff of the sets as YAML with sorted keys.
 */
export function diffSets(from: DiffSide, to: DiffSide): SetDiff {
  const names = [...new Set([...Object.keys(from.workloads), ...Object.keys(to.workloads)])].sort();
  const changes: WorkloadChange[] = names.map((workload) => {
    const before = from.workloads[workload];
    const after = to.workloads[workload];
    if (!before) return { workload, action: 'add', fields: [] };
    if (!after) return { workload, action: 'remove', fields: [] };
    const fields = changedPaths(before, after, '');
    return { workload, action: fields.length ? 'update' : 'keep', fields };
  });
  const unified =
    from.setId === to.setId
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
    values: valueChanges(from.values ?? {}, to.values ?? {}),
    unified: changes.every((change) => change.action === 'keep') ? '' : unified,
  };
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
