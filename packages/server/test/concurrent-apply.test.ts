import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * The platform team's declarative applies (policies, profiles, resource definitions, runtime targets) read
 * what is stored, then insert what is new. Two applies of the same new ids at the same moment both find none
 * (PostgreSQL's READ COMMITTED); the second to commit then breaks the primary key. It applies again, then
 * finding what the first stored, as SQLite (which serialises writers) does at once: both answer 200, as two CI
 * pipelines applying the same platform config expect.
 */
describe.each(storeEngines)('the same apply sent several times at once on %s', (engine) => {
  let api: FullApi;

  beforeAll(async () => {
    api = await openFullApi(engine);
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  const applies: Array<[string, (round: number) => object]> = [
    [
      '/policies/apply',
      (round) => ({ policies: [{ id: `same-${round}`, severity: 'warn', message: 'm', rule: 'true' }] }),
    ],
    [
      '/profiles/apply',
      (round) => ({
        profiles: [
          {
            id: `same-${round}`,
            criteria: [],
            objects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }],
          },
        ],
      }),
    ],
    [
      '/resource-definitions/apply',
      (round) => ({
        definitions: [
          {
            id: `same-${round}`,
            type: 'postgres',
            driver: 'postgres-embedded',
            criteria: [{ appId: `app-${round}` }],
          },
        ],
      }),
    ],
    [
      '/runtime-targets/apply',
      (round) => ({
        targets: [{ id: `same-${round}`, type: 'process', criteria: [{ appId: `app-${round}` }] }],
      }),
    ],
  ];

  for (const [url, body] of applies) {
    it(`POST ${url}: each answers 200, one creating and the others finding it unchanged`, async () => {
      for (let round = 0; round < 4; round++) {
        const answers = await Promise.all(
          Array.from({ length: 6 }, () => api.call('POST', url, body(round))),
        );
        for (const answer of answers) expect(answer.statusCode, answer.body).toBe(200);
        const actions = answers.map(
          (answer) => (JSON.stringify(answer.json()).match(/"create"/gu) ?? []).length,
        );
        expect(actions.reduce((sum, created) => sum + created, 0)).toBe(1);
        const again = await api.call('POST', url, body(round));
        expect(again.statusCode, again.body).toBe(200);
        expect(JSON.stringify(again.json())).toMatch(/"unchanged"/u);
      }
    });
  }
});
