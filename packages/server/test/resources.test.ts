import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseScore, type ScoreWorkload } from '@pave/core';
import { bootstrapAdmin, buildApi, type Store } from '../src/index.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import { resourceDriverRegistry } from '../src/resource-drivers.ts';
import { FakeRuntime } from '@pave/plugin-api/testing';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';
import { listSamples, NEGATIVE_SAMPLES, SAMPLES_DIR } from '../../core/test/score/support.ts';

const PLANNABLE = new Set([
  'postgres',
  'redis',
  'mysql',
  'amqp',
  'dns',
  'route',
  'volume',
  'environment',
  'service-port',
]);

/** The `type` of every resource in the Score file `sample`, read from its YAML directly (not via parseScore). */
function sampleResourceTypes(sample: string): string[] {
  return parseAllDocuments(readFileSync(join(SAMPLES_DIR, sample), 'utf8')).flatMap((doc) => {
    const spec = doc.toJS() as { resources?: Record<string, { type?: unknown } | null> } | null;
    return Object.values(spec?.resources ?? {}).map((resource) => String(resource?.type));
  });
}

describe.each(storeEngines)('resource definitions and resources API on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let token: string;
  const secret = `admin-secret-${Math.random().toString(36).slice(2)}`;

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    const dataDir = opened.location.dataDir;
    token = readFileSync((await bootstrapAdmin(store, dataDir))!, 'utf8').trim();
    const keyring = keyringSource(dataDir, {});
    const box = new SecretBox(store.db, keyring);
    await box.init();
    app = await buildApi({
      store,
      secrets: { box },
      // Only plans are asked for here, of Score samples that run images: a runtime that can run any image.
      runtime: new FakeRuntime({ serveHttp: false }),
      resourceDrivers: resourceDriverRegistry({ dataDir, pgliteScript: '/nonexistent/pglite-server.js' }),
    });
    await call('POST', '/apps', { id: 'shop' });
    await call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' });
    await call('POST', '/apps/shop/envs', { id: 'stage', type: 'staging' });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });
  const call = (method: string, url: string, payload?: object) =>
    app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  const staging = (id: string, criteria: object[] = [{ envType: 'staging' }]) => ({
    id,
    type: 'postgres',
    driver: 'postgres-server',
    driverInputs: { secrets: { adminUrl: `postgres://admin:${secret}@db.internal:5432/postgres` } },
    criteria,
  });

  it('lists the built-in defaults for a fresh machine', async () => {
    const response = await call('GET', '/resource-definitions');
    expect(response.statusCode).toBe(200);
    const items = response.json().items as Array<{ id: string; driver: string; builtIn: boolean }>;
    expect(items.filter((d) => d.builtIn).map((d) => [d.id, d.driver])).toEqual([
      ['default-amqp', 'rabbitmq-embedded'],
      ['default-dns', 'dns-localhost'],
      ['default-mysql', 'mysql-embedded'],
      ['default-postgres', 'postgres-embedded'],
      ['default-redis', 'redis-embedded'],
      ['default-route', 'route-localhost'],
      ['default-volume', 'volume-dir'],
    ]);
  });

  it('refuses bad definitions, naming each problem, and writes nothing', async () => {
    const response = await call('POST', '/resource-definitions/apply', {
      definitions: [
        { id: 'x', type: 'postgres', driver: 'postgres-sever' },
        { id: 'default-redis', type: 'redis', driver: 'redis-server' },
        { id: 'x', type: 'postgres', driver: 'static' },
      ],
    });
    expect(response.statusCode).toBe(400);
    const paths = (response.json().errors as Array<{ path: string; message: string }>).map((e) => e.path);
    expect(paths).toEqual(['/definitions/0/driver', '/definitions/1/id', '/definitions/2/id']);
    expect(response.json().errors[0].message).toContain('known drivers:');
    expect(await store.db.selectFrom('resource_definitions').selectAll().execute()).toEqual([]);
  });

  it('applies declaratively: a dry run plans, a second apply changes nothing, secrets stay encrypted', async () => {
    const dry = await call('POST', '/resource-definitions/apply', {
      definitions: [staging('pg')],
      dryRun: true,
    });
    expect(dry.json()).toEqual({ applied: false, changes: [{ id: 'pg', action: 'create', fields: [] }] });
    expect(await store.db.selectFrom('resource_definitions').selectAll().execute()).toEqual([]);
    const first = await call('POST', '/resource-definitions/apply', { definitions: [staging('pg')] });
    expect(first.json().changes).toEqual([{ id: 'pg', action: 'create', fields: [] }]);
    const second = await call('POST', '/resource-definitions/apply', { definitions: [staging('pg')] });
    expect(second.json().changes).toEqual([{ id: 'pg', action: 'unchanged', fields: [] }]);
    const changed = await call('POST', '/resource-definitions/apply', {
      definitions: [{ ...staging('pg'), driverInputs: { secrets: { adminUrl: 'postgres://other@h/db' } } }],
    });
    expect(changed.json().changes).toEqual([
      { id: 'pg', action: 'update', fields: ['driverInputs.secrets'] },
    ]);
    await call('POST', '/resource-definitions/apply', { definitions: [staging('pg')] });

    const shown = await call('GET', '/resource-definitions/pg');
    expect(shown.json().driverInputs).toEqual({ values: {}, secrets: ['adminUrl'] });
    const everywhere = JSON.stringify([
      await store.db.selectFrom('resource_definitions').selectAll().execute(),
      await store.db.selectFrom('audit_entries').selectAll().execute(),
      (await call('GET', '/resource-definitions')).json(),
    ]);
    expect(everywhere).not.toContain(secret);
  });

  it('refuses a definition whose criteria tie with another one', async () => {
    const response = await call('POST', '/resource-definitions/apply', { definitions: [staging('pg-copy')] });
    expect(response.statusCode).toBe(409);
    expect(response.json().errors[0].message).toContain('pg');
  });

  it('explains which definition wins for an environment and why the others lose', async () => {
    const stage = await call('GET', '/resource-definitions/match?app=shop&env=stage&type=postgres');
    expect(stage.statusCode).toBe(200);
    expect(stage.json().winner.id).toBe('pg');
    const dev = await call('GET', '/resource-definitions/match?app=shop&env=dev&type=postgres');
    expect(dev.json().winner.id).toBe('default-postgres');
    const pg = dev.json().candidates.find((c: { id: string }) => c.id === 'pg');
    expect(pg.outcome).toBe('no-match');
    expect(pg.reason).toContain('staging');
  });

  it('refuses to plan a resource type no definition provisions, naming the type and the fix', async () => {
    const spec = {
      apiVersion: 'score.dev/v1b1',
      metadata: { name: 'api' },
      containers: { main: { image: 'busybox' } },
      resources: { queue: { type: 's3' } },
    };
    const response = await call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [{ spec, dir: '/tmp' }],
      plan: true,
    });
    expect(response.statusCode).toBe(409);
    const [problem] = response.json().errors;
    expect(problem.path).toBe('workloads.api.resources.queue.type');
    expect(problem.message).toContain('"s3"');
    expect(problem.message).toContain('pave defs apply');
  });

  it('plans resources to create for a new set', async () => {
    const spec = {
      apiVersion: 'score.dev/v1b1',
      metadata: { name: 'api' },
      containers: { main: { image: 'busybox', variables: { DB: '${resources.db.url}' } } },
      resources: { db: { type: 'postgres' }, cache: { type: 'redis', id: 'main-cache' } },
    };
    const response = await call('POST', '/apps/shop/envs/stage/deployments', {
      workloads: [{ spec, dir: '/tmp' }],
      plan: true,
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(
      response
        .json()
        .resources.map((r: { address: string; action: string; definitionId: string }) => [
          r.address,
          r.action,
          r.definitionId,
        ]),
    ).toEqual([
      ['api.db', 'create', 'pg'],
      ['shared.main-cache', 'create', 'default-redis'],
    ]);
  });

  it('moves only existing resources to free, well-formed addresses', async () => {
    const missing = await call('POST', '/apps/shop/envs/dev/resources/move', { from: 'api.db', to: 'api.x' });
    expect(missing.statusCode).toBe(404);
    // Found by a review of bad input: it named `address`, which a move's body does not have.
    expect(missing.json().errors[0].path).toBe('/from');
    const bad = await call('POST', '/apps/shop/envs/dev/resources/move', { from: 'api', to: 'api.db' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('/from');
    expect((await call('GET', '/apps/shop/envs/nope/resources')).statusCode).toBe(404);
  });

  it('refuses to move a resource whose driver keeps its state in Pave, moving nothing', async () => {
    const at = new Date().toISOString();
    await store.db
      .insertInto('resources')
      .values({
        app_id: 'shop',
        env_id: 'dev',
        address: 'api.bucket',
        type: 's3',
        class: 'default',
        res_id: 'api.bucket',
        definition_id: 'tf-bucket',
        driver: 'terraform',
        driver_id: 'tf-1',
        inputs_fp: 'fp',
        params: '{}',
        output_values: '{}',
        output_secrets: '{}',
        secret_names: '[]',
        created_at: at,
        updated_at: at,
      })
      .execute();
    await store.db
      .insertInto('resource_states')
      .values({
        app_id: 'shop',
        env_id: 'dev',
        address: 'api.bucket',
        state: 'sealed state',
        lock_id: null,
        lock_info: null,
        locked_at: null,
        updated_at: at,
      })
      .execute();
    const refused = await call('POST', '/apps/shop/envs/dev/resources/move', {
      from: 'api.bucket',
      to: 'api.files',
    });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject({
      detail:
        'api.bucket (s3, driver terraform) keeps its state in Pave under its address and cannot be moved',
      errors: [{ path: '/from', message: expect.stringContaining('rename it back in the Score file') }],
    });
    const addresses = await store.db
      .selectFrom('resources')
      .select('address')
      .where('app_id', '=', 'shop')
      .where('env_id', '=', 'dev')
      .where('type', '=', 's3')
      .execute();
    expect(addresses).toEqual([{ address: 'api.bucket' }]);
    await store.db.deleteFrom('resource_states').where('address', '=', 'api.bucket').execute();
    await store.db.deleteFrom('resources').where('address', '=', 'api.bucket').execute();
  });

  it('refuses to delete a definition that is built in', async () => {
    expect((await call('DELETE', '/resource-definitions/default-postgres')).statusCode).toBe(409);
    expect((await call('DELETE', '/resource-definitions/pg')).statusCode).toBe(204);
  });

  it('plans every public Score sample that uses postgres, redis, mysql, amqp, dns, route, volume, environment or service-port', async () => {
    const samples = listSamples().filter((sample) => !NEGATIVE_SAMPLES.has(sample));
    let planned = 0;
    const plannedSamples = new Set<string>();
    for (const sample of samples) {
      const text = readFileSync(join(SAMPLES_DIR, sample), 'utf8');
      const { workload } = parseScore(text, sample);
      if (!workload) continue;
      const types = Object.values((workload as ScoreWorkload).resources ?? {}).map((r) => r.type);
      if (types.length === 0 || !types.every((type) => PLANNABLE.has(type))) continue;
      // service-port needs the workload it names, with the port it names: plan the sample beside a stand-in.
      const others = Object.values(workload.resources ?? {})
        .filter((r) => r.type === 'service-port' && typeof r.params?.workload === 'string')
        .map((r) => ({
          spec: {
            apiVersion: 'score.dev/v1b1',
            metadata: { name: String(r.params!.workload) },
            containers: { main: { image: 'busybox' } },
            service: {
              ports: { [typeof r.params?.port === 'string' ? r.params.port : 'web']: { port: 8080 } },
            },
          },
          dir: '/tmp',
        }))
        .filter((other) => other.spec.metadata.name !== workload.metadata.name);
      // The values its environment resources' placeholders name, which the plan checks as the render would.
      const keys = Object.entries(workload.resources ?? {})
        .filter(([, r]) => r.type === 'environment')
        .flatMap(([name]) => [...text.matchAll(new RegExp(`\\$\\{resources\\.${name}\\.(\\w+)\\}`, 'gu'))])
        .map((match) => match[1]!);
      if (keys.length > 0) {
        const set = Object.fromEntries(keys.map((key) => [key, { value: 'set' }]));
        const patched = await call('PATCH', '/apps/shop/envs/dev/values', { set });
        expect(patched.statusCode, patched.body).toBe(200);
      }
      const response = await call('POST', '/apps/shop/envs/dev/deployments', {
        workloads: [{ spec: workload, dir: '/tmp' }, ...others],
        plan: true,
      });
      expect(response.statusCode, `${sample}: ${response.body}`).toBe(200);
      planned++;
      plannedSamples.add(sample);
    }
    expect(planned).toBeGreaterThan(10);
    // Every sample with a mysql or amqp resource whose other types Pave supports was planned, by name.
    const mysqlOrAmqp = samples.filter((sample) => {
      const types = sampleResourceTypes(sample);
      return (
        types.some((type) => type === 'mysql' || type === 'amqp') &&
        types.every((type) => PLANNABLE.has(type))
      );
    });
    expect(
      mysqlOrAmqp.filter((sample) => sampleResourceTypes(sample).includes('mysql')).length,
    ).toBeGreaterThan(0);
    expect(
      mysqlOrAmqp.filter((sample) => sampleResourceTypes(sample).includes('amqp')).length,
    ).toBeGreaterThan(0);
    expect(mysqlOrAmqp.filter((sample) => !plannedSamples.has(sample))).toEqual([]);
  });
});
