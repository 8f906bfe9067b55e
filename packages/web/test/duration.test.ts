import { describe, expect, it } from 'vitest';
import { ttlProblem } from '../src/components/duration.ts';

describe('ttlProblem', () => {
  // "99999d" got the API's raw "Too big: expected number to be <=3153600000".
  it('says a time to live is too long, and the longest there is, as the CLI does', () => {
    expect(ttlProblem('99999d')).toBe('"99999d" is too long; use at most 36500d');
    expect(ttlProblem('36500d')).toBeUndefined();
  });

  it('says what a duration looks like, and that zero is none', () => {
    expect(ttlProblem('soon')).toBe('"soon" is not a duration; use e.g. 30m, 12h or 90d');
    expect(ttlProblem('0h')).toBe('must be more than zero, e.g. 30m, 12h or 90d');
    expect(ttlProblem('')).toBeUndefined();
  });
});
