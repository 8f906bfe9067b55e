import { describe, expect, it } from 'vitest';
import { WebhookAllowList, parseAllowList } from '../src/domain/webhooks/ssrf.ts';

describe('the SSRF guard of webhook deliveries', () => {
  const none = new WebhookAllowList([]);

  it('refuses loopback, private, shared, link-local and unspecified addresses, IPv4-mapped forms included', () => {
    for (const address of [
      '127.0.0.1',
      '127.255.0.9',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '100.64.0.1',
      '169.254.169.254',
      '0.0.0.0',
      '::1',
      '::',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:a9fe:a9fe',
      '0:0:0:0:0:ffff:10.0.0.1',
    ]) {
      expect(none.permits(address), address).toBe(false);
    }
  });

  it('permits public addresses', () => {
    for (const address of ['93.184.216.34', '172.32.0.1', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect(none.permits(address), address).toBe(true);
    }
  });

  it('permits what the allow list names, and only that', () => {
    const allow = new WebhookAllowList(['127.0.0.1/32', '10.20.0.0/16', 'fd00::/8']);
    expect(allow.permits('127.0.0.1')).toBe(true);
    expect(allow.permits('::ffff:127.0.0.1')).toBe(true);
    expect(allow.permits('127.0.0.2')).toBe(false);
    expect(allow.permits('10.20.3.4')).toBe(true);
    expect(allow.permits('10.21.0.1')).toBe(false);
    expect(allow.permits('fd00::5')).toBe(true);
    expect(allow.permits('169.254.169.254')).toBe(false);
  });

  it('refuses literal addresses in URLs with the message that says how to allow them', () => {
    expect(none.refuseLiteral('http://[::ffff:169.254.169.254]/x')?.message).toBe(
      'refused: http://[::ffff:169.254.169.254]/x resolves to ::ffff:a9fe:a9fe, a loopback/private/link-local ' +
        'address; allow it with pave up --webhook-allow ::ffff:a9fe:a9fe/128',
    );
    expect(none.refuseLiteral('http://[::1]:8080/')?.message).toContain('--webhook-allow ::1/128');
    expect(none.refuseLiteral('https://hooks.example.com/')).toBeUndefined();
    expect(none.refuseLiteral('https://93.184.216.34/')).toBeUndefined();
  });

  it('rejects an allow list entry that is not a CIDR, naming where it came from', () => {
    expect(() => new WebhookAllowList(['10.0.0.0/8', 'ten', '10.0.0.0/33'], 'PAVE_WEBHOOK_ALLOW')).toThrow(
      'PAVE_WEBHOOK_ALLOW: not a CIDR: ten, 10.0.0.0/33',
    );
    expect(parseAllowList(' 10.0.0.0/8, 127.0.0.1/32 fd00::/8 ')).toEqual([
      '10.0.0.0/8',
      '127.0.0.1/32',
      'fd00::/8',
    ]);
    expect(parseAllowList(undefined)).toEqual([]);
  });
});
