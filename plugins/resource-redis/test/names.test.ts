import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyScope, lookAlikeScopes } from '@pave/plugin-api/testing';
import { namesFromId, resourceNames } from '../src/names.ts';

// Few characters, so that parts often look alike and only the hash keeps names apart.
const label = fc.stringMatching(/^[ab]([ab_-]{0,4}[ab])?$/);
const { scope, scopePairs } = lookAlikeScopes(label);
/** Names as create made them before the hash: three parts of lowercase letters, digits, `.` and `-`. */
const legacyPart = fc.stringMatching(/^[a-z0-9.-]{1,12}$/);
const legacyId = fc
  .tuple(legacyPart, legacyPart, legacyPart)
  .map(([app, env, res]) => `pave_${app}_${env}_${res}`);

/** Whether a key of one prefix can start with the other (one user's key pattern covers the other's keys). */
const nested = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);

describe('redis resource names', () => {
  it('gives different (app, env, address) different users and prefixes, none under another', () => {
    fc.assert(
      fc.property(scopePairs, ([a, b]) => {
        fc.pre(a.app !== b.app || a.env !== b.env || a.address !== b.address);
        const [x, y] = [resourceNames(a), resourceNames(b)];
        expect(x.username).not.toBe(y.username);
        expect(nested(x.prefix, y.prefix)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives one scope the same names on every call, which namesFromId gives back from the user name', () => {
    fc.assert(
      fc.property(fc.oneof(scope, anyScope), (s) => {
        const names = resourceNames(s);
        expect(resourceNames({ ...s })).toEqual(names);
        expect(namesFromId(names.username)).toEqual(names);
        // Nothing Redis' glob patterns (the ACL's ~prefix*) treat specially, no spaces or control characters.
        expect(names.prefix).toMatch(/^[a-z0-9.-]*:[a-z0-9.-]*:[a-z0-9.-]*_[0-9a-f]{8}:$/);
      }),
    );
  });

  it('keeps the names of resources created before the hash, and no new prefix lies under one of theirs', () => {
    expect(namesFromId('pave_shop_dev_web.cache')).toEqual({
      username: 'pave_shop_dev_web.cache',
      prefix: 'shop:dev:web.cache:',
    });
    fc.assert(
      fc.property(legacyId, fc.oneof(scope, anyScope), (id, s) => {
        const legacy = namesFromId(id);
        const names = resourceNames(s);
        expect(names.username).not.toBe(legacy.username);
        expect(nested(names.prefix, legacy.prefix)).toBe(false);
      }),
    );
    for (const id of ['', 'pave_a_b', 'shop_dev_web', 'pave_a_b_c_d', 'pave_A_b_c', 'pave_a_b_c*']) {
      expect(() => namesFromId(id)).toThrow(/is not the id of a Redis resource/);
    }
  });
});
