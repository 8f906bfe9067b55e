import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreWorkload, WorkloadSource } from '@pave/core';
import { WorkloadSource as WorkloadSourceSchema } from '@pave/core';
import { openFullApi, type FullApi } from './support/full-api.ts';
import { diffSets } from '../src/domain/deployments/diff.ts';
import { renderSet } from '../src/domain/deployments/render.ts';

const api: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image: 'registry.example.com/shop/api:1', command: ['node', 'server.js'] } },
};

const configMap = (level: string) => ({
  file: 'k8s/config.yaml',
  document: 1,
  manifest: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'api-config' }, data: { LEVEL: level } },
});
const networkPolicy = {
  file: 'k8s/netpol.yaml',
  document: 2,
  manifest: {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'api-ingress' },
    spec: { podSelector: {} },
  },
};

describe('a workload source with manifests', () => {
  it('needs apiVersion, kind and metadata.name in each, refuses Secrets, naming the JSON path', () => {
    const result = WorkloadSourceSchema.safeParse({
      spec: api,
      dir: '/srv/api',
      manifests: [
        { file: 'k8s/a.yaml', manifest: { kind: 'ConfigMap', metadata: {} } },
        { file: 'k8s/b.yaml', manifest: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } } },
      ],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('/'))).toEqual([
      'manifests/0/manifest/apiVersion',
      'manifests/0/manifest/metadata/name',
      'manifests/1/manifest/kind',
    ]);
  });

  it('bounds how many a workload carries', () => {
    const many = Array.from({ length: 101 }, () => configMap('x'));
    expect(WorkloadSourceSchema.safeParse({ spec: api, dir: '/', manifests: many }).success).toBe(false);
  });

  it('shows added, removed and changed manifests in the set diff', () => {
    const before: Record<string, WorkloadSource> = {
      api: { spec: api, dir: '/srv/api', manifests: [configMap('info'), networkPolicy] },
    };
    const after: Record<string, WorkloadSource> = {
      api: {
        spec: api,
        dir: '/srv/api',
        manifests: [
          configMap('debug'),
          { ...networkPolicy, manifest: { ...networkPolicy.manifest, kind: 'Role', rules: [] } },
        ],
      },
    };
    const diff = diffSets(
      { setId: 'a', label: 'before', workloads: before },
      { setId: 'b', label: 'after', workloads: after },
    );
    expect(diff.changes).toEqual([
      {
        workload: 'api',
        action: 'update',
        fields: ['manifests'],
        manifests: [
          { action: 'update', manifest: 'ConfigMap/api-config', source: 'k8s/config.yaml#1' },
          { action: 'remove', manifest: 'NetworkPolicy/api-ingress', source: 'k8s/netpol.yaml#2' },
          { action: 'add', manifest: 'Role/api-ingress', source: 'k8s/netpol.yaml#2' },
        ],
      },
    ]);
    expect(diff.unified).toMatch(/^\+\s+LEVEL: debug$/mu);
  });
});

describe('deploying manifests', () => {
  let full: FullApi;
  const call = (method: string, url: string, payload?: object) =>
    full.app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${full.token}` },
      ...(payload ? { payload } : {}),
    });

  beforeAll(async () => {
    full = await openFullApi('sqlite');
    expect((await call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    expect((await call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(201);
    expect((await call('POST', '/apps/shop/envs', { id: 'stage', type: 'staging' })).statusCode).toBe(201);
    const applied = await call('POST', '/runtime-targets/apply', {
      targets: [{ id: 'cluster', type: 'kubernetes', config: {}, criteria: [{ envType: 'staging' }] }],
    });
    expect(applied.statusCode, applied.body).toBe(200);
  });
  afterAll(async () => {
    await full?.cleanup();
  });

  it.each([false, true])(
    'is refused (plan: %s) on a process target, naming the target and the fix, queueing nothing',
    async (plan) => {
      const response = await call('POST', '/apps/shop/envs/dev/deployments', {
        workloads: [{ spec: api, dir: '/srv/api', manifests: [configMap('info')] }],
        ...(plan ? { plan: true } : {}),
      });
      expect(response.statusCode, response.body).toBe(400);
      const problem = response.json();
      expect(problem.errors).toEqual([
        {
          path: 'workloads.api.manifests',
          message:
            'workload api: --manifests needs a Kubernetes runtime target; this environment runs on target local ' +
            '(process). Deploy without --manifests or move the environment to a kubernetes target (`pave targets`)',
        },
      ]);
      expect((await call('GET', '/apps/shop/envs/dev/deployments')).json().items).toEqual([]);
    },
  );

  it('is planned on a kubernetes target, the manifests in the diff', async () => {
    const response = await call('POST', '/apps/shop/envs/stage/deployments', {
      workloads: [{ spec: api, dir: '/srv/api', manifests: [configMap('info'), networkPolicy] }],
      plan: true,
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().diff.changes).toEqual([
      {
        workload: 'api',
        action: 'add',
        fields: [],
        manifests: [
          { action: 'add', manifest: 'ConfigMap/api-config', source: 'k8s/config.yaml#1' },
          { action: 'add', manifest: 'NetworkPolicy/api-ingress', source: 'k8s/netpol.yaml#2' },
        ],
      },
    ]);
  });

  it("hands them to the runtime with their file#document, counted in the workload's hash", async () => {
    const render = (manifests: WorkloadSource['manifests']) =>
      renderSet(
        full.store.db,
        { app: 'shop', env: 'stage', deploymentId: '1' },
        {
          api: { spec: api, dir: '/srv/api', ...(manifests ? { manifests } : {}) },
        },
      ).then(([workload]) => workload!);
    const without = await render(undefined);
    const info = await render([configMap('info')]);
    const debug = await render([configMap('debug')]);
    expect(without).not.toHaveProperty('manifests');
    expect(info.manifests).toEqual([{ source: 'k8s/config.yaml#1', manifest: configMap('info').manifest }]);
    expect(new Set([without.hash, info.hash, debug.hash]).size).toBe(3);
  });
});
