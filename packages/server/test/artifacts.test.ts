import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RenderedWorkload, RuntimeDriver, WorkloadStatus } from '@pave/plugin-api';
import type { DeploymentDetail, PaveEvent, PushedArtifact } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const PASSWORD = 'a long enough password';

const score = (name: string, greeting = 'hello') =>
  [
    'apiVersion: score.dev/v1b1',
    'metadata:',
    `  name: ${name}`,
    'containers:',
    '  main:',
    '    image: .',
    '    command: ["node", "server.js"]',
    '    variables:',
    `      GREETING: ${greeting}`,
    '',
  ].join('\n');

const scoreFile = (name: string, greeting?: string) => ({
  file: `${name}.score.yaml`,
  dir: '/srv/shop',
  content: score(name, greeting),
});

describe.each(storeEngines)('build artifacts and automation rules on %s', (engine) => {
  let api: DeployingApi;
  const deployed: Array<{ env: string; workload: RenderedWorkload }> = [];
  // Records what each deployment hands the runtime: the artifact's Score with its image applied.
  const runtime: RuntimeDriver = {
    name: 'recording',
    deploy: async (target, workload) => void deployed.push({ env: target.env, workload }),
    waitReady: async () => ({ ready: true }),
    remove: async () => undefined,
    status: async (): Promise<WorkloadStatus[]> => [],
    destroy: async () => undefined,
  };
  const tokens: Record<string, string> = {};

  const as = (token: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    api.app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  const push = async (body: object, token = api.token): Promise<PushedArtifact> => {
    const response = await as(token, 'POST', '/apps/shop/artifacts', body);
    expect(response.statusCode, response.body).toBe(201);
    return response.json();
  };
  const finished = async (env: string, id: string): Promise<DeploymentDetail> => {
    for (let attempt = 0; attempt < 300; attempt++) {
      const shown = (await api.call('GET', `/apps/shop/envs/${env}/deployments/${id}`)).json();
      if (shown.status === 'succeeded' || shown.status === 'failed') return shown;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`deployment ${id} did not finish`);
  };
  const events = async (type: string): Promise<PaveEvent[]> =>
    (await api.call('GET', `/events?app=shop&type=${type}&limit=1000`)).json().items;

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime, worker: true });
    const setup: Array<[string, string, object]> = [
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['POST', '/apps/shop/envs', { id: 'staging', type: 'development' }],
      ['POST', '/apps/shop/envs', { id: 'prod', type: 'production' }],
      ['POST', '/users', { username: 'dave', password: PASSWORD }],
      ['POST', '/users', { username: 'dora', password: PASSWORD }],
      ['POST', '/roles', { role: 'developer', user: 'dave', app: 'shop' }],
      ['POST', '/roles', { role: 'developer', user: 'dora', app: 'shop' }],
    ];
    for (const [method, url, body] of setup) {
      const response = await api.call(method as 'POST', url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    for (const username of ['dave', 'dora']) {
      const login = await api.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: PASSWORD },
      });
      tokens[username] = login.json().token;
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('refuses invalid Score files naming the file, line and Score path, and a push without a commit', async () => {
    const bad = await api.call('POST', '/apps/shop/artifacts', {
      commit: 'abc1234',
      scoreFiles: [
        scoreFile('web'),
        { file: 'api.score.yaml', dir: '/srv/shop', content: score('api').replace('image: .', 'image: [1]') },
      ],
    });
    expect(bad.statusCode, bad.body).toBe(400);
    const errors = bad.json().errors as Array<{ path: string; message: string }>;
    expect(errors).toContainEqual({
      path: '/scoreFiles/1/content',
      message: expect.stringMatching(/^api\.score\.yaml:6:\d+: containers\.main\.image: /),
    });

    // What no deployment could render is refused at the push, as `pave deploy` refuses it, at the source's line
    // (a probe of a port service.ports lacks is not: only the process and docker runtimes cannot run one).
    const volume = '    volumes:\n      /data:\n        source: /var/run/docker.sock\n';
    const unrenderable = await api.call('POST', '/apps/shop/artifacts', {
      commit: 'abc1234',
      scoreFiles: [{ file: 'api.score.yaml', dir: '/srv/shop', content: score('api') + volume }],
    });
    expect(unrenderable.statusCode, unrenderable.body).toBe(400);
    expect(unrenderable.json().errors).toContainEqual({
      path: '/scoreFiles/0/content',
      message: expect.stringMatching(
        /^api\.score\.yaml:12:\d+: containers\.main\.volumes\["\/data"\]\.source: "\/var\/run\/docker\.sock" is not a volume resource/,
      ),
    });

    const noCommit = await api.call('POST', '/apps/shop/artifacts', { scoreFiles: [scoreFile('api')] });
    expect(noCommit.statusCode).toBe(400);
    expect(noCommit.json().errors.map((e: { path: string }) => e.path)).toContain('/commit');

    const whichWorkload = await api.call('POST', '/apps/shop/artifacts', {
      commit: 'abc1234',
      image: 'registry.test/shop:1',
      scoreFiles: [scoreFile('web'), scoreFile('api')],
    });
    expect(whichWorkload.statusCode).toBe(400);
    expect(whichWorkload.json().errors[0].path).toBe('/workload');
    expect((await api.call('GET', '/apps/shop/artifacts')).json().items).toEqual([]);
  });

  it('lists artifacts newest first, and deploys one by id with its Score, its image and its commit', async () => {
    const first = await push({
      commit: 'c0ffee1',
      scoreFiles: [scoreFile('api', 'one')],
      image: 'reg/api:1',
    });
    const second = await push({
      commit: 'c0ffee2',
      branch: 'topic',
      commitTime: '2026-01-31T12:00:00+01:00',
      scoreFiles: [scoreFile('api', 'two'), scoreFile('web')],
      image: 'reg/api:2',
      workload: 'api',
    });
    expect(second).toMatchObject({
      workloads: ['api', 'web'],
      image: 'reg/api:2',
      branch: 'topic',
      commitTime: '2026-01-31T11:00:00.000Z',
      createdBy: 'admin',
      triggered: [],
    });
    const listed = (await api.call('GET', '/apps/shop/artifacts')).json().items;
    expect(listed.map((a: { id: string }) => a.id)).toEqual([second.id, first.id]);
    expect((await api.call('GET', `/apps/shop/artifacts/${first.id}`)).json().commit).toBe('c0ffee1');

    const both = await api.call('POST', '/apps/shop/envs/staging/deployments', {
      artifact: first.id,
      workloads: [],
    });
    expect(both.statusCode).toBe(400);
    expect(both.json().detail).toContain('not both');

    deployed.length = 0;
    const result = await api.deploy('shop', 'staging', { artifact: second.id });
    expect(result.status, result.reason ?? '').toBe('succeeded');
    expect(result).toMatchObject({ artifactId: second.id, commit: 'c0ffee2', workloads: ['api', 'web'] });
    const api2 = deployed.find((d) => d.workload.name === 'api')!.workload;
    expect(api2.containers[0]).toMatchObject({ image: 'reg/api:2' });
    expect(JSON.stringify(api2)).toContain('two');
    // The image is the pushed workload's only: web keeps its `.`.
    expect(deployed.find((d) => d.workload.name === 'web')!.workload.containers[0]!.image).toBe('.');
  });

  it('records the commit time of a deployed artifact, and the app insights take lead time from it', async () => {
    // An environment of its own, so the insights for it count this deployment only.
    const env = await api.call('POST', '/apps/shop/envs', { id: 'lead', type: 'development' });
    expect(env.statusCode, env.body).toBe(201);
    // Three hours before now (inside the insights window), written with an offset and milliseconds.
    const committed = new Date(Date.now() - 3 * 3600_000);
    committed.setUTCMilliseconds(250);
    const shifted = new Date(committed.getTime() + 2 * 3600_000).toISOString().slice(0, 23);
    const artifact = await push({
      commit: 'lead01',
      branch: 'lead-time',
      commitTime: `${shifted}+02:00`,
      scoreFiles: [scoreFile('api', 'lead')],
    });
    expect(artifact.commitTime).toBe(committed.toISOString());

    const deployment = await api.deploy('shop', 'lead', { artifact: artifact.id });
    expect(deployment.status, deployment.reason ?? '').toBe('succeeded');
    expect(deployment).toMatchObject({
      artifactId: artifact.id,
      commit: 'lead01',
      commitTime: committed.toISOString(),
    });
    const shown = (await api.call('GET', `/apps/shop/envs/lead/deployments/${deployment.id}`)).json();
    expect(shown.commitTime).toBe(committed.toISOString());
    expect(shown.finishedAt).toEqual(expect.any(String));
    const leadSeconds = (Date.parse(shown.finishedAt) - Date.parse(shown.commitTime)) / 1000;

    const response = await api.call('GET', '/apps/shop/insights?env=lead');
    expect(response.statusCode, response.body).toBe(200);
    const insights = response.json();
    expect(insights.envs).toEqual(['lead']);
    expect(insights.leadTime).toMatchObject({
      count: 1,
      medianSeconds: leadSeconds,
      p90Seconds: leadSeconds,
    });
    const day = insights.series.find((d: { date: string }) => d.date === shown.finishedAt.slice(0, 10));
    expect(day).toMatchObject({ deployments: 1, leadTimeMedianSeconds: leadSeconds });
  });

  it('deploys a push on a matching branch at once as rule:<id>, and nothing for other branches', async () => {
    const created = await as(tokens.dave!, 'POST', '/apps/shop/rules', { env: 'dev', branch: 'main' });
    expect(created.statusCode, created.body).toBe(201);
    const rule = created.json();
    expect(rule).toMatchObject({ env: 'dev', branch: 'main', workload: null, createdBy: 'dave' });
    const release = await as(tokens.dave!, 'POST', '/apps/shop/rules', {
      env: 'staging',
      branch: 'release/*',
      workload: 'api',
    });
    expect(release.statusCode, release.body).toBe(201);

    const feature = await push({ commit: 'f00d', branch: 'feature/x', scoreFiles: [scoreFile('api')] });
    expect(feature.triggered).toEqual([]);

    const main = await push(
      { commit: 'beef01', branch: 'main', scoreFiles: [scoreFile('api', 'main')], image: 'reg/api:main' },
      tokens.dora!,
    );
    expect(main.triggered).toEqual([
      { ruleId: rule.id, env: 'dev', deploymentId: expect.any(String), awaitsApproval: false, refused: null },
    ]);
    const deployment = await finished('dev', main.triggered[0]!.deploymentId!);
    expect(deployment).toMatchObject({
      status: 'succeeded',
      actor: `rule:${rule.id}`,
      artifactId: main.id,
      commit: 'beef01',
    });

    const releasePush = await push({
      commit: 'beef02',
      branch: 'release/1.2',
      scoreFiles: [scoreFile('api')],
    });
    expect(releasePush.triggered.map((t) => t.env)).toEqual(['staging']);
    const nested = await push({
      commit: 'beef03',
      branch: 'release/1/hotfix',
      scoreFiles: [scoreFile('api')],
    });
    expect(nested.triggered).toEqual([]);
    const otherWorkload = await push({
      commit: 'beef04',
      branch: 'release/2',
      scoreFiles: [scoreFile('web')],
    });
    expect(otherWorkload.triggered).toEqual([]);

    const triggered = await events('rule.triggered');
    expect(triggered.map((e) => e.data)).toContainEqual({
      ruleId: rule.id,
      artifactId: main.id,
      commit: 'beef01',
      deploymentId: main.triggered[0]!.deploymentId,
      refused: null,
    });
    expect((await events('artifact.pushed')).map((e) => e.data)).toContainEqual(
      expect.objectContaining({ artifactId: main.id, branch: 'main', image: 'reg/api:main' }),
    );
    const rules = (await api.call('GET', '/apps/shop/rules')).json().items;
    expect(rules.map((r: { env: string }) => r.env)).toEqual(['dev', 'staging']);
    for (const r of rules) {
      expect((await as(tokens.dave!, 'DELETE', `/apps/shop/rules/${r.id}`)).statusCode).toBe(204);
    }
  });

  it('refuses a rule into a production environment to a developer who is not a deployer', async () => {
    const refused = await as(tokens.dave!, 'POST', '/apps/shop/rules', { env: 'prod', branch: 'main' });
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().detail).toContain('deployer on environment type production');
    expect((await api.call('POST', '/apps/shop/rules', { env: 'prod', branch: 'main' })).statusCode).toBe(
      201,
    );
    const rules = (await api.call('GET', '/apps/shop/rules')).json().items;
    for (const r of rules) await api.call('DELETE', `/apps/shop/rules/${r.id}`);
  });

  it('refuses to deploy for a rule whose creator lost their role, and says why in a rule.triggered event', async () => {
    const rule = (
      await as(tokens.dora!, 'POST', '/apps/shop/rules', { env: 'dev', branch: 'hotfix' })
    ).json();
    const revoked = await api.call('POST', '/roles/revoke', { role: 'developer', user: 'dora', app: 'shop' });
    expect(revoked.statusCode, revoked.body).toBe(204);
    const before = (await api.call('GET', '/apps/shop/envs/dev/deployments')).json().items.length;

    const pushed = await push({ commit: 'dead01', branch: 'hotfix', scoreFiles: [scoreFile('api')] });
    expect(pushed.triggered).toEqual([
      {
        ruleId: rule.id,
        env: 'dev',
        deploymentId: null,
        awaitsApproval: false,
        refused: expect.stringContaining('dora'),
      },
    ]);
    expect((await api.call('GET', '/apps/shop/envs/dev/deployments')).json().items.length).toBe(before);
    const event = (await events('rule.triggered')).find(
      (e) => e.type === 'rule.triggered' && e.data.artifactId === pushed.id,
    )!;
    expect(event).toMatchObject({ actor: `rule:${rule.id}`, env: 'dev' });
    expect(event.data).toMatchObject({ deploymentId: null, refused: expect.stringMatching(/no longer/) });
    const audit = (await api.call('GET', '/audit?app=shop&limit=500')).json();
    expect(JSON.stringify(audit)).toContain('rule.trigger');
  });
});
