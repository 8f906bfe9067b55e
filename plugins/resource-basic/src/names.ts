import { createHash } from 'node:crypto';
import type { ResourceScope } from '@pave/plugin-api';

/**
 * A stable id for the resource at `scope`: `<prefix>-` and 16 hex digits of a SHA-256 of its app, environment
 * and graph address. The same scope always gets the same id; two scopes practically never share one.
 */
export function scopeId(prefix: string, scope: ResourceScope): string {
  return `${prefix}-${shortHash(JSON.stringify([scope.app, scope.env, scope.address]), 16)}`;
}

/** The first `length` hex digits of the SHA-256 of `text`. */
export function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

const HOST_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/i;

/**
 * Why `value` is not a valid host name (RFC 1123: dot-separated labels of 1-63 letters, digits or "-" that
 * start and end with a letter or digit, 253 characters at most), or undefined when it is one.
 */
export function hostNameProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `must be a host name (a string), not ${describeValue(value)}`;
  if (value.length === 0 || value.length > 253) return 'must be a host name of 1-253 characters';
  const bad = value.split('.').find((label) => !HOST_LABEL.test(label));
  if (bad !== undefined) {
    return (
      `"${value}" is not a valid host name: each dot-separated label must be 1-63 letters, digits or "-", ` +
      'starting and ending with a letter or digit (e.g. api.shop.example.com)'
    );
  }
  return undefined;
}

/**
 * `value` as a DNS label: lower case, every run of other characters replaced by "-", trimmed to 63
 * characters; `fallback` when nothing is left.
 */
export function toDnsLabel(value: string, fallback: string): string {
  const label = value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return label || fallback;
}

/** A short description of a value's JSON type for messages ("an array", "null", "a number"…). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}
