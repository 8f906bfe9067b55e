import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * PostgreSQL cannot store or compare text holding a NUL character (U+0000), and SQLite would keep it where no
 * name or value may hold one. A NUL sent by a client, in a cursor, a path, a query or a JSON body, is the
 * client's mistake: a 400 saying where, on both engines, never a 500. So is a lone surrogate in a JSON body
 * (`"\ud800"`), which neither engine stores as it is: it came back as U+FFFD, changed without a word.
 */
describe.each(storeEngines)('NUL characters in requests on %s', (engine) => {
  let api: FullApi;
  let webhook: string;

  beforeAll(async () => {
    api = await openFullApi(engine);
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    const env = await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' });
    expect(env.statusCode, env.body).toBe(201);
    const created = await api.call('POST', '/webhooks', {
      name: 'hook',
      url: 'https://hooks.example.com/pave',
      app: 'shop',
    });
    expect(created.statusCode, created.body).toBe(201);
    webhook = (created.json() as { webhook: { id: string } }).webhook.id;
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('refuses a cursor that holds one, naming query.cursor', async () => {
    const cursors = [
      `/tokens?cursor=${encodeCursor(['2024-01-01T00:00:00.000Z', 'a\u0000b'])}`,
      `/webhooks/${webhook}/deliveries?cursor=${encodeCursor(['2024-01-01T00:00:00.000Z', null, 'a\u0000b'])}`,
      `/users?cursor=${encodeCursor(['a\u0000b'])}`,
    ];
    for (const url of cursors) {
      const response = await api.call('GET', url);
      expect(response.statusCode, `${url}: ${response.body}`).toBe(400);
      expect(response.json().errors).toEqual([{ path: 'query.cursor', message: expect.any(String) }]);
    }
  });

  it('refuses a URL that holds one (%00), in a path or a query, naming the URL', async () => {
    for (const url of [
      '/apps/shop/envs/dev/resources?cursor=a%00.b',
      '/apps/shop/envs/dev/resources/a%00.b',
      '/apps/sh%00op',
      '/audit?app=shop%00',
    ]) {
      const response = await api.call('GET', url);
      expect(response.statusCode, `${url}: ${response.body}`).toBe(400);
      expect(response.json().errors).toEqual([
        { path: 'url', message: expect.stringMatching(/NUL character \(%00\)/u) },
      ]);
    }
  });

  it('refuses a JSON body with one in a string or a key, at its JSON pointer, and stores nothing', async () => {
    const template = {
      id: 'nul',
      title: 'NUL',
      parameters: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
      files: [{ path: 'README.md', content: '# {{ name }}\u0000\n' }],
      setup: { environments: [{ id: 'dev', type: 'development' }] },
    };
    const stored = await api.call('PUT', '/templates/nul', template);
    expect(stored.statusCode, stored.body).toBe(400);
    expect(stored.json().errors).toEqual([
      {
        path: '/files/0/content',
        message:
          'contains a NUL character (U+0000) at character 13; remove it: no name or value in Pave may hold one',
      },
    ]);
    expect((await api.call('GET', '/templates/nul')).statusCode).toBe(404);

    // A value becomes a workload's environment variable, which cannot hold one either.
    const value = await api.call('PATCH', '/apps/shop/values', { set: { GREETING: { value: 'hi\u0000' } } });
    expect(value.statusCode, value.body).toBe(400);
    expect(value.json().errors).toEqual([
      {
        path: '/set/GREETING/value',
        message:
          'contains a NUL character (U+0000) at character 3; remove it: no name or value in Pave may hold one',
      },
    ]);
    const key = await api.call('PATCH', '/apps/shop/values', { set: { 'A\u0000B': { value: 'x' } } });
    expect(key.statusCode, key.body).toBe(400);
    expect(key.json().errors).toEqual([
      {
        path: '/set/A\u0000B',
        message:
          'its name contains a NUL character (U+0000) at character 2; remove it: no name or value in Pave may hold one',
      },
    ]);
    expect((await api.call('GET', '/apps/shop/values')).json()).toMatchObject({ items: [], version: null });
  });

  it('refuses a lone surrogate in a JSON body, at its JSON pointer and character, and stores nothing', async () => {
    // As clients send it: escaped in the JSON text (raw, it is not UTF-8).
    const answers = [
      [
        'PATCH',
        '/apps/shop/envs/dev/values',
        '{"set":{"SUR":{"value":"a\\udc00b"}}}',
        '/set/SUR/value',
        'DC00',
        2,
      ],
      ['POST', '/apps/shop/rules', '{"env":"dev","branch":"x\\ud800"}', '/branch', 'D800', 2],
      [
        'POST',
        '/webhooks',
        '{"name":"w","url":"https://hooks.example.com/\\ud800","app":"shop"}',
        '/url',
        'D800',
        27,
      ],
    ] as const;
    for (const [method, url, payload, path, code, position] of answers) {
      const response = await api.app.inject({
        method,
        url: `/api/v1${url}`,
        headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
        payload,
      });
      expect(response.statusCode, `${url}: ${response.body}`).toBe(400);
      expect(response.json().errors).toEqual([
        {
          path,
          message: `contains a lone surrogate (U+${code}) at character ${position}; remove it: no name or value in Pave may hold one`,
        },
      ]);
    }
    expect((await api.call('GET', '/apps/shop/envs/dev/values')).json()).toMatchObject({ items: [] });
    // A pair, escaped, is one character: accepted.
    const pair = await api.app.inject({
      method: 'PATCH',
      url: '/api/v1/apps/shop/envs/dev/values',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      payload: '{"set":{"SMILE":{"value":"\\ud83d\\ude00"}}}',
    });
    expect(pair.statusCode, pair.body).toBe(200);
  });
});
