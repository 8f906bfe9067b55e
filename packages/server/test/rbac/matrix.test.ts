import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/index.ts';
import { openFullApi } from '../support/full-api.ts';
import {
  APPROVAL_SAMPLE_IDS,
  MATRIX_ROLES,
  MATRIX_TARGETS,
  MATRIX_VARIANTS,
  RULE_SAMPLE_IDS,
  apiRoutes,
  concreteUrl,
  createMatrixUsers,
  letters,
  outcomeOf,
  renderMatrix,
  variantBody,
  variantQuery,
  variantRow,
  type ExpectedMatrix,
  type MatrixRole,
  type MatrixVariant,
  type Outcome,
} from './matrix.ts';

const EXPECTED_FILE = fileURLToPath(new URL('./expected-matrix.json', import.meta.url));
const DOCS_FILE = fileURLToPath(new URL('../../../../docs/rbac.md', import.meta.url));
const BEGIN = '<!-- rbac-matrix:begin -->';
const END = '<!-- rbac-matrix:end -->';

describe('the authorisation matrix: every API route x every role x own and other app', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let tokens: Record<MatrixRole, string>;

  beforeAll(async () => {
    ({ app, store, cleanup } = await openFullApi('sqlite', { authorizeOnly: true }));
    const at = new Date().toISOString();
    for (const id of ['own', 'other']) {
      await store.db
        .insertInto('apps')
        .values({ id, name: id, created_by: 'admin', created_at: at })
        .execute();
      for (const [env, type] of [
        ['dev', 'development'],
        ['prod', 'production'],
      ] as const) {
        await store.db
          .insertInto('environments')
          .values({ app_id: id, id: env, type, created_by: 'admin', created_at: at })
          .execute();
      }
    }
    // A webhook of each app with one delivery, for the routes that take their ids.
    for (const id of ['own', 'other']) {
      await store.db
        .insertInto('webhooks')
        .values({
          id: `wh_${id}`,
          name: 'hook',
          url: 'https://hooks.example.com/pave',
          app_id: id,
          app_incarnation: null,
          events: null,
          secret: 'sealed',
          enabled: 1,
          disabled_reason: null,
          consecutive_failures: 0,
          last_event_id: 0,
          lease_owner: null,
          lease_until: null,
          created_at: at,
          created_by: 'admin',
        })
        .execute();
      await store.db
        .insertInto('webhook_deliveries')
        .values({
          id: `msg_${id}`,
          webhook_id: `wh_${id}`,
          event_id: 1,
          event_type: 'values.changed',
          payload: '{}',
          status: 'succeeded',
          attempts: 1,
          created_at: at,
          next_attempt_at: null,
          last_status_code: 200,
          last_error: null,
          attempt_log: '[]',
        })
        .execute();
    }
    // A deployment awaiting approval per target, asked for by someone outside the matrix.
    for (const [target, id] of Object.entries(APPROVAL_SAMPLE_IDS)) {
      const [app, env] = target === 'other' ? ['other', 'dev'] : target.split('/');
      await store.db
        .insertInto('deployments')
        .values({
          id: Number(id),
          app_id: app!,
          env_id: env!,
          kind: 'deploy',
          request: JSON.stringify({ upsert: [], remove: [], timeoutSeconds: 60, autoRollback: true }),
          set_id: null,
          previous_set_id: null,
          actor: 'someone',
          message: '',
          status: 'awaiting-approval',
          reason: null,
          created_at: at,
          started_at: null,
          finished_at: null,
        })
        .execute();
    }
    // A rule per target into its environment, made by someone outside the matrix.
    for (const [target, id] of Object.entries(RULE_SAMPLE_IDS)) {
      const [app, env] = target === 'other' ? ['other', 'dev'] : target.split('/');
      await store.db
        .insertInto('rules')
        .values({
          id: Number(id),
          app_id: app!,
          env_id: env!,
          branch: 'main',
          workload: null,
          created_by_id: 'usr_someone',
          created_by: 'someone',
          created_at: at,
        })
        .execute();
    }
    tokens = await createMatrixUsers(store);
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('matches the expected table kept in expected-matrix.json, with 0 mismatches', async () => {
    const actual: ExpectedMatrix = {};
    // Every route as it is, then the requests whose permission depends on their body or query.
    const rows: Array<[string, MatrixVariant]> = [
      ...apiRoutes(app).map((route): [string, MatrixVariant] => [route, { route, label: '' }]),
      ...MATRIX_VARIANTS.map((variant): [string, MatrixVariant] => [variantRow(variant), variant]),
    ];
    for (const [name, variant] of rows) {
      const row = (actual[name] = {} as Record<MatrixRole, string>);
      for (const role of MATRIX_ROLES) {
        const outcomes: Outcome[] = [];
        for (const target of MATRIX_TARGETS) {
          const { method, url } = concreteUrl(variant.route, target);
          const body = variantBody(variant, target);
          const query = variantQuery(variant, target);
          const response = await app.inject({
            method: method as 'GET',
            url: query ? `${url}${url.includes('?') ? '&' : '?'}${query}` : url,
            headers: { authorization: `Bearer ${tokens[role]}` },
            ...(body ? { payload: body } : {}),
          });
          outcomes.push(outcomeOf(response.statusCode, response.body));
        }
        row[role] = letters(outcomes);
      }
    }
    if (process.env.PAVE_WRITE_RBAC_MATRIX === '1') {
      writeFileSync(EXPECTED_FILE, `${JSON.stringify(actual, null, 2)}\n`);
    }
    const expected = existsSync(EXPECTED_FILE)
      ? (JSON.parse(readFileSync(EXPECTED_FILE, 'utf8')) as ExpectedMatrix)
      : {};
    const mismatches: string[] = [];
    for (const route of new Set([...Object.keys(actual), ...Object.keys(expected)])) {
      for (const role of MATRIX_ROLES) {
        const want = expected[route]?.[role];
        const got = actual[route]?.[role];
        if (want !== got)
          mismatches.push(`${route} as ${role}: expected ${want ?? '(no row)'}, got ${got ?? '(no route)'}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('is rendered into docs/rbac.md', () => {
    const expected = JSON.parse(readFileSync(EXPECTED_FILE, 'utf8')) as ExpectedMatrix;
    const table = `${BEGIN}\n${renderMatrix(expected)}\n${END}`;
    const docs = readFileSync(DOCS_FILE, 'utf8');
    if (process.env.PAVE_WRITE_RBAC_MATRIX === '1') {
      writeFileSync(DOCS_FILE, docs.replace(new RegExp(`${BEGIN}[\\s\\S]*${END}`), table));
    }
    expect(readFileSync(DOCS_FILE, 'utf8')).toContain(table);
  });
});
