import type { V1Deployment } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import {
  applyManifests,
  applySet,
  readPodLogs,
  renderManifests,
  rolloutStatus,
  selectorFor,
  waitForRollout,
} from '../src/index.ts';
import errors from './recorded/errors.json' with { type: 'json' };
import logs from './recorded/logs.json' with { type: 'json' };
import prune from './recorded/prune.json' with { type: 'json' };
import rollout from './recorded/rollout.json' with { type: 'json' };
import status from './recorded/status.json' with { type: 'json' };
import { appliedObject, startFakeKubeApi, type FakeKubeApi, type Route } from './support/fake-kube-api.ts';
import { NAMESPACE, twoWorkloadsApp } from './support/two-workloads.ts';

const APPLY: Route = { method: 'PATCH', path: /./u, reply: appliedObject };
const DEPLOYMENT_PATH = `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/api`;
const PODS_PATH = `/api/v1/namespaces/${NAMESPACE}/pods`;

let api: FakeKubeApi | undefined;
async function fakeApi(routes: Route[]): Promise<FakeKubeApi> {
  api = await startFakeKubeApi(routes);
  return api;
}
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe('server-side apply', () => {
  it('PATCHes every object in order as apply-patch+yaml with field manager pave, forced, and the body intact', async () => {
    const fake = await fakeApi([APPLY]);
    const objects = renderManifests(twoWorkloadsApp());
    const applied = await applyManifests(fake.clients, objects);
    expect(applied.map((ref) => `${ref.kind}/${ref.name}`)).toEqual(
      objects.map((object) => `${object.kind}/${object.metadata?.name}`),
    );
    const calls = fake.calls();
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual([
      `PATCH /api/v1/namespaces/${NAMESPACE}`,
      `PATCH /api/v1/namespaces/${NAMESPACE}/configmaps/api`,
      `PATCH /api/v1/namespaces/${NAMESPACE}/configmaps/worker`,
      `PATCH /api/v1/namespaces/${NAMESPACE}/secrets/api`,
      `PATCH /api/v1/namespaces/${NAMESPACE}/secrets/worker`,
      `PATCH /api/v1/namespaces/${NAMESPACE}/persistentvolumeclaims/uploads`,
      `PATCH /api/v1/namespaces/${NAMESPACE}/services/api`,
      `PATCH /apis/apps/v1/namespaces/${NAMESPACE}/deployments/api`,
      `PATCH /apis/apps/v1/namespaces/${NAMESPACE}/deployments/worker`,
      `PATCH /apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/ingresses/api-shop-example-com-080043da`,
    ]);
    for (const call of calls) {
      expect(call.contentType).toBe('application/apply-patch+yaml');
      expect(call.query).toEqual({ fieldManager: 'pave', force: 'true' });
    }
    // The client serialises through its own models: nothing Pave rendered may be lost on the way.
    expect(calls.map((call) => call.body)).toEqual(objects);
    // Discovery is asked once per API group, not per object.
    expect(fake.requests.length - calls.length).toBe(3);
  });

  it("stops at the first object the API server refuses, with the object and the server's message", async () => {
    const fake = await fakeApi([
      {
        method: 'PATCH',
        path: `/api/v1/namespaces/${NAMESPACE}/services/api`,
        reply: { status: 422, body: errors.invalid },
      },
      APPLY,
    ]);
    const objects = renderManifests(twoWorkloadsApp());
    await expect(applyManifests(fake.clients, objects)).rejects.toMatchObject({
      name: 'UpstreamError',
      message:
        `server-side apply of Service ${NAMESPACE}/api failed: Service "api" is invalid: ` +
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP' (HTTP 422)",
    });
    expect(fake.calls().at(-1)?.path).toBe(`/api/v1/namespaces/${NAMESPACE}/services/api`);
    expect(fake.calls().some((call) => call.path.includes('/deployments/'))).toBe(false);
  });
});

describe('applying a set and pruning by label', () => {
  const listRoutes: Route[] = Object.entries(prune).map(([path, body]) => ({
    method: 'GET',
    path,
    reply: { body },
  }));
  const deleteRoute: Route = { method: 'DELETE', path: /./u, reply: { body: errors.deleted } };

  it('deletes exactly the objects the set no longer has, found by the app and env labels', async () => {
    const fake = await fakeApi([APPLY, ...listRoutes, deleteRoute]);
    const objects = renderManifests(twoWorkloadsApp());
    const { applied, pruned } = await applySet(fake.clients, {
      namespace: NAMESPACE,
      selector: selectorFor({ app: 'shop', env: 'dev' }),
      objects,
    });
    expect(applied).toHaveLength(objects.length);
    expect(pruned.map((ref) => `${ref.kind}/${ref.name}`)).toEqual([
      'Ingress/old-worker-old-example-com-5e6f7a8b',
      'Deployment/old-worker',
      'Service/old-worker',
      'ConfigMap/old-worker',
      'PersistentVolumeClaim/scratch',
    ]);
    const lists = fake.calls().filter((call) => call.method === 'GET');
    expect(lists.map((call) => call.path)).toEqual(Object.keys(prune));
    for (const list of lists)
      expect(list.query).toEqual({ labelSelector: 'pave.dev/app=shop,pave.dev/env=dev' });
    const deletes = fake.calls().filter((call) => call.method === 'DELETE');
    expect(deletes.map((call) => call.path)).toEqual([
      `/apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/ingresses/old-worker-old-example-com-5e6f7a8b`,
      `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/old-worker`,
      `/api/v1/namespaces/${NAMESPACE}/services/old-worker`,
      `/api/v1/namespaces/${NAMESPACE}/configmaps/old-worker`,
      `/api/v1/namespaces/${NAMESPACE}/persistentvolumeclaims/scratch`,
    ]);
    for (const call of deletes) expect(call.query).toEqual({ propagationPolicy: 'Background' });
    // Pruning comes after every apply.
    const firstDelete = fake.calls().findIndex((call) => call.method === 'DELETE');
    expect(
      fake
        .calls()
        .slice(firstDelete)
        .some((call) => call.method === 'PATCH'),
    ).toBe(false);
  });

  it('counts an object that is already gone as deleted', async () => {
    const gone: Route = {
      method: 'DELETE',
      path: `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/old-worker`,
      reply: { status: 404, body: errors.notFound },
    };
    const fake = await fakeApi([APPLY, ...listRoutes, gone, deleteRoute]);
    const objects = renderManifests(twoWorkloadsApp());
    const options = { namespace: NAMESPACE, selector: selectorFor({ app: 'shop', env: 'dev' }), objects };
    expect((await applySet(fake.clients, options)).pruned).toHaveLength(5);
  });
});

describe('waiting for a rollout', () => {
  const options = { namespace: NAMESPACE, name: 'api', pollMs: 5, signal: new AbortController().signal };

  it('succeeds once the new version is observed, updated and available', async () => {
    const fake = await fakeApi([
      {
        method: 'GET',
        path: DEPLOYMENT_PATH,
        reply: [{ body: rollout.notObserved }, { body: rollout.progressing }, { body: rollout.complete }],
      },
      { method: 'GET', path: PODS_PATH, reply: { body: rollout.podsRolling } },
    ]);
    expect(await waitForRollout(fake.clients, options)).toEqual({ ok: true });
    expect(fake.calls().map((call) => `${call.method} ${call.path}`)).toEqual([
      `GET ${DEPLOYMENT_PATH}`,
      `GET ${PODS_PATH}`,
      `GET ${DEPLOYMENT_PATH}`,
      `GET ${PODS_PATH}`,
      `GET ${DEPLOYMENT_PATH}`,
    ]);
    // Pods are found by the Deployment's own selector.
    expect(fake.calls()[1]?.query).toEqual({
      labelSelector: 'pave.dev/app=shop,pave.dev/env=dev,pave.dev/workload=api',
    });
  });

  it('fails with the reason when the progress deadline is exceeded', async () => {
    const fake = await fakeApi([
      {
        method: 'GET',
        path: DEPLOYMENT_PATH,
        reply: [{ body: rollout.progressing }, { body: rollout.deadlineExceeded }],
      },
      { method: 'GET', path: PODS_PATH, reply: { body: rollout.podsRolling } },
    ]);
    expect(await waitForRollout(fake.clients, options)).toEqual({
      ok: false,
      reason:
        'Deployment "api" exceeded its progress deadline: ReplicaSet "api-6d4cf56db6" has timed out progressing.',
    });
  });

  it('fails at once when a container of the new version crash-loops, with its last exit code', async () => {
    const fake = await fakeApi([
      { method: 'GET', path: DEPLOYMENT_PATH, reply: { body: rollout.progressing } },
      { method: 'GET', path: PODS_PATH, reply: { body: rollout.podsCrashLoop } },
    ]);
    expect(await waitForRollout(fake.clients, options)).toEqual({
      ok: false,
      reason: expect.stringMatching(
        /^container "main" of pod api-6d4cf56db6-x2k9p is in CrashLoopBackOff; it last exited with code 3 \(Error\): back-off 40s/u,
      ),
      pod: 'api-6d4cf56db6-x2k9p',
    });
    expect(fake.calls()).toHaveLength(2);
  });

  it('ignores an old version that crash-loops, and times out saying where the rollout stood', async () => {
    const fake = await fakeApi([
      { method: 'GET', path: DEPLOYMENT_PATH, reply: { body: rollout.progressing } },
      { method: 'GET', path: PODS_PATH, reply: { body: rollout.podsOldCrashLoop } },
    ]);
    expect(await waitForRollout(fake.clients, { ...options, signal: AbortSignal.timeout(60) })).toEqual({
      ok: false,
      reason: 'timed out after 0 s: 1 replica of the old version still running',
    });
  });

  it('fails when the Deployment does not exist', async () => {
    const fake = await fakeApi([]);
    expect(await waitForRollout(fake.clients, options)).toEqual({
      ok: false,
      reason: `Deployment ${NAMESPACE}/api does not exist`,
    });
  });

  it('judges rollouts from the status alone', () => {
    expect(rolloutStatus(rollout.notObserved as unknown as V1Deployment)).toEqual({
      state: 'progressing',
      message: 'waiting for the Deployment controller to observe the new version',
    });
    expect(rolloutStatus(rollout.complete as unknown as V1Deployment)).toEqual({ state: 'complete' });
    const scaledUp = structuredClone(rollout.complete) as unknown as V1Deployment;
    scaledUp.spec = { ...scaledUp.spec!, replicas: 3 };
    expect(rolloutStatus(scaledUp)).toEqual({
      state: 'progressing',
      message: '1 of 3 replicas run the new version',
    });
  });
});

describe('pod logs', () => {
  it('reads every container of the matching pods with timestamps, merged in time order', async () => {
    const fake = await fakeApi([
      { method: 'GET', path: PODS_PATH, reply: { body: status.pods } },
      ...Object.entries(logs)
        .filter(([key]) => !key.includes('?'))
        .map(([key, text]) => ({
          method: 'GET',
          path: `/api/v1/namespaces/${NAMESPACE}/pods/${key.split('/')[0]}/log`,
          reply: { body: text },
        })),
    ]);
    const lines = await readPodLogs(fake.clients, {
      namespace: NAMESPACE,
      selector: selectorFor({ app: 'shop', env: 'dev' }),
      tail: 20,
    });
    expect(lines).toEqual([
      {
        pod: 'api-6d4cf56db6-x2k9p',
        workload: 'api',
        container: 'main',
        at: '2026-11-28T11:00:40.910000000Z',
        line: 'api listening on 8080',
      },
      {
        pod: 'worker-7c9d8e6f5-m4n5b',
        workload: 'worker',
        container: 'main',
        at: '2026-11-28T11:00:41.000000000Z',
        line: 'worker started',
      },
      {
        pod: 'worker-7c9d8e6f5-m4n5b',
        workload: 'worker',
        container: 'main',
        at: '2026-11-28T11:00:41.000000001Z',
        line: 'worker calling http://api.pave-shop-dev.svc:8080/',
      },
      {
        pod: 'api-6d4cf56db6-x2k9p',
        workload: 'api',
        container: 'main',
        at: '2026-11-28T11:00:41.500000000Z',
        line: 'GET /healthz 200',
      },
    ]);
    const reads = fake.calls().filter((call) => call.path.endsWith('/log'));
    expect(reads.map((call) => call.query)).toEqual([
      { container: 'main', tailLines: '20', timestamps: 'true' },
      { container: 'main', tailLines: '20', timestamps: 'true' },
    ]);
  });
});
