import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { InputError } from '@pave/core';
import { shownUrl } from './urls.ts';

/*
 * The SSRF guard of webhook deliveries: a webhook URL is chosen by an app owner, so without a guard Pave
 * would POST, from inside the platform's network, to its own loopback, the cloud metadata service or a
 * private service. Names are resolved at send time and the connection goes to the address that was checked
 * (the guard is the socket's `lookup`), so a name that resolves differently the second time (DNS rebinding)
 * cannot slip past it.
 */

/** Ranges a webhook may not reach unless allowed: loopback, private, shared, link-local, unspecified. */
const REFUSED_RANGES: ReadonlyArray<[string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
];

const refused = new BlockList();
for (const [network, prefix, family] of REFUSED_RANGES) refused.addSubnet(network, prefix, family);

/**
 * A delivery the guard refused: `message` says which address and how to allow it. It names the URL without
 * its credentials (`url` too): the message lands in API answers and in the delivery's `last_error`.
 */
export class WebhookAddressRefused extends Error {
  override name = 'WebhookAddressRefused';
  readonly code = 'PAVE_WEBHOOK_REFUSED';
  readonly url: string;
  constructor(
    url: string,
    readonly address: string,
  ) {
    super(refusalMessage(url, address));
    this.url = shownUrl(url);
  }
}

/** The words of a refusal, the same at creation and at send time; the URL's credentials masked. */
function refusalMessage(url: string, address: string): string {
  const cidr = `${address}/${isIP(address) === 6 ? 128 : 32}`;
  return (
    `refused: ${shownUrl(url)} resolves to ${address}, a loopback/private/link-local address; ` +
    `allow it with pave up --webhook-allow ${cidr}`
  );
}

/** `a.b.c.d` for an IPv4-mapped IPv6 address (`::ffff:a.b.c.d` or `::ffff:7f00:1`), else undefined. */
function mappedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const high = parseInt(hex[1]!, 16);
  const low = parseInt(hex[2]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** The CIDRs deliveries may reach although they are loopback, private or link-local (`--webhook-allow`). */
export class WebhookAllowList {
  private readonly allowed = new BlockList();

  /** Rejects (InputError naming `source`) when an entry is not a CIDR such as `10.0.0.0/8` or `fd00::/8`. */
  constructor(
    readonly cidrs: readonly string[] = [],
    source = '--webhook-allow',
  ) {
    const problems = cidrs.filter((cidr) => !addCidr(this.allowed, cidr));
    if (problems.length > 0) {
      throw new InputError(`${source}: not a CIDR: ${problems.join(', ')}`, [
        {
          path: source,
          message: 'give addresses in CIDR form, comma-separated, e.g. 10.0.0.0/8,127.0.0.1/32,fd00::/8',
        },
      ]);
    }
  }

  /** Whether a delivery may connect to `address` (an IP address). */
  permits(address: string): boolean {
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    const mapped = family === 'ipv6' ? mappedIpv4(address) : undefined;
    if (mapped !== undefined) return this.permits(mapped);
    if (!refused.check(address, family)) return true;
    return this.allowed.check(address, family);
  }

  /**
   * A `lookup` for sockets (http.Agent): resolves like dns.lookup and hands on only the addresses this list
   * permits, so the socket connects to a checked address; fails with WebhookAddressRefused when none is.
   */
  lookup(url: string): LookupFunction {
    return (hostname, options, callback) => {
      const family =
        options.family === 'IPv6' ? 6 : options.family === 'IPv4' ? 4 : Number(options.family ?? 0);
      dnsLookup(
        hostname,
        { all: true, family: family === 4 || family === 6 ? family : 0 },
        (error, found) => {
          if (error) return callback(error, []);
          const permitted = found.filter((entry) => this.permits(entry.address));
          if (permitted.length === 0) {
            return callback(new WebhookAddressRefused(url, found[0]?.address ?? hostname), []);
          }
          if (options.all) return callback(null, permitted);
          return callback(null, permitted[0]!.address, permitted[0]!.family);
        },
      );
    };
  }

  /** The refusal for a URL whose host is a literal IP this list does not permit; undefined otherwise. */
  refuseLiteral(url: string): WebhookAddressRefused | undefined {
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) === 0 || this.permits(host)) return undefined;
    return new WebhookAddressRefused(url, host);
  }
}

function addCidr(list: BlockList, cidr: string): boolean {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!match) return false;
  const family = isIP(match[1]!);
  const prefix = Number(match[2]);
  if (family === 0 || prefix > (family === 6 ? 128 : 32)) return false;
  list.addSubnet(match[1]!, prefix, family === 6 ? 'ipv6' : 'ipv4');
  return true;
}

/** Splits `--webhook-allow` / PAVE_WEBHOOK_ALLOW text (comma or space separated) into CIDRs. */
export function parseAllowList(text: string | undefined): string[] {
  return (text ?? '')
    .split(/[\s,]+/)
    .map((part) => part.trim())
    .filter(Boolean);
}
