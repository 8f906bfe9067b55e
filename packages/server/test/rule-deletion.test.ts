import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Making a rule into production needs deployer on the production type, but deleting one needed only
 * rule.write: a developer without deployer could remove a deployer's rule and so change what reaches
 * production. Deleting a rule now needs what creating it does.
 */
describe.each(storeEngines)('who may delete a rule on %s', (engine) => {
  let api: FullApi;
  const tokens: Record<string, string> = {};
  const rules: Record<string, string> = {};

  const as = (user: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    api.callAs(tokens[user]!, method, url, payload);
  const ruleIds = async (): Promise<string[]> =>
    (await api.call('GET', '/apps/shop/rules')).json().items.map((rule: { id: string }) => rule.id);

  beforeAll(async () => {
    api = await openFullApi(engine);
    for (const username of ['dave', 'dora', 'olga']) tokens[username] = await api.createUser(username);
    const setup: Array<[string, object]> = [
      ['/apps', { id: 'shop' }],
      ['/apps', { id: 'blog' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['/apps/shop/envs', { id: 'prod', type: 'production' }],
      ['/roles', { role: 'developer', user: 'dave', app: 'shop' }],
      ['/roles', { role: 'developer', user: 'dora', app: 'shop' }],
      ['/roles', { role: 'deployer', user: 'dora', envType: 'production' }],
      ['/roles', { role: 'developer', user: 'olga', app: 'blog' }],
      ['/roles', { role: 'deployer', user: 'olga', envType: 'production' }],
    ];
    for (const [url, body] of setup) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, `POST ${url}: ${response.body}`).toBe(201);
    }
    for (const env of ['dev', 'prod']) {
      const rule = await as('dora', 'POST', '/apps/shop/rules', { env, branch: 'main' });
      expect(rule.statusCode, rule.body).toBe(201);
      rules[env] = rule.json().id;
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('refuses a developer without deployer the deletion of a rule into production, saying why', async () => {
    const refused = await as('dave', 'DELETE', `/apps/shop/rules/${rules.prod}`);
    expect(refused.statusCode, refused.body).toBe(403);
    const detail: string = refused.json().detail;
    expect(detail).toContain(`rule ${rules.prod} deploys to shop/prod`);
    expect(detail).toContain('deployer on environment type production');
    expect(await ruleIds()).toContain(rules.prod);
  });

  it('lets that developer delete a rule into development', async () => {
    const deleted = await as('dave', 'DELETE', `/apps/shop/rules/${rules.dev}`);
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect(await ruleIds()).not.toContain(rules.dev);
  });

  it('answers 404 for a rule that does not exist, and for an app the caller cannot see', async () => {
    const missing = await as('dave', 'DELETE', '/apps/shop/rules/999');
    expect(missing.statusCode, missing.body).toBe(404);
    expect(missing.json().detail).toContain('rule 999 of shop not found');
    const hidden = await as('olga', 'DELETE', `/apps/shop/rules/${rules.prod}`);
    expect(hidden.statusCode, hidden.body).toBe(404);
    expect(hidden.json().detail).not.toContain('rule');
    expect(await ruleIds()).toContain(rules.prod);
  });

  it('lets a deployer delete the rule into production', async () => {
    const deleted = await as('dora', 'DELETE', `/apps/shop/rules/${rules.prod}`);
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect(await ruleIds()).toEqual([]);
  });
});
