import { z } from 'zod';

/** The rule every Pave id follows: a DNS label (RFC 1123), so ids can name hosts, namespaces and containers. */
export const DNS_LABEL_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const DNS_LABEL_RULE =
  'must be a DNS label: 1-63 lowercase letters, digits or "-", starting and ending with a letter or digit ' +
  '(^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$)';

/** A zod schema for an id; a bad one is refused with the rule in the message. */
export const dnsLabel = z.string().regex(DNS_LABEL_PATTERN, { message: DNS_LABEL_RULE });

/** Whether `value` is a valid Pave id. */
export function isDnsLabel(value: string): boolean {
  return DNS_LABEL_PATTERN.test(value);
}
