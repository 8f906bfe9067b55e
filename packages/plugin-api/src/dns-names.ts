import { createHash } from 'node:crypto';

/** The longest DNS label (RFC 1123), and the longest Kubernetes label value. */
export const MAX_DNS_LABEL_LENGTH = 63;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/u;

/** The first `length` hex digits of the SHA-256 of `text`: a short, stable suffix that keeps names apart. */
export function shortHash(text: string, length = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** `label` cut to `maxLength` with `-<hash of raw>` at its end, so distinct long inputs stay distinct. */
function cutWithHash(label: string, raw: string, maxLength: number): string {
  const suffix = `-${shortHash(raw)}`;
  const head = label.slice(0, maxLength - suffix.length).replace(/-+$/u, '');
  return head ? `${head}${suffix}` : suffix.slice(1);
}

/**
 * A stable DNS label (RFC 1123: 1-63 of a-z, 0-9 and "-", starting and ending with a letter or digit) for
 * any `raw` text. A valid label comes back unchanged. Otherwise it is lowercased, every other character
 * becomes "-" (runs of "-" become one), and, because that can make two inputs equal, `-<hash of raw>` is
 * appended; a label that is too long is cut and given the same suffix. The same `raw` always gives the same
 * label. Runtimes name persisted objects with it: its output must not change.
 */
export function dnsLabel(raw: string, maxLength = MAX_DNS_LABEL_LENGTH): string {
  if (raw.length <= maxLength && DNS_LABEL.test(raw)) return raw;
  const cleaned = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/gu, '-')
    .replace(/-{2,}/gu, '-')
    .replace(/^-+|-+$/gu, '');
  return cutWithHash(cleaned, raw, maxLength);
}

/**
 * `parts`, each already a DNS label (Pave's app, environment, workload and container names are), joined
 * with "-" into one DNS label: unchanged when that fits in 63 characters, else cut short and suffixed with
 * a hash of the whole, so that distinct long names stay distinct. Unlike dnsLabel it keeps runs of "-"
 * as they are. Runtimes name persisted objects with it: its output must not change.
 */
export function joinedDnsLabel(parts: string[]): string {
  const full = parts.join('-');
  if (full.length <= MAX_DNS_LABEL_LENGTH) return full;
  return cutWithHash(full, full, MAX_DNS_LABEL_LENGTH);
}
