import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level and `undefined` members left out: the same value always gives
 * the same text. Frozen: deployment set ids, workload hashes and the fingerprints that tell whether a target
 * or definition changed are computed from it and stored, so its output must never change
 * (test/canonical-json.test.ts pins it with fixed vectors). A new format is a new function.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** SHA-256 (hex) of a value's canonical JSON. Frozen, like canonicalJson. */
export function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
