import { describe, expect, it } from 'vitest';
import { problemSentence } from '../src/components/problem-text.ts';

describe('problemSentence', () => {
  // A policy's refusal was shown as "No-latest: pin your images … (no-latest).": its id capitalised, then again.
  it('leaves a message that starts with the field it names as it is, but for a final full stop', () => {
    expect(
      problemSentence({ path: 'policies/no-latest', message: 'no-latest: pin your images to a digest' }),
    ).toBe('no-latest: pin your images to a digest.');
  });

  it('names the field before a message that says what it must be, and after any other', () => {
    expect(problemSentence({ path: '/username', message: 'is reserved for Pave' })).toBe(
      'Username is reserved for Pave.',
    );
    expect(problemSentence({ path: '/ttl', message: 'too long; use at most 36500d' })).toBe(
      'Too long; use at most 36500d (ttl).',
    );
  });
});
