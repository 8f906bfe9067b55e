import { MAX_DNS_LABEL_LENGTH as MAX_LABEL_LENGTH, dnsLabel, shortHash } from '@pave/plugin-api';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/u;
const DATA_KEY = /^[-._a-zA-Z0-9]+$/u;

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
