import { InputError } from '@pave/core';
import type { CheckFailure } from '@pave/plugin-api';

/** A value an output can hold once stringified. */
export type Scalar = string | number | boolean;

/** Whether `value` is a string, a finite number or a boolean: what can be stringified into an output. */
export function isScalar(value: unknown): value is Scalar {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/** Whether `value` is a plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rejects with InputError listing every failure when `failures` is not empty (create/update after check). */
export function assertNoFailures(driver: string, failures: CheckFailure[]): void {
  if (failures.length === 0) return;
  throw new InputError(
    `the ${driver} resource driver cannot use these inputs: ${failures.map((f) => `${f.property}: ${f.reason}`).join('; ')}`,
    failures.map((f) => ({ path: f.property, message: f.reason })),
  );
}

/** `value` as canonical JSON: object keys sorted at every level, so equal values compare equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isRecord(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

/**
 * The keys whose values differ between `olds` and `news`, each prefixed with `prefix` and a dot, sorted.
 * Values compare by canonical JSON.
 */
export function changedKeys(
  prefix: string,
  olds: Record<string, unknown>,
  news: Record<string, unknown>,
): string[] {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  return [...keys]
    .filter((key) => canonicalJson(olds[key]) !== canonicalJson(news[key]))
    .sort()
    .map((key) => `${prefix}.${key}`);
}
