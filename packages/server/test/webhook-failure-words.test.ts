import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Found by a review of the CLI: a webhook whose host does not resolve was reported in Node's words
 * ("ENOTFOUND: getaddrinfo ENOTFOUND example.invalid"), as were other network failures.
 */
describe('why a webhook got no answer, in words', () => {
  let api: FullApi;

  beforeAll(async () => {
    api = await openFullApi('sqlite', { webhookAllow: ['127.0.0.1/32'] });
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  const testOf = async (url: string) => {
    const made = await api.call('POST', '/webhooks', {
      name: `w${Math.random().toString(36).slice(2, 8)}`,
      url,
    });
    expect(made.statusCode, made.body).toBe(201);
    const tested = await api.call('POST', `/webhooks/${made.json().webhook.id}/test`);
    expect(tested.statusCode, tested.body).toBe(200);
    return tested.json() as { ok: boolean; statusCode: number | null; error: string | null };
  };

  it('says a host name does not resolve, and a connection was refused, naming the code once', async () => {
    const unresolved = await testOf('http://pave-review.invalid/hook');
    expect(unresolved).toMatchObject({ ok: false, statusCode: null });
    expect(unresolved.error).toBe('the host name pave-review.invalid does not resolve (ENOTFOUND)');
    const refused = await testOf('http://127.0.0.1:9/hook');
    expect(refused.error).toBe('the connection to 127.0.0.1:9 was refused (ECONNREFUSED)');
  });
});
