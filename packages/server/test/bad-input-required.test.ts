import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Found by a review of bad input: a field a request must have and did not was answered with zod's "Invalid
 * input: expected string, received undefined", on every route (`POST /apps` with `{}`, `GET /auth/can-i`
 * without `action`). It says the field is required, and what it must be, now.
 */
describe('a required field the request does not have', () => {
  let api: FullApi;
  beforeAll(async () => {
    api = await openFullApi('sqlite');
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('is required, in the body, saying what it must be', async () => {
    const response = await api.call('POST', '/apps', {});
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      detail: 'the request body is invalid',
      errors: [{ path: '/id', message: 'is required: a string' }],
    });
  });

  it('is required, in the query', async () => {
    const response = await api.call('GET', '/auth/can-i');
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      detail: 'the request query is invalid',
      errors: [{ path: 'query.action', message: 'is required: a string' }],
    });
  });

  it('names the values a missing choice may take, deep in a list', async () => {
    const response = await api.call('POST', '/policies/apply', {
      policies: [{ id: 'no-severity', message: 'm', rule: 'true' }],
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([
      { path: '/policies/0/severity', message: 'is required: one of "deny", "warn"' },
    ]);
  });

  it('still says what is wrong with a value that is there but of the wrong type', async () => {
    const response = await api.call('POST', '/apps', { id: 5 });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([
      { path: '/id', message: 'Invalid input: expected string, received number' },
    ]);
  });

  it('is required, for a request body that is not there at all', async () => {
    const response = await api.call('POST', '/apps');
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([{ path: '/', message: 'is required: an object' }]);
  });
});
