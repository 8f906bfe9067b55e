import { createHash } from 'node:crypto';

/** The longest DNS label (RFC 1123) and the longest label value Kubernetes accepts. */
export const MAX_LABEL_LENGTH = 63;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/u;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/u;
const DATA_KEY = /^[-._a-zA-Z0-9]+$/u;

/** The first `length` hex digits of the SHA-256 of `text`: a short, stable suffix that keeps names apart. */
export function shortHash(text: string, length = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/**
 * A stable DNS label (RFC 1123: 1-63 of a-z, 0-9 and "-", starting and ending with a letter or digit) for
 * `raw`. A valid label comes back unchanged. Otherwise it is lowercased, every other character becomes "-",
 * and, because that can make two inputs equal, `-<hash of raw>` is appended; a label that is too long is
 * cut and given the same suffix. The same `raw` always gives the same label.
 */
export function dnsLabel(raw: string, maxLength = MAX_LABEL_LENGTH): string {
  if (raw.length <= maxLength && DNS_LABEL.test(raw)) return raw;
  const suffix = `-${shortHash(raw)}`;
  const cleaned = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/gu, '-')
    .replace(/-{2,}/gu, '-')
    .replace(/^-+|-+$/gu, '');
  const head = cleaned.slice(0, maxLength - suffix.length).replace(/-+$/u, '');
  return head ? `${head}${suffix}` : suffix.slice(1);
}

/**
 * A DNS-1035 label (a DNS label that starts with a letter), which Service names must be: `raw` as a DNS
 * label, with "s-" in front when it would start with a digit.
 */
export function dns1035Label(raw: string): string {
  const label = dnsLabel(raw);
  return /^[a-z]/u.test(label) ? label : dnsLabel(`s-${label}`);
}

/** A Kubernetes label value (at most 63 characters, alphanumeric at both ends) for `raw`, cut with a hash suffix. */
export function labelValue(raw: string): string {
  if (raw.length <= MAX_LABEL_LENGTH && LABEL_VALUE.test(raw)) return raw;
  return dnsLabel(raw);
}

/**
 * A ConfigMap or Secret data key (1-253 of letters, digits, "-", "_" and ".") made of `parts` joined with
 * ".": other characters become "_", and then, as that can make two keys equal, `.<hash>` is appended.
 */
export function dataKey(...parts: string[]): string {
  const raw = parts.join('.');
  if (raw.length <= 253 && DATA_KEY.test(raw)) return raw;
  const cleaned = raw.replace(/[^-._a-zA-Z0-9]+/gu, '_').replace(/^[._]+/u, '');
  return `${cleaned.slice(0, 253 - 9)}.${shortHash(raw)}`;
}
