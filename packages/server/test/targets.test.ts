import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { ProcessRuntime } from '@pave/runtime-process';
import { BUILT_IN_KINDS } from '@pave/runtime-kubernetes';
import type { ScoreWorkload } from '@pave/core';
import { bootstrapAdmin, buildApi, type Store } from '../src/index.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import { RuntimeRouter } from '../src/runtime-router.ts';
import { composeRenderer, runtimeRegistry } from '../src/runtimes.ts';
import { saveSet } from '../src/domain/deployments/sets.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/busybox-app', import.meta.url));

describe.each(storeEngines)('runtime targets and `pave render` through the API on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let token: string;
  const call = (method: string, url: string, payload?: object) =>
    app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });

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
    const runtime = new RuntimeRouter(store, runtimeRegistry({ local: processes, dataDir }), composeRenderer);
    app = await buildApi({ store, secrets: { box }, runtime, renderer: runtime });
    await call('POST', '/apps', { id: 'shop' });
    await call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' });
    await call('POST', '/apps/shop/envs', { id: 'stage', type: 'staging' });
    await call('PATCH', '/apps/shop/values', {
      set: { API_KEY: { value: 'k8s-secret-value', secret: true } },
    });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  it('runs every environment on the built-in local target until a target matches it', async () => {
    const match = await call('GET', '/runtime-targets/match?app=shop&env=dev');
    expect(match.json().winner.id).toBe('local');
    const applied = await call('POST', '/runtime-targets/apply', {
      targets: [
        {
          id: 'cluster',
          type: 'kubernetes',
          config: { namespacePattern: 'team-{app}-{env}' },
          criteria: [{ envType: 'staging' }],
        },
      ],
    });
    expect(applied.json().changes).toEqual([{ id: 'cluster', action: 'create', fields: [] }]);
    const stage = (await call('GET', '/runtime-targets/match?app=shop&env=stage')).json();
    expect(stage.winner.id).toBe('cluster');
    // Found by review: the reasons called targets definitions.
    expect(stage.candidates.map((c: { reason: string }) => c.reason)).toEqual([
      'most specific match: envType',
      'built-in default, used only when no other target matches; target cluster matched',
    ]);
    const dev = (await call('GET', '/runtime-targets/match?app=shop&env=dev')).json();
    expect(dev.winner.id).toBe('local');
    expect(dev.candidates.map((c: { reason: string }) => c.reason)).toEqual([
      'built-in default, used because no other target matches',
      'envType is "development", not "staging"',
    ]);
  });

  it('refuses config a target type does not take, the built-in id, and tied criteria', async () => {
    const bad = await call('POST', '/runtime-targets/apply', {
      targets: [
        { id: 'local', type: 'process' },
        { id: 'dock', type: 'docker', config: { kubeconfig: '/x' } },
      ],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { path: string }) => e.path)).toEqual([
      '/targets/0/id',
      '/targets/1/config/kubeconfig',
    ]);
    const tie = await call('POST', '/runtime-targets/apply', {
      targets: [{ id: 'other', type: 'docker', criteria: [{ envType: 'staging' }] }],
    });
    expect(tie.statusCode).toBe(409);
    // One id twice in one apply: which should win? Refused, naming both places, as the other applies do.
    const twice = await call('POST', '/runtime-targets/apply', {
      targets: [
        { id: 'twin', type: 'docker', criteria: [{ appId: 'a' }] },
        { id: 'twin', type: 'docker', criteria: [{ appId: 'b' }] },
      ],
    });
    expect(twice.statusCode, twice.body).toBe(400);
    expect(twice.json().errors).toEqual([
      { path: '/targets/1/id', message: '"twin" is also defined at /targets/0; each id may appear once' },
    ]);
    expect(
      (await call('GET', '/runtime-targets')).json().items.map((t: { id: string }) => t.id),
    ).not.toContain('twin');
  });

  // Found by a security review: under a pattern without {app} or {env}, environments shared a namespace and
  // overwrote and deleted one another's objects.
  it('refuses a kubernetes namespacePattern without {app} or {env}, saying what would share a namespace', async () => {
    const refused = await call('POST', '/runtime-targets/apply', {
      targets: [
        {
          id: 'team',
          type: 'kubernetes',
          config: { namespacePattern: 'team-{env}' },
          criteria: [{ appId: 'x' }],
        },
      ],
    });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().errors).toEqual([
      {
        path: '/targets/0/config/namespacePattern',
        message: expect.stringMatching(
          /^"team-\{env\}" lacks \{app\}: environments of different apps that have the same id would share one namespace/u,
        ),
      },
    ]);
  });

  // Found by a review of the driver contracts: a target's type was changed under the environments running on it,
  // whose workloads were then looked for (and never removed) on the new runtime.
  it('refuses to change the type of a target environments run on, naming them and how to move them', async () => {
    const boxed = { id: 'box', type: 'process', criteria: [{ appId: 'shop', envType: 'development' }] };
    expect((await call('POST', '/runtime-targets/apply', { targets: [boxed] })).statusCode).toBe(200);
    // What a deployment to shop/dev on it records.
    const runsOn = (target: string | null) =>
      store.db
        .updateTable('environments')
        .set({ runtime_target: target })
        .where('app_id', '=', 'shop')
        .where('id', '=', 'dev')
        .execute();
    await runsOn('box');
    for (const dryRun of [true, false]) {
      const changed = await call('POST', '/runtime-targets/apply', {
        targets: [{ ...boxed, type: 'docker' }],
        dryRun,
      });
      expect(changed.statusCode, changed.body).toBe(409);
      expect(changed.json().errors).toEqual([
        {
          path: '/targets/0/type',
          message:
            'cannot change from process to docker while shop/dev run on it (their workloads run on the ' +
            'process runtime): apply a docker target under a new id whose criteria match them, and their ' +
            'next deployment moves them there',
        },
      ]);
    }
    expect((await call('GET', '/runtime-targets/box')).json().type).toBe('process');
    // Its config and criteria may change; its type once nothing runs on it.
    const config = await call('POST', '/runtime-targets/apply', {
      targets: [{ ...boxed, config: { isolation: 'none' } }],
    });
    expect(config.json().changes).toEqual([{ id: 'box', action: 'update', fields: ['config'] }]);
    await runsOn(null);
    const retyped = await call('POST', '/runtime-targets/apply', { targets: [{ ...boxed, type: 'docker' }] });
    expect(retyped.statusCode, retyped.body).toBe(200);
    expect((await call('DELETE', '/runtime-targets/box')).statusCode).toBe(204);
  });

  // Found by a review of bad input: the types were not checked, so a developer's deployment failed later with
  // the runtime's words (`The "url" argument must be of type string. Received type number (5)`).
  it('refuses settings of the wrong type when the target is applied, naming each and what it must be', async () => {
    const bad = await call('POST', '/runtime-targets/apply', {
      dryRun: true,
      targets: [
        { id: 'bad-docker', type: 'docker', config: { host: 5, port: 'abc' }, criteria: [{ appId: 'nope' }] },
        {
          id: 'bad-k8s',
          type: 'kubernetes',
          config: { namespacePattern: 5, kubeconfig: ['x'], context: 'kind-pave' },
          criteria: [{ appId: 'nope' }],
        },
      ],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual([
      { path: '/targets/0/config/host', message: 'must be a host name or address (a string), not 5' },
      {
        path: '/targets/0/config/port',
        message: 'must be a port number from 1 to 65535, e.g. 2375, not "abc"',
      },
      {
        path: '/targets/1/config/namespacePattern',
        message: 'must be a string such as "pave-{app}-{env}", not 5',
      },
      {
        path: '/targets/1/config/kubeconfig',
        message: 'must be the path of a kubeconfig file (a string), not ["x"]',
      },
    ]);
    const good = await call('POST', '/runtime-targets/apply', {
      dryRun: true,
      targets: [
        { id: 'good-docker', type: 'docker', config: { host: 'docker.internal', port: 2375 }, criteria: [] },
      ],
    });
    expect(good.statusCode, good.body).toBe(200);
  });

  it('refuses a kubernetes target whose `manifests.kinds` names a kind that does not exist, before it is stored', async () => {
    const apply = (kinds: string[]) =>
      call('POST', '/runtime-targets/apply', {
        dryRun: true,
        targets: [{ id: 'strict', type: 'kubernetes', config: { manifests: { kinds } }, criteria: [] }],
      });
    const misspelt = await apply(['NetworkPolicy', 'Deploymnet', 'cert-manager.io/Certificate']);
    expect(misspelt.statusCode).toBe(400);
    expect(misspelt.json().errors).toEqual([
      {
        path: '/targets/0/config/manifests/kinds/1',
        message: expect.stringMatching(/^"Deploymnet" is not a built-in Kubernetes kind; .*group\/Kind/u),
      },
    ]);
    // Every built-in kind the kubernetes runtime knows is accepted, as are custom resources by group/Kind.
    const known = await apply([...BUILT_IN_KINDS, 'cert-manager.io/Certificate']);
    expect(known.statusCode).toBe(200);
  });

  it('renders the current set as validated Kubernetes manifests with secrets in a Secret, applying nothing', async () => {
    const spec = (file: string) =>
      ({ ...(parseYaml(readFileSync(join(FIXTURE, file), 'utf8')) as ScoreWorkload) }) as ScoreWorkload;
    const api = spec('api.score.yaml');
    api.containers.main!.image = 'registry.example.com/shop/api:1';
    api.containers.main!.variables = {
      ...api.containers.main!.variables,
      API_KEY: '${resources.env.API_KEY}',
    };
    // A file whose content holds the secret: it too goes to the Secret, not to the ConfigMap.
    api.containers.main!.files = { '/etc/app/conf.ini': { content: 'key=${resources.env.API_KEY}\n' } };
    api.resources = { env: { type: 'environment' } };
    const worker = spec('worker.score.yaml');
    worker.containers.main!.image = 'registry.example.com/shop/worker:1';
    const setId = await saveSet(store.db, {
      api: { spec: api, dir: '/tmp' },
      worker: { spec: worker, dir: '/tmp' },
    });
    await store.db
      .updateTable('environments')
      .set({ current_set_id: setId })
      .where('app_id', '=', 'shop')
      .where('id', '=', 'stage')
      .execute();

    const response = await call('GET', '/apps/shop/envs/stage/render');
    expect(response.statusCode, response.body).toBe(200);
    const { target, type, manifests } = response.json();
    expect([target, type]).toEqual(['cluster', 'kubernetes']);
    const objects = parseAllDocuments(manifests).map(
      (d) => d.toJSON() as { kind: string; metadata: { name: string; namespace?: string } },
    );
    expect(objects[0]).toMatchObject({ kind: 'Namespace', metadata: { name: 'team-shop-stage' } });
    expect(objects.map((o) => o.kind)).toEqual(
      expect.arrayContaining(['Deployment', 'Service', 'ConfigMap', 'Secret']),
    );
    // The worker reaches the API through its Service, not a host port.
    expect(manifests).toMatch(/API_HOST:\s*'?api\.team-shop-stage\.svc'?/);
    // The secret value sits only in the Secret (base64 or stringData), never in a ConfigMap.
    const configMaps = objects.filter((o) => o.kind === 'ConfigMap');
    expect(JSON.stringify(configMaps)).not.toContain('k8s-secret-value');
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'api') as unknown as {
      data: Record<string, string>;
    };
    const file = Object.entries(secret.data).find(([key]) => key.startsWith('main.file.etc_app_conf.ini.'));
    expect(Buffer.from(file?.[1] ?? '', 'base64').toString()).toBe('key=k8s-secret-value\n');
    expect(manifests).toContain('pave-secret-files');
    // Rendering changed no deployment state.
    expect(await store.db.selectFrom('deployments').selectAll().execute()).toEqual([]);
  });

  it('renders the same set as a Compose file whatever its target, with no secret value in it', async () => {
    const response = await call('GET', '/apps/shop/envs/stage/render?format=compose');
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body.format).toBe('compose');
    expect(body.target).toBeUndefined();
    expect(body.manifests).not.toContain('k8s-secret-value');
    const project = parseYaml(body.manifests) as {
      services: Record<string, { image: string; environment?: Record<string, string> }>;
    };
    expect(Object.keys(project.services)).toEqual(['api', 'worker']);
    expect(project.services.api?.image).toBe('registry.example.com/shop/api:1');
    expect(project.services.api?.environment?.API_KEY).toMatch(/^\$\{API_API_KEY:\?/);
    // The worker reaches the API by its service name, as in the docker runtime.
    expect(project.services.worker?.environment?.API_HOST).toBe('api');
    expect(body.manifests).toMatch(/^# {3}API_API_KEY {2}\(service api, variable API_KEY\)$/m);
    // Rendering changed no deployment state.
    expect(await store.db.selectFrom('deployments').selectAll().execute()).toEqual([]);
  });

  it('audits Kubernetes manifests as a reveal of the environment’s secrets; a Compose file reveals none', async () => {
    const reveals = async () =>
      (await call('GET', '/audit?app=shop&limit=500'))
        .json()
        .items.filter((entry: { action: string }) => entry.action === 'values.reveal') as Array<{
        target: string;
        summary: Record<string, unknown>;
      }>;
    const before = (await reveals()).length;
    expect((await call('GET', '/apps/shop/envs/stage/render')).statusCode).toBe(200);
    expect((await call('GET', '/apps/shop/envs/stage/render?format=compose')).statusCode).toBe(200);
    const after = await reveals();
    expect(after.slice(0, after.length - before)).toEqual([
      expect.objectContaining({
        target: 'apps/shop/envs/stage/render',
        summary: { format: 'kubernetes', target: 'cluster', keys: ['API_KEY'], version: 1 },
      }),
    ]);
  });

  it('refuses to print a Compose file whose command line would hold a secret value', async () => {
    const api = parseYaml(readFileSync(join(FIXTURE, 'api.score.yaml'), 'utf8')) as ScoreWorkload;
    // Pave expands no placeholders in args, but a secret value may still be typed into them.
    api.containers.main!.args = ['--token', 'k8s-secret-value'];
    const setId = await saveSet(store.db, { api: { spec: api, dir: '/tmp' } });
    await store.db
      .updateTable('environments')
      .set({ current_set_id: setId })
      .where('app_id', '=', 'shop')
      .where('id', '=', 'dev')
      .execute();
    const response = await call('GET', '/apps/shop/envs/dev/render?format=compose');
    expect(response.statusCode).toBe(400);
    expect(response.body).not.toContain('k8s-secret-value');
    expect(response.json().errors).toEqual([
      {
        path: 'workloads.api.containers.main.args',
        message: 'holds a secret value; pass it in a variable so the Compose file can leave it out',
      },
    ]);
  });

  it('refuses a target with format=compose, which depends on none', async () => {
    const response = await call('GET', '/apps/shop/envs/stage/render?format=compose&target=cluster');
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([
      { path: 'query.target', message: 'leave the target out with format=compose' },
    ]);
  });

  it('renders only for kubernetes targets', async () => {
    const response = await call('GET', '/apps/shop/envs/stage/render?target=local');
    expect(response.statusCode).toBe(400);
    expect(response.json().detail).toContain('only kubernetes targets render manifests');
  });
});
