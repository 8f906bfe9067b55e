import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { ProcessRuntime } from '@pave/runtime-process';
import type { ScoreWorkload } from '@pave/core';
import { bootstrapAdmin, buildApi, type Store } from '../src/index.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import { RuntimeRouter } from '../src/runtime-router.ts';
import { runtimeRegistry } from '../src/runtimes.ts';
import { saveSet } from '../src/domain/deployments/sets.ts';
import { renderSet } from '../src/domain/deployments/render.ts';
import { insertToken } from '../src/domain/tokens.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/busybox-app', import.meta.url));

/** The example of docs/profiles.md. */
const PROD_HARDENING = {
  id: 'prod-hardening',
  criteria: [{ envType: 'production' }],
  patches: [
    {
      target: { kind: 'Deployment' },
      ops: [
        { op: 'add', path: '/spec/replicas', value: 3 },
        { op: 'add', path: '/spec/template/spec/securityContext', value: { runAsNonRoot: true } },
      ],
    },
  ],
  objects: [
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: '${workload.name}' },
      spec: { minAvailable: 1, selector: { matchLabels: { 'pave.dev/workload': '${workload.name}' } } },
    },
  ],
};
const SHOP_PROD = {
  id: 'shop-prod',
  criteria: [{ appId: 'shop', envId: 'prod' }],
  patches: [
    {
      target: { kind: 'Deployment', name: '${workload.name}' },
      ops: [{ op: 'add', path: '/metadata/annotations/owner', value: '${app}-${env}' }],
    },
  ],
};

describe.each(storeEngines)('workload profiles through the API on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let token: string;
  const call = (method: string, url: string, payload?: object, as = token) =>
    app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${as}` },
      ...(payload ? { payload } : {}),
    });
  const apply = (profiles: object[], dryRun?: boolean) =>
    call('POST', '/profiles/apply', { profiles, ...(dryRun ? { dryRun } : {}) });

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    const dataDir = opened.location.dataDir;
    token = readFileSync((await bootstrapAdmin(store, dataDir))!, 'utf8').trim();
    const keyring = keyringSource(dataDir, {});
    const box = new SecretBox(store.db, keyring);
    await box.init();
    const processes = ProcessRuntime.fromConfig({ dataDir, supervisorScript: '/nonexistent/supervisor.js' });
    const runtime = new RuntimeRouter(store, runtimeRegistry({ local: processes, dataDir }));
    app = await buildApi({ store, secrets: { box }, runtime, renderer: runtime });
    for (const [url, payload] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['/apps/shop/envs', { id: 'prod', type: 'production' }],
      ['/runtime-targets/apply', { targets: [{ id: 'cluster', type: 'kubernetes', criteria: [] }] }],
    ] as const) {
      const response = await call('POST', url, payload);
      expect(response.statusCode, `${url}: ${response.body}`).toBeLessThan(300);
    }
    const spec = parseYaml(readFileSync(join(FIXTURE, 'api.score.yaml'), 'utf8')) as ScoreWorkload;
    spec.containers.main!.image = 'registry.example.com/shop/api:1';
    const setId = await saveSet(store.db, { api: { spec, dir: '/tmp' } });
    await store.db
      .updateTable('environments')
      .set({ current_set_id: setId })
      .where('app_id', '=', 'shop')
      .execute();
  });
  afterEach(async () => {
    await store.db.deleteFrom('profiles').execute();
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  it('applies profiles with a plan, idempotently, and lists, gets and deletes them', async () => {
    const dry = await apply([PROD_HARDENING, SHOP_PROD], true);
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toEqual({
      applied: false,
      changes: [
        { id: 'prod-hardening', action: 'create', fields: [] },
        { id: 'shop-prod', action: 'create', fields: [] },
      ],
    });
    expect((await call('GET', '/profiles')).json().items).toEqual([]);

    expect((await apply([PROD_HARDENING, SHOP_PROD])).json().applied).toBe(true);
    const again = await apply([PROD_HARDENING, { ...SHOP_PROD, description: 'who owns it' }]);
    expect(again.json().changes).toEqual([
      { id: 'prod-hardening', action: 'unchanged', fields: [] },
      { id: 'shop-prod', action: 'update', fields: ['description'] },
    ]);
    const got = await call('GET', '/profiles/shop-prod');
    expect(got.json()).toMatchObject({ ...SHOP_PROD, version: 2, createdBy: 'admin', updatedBy: 'admin' });
    expect((await call('GET', '/profiles')).json().items.map((p: { id: string }) => p.id)).toEqual([
      'prod-hardening',
      'shop-prod',
    ]);
    expect((await call('DELETE', '/profiles/shop-prod')).statusCode).toBe(204);
    expect((await call('GET', '/profiles/shop-prod')).statusCode).toBe(404);
    const audit = (await call('GET', '/audit')).json().items as Array<{ action: string }>;
    expect(audit.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['profile.create', 'profile.update', 'profile.delete']),
    );
  });

  it('refuses a profile whose patch does not apply, naming the profile, patch, operation and path', async () => {
    const response = await apply([
      {
        ...PROD_HARDENING,
        patches: [
          {
            target: { kind: 'Deployment' },
            ops: [
              { op: 'add', path: '/spec/replicas', value: 3 },
              { op: 'replace', path: '/spec/template/spec/securityContext/runAsNonRoot', value: true },
            ],
          },
        ],
      },
    ]);
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([
      {
        path: '/profiles/0/patches/0/ops/1/path',
        message: expect.stringMatching(
          /^profile prod-hardening, patch 0, operation 1 \(replace \/spec\/template\/spec\/securityContext\/runAsNonRoot\): the path does not exist/u,
        ),
      },
    ]);
    expect((await call('GET', '/profiles')).json().items).toEqual([]);
  });

  it('refuses a patch that moves, renames or re-kinds an object, or drops the labels Pave finds it by', async () => {
    const ops = [
      { op: 'replace', path: '/metadata/namespace', value: 'kube-system' },
      { op: 'add', path: '/metadata/name', value: 'other' },
      { op: 'replace', path: '/kind', value: 'ClusterRole' },
      { op: 'remove', path: '/metadata/labels/pave.dev~1workload' },
      { op: 'move', from: '/metadata', path: '/spec/metadata' },
    ];
    const response = await apply(
      ops.map((op, index) => ({
        id: `escape-${index}`,
        criteria: [],
        patches: [{ target: { kind: index % 2 ? 'Secret' : 'Deployment' }, ops: [op] }],
      })),
    );
    expect(response.statusCode, response.body).toBe(400);
    const field = [
      'metadata.namespace',
      'metadata.name',
      'kind',
      'the label pave.dev/workload',
      'metadata.name',
    ];
    expect(response.json().errors).toEqual(
      ops.map((op, index) => ({
        path: `/profiles/${index}/patches/0/ops/0/path`,
        message: expect.stringContaining(
          `profile escape-${index}, patch 0, operation 0 (${op.op} ${op.path}): it changes ${field[index]},`,
        ),
      })),
    );
    expect((await call('GET', '/profiles')).json().items).toEqual([]);
  });

  it('says which profiles apply to an environment, most specific first', async () => {
    await apply([PROD_HARDENING, SHOP_PROD]);
    const prod = await call('GET', '/profiles/match?app=shop&env=prod');
    expect(prod.json()).toEqual({
      app: 'shop',
      env: 'prod',
      envType: 'production',
      matches: [
        { id: 'shop-prod', criterion: { appId: 'shop', envId: 'prod' }, specificity: 6 },
        { id: 'prod-hardening', criterion: { envType: 'production' }, specificity: 1 },
      ],
    });
    expect((await call('GET', '/profiles/match?app=shop&env=dev')).json().matches).toEqual([]);
    expect((await call('GET', '/profiles/match?app=shop&env=nope')).statusCode).toBe(404);
  });

  it('lets everyone read profiles and only platform users and admins change them', async () => {
    const id = 'usr_profile_member';
    await store.db
      .insertInto('users')
      .values({ id, username: 'mo', created_at: new Date().toISOString() })
      .execute();
    const member = (await insertToken(store.db, { id, username: 'mo' }, 'test', null)).token;
    expect((await call('GET', '/profiles', undefined, member)).statusCode).toBe(200);
    const refused = await call('POST', '/profiles/apply', { profiles: [PROD_HARDENING] }, member);
    expect(refused.statusCode).toBe(403);
    expect((await call('DELETE', '/profiles/prod-hardening', undefined, member)).statusCode).toBe(403);
  });

  it('renders the profiles of production into its manifests, not into development, and they change the hash (only for runtimes that render manifests)', async () => {
    const before = await renderSet(
      store.db,
      { app: 'shop', env: 'prod', deploymentId: '1', withProfiles: true },
      {
        api: {
          spec: {
            apiVersion: 'score.dev/v1b1',
            metadata: { name: 'api' },
            containers: { main: { image: 'x' } },
          },
          dir: '/tmp',
        },
      },
    );
    await apply([PROD_HARDENING, SHOP_PROD]);
    const after = await renderSet(
      store.db,
      { app: 'shop', env: 'prod', deploymentId: '1', withProfiles: true },
      {
        api: {
          spec: {
            apiVersion: 'score.dev/v1b1',
            metadata: { name: 'api' },
            containers: { main: { image: 'x' } },
          },
          dir: '/tmp',
        },
      },
    );
    expect(before[0]?.profiles).toBeUndefined();
    expect(after[0]?.profiles?.ids).toEqual(['shop-prod', 'prod-hardening']);
    expect(after[0]?.profiles?.patches[0]?.ops[0]).toEqual({
      op: 'add',
      path: '/metadata/annotations/owner',
      value: 'shop-prod',
    });
    expect(after[0]?.hash).not.toBe(before[0]?.hash);
    // A runtime that renders no manifests ignores profiles: its workloads keep their hash, so nothing restarts.
    const elsewhere = await renderSet(
      store.db,
      { app: 'shop', env: 'prod', deploymentId: '1' },
      {
        api: {
          spec: {
            apiVersion: 'score.dev/v1b1',
            metadata: { name: 'api' },
            containers: { main: { image: 'x' } },
          },
          dir: '/tmp',
        },
      },
    );
    expect(elsewhere[0]?.profiles).toBeUndefined();
    expect(elsewhere[0]?.hash).toBe(before[0]?.hash);

    const prod = await call('GET', '/apps/shop/envs/prod/render');
    expect(prod.statusCode, prod.body).toBe(200);
    const objects = parseAllDocuments(prod.json().manifests).map(
      (d) => d.toJSON() as { kind: string; metadata: { name: string; annotations?: object }; spec: object },
    );
    const deployment = objects.find((o) => o.kind === 'Deployment');
    expect(deployment?.spec).toMatchObject({
      replicas: 3,
      template: { spec: { securityContext: { runAsNonRoot: true } } },
    });
    expect(deployment?.metadata.annotations).toMatchObject({ owner: 'shop-prod' });
    expect(objects.find((o) => o.kind === 'PodDisruptionBudget')?.metadata.name).toBe('api');

    const dev = await call('GET', '/apps/shop/envs/dev/render');
    expect(dev.statusCode, dev.body).toBe(200);
    expect(dev.json().manifests).not.toContain('runAsNonRoot');
    expect(dev.json().manifests).not.toContain('PodDisruptionBudget');
  });
});
