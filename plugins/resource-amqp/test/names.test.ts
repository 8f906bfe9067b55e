import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyScope, lookAlikeScopes } from '@pave/plugin-api/testing';
import { namesFromId, resourceNames } from '../src/names.ts';

/** What RabbitMQ takes as a vhost and user name here: AMQP's 255-byte field, nothing to escape but in URLs. */
const RABBITMQ_NAME = /^[a-z0-9._-]{1,255}$/;

// Few characters, so that parts often look alike and only the hash keeps names apart.
const label = fc.stringMatching(/^[ab]([ab-]{0,4}[ab])?$/);
const { scope, scopePairs } = lookAlikeScopes(label);

describe('amqp resource names', () => {
  it('gives different (app, env, address) different vhosts and users', () => {
    fc.assert(
      fc.property(scopePairs, ([a, b]) => {
        fc.pre(a.app !== b.app || a.env !== b.env || a.address !== b.address);
        expect(resourceNames(a).vhost).not.toBe(resourceNames(b).vhost);
        expect(resourceNames(a).username).not.toBe(resourceNames(b).username);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives one scope the same names on every call', () => {
    fc.assert(
      fc.property(anyScope, (s) => {
        expect(resourceNames({ ...s })).toEqual(resourceNames(s));
      }),
    );
  });

  it('makes names RabbitMQ takes, which namesFromId accepts back', () => {
    fc.assert(
      fc.property(fc.oneof(scope, anyScope), (s) => {
        const names = resourceNames(s);
        expect(names.vhost).toMatch(RABBITMQ_NAME);
        expect(Buffer.byteLength(names.vhost)).toBeLessThanOrEqual(255);
        expect(names.username).toBe(names.vhost);
        expect(namesFromId(names.vhost, s)).toEqual(names);
      }),
    );
  });

  it('keeps apart the names that joining with "-" used to merge', () => {
    const first = resourceNames({ app: 'a-b', env: 'c', resId: 'web.queue', address: 'web.queue' });
    const second = resourceNames({ app: 'a', env: 'b-c', resId: 'web.queue', address: 'web.queue' });
    expect(first.vhost).toMatch(/^a-b-c-web\.queue_[0-9a-f]{8}$/);
    expect(second.vhost).toMatch(/^a-b-c-web\.queue_[0-9a-f]{8}$/);
    expect(first.vhost).not.toBe(second.vhost);
    const shared = resourceNames({ app: 'a', env: 'b-c', resId: 'web.queue', address: 'shared.web.queue' });
    expect(shared.vhost).not.toBe(second.vhost);
  });

  it('accepts the ids of resources created before names had a hash, and nothing else', () => {
    const s = { app: 'shop', env: 'dev', resId: 'web.queue', address: 'web.queue' };
    expect(namesFromId('shop-dev-web.queue', s)).toMatchObject({
      vhost: 'shop-dev-web.queue',
      username: 'shop-dev-web.queue',
    });
    for (const id of ['', 'Shop-dev', 'a/b', 'a_b', 'a_0123456', `${'a'.repeat(250)}_01234567`]) {
      expect(() => namesFromId(id, s)).toThrow(/is not the id of an AMQP resource/);
    }
  });
});
