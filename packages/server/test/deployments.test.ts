import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeDriver, WorkloadStatus } from '@pave/plugin-api';
import type { ScoreWorkload, WorkloadSource } from '@pave/core';
import { bootstrapAdmin, buildApi, type Store } from '../src/index.ts';
import { renderSet } from '../src/domain/deployments/render.ts';
import { diffSets } from '../src/domain/deployments/diff.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

const spec = (name: string, extra: Partial<ScoreWorkload> = {}): ScoreWorkload => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name },
  containers: {
    main: {
      image: 'node:20',
      command: ['node', 'server.js'],
      variables: { GREETING: 'hi ${metadata.name}' },
    },
  },
  ...extra,
});
const source = (workload: ScoreWorkload): WorkloadSource => ({ spec: workload, dir: '/srv/app' });

describe('diff of deployment sets', () => {
  it('names added, removed, updated and kept workloads with the fields that changed', () => {
    const before = { api: source(spec('api')), worker: source(spec('worker')), old: source(spec('old')) };
    const changed = spec('api');
    changed.containers.main!.variables = { GREETING: 'hello' };
    const after = { api: source(changed), worker: source(spec('worker')), fresh: source(spec('fresh')) };
    const diff = diffSets(
      { setId: 'a', label: 'before', workloads: before },
      { setId: 'b', label: 'after', workloads: after },
    );
    expect(diff.changes).toEqual([
      { workload: 'api', action: 'update', fields: ['spec.containers.main.variables.GREETING'] },
      { workload: 'fresh', action: 'add', fields: [] },
      { workload: 'old', action: 'remove', fields: [] },
      { workload: 'worker', action: 'keep', fields: [] },
    ]);
    expect(diff.unified).toContain('-          GREETING: hi ${metadata.name}');
    expect(diff.unified).toContain('+          GREETING: hello');
  });

  it('is empty between identical sets', () => {
    const workloads = { api: source(spec('api')) };
    expect(
      diffSets({ setId: 'a', label: 'x', workloads }, { setId: 'a', label: 'y', workloads }).unified,
    ).toBe('');
  });
});

describe.each(storeEngines)('rendering and the deployment API on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let token: string;
  const calls: string[] = [];
  // A runtime that records calls: these tests check what the control plane refuses before any runtime work.
  const runtime: RuntimeDriver = {
    name: 'recording',
    deploy: async (_t, workload) => void calls.push(`deploy ${workload.name}`),
    waitReady: async () => ({ ready: true }),
    remove: async (_t, workload) => void calls.push(`remove ${workload}`),
    status: async (): Promise<WorkloadStatus[]> => [],
    destroy: async () => undefined,
  };

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    token = readFileSync((await bootstrapAdmin(store, opened.location.dataDir))!, 'utf8').trim();
    app = await buildApi({ store, runtime });
    const auth = { authorization: `Bearer ${token}` };
    await app.inject({ method: 'POST', url: '/api/v1/apps', headers: auth, payload: { id: 'shop' } });
    await app.inject({
      method: 'POST',
      url: '/api/v1/apps/shop/envs',
      headers: auth,
      payload: { id: 'dev', type: 'development' },
    });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });
  const post = (payload: unknown) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/apps/shop/envs/dev/deployments',
      headers: { authorization: `Bearer ${token}` },
      payload: payload as object,
    });

  it('allocates host ports once per environment, workload and port, and maps probes and service-port outputs', async () => {
    const api = spec('api', { service: { ports: { web: { port: 8080 } } } });
    api.containers.main!.readinessProbe = { httpGet: { port: 8080, path: '/healthz' } };
    const worker = spec('worker', {
      resources: { api: { type: 'service-port', params: { workload: 'api', port: 'web' } } },
    });
    worker.containers.main!.variables = { API: 'http://${resources.api.hostname}:${resources.api.port}' };
    const workloads = { api: source(api), worker: source(worker) };
    const first = await renderSet(store.db, { app: 'shop', env: 'dev', deploymentId: '1' }, workloads);
    const again = await renderSet(store.db, { app: 'shop', env: 'dev', deploymentId: '2' }, workloads);
    const other = await renderSet(store.db, { app: 'shop', env: 'staging', deploymentId: '3' }, workloads);
    const hostPort = first[0]!.ports[0]!.hostPort;
    expect(again[0]!.ports[0]!.hostPort).toBe(hostPort);
    expect(other[0]!.ports[0]!.hostPort).not.toBe(hostPort);
    expect(first[0]!.containers[0]!.readinessProbe?.httpGet).toMatchObject({
      port: hostPort,
      path: '/healthz',
    });
    expect(first[0]!.containers[0]!.env).toEqual({ GREETING: 'hi api' });
    expect(first[1]!.containers[0]!.env).toEqual({ API: `http://127.0.0.1:${hostPort}` });
    expect(again[0]!.hash).toBe(first[0]!.hash);
  });

  it('refuses an unknown resource type, naming it and what is supported', async () => {
    const db = spec('db', { resources: { main: { type: 'postgres' } } });
    await expect(
      renderSet(store.db, { app: 'shop', env: 'dev', deploymentId: '1' }, { db: source(db) }),
    ).rejects.toMatchObject({
      name: 'InputError',
      errors: [{ path: 'workloads.db.resources.main.type', message: expect.stringContaining('"postgres"') }],
    });
  });

  it('refuses a Score spec that breaks the schema with the JSON pointer of each problem, queueing nothing', async () => {
    const bad = spec('api');
    (bad.containers.main as Record<string, unknown>).image = '';
    (bad.metadata as Record<string, unknown>).name = 'Not_A_Name';
    const response = await post({ workloads: [source(bad)] });
    expect(response.statusCode).toBe(400);
    const paths = response.json().errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining(['/workloads/0/spec/metadata/name', '/workloads/0/spec/containers/main/image']),
    );
    expect(await store.db.selectFrom('deployments').selectAll().execute()).toEqual([]);
  });

  it('refuses ambiguous requests and removing a workload that is not deployed', async () => {
    const both = await post({ workloads: [source(spec('api'))], fromEnv: 'staging' });
    expect(both.statusCode).toBe(400);
    expect(both.json().errors[0].message).toMatch(/exactly one/);
    const remove = await post({ remove: ['ghost'] });
    expect(remove.statusCode).toBe(400);
    expect(remove.json().errors).toEqual([
      { path: '/remove/0', message: expect.stringContaining('"ghost"') },
    ]);
    const twice = await post({ workloads: [source(spec('api')), source(spec('api'))] });
    expect(twice.json().errors[0]).toMatchObject({ path: '/workloads/1/spec/metadata/name' });
  });

  it('plans without queueing anything or touching the runtime', async () => {
    const response = await post({ workloads: [source(spec('api'))], plan: true });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      workloads: ['api'],
      diff: { changes: [{ workload: 'api', action: 'add' }] },
    });
    expect(await store.db.selectFrom('deployments').selectAll().execute()).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('queues a deployment as 202 and audits it', async () => {
    const response = await post({ workloads: [source(spec('api'))], message: 'first' });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({
      status: 'queued',
      kind: 'deploy',
      message: 'first',
      actor: 'admin',
    });
    const audit = await app.inject({
      method: 'GET',
      url: '/api/v1/audit?app=shop&limit=1',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(audit.json().items[0]).toMatchObject({
      action: 'deployment.deploy',
      summary: { workloads: ['api'] },
    });
  });

  it('pages the deployment list with cursors, newest first, without gaps or repeats', async () => {
    for (let i = 0; i < 4; i++) {
      expect((await post({ workloads: [source(spec('api'))], message: `page ${i}` })).statusCode).toBe(202);
    }
    const list = (query: string) =>
      app.inject({
        method: 'GET',
        url: `/api/v1/apps/shop/envs/dev/deployments${query}`,
        headers: { authorization: `Bearer ${token}` },
      });
    const all = (await list('?limit=500')).json();
    expect(all.nextCursor).toBeNull();
    const ids = all.items.map((d: { id: string }) => d.id);
    expect(ids.length).toBeGreaterThanOrEqual(5);
    expect([...ids].sort((a: string, b: string) => Number(b) - Number(a))).toEqual(ids);
    const paged: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { items: Array<{ id: string }>; nextCursor: string | null } = (
        await list(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      ).json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.items.map((d: { id: string }) => d.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(paged).toEqual(ids);
    expect(pages).toBe(Math.ceil(ids.length / 2));
    const bad = await list('?cursor=abc');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].message).toMatch(/nextCursor/);
  });
});
