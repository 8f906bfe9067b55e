import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Found by review: a token could be scoped to an app or environment type that does not exist (a typo, say:
 * `app:shpo:developer`), and was created as asked, a token that can do nothing, with no word why.
 */
describe.each(storeEngines)('a token scoped to what does not exist, on %s', (engine) => {
  let api: FullApi;

  beforeAll(async () => {
    api = await openFullApi(engine);
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('is refused, naming the app or type and how to find the right one', async () => {
    const app = await api.call('POST', '/tokens', { name: 'ci', scope: 'app:shpo:developer' });
    expect(app.statusCode, app.body).toBe(404);
    expect(app.json()).toMatchObject({
      detail: 'app "shpo" not found',
      errors: [{ path: '/scope', message: expect.stringContaining('pave apps list') }],
    });
    expect((await api.call('POST', '/tokens', { name: 'ci', scope: 'app:shop:developer' })).statusCode).toBe(
      201,
    );
    // An environment-type role alone reaches no app: such a token could do nothing, so none is made.
    const typeRole = await api.call('POST', '/tokens', {
      name: 'ci2',
      scope: 'env-type:production:deployer',
    });
    expect(typeRole.statusCode, typeRole.body).toBe(400);
    expect(typeRole.json()).toMatchObject({
      errors: [{ path: '/scope', message: expect.stringContaining('app:<app>:developer') }],
    });
  });
});
