import { MAX_VALUE_KEYS, type ScoreWorkload } from '@pave/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const workload: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image: 'registry.example.com/shop/api:1' } },
};

const STAGE_SECRET = 'stage-only-s3cret';
const PROD_SECRET = 'prod-only-s3cret';

/** `pave envs create <env> --from <other>`: the clone takes the source environment's own values too. */
describe.each(storeEngines)('cloning an environment with its values on %s', (engine) => {
  let api: DeployingApi;
  let dave: string;
  let dora: string;

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
    const setup: Array<[string, string, object]> = [
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps/shop/envs', { id: 'stage', type: 'staging' }],
      ['POST', '/apps/shop/envs', { id: 'prod', type: 'production' }],
      ['PATCH', '/apps/shop/values', { set: { GREETING: { value: 'hello' }, DEBUG: { value: '1' } } }],
      [
        'PATCH',
        '/apps/shop/envs/stage/values',
        { set: { LOG_LEVEL: { value: 'info' }, DB_PASSWORD: { value: STAGE_SECRET, secret: true } } },
      ],
      [
        'PATCH',
        '/apps/shop/envs/prod/values',
        { set: { DB_PASSWORD: { value: PROD_SECRET, secret: true } } },
      ],
    ];
    for (const [method, url, body] of setup) {
      const response = await api.call(method as 'POST', url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    for (const env of ['stage', 'prod']) {
      const deployed = await api.deploy('shop', env, { workloads: [{ spec: workload, dir: '/srv/app' }] });
      expect(deployed.status, JSON.stringify(deployed)).toBe('succeeded');
    }
    dave = await api.createUser('dave');
    dora = await api.createUser('dora');
    for (const grant of [
      { role: 'developer', user: 'dave', app: 'shop' },
      { role: 'developer', user: 'dora', app: 'shop' },
      { role: 'deployer', user: 'dora', envType: 'production' },
    ]) {
      const granted = await api.call('POST', '/roles', grant);
      expect(granted.statusCode, granted.body).toBe(201);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it("gives the clone the source's own values and secrets as its first version, over the app's", async () => {
    const created = await api.callAs(dave, 'POST', '/apps/shop/envs', {
      id: 'stage-copy',
      type: 'development',
      from: 'stage',
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.body).not.toContain(STAGE_SECRET);

    const listed = (await api.call('GET', '/apps/shop/envs/stage-copy/values?reveal=true')).json();
    expect(listed.version).toBe(1);
    expect(
      listed.items.map((item: { key: string; value: string; secret: boolean; source: string }) => [
        item.key,
        item.value,
        item.secret,
        item.source,
      ]),
    ).toEqual([
      ['DB_PASSWORD', STAGE_SECRET, true, 'env'],
      ['DEBUG', '1', false, 'app'],
      ['GREETING', 'hello', false, 'app'],
      ['LOG_LEVEL', 'info', false, 'env'],
    ]);
    const history = (await api.call('GET', '/apps/shop/envs/stage-copy/values/versions')).json();
    expect(history.items).toMatchObject([{ version: 1, reason: 'cloned from stage' }]);
    // The secret is stored sealed, never in plaintext.
    const stored = await api.store.db
      .selectFrom('env_values')
      .selectAll()
      .where('app_id', '=', 'shop')
      .where('env_id', '=', 'stage-copy')
      .execute();
    expect(stored.map((row) => row.key).sort()).toEqual(['DB_PASSWORD', 'LOG_LEVEL']);
    expect(JSON.stringify(stored)).not.toContain(STAGE_SECRET);
  });

  it('keeps the source environment’s hidden app values hidden in the clone', async () => {
    // A rollback to a version before the app had DEBUG hides it so: a null override, written here directly.
    await api.store.db
      .insertInto('env_values')
      .values({
        app_id: 'shop',
        env_id: 'stage',
        key: 'DEBUG',
        secret: 0,
        value: null,
        updated_by: 'admin',
        updated_at: new Date().toISOString(),
      })
      .execute();
    const created = await api.call('POST', '/apps/shop/envs', {
      id: 'no-debug',
      type: 'development',
      from: 'stage',
    });
    expect(created.statusCode, created.body).toBe(201);
    const keys = (await api.call('GET', '/apps/shop/envs/no-debug/values'))
      .json()
      .items.map((item: { key: string }) => item.key);
    expect(keys).toEqual(['DB_PASSWORD', 'GREETING', 'LOG_LEVEL']);
    await api.store.db
      .deleteFrom('env_values')
      .where('app_id', '=', 'shop')
      .where('env_id', '=', 'stage')
      .where('key', '=', 'DEBUG')
      .execute();
  });

  it('deploys the clone with the copied values', async () => {
    const deployments = (await api.call('GET', '/apps/shop/envs/stage-copy/deployments')).json()
      .items as Array<{
      id: string;
    }>;
    expect(deployments).toHaveLength(1);
    let detail: { status: string; valuesVersion: number | null } | undefined;
    for (let attempt = 0; attempt < 300; attempt++) {
      detail = (await api.call('GET', `/apps/shop/envs/stage-copy/deployments/${deployments[0]!.id}`)).json();
      if (detail!.status === 'succeeded' || detail!.status === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(detail).toMatchObject({ status: 'succeeded', valuesVersion: 1 });
  });

  it('audits the copy by key, never by value', async () => {
    const audit = (await api.call('GET', '/audit?app=shop&limit=500')).json().items as Array<{
      action: string;
      target: string;
      summary: Record<string, unknown>;
    }>;
    expect(JSON.stringify(audit)).not.toContain(STAGE_SECRET);
    const copied = audit.find(
      (entry) => entry.action === 'values.clone' && entry.target === 'apps/shop/envs/stage-copy/values',
    );
    expect(copied?.summary).toEqual({
      from: 'stage',
      set: [
        { key: 'DB_PASSWORD', secret: true },
        { key: 'LOG_LEVEL', secret: false },
      ],
      hidden: [],
      versions: [{ envId: 'stage-copy', version: 1 }],
    });
  });

  it('refuses a developer without deployer who clones production, naming the permission, and copies nothing', async () => {
    const refused = await api.callAs(dave, 'POST', '/apps/shop/envs', {
      id: 'prod-copy',
      type: 'development',
      from: 'prod',
    });
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().detail).toContain('values.reveal');
    expect(refused.json().detail).toContain('deployer on environment type production');
    expect(refused.body).not.toContain(PROD_SECRET);
    expect((await api.call('GET', '/apps/shop/envs/prod-copy')).statusCode).toBe(404);

    const byDeployer = await api.callAs(dora, 'POST', '/apps/shop/envs', {
      id: 'prod-copy',
      type: 'development',
      from: 'prod',
    });
    expect(byDeployer.statusCode, byDeployer.body).toBe(201);
    const copied = (await api.call('GET', '/apps/shop/envs/prod-copy/values?reveal=true')).json();
    expect(copied.items.find((item: { key: string }) => item.key === 'DB_PASSWORD')).toMatchObject({
      value: PROD_SECRET,
      source: 'env',
    });
  });

  it('refuses to clone an environment holding more keys than an environment may, creating nothing', async () => {
    const at = new Date().toISOString();
    await api.call('POST', '/apps/shop/envs', { id: 'big', type: 'development' });
    const deployed = await api.deploy('shop', 'big', { workloads: [{ spec: workload, dir: '/srv/app' }] });
    expect(deployed.status).toBe('succeeded');
    // Set before the limit existed: written straight to the store.
    await api.store.db
      .insertInto('env_values')
      .values(
        Array.from({ length: MAX_VALUE_KEYS + 1 }, (_, index) => ({
          app_id: 'shop',
          env_id: 'big',
          key: `KEY_${index}`,
          secret: 0,
          value: 'x',
          updated_by: 'admin',
          updated_at: at,
        })),
      )
      .execute();
    const refused = await api.call('POST', '/apps/shop/envs', {
      id: 'big-copy',
      type: 'development',
      from: 'big',
    });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().errors).toEqual([
      {
        path: '/from',
        message: expect.stringContaining(`${MAX_VALUE_KEYS + 1} keys`),
      },
    ]);
    expect(refused.json().errors[0].message).toContain(`at most ${MAX_VALUE_KEYS}`);
    expect((await api.call('GET', '/apps/shop/envs/big-copy')).statusCode).toBe(404);
  });
});
