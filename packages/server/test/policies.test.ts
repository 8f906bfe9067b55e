import type { DeploymentDetail } from '@pave/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkDeploymentPolicies } from '../src/domain/policies.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const PASSWORD = 'a long enough password';

interface ContainerSpec {
  image: string;
  variables?: Record<string, string>;
  resources?: { limits?: { memory?: string } };
}

const workload = (name: string, container: ContainerSpec, resources?: object) => ({
  spec: {
    apiVersion: 'score.dev/v1b1',
    metadata: { name },
    containers: { main: { command: ['node', 'server.js'], ...container } },
    ...(resources ? { resources } : {}),
  },
  dir: '/srv/app',
});

/** The four examples of docs/policies.md. */
const NO_LATEST = {
  id: 'no-latest-images',
  criteria: [{ envType: 'production' }],
  severity: 'deny',
  message: 'pin container images to a tag or digest other than latest',
  each: 'container',
  rule: 'container.image.contains("@") || (container.image.matches(":[^/:]+$") && !container.image.endsWith(":latest"))',
};
const MEMORY_LIMIT = {
  id: 'memory-limits',
  severity: 'deny',
  message: 'declare resources.limits.memory for every container',
  each: 'container',
  rule: 'has(container.resources) && has(container.resources.limits) && has(container.resources.limits.memory)',
};
const ROUTE_HOSTS = {
  id: 'route-hosts',
  severity: 'deny',
  message: 'routes must use a host under example.com',
  rule: 'plan.resources.all(r, r.type != "route" || (has(r.params.host) && r.params.host.endsWith(".example.com")))',
};
const NO_DATA_LOSS = {
  id: 'no-data-loss-in-production',
  criteria: [{ envType: 'production' }],
  severity: 'deny',
  message: 'no --allow-data-loss in production',
  rule: '!deployment.allowDataLoss',
};

describe.each(storeEngines)('policies on %s', (engine) => {
  let api: DeployingApi;
  let dora: string;

  const apply = (policies: object[], dryRun?: boolean) =>
    api.call('POST', '/policies/apply', { policies, ...(dryRun ? { dryRun } : {}) });
  const deploy = (env: string, payload: object, token?: string) =>
    api.app.inject({
      method: 'POST',
      url: `/api/v1/apps/shop/envs/${env}/deployments`,
      headers: { authorization: `Bearer ${token ?? api.token}` },
      payload,
    });
  const applied = async (policies: object[]) => {
    const response = await apply(policies);
    expect(response.statusCode, response.body).toBe(200);
  };

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
    for (const [method, url, payload] of [
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['POST', '/apps/shop/envs', { id: 'staging', type: 'staging' }],
      ['POST', '/apps/shop/envs', { id: 'prod', type: 'production' }],
      ['POST', '/users', { username: 'dora', password: PASSWORD }],
      ['POST', '/roles', { role: 'owner', user: 'dora', app: 'shop' }],
      ['POST', '/roles', { role: 'deployer', user: 'dora', envType: 'production' }],
    ] as const) {
      const response = await api.call(method, url, payload);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    const login = await api.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'dora', password: PASSWORD },
    });
    dora = login.json().token;
  });
  afterEach(async () => {
    await api.store.db.deleteFrom('policies').execute();
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('applies policies with a plan, idempotently, and lists, gets and deletes them', async () => {
    const dry = await apply([NO_LATEST, MEMORY_LIMIT], true);
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toEqual({
      applied: false,
      changes: [
        { id: 'no-latest-images', action: 'create', fields: [] },
        { id: 'memory-limits', action: 'create', fields: [] },
      ],
    });
    expect((await api.call('GET', '/policies')).json().items).toEqual([]);

    expect((await apply([NO_LATEST, MEMORY_LIMIT])).json().applied).toBe(true);
    const again = await apply([NO_LATEST, { ...MEMORY_LIMIT, severity: 'warn' }]);
    expect(again.json().changes).toEqual([
      { id: 'no-latest-images', action: 'unchanged', fields: [] },
      { id: 'memory-limits', action: 'update', fields: ['severity'] },
    ]);
    const got = await api.call('GET', '/policies/no-latest-images');
    expect(got.json()).toMatchObject({ ...NO_LATEST, createdBy: 'admin', updatedBy: 'admin' });
    expect((await api.call('GET', '/policies')).json().items.map((p: { id: string }) => p.id)).toEqual([
      'memory-limits',
      'no-latest-images',
    ]);
    expect((await api.call('DELETE', '/policies/memory-limits')).statusCode).toBe(204);
    expect((await api.call('GET', '/policies/memory-limits')).statusCode).toBe(404);
    const audit = (await api.call('GET', '/audit')).json().items as Array<{ action: string }>;
    expect(audit.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['policy.create', 'policy.update', 'policy.delete']),
    );
  });

  it('refuses a rule that does not compile or names an unknown field, with a pointer and the CEL message', async () => {
    const response = await apply([
      NO_LATEST,
      { ...NO_DATA_LOSS, rule: '!deployment.allowDataLos' },
      { ...ROUTE_HOSTS, id: 'broken', rule: 'plan.resources.all(r, ' },
      { ...MEMORY_LIMIT, id: 'needs-each', each: undefined },
    ]);
    expect(response.statusCode, response.body).toBe(400);
    const errors = response.json().errors as Array<{ path: string; message: string }>;
    expect(errors.map((e) => e.path)).toEqual(['/policies/1/rule', '/policies/2/rule', '/policies/3/rule']);
    expect(errors[0]!.message).toMatch(/^column 13 of the expression: No such key: allowDataLos/);
    expect(errors[1]!.message).toMatch(/column \d+ of the expression: .+/);
    expect(errors[2]!.message).toContain('need `each: container`');
    expect((await api.call('GET', '/policies')).json().items).toEqual([]);
  });

  it('refuses a :latest image in production naming the policy, workload and container; the same deploys to dev', async () => {
    await applied([NO_LATEST]);
    const latest = { workloads: [workload('api', { image: 'nginx:latest' })] };
    for (const plan of [true, false]) {
      const refused = await deploy('prod', { ...latest, plan });
      expect(refused.statusCode, refused.body).toBe(422);
      expect(refused.json().errors).toEqual([
        {
          path: 'policies/no-latest-images',
          message:
            'no-latest-images: pin container images to a tag or digest other than latest (workload api, container main)',
        },
      ]);
    }
    expect((await api.call('GET', '/apps/shop/envs/prod/deployments')).json().items).toEqual([]);
    expect((await deploy('dev', latest)).statusCode).toBe(202);

    const plan = await deploy('prod', { workloads: [workload('api', { image: 'nginx:1.27' })], plan: true });
    expect(plan.statusCode, plan.body).toBe(200);
    expect(plan.json().policies).toEqual([
      {
        policy: 'no-latest-images',
        severity: 'deny',
        outcome: 'pass',
        message: 'pin container images to a tag or digest other than latest',
      },
    ]);
  });

  it('enforces memory limits, route hosts and no data loss in production', async () => {
    await applied([MEMORY_LIMIT, ROUTE_HOSTS, NO_DATA_LOSS]);
    const limited = { image: 'nginx:1.27', resources: { limits: { memory: '256Mi' } } };
    const unlimited = await deploy('dev', {
      workloads: [workload('api', { image: 'nginx:1.27' })],
      plan: true,
    });
    expect(unlimited.statusCode).toBe(422);
    expect(unlimited.json().errors[0].message).toContain('memory-limits');
    expect((await deploy('dev', { workloads: [workload('api', limited)], plan: true })).statusCode).toBe(200);

    const route = (host: string) => ({ web: { type: 'route', params: { host, path: '/', port: 8080 } } });
    const outside = await deploy('dev', {
      workloads: [workload('api', limited, route('shop.evil.com'))],
      plan: true,
    });
    expect(outside.statusCode, outside.body).toBe(422);
    expect(outside.json().errors[0].message).toBe('route-hosts: routes must use a host under example.com');
    const inside = await deploy('dev', {
      workloads: [workload('api', limited, route('shop.example.com'))],
      plan: true,
    });
    expect(inside.statusCode, inside.body).toBe(200);

    const lossy = { workloads: [workload('api', limited)], allowDataLoss: true, plan: true };
    expect((await deploy('prod', lossy)).json().errors[0].path).toBe('policies/no-data-loss-in-production');
    expect((await deploy('dev', lossy)).statusCode).toBe(200);
  });

  it('gates production on the exact set having succeeded in staging', async () => {
    await applied([
      {
        id: 'staging-first',
        criteria: [{ envType: 'production' }],
        severity: 'deny',
        message: 'deploy it to staging first',
        promotionGate: { from: 'staging', within: '7d' },
      },
    ]);
    const set = { workloads: [workload('gated', { image: 'nginx:1.27', variables: { MODE: 'a' } })] };
    const fresh = { workloads: [workload('fresh', { image: 'nginx:1.27' })] };
    const first = await deploy('prod', fresh);
    expect(first.statusCode, first.body).toBe(422);
    expect(first.json().errors[0].message).toMatch(
      /^staging-first: deploy it to staging first \(this exact set/,
    );

    // prod and staging hold nothing else, so the same workloads make the same set in both.
    const staged = await api.deploy('shop', 'staging', set);
    expect(staged.status).toBe('succeeded');
    const promoted = await deploy('prod', { fromEnv: 'staging', plan: true });
    expect(promoted.statusCode, promoted.body).toBe(200);
    expect(promoted.json().policies[0]).toMatchObject({ policy: 'staging-first', outcome: 'pass' });
    expect((await deploy('prod', { ...set, plan: true })).statusCode).toBe(200);

    const changed = {
      workloads: [workload('gated', { image: 'nginx:1.27', variables: { MODE: 'b' } })],
      plan: true,
    };
    expect((await deploy('prod', changed)).statusCode).toBe(422);
  });

  it('freezes production (not dev); an org admin overrides it, recorded on the deployment and audited; others get 403', async () => {
    const hour = 3_600_000;
    await applied([
      {
        id: 'release-freeze',
        criteria: [{ envType: 'production' }],
        severity: 'deny',
        message: 'production is frozen for the release',
        freeze: {
          from: new Date(Date.now() - hour).toISOString(),
          to: new Date(Date.now() + hour).toISOString(),
        },
      },
    ]);
    const body = { workloads: [workload('frozen', { image: 'nginx:1.27' })] };
    const refused = await deploy('prod', body);
    expect(refused.statusCode).toBe(422);
    expect(refused.json().errors[0].message).toContain('production is frozen for the release (frozen from');
    expect((await deploy('dev', body)).statusCode).toBe(202);

    const override = { overridePolicies: [{ id: 'release-freeze', reason: 'hotfix for INC-42' }] };
    const denied = await deploy('prod', { ...body, ...override }, dora);
    expect(denied.statusCode, denied.body).toBe(403);
    expect(denied.json().errors[0].message).toContain('only org admins');

    const overridden = await deploy('prod', { ...body, ...override });
    expect(overridden.statusCode, overridden.body).toBe(202);
    const expected = [{ id: 'release-freeze', reason: 'hotfix for INC-42', by: 'admin' }];
    expect(overridden.json().policyOverrides).toEqual(expected);
    const id = overridden.json().id as string;
    const record = (
      await api.call('GET', `/apps/shop/envs/prod/deployments/${id}`)
    ).json() as DeploymentDetail;
    expect(record.policyOverrides).toEqual(expected);
    const audit = (await api.call('GET', '/audit?app=shop')).json().items as Array<{
      action: string;
      target: string;
      summary: { policyOverrides?: unknown };
    }>;
    expect(audit.find((entry) => entry.action === 'deployment.policy-override')).toMatchObject({
      target: `apps/shop/envs/prod/deployments/${id}`,
      summary: { policyOverrides: expected },
    });
  });

  it('refuses an override of a policy that does not exist, naming it and how to list the policies', async () => {
    await applied([NO_LATEST, MEMORY_LIMIT]);
    const deployments = async () =>
      (await api.call('GET', '/apps/shop/envs/prod/deployments')).json().items.length as number;
    const before = await deployments();
    const body = {
      workloads: [workload('api', { image: 'nginx:1.27', resources: { limits: { memory: '64Mi' } } })],
      overridePolicies: [
        { id: 'memory-limits', reason: 'INC-42' },
        { id: 'no-such-policy', reason: 'INC-42' },
      ],
    };
    for (const plan of [true, false]) {
      const refused = await deploy('prod', { ...body, plan });
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.json().errors).toEqual([
        {
          path: '/overridePolicies/1/id',
          message:
            'there is no policy "no-such-policy" to override (there are: memory-limits, no-latest-images); ' +
            'fix the id, or leave the override out (`pave policies list` shows the policies)',
        },
      ]);
    }
    expect(await deployments()).toBe(before);
  });

  it('fails closed: a rule that throws when evaluated denies, even as a warning', async () => {
    await applied([
      {
        id: 'memory-set',
        severity: 'warn',
        message: 'say how much memory',
        each: 'container',
        rule: 'container.resources.limits.memory != ""',
      },
    ]);
    const response = await deploy('dev', {
      workloads: [workload('api', { image: 'nginx:1.27' })],
      plan: true,
    });
    expect(response.statusCode, response.body).toBe(422);
    expect(response.json().errors[0].message).toMatch(
      /^memory-set: say how much memory \(the rule failed to evaluate: No such key: resources\) \(workload api, container main\)$/,
    );
  });

  it('refuses a rule-triggered deployment of a pushed artifact that a policy denies, without failing the push', async () => {
    await applied([{ ...NO_LATEST, criteria: [{ envId: 'dev' }] }]);
    const rule = await api.call('POST', '/apps/shop/rules', { env: 'dev', branch: 'main' });
    expect(rule.statusCode, rule.body).toBe(201);
    const content = [
      'apiVersion: score.dev/v1b1',
      'metadata:',
      '  name: pushed',
      'containers:',
      '  main:',
      '    image: nginx:latest',
      "    command: ['node', 'server.js']",
      '',
    ].join('\n');
    const pushed = await api.call('POST', '/apps/shop/artifacts', {
      commit: 'abc123',
      branch: 'main',
      scoreFiles: [{ file: 'pushed.score.yaml', dir: '/srv/shop', content }],
    });
    expect(pushed.statusCode, pushed.body).toBe(201);
    expect(pushed.json().triggered).toEqual([
      {
        ruleId: rule.json().id,
        env: 'dev',
        deploymentId: null,
        awaitsApproval: false,
        refused: 'policy no-latest-images refuses this deployment to shop/dev',
      },
    ]);
    expect((await api.call('DELETE', `/apps/shop/rules/${rule.json().id}`)).statusCode).toBe(204);
  });

  it('records warnings in the journal, and checks a recorded deployment again (checkDeploymentPolicies)', async () => {
    await applied([{ ...NO_LATEST, id: 'latest-warning', criteria: [], severity: 'warn' }]);
    // staging runs only `gated` (pinned), so `later` is the one warned about.
    const queued = await deploy('staging', { workloads: [workload('later', { image: 'nginx:latest' })] });
    expect(queued.statusCode, queued.body).toBe(202);
    const id = queued.json().id as string;
    const detail = (
      await api.call('GET', `/apps/shop/envs/staging/deployments/${id}`)
    ).json() as DeploymentDetail;
    expect(detail.journal.find((entry) => entry.step === 'plan' && entry.status === 'info')?.message).toBe(
      'policy latest-warning warns: pin container images to a tag or digest other than latest (workload later, container main)',
    );

    expect(await checkDeploymentPolicies(api.store.db, id)).toMatchObject([
      { policy: 'latest-warning', outcome: 'warn', workload: 'later', container: 'main' },
    ]);
    await applied([{ ...NO_LATEST, criteria: [] }]);
    await expect(checkDeploymentPolicies(api.store.db, id)).rejects.toMatchObject({
      name: 'PolicyDeniedError',
      errors: [{ path: 'policies/no-latest-images' }],
    });
  });
});
