import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFullApi } from './support/full-api.ts';

describe('a malformed bearer token is refused with what is wrong with it', () => {
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;

  beforeAll(async () => {
    ({ app, cleanup } = await openFullApi('sqlite'));
  });
  afterAll(async () => {
    await cleanup?.();
  });

  const refusal = async (token: string) => {
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/apps',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.statusCode).toBe(401);
    const problem = response.json<{ detail: string; errors: { path: string; message: string }[] }>();
    return `${problem.detail}: ${problem.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`;
  };

  it('says a token starting with pave_ is too short or too long, without echoing it', async () => {
    const short = await refusal('pave_bogus');
    expect(short).toContain('after "pave_" a token has 43 characters, this one has 5');
    expect(short).not.toContain('expected "Bearer pave_…"');
    expect(short).not.toContain('bogus');
    const long = await refusal(`pave_${'A'.repeat(44)}`);
    expect(long).toContain('this one has 44');
  });

  it('says a token starting with pave_ has characters a token never has, without echoing it', async () => {
    const text = await refusal(`pave_${'A'.repeat(42)}.`);
    expect(text).toContain('only letters, digits, "-" and "_"');
    expect(text).not.toContain('AAAA');
  });

  it('still says a token without the pave_ prefix is not a Pave token', async () => {
    const text = await refusal('ghp_something');
    expect(text).toContain('not a Pave token');
    expect(text).toContain('expected "Bearer pave_…"');
    expect(text).not.toContain('something');
  });
});
