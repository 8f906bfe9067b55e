import type { ValuesVersion } from '@pave/core';

/** A key as it stood at one version: a secret's value is never known to the portal. */
export interface KeyState {
  secret: boolean;
  /** The plain value; null for a secret. */
  value: string | null;
}

/** How one key differs between two versions; `from` and `to` are plain values only, never a secret's. */
export interface KeyDiff {
  key: string;
  change: 'added' | 'removed' | 'changed' | 'unchanged';
  secret: boolean;
  from: string | null;
  to: string | null;
}

/**
 * The keys an environment's values held at `version`, replayed from the history's changes (version 0 is
 * before any value). A secret's value stays null: the history never carries one.
 */
export function valuesAt(versions: readonly ValuesVersion[], version: number): Map<string, KeyState> {
  const state = new Map<string, KeyState>();
  const oldestFirst = [...versions].sort((a, b) => a.version - b.version);
  for (const entry of oldestFirst) {
    if (entry.version > version) break;
    for (const change of entry.changes) {
      if (change.action === 'removed') state.delete(change.key);
      else
        state.set(change.key, { secret: change.secret, value: change.secret ? null : (change.to ?? null) });
    }
  }
  return state;
}

/**
 * Every key of either version and how it differs, sorted by key. Plain values are compared; a secret counts
 * as changed when any version between the two changed it (its value is never seen, so a secret set and set
 * back counts as changed), and as unchanged otherwise.
 */
export function diffValueVersions(versions: readonly ValuesVersion[], from: number, to: number): KeyDiff[] {
  const before = valuesAt(versions, from);
  const after = valuesAt(versions, to);
  const [low, high] = from < to ? [from, to] : [to, from];
  const touched = new Set(
    versions
      .filter((v) => v.version > low && v.version <= high)
      .flatMap((v) => v.changes.map((change) => change.key)),
  );
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
  return keys.map((key): KeyDiff => {
    const a = before.get(key);
    const b = after.get(key);
    const secret = Boolean(a?.secret || b?.secret);
    const shown = (state: KeyState | undefined) => (secret || !state ? null : state.value);
    const change = !a
      ? 'added'
      : !b
        ? 'removed'
        : !touched.has(key)
          ? 'unchanged'
          : !secret && a.value === b.value
            ? 'unchanged'
            : 'changed';
    return { key, change, secret, from: shown(a), to: shown(b) };
  });
}
