import { describe, expect, it } from 'vitest';
import { dnsLabel, joinedDnsLabel } from '../src/index.ts';

// Fixed vectors, computed with the runtimes' own copies before they moved here: containers, networks and
// Kubernetes objects already carry these names, so they must never change.
describe('DNS-label naming is frozen', () => {
  it.each([
    ['web', 'web'],
    ['1st', '1st'],
    ['My_App.v2', 'my-app-v2-77d00482'],
    ['a--b'.repeat(20), 'a-ba-ba-ba-ba-ba-ba-ba-ba-ba-ba-ba-ba-ba-ba-ba-ba-ba-b-9ff7534a'],
    ['x'.repeat(70), `${'x'.repeat(54)}-c71bd109`],
    ['___', 'bda25155'],
  ])('dnsLabel(%j) is %j', (raw, label) => {
    expect(dnsLabel(raw)).toBe(label);
  });

  it.each([
    [['pave', 'shop', 'dev'], 'pave-shop-dev'],
    [
      ['pave', 'a-very-long-application--name', 'staging--eu-west', 'web', 'main', 'sidecar'],
      'pave-a-very-long-application--name-staging--eu-west-we-971636b1',
    ],
    [['pave', 'a--b'.repeat(20)], 'pave-a--ba--ba--ba--ba--ba--ba--ba--ba--ba--ba--ba--ba-ece2c7a4'],
  ])('joinedDnsLabel(%j) is %j, keeping runs of "-"', (parts, label) => {
    expect(joinedDnsLabel(parts)).toBe(label);
  });
});
