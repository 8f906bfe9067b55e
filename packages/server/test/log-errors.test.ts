import { describe, expect, it } from 'vitest';
import { InputError } from '@pave/core';
import { logError } from '../src/server.ts';

describe('errors in the log', () => {
  it("are typed by their name, not by their class's name, which the bundle shortens", () => {
    // What a bundled InputError looks like: a one-letter class that names itself.
    class Q extends Error {
      override name = 'InputError';
    }
    const logged = logError(new Q('bad input'));
    expect(logged).toMatchObject({ type: 'InputError', message: 'bad input' });
    expect(logError(new InputError('bad id', []))).toMatchObject({ type: 'InputError', message: 'bad id' });
    expect(logError(new TypeError('oops')).type).toBe('TypeError');
  });

  it('leaves what is not an error as pino would', () => {
    const thing = { name: 'not an error' };
    expect(logError(thing as unknown as Error)).toBe(thing);
    expect(thing).toEqual({ name: 'not an error' });
  });
});
