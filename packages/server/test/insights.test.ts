import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentKind, Insights } from '@pave/core';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';
import { systemContext } from '../src/domain/context.ts';
import { insertDeployment } from '../src/domain/deployments/service.ts';
import { recordFailure, recordRunStart, recordSuccess } from '../src/domain/deployments/records.ts';
import { saveSet } from '../src/domain/deployments/sets.ts';
import { computeInsights } from '../src/domain/insights.ts';
import { migrations, openStore } from '../src/index.ts';
import { createTestStoreLocation, storeEngines } from '../../../test/support/stores.ts';

const PASSWORD = 'a long enough password';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** One deployment of the seeded history, at times counted from T0 (ms). */
interface Seeded {
  /** Default: shop. */
  app?: string;
  env: string;
  kind?: DeploymentKind;
  commitAt?: number;
  createdAt: number;
  finishedAt: number;
  outcome: 'succeeded' | 'failed' | 'rolled-back';
}

// T0: midnight (UTC) ten days ago, so every day of the history is a whole day of the window.
const T0 = Math.floor(Date.now() / DAY) * DAY - 10 * DAY;
const iso = (offset: number) => new Date(T0 + offset).toISOString();

/*
 * The history, and what it means:
 * prod  d1 deploy     commit 0h,  finishes 2h           lead 2h
 *       d2 deploy     commit 2h,  fails 4h, auto-rolled back    failure; restored by d3: 1h
 *       d3 deploy     commit 3h,  finishes 5h           lead 2h
 *       d4 deploy     commit 1d,  finishes 1d6h         lead 6h; failure (rolled back 2h later); restored 2.5h
 *       r5 rollback               created 1d8h, finishes 1d8h30m (not a lead time, not a failure)
 *       d6 deploy     commit 2d,  finishes 3d           lead 24h (the rollback after it comes 2 days later)
 *       r7 rollback               created 5d, finishes 5d10m
 *       d8 deploy     commit 6d,  fails 6d1h, not rolled back   failure; never restored
 * dev   e1 deploy     commit -2d, finishes 2d           lead 96h
 *       e2 deploy     no commit time, finishes 2d1h
 *       old deploy    20 days before T0: outside a 14-day window
 */
const HISTORY: Seeded[] = [
  { env: 'dev', commitAt: -21 * DAY, createdAt: -20 * DAY, finishedAt: -20 * DAY + HOUR, outcome: 'failed' },
  { env: 'prod', commitAt: 0, createdAt: HOUR, finishedAt: 2 * HOUR, outcome: 'succeeded' },
  { env: 'prod', commitAt: 2 * HOUR, createdAt: 3 * HOUR, finishedAt: 4 * HOUR, outcome: 'rolled-back' },
  { env: 'prod', commitAt: 3 * HOUR, createdAt: 4.5 * HOUR, finishedAt: 5 * HOUR, outcome: 'succeeded' },
  { env: 'prod', commitAt: DAY, createdAt: DAY + 5 * HOUR, finishedAt: DAY + 6 * HOUR, outcome: 'succeeded' },
  {
    env: 'prod',
    kind: 'rollback',
    createdAt: DAY + 8 * HOUR,
    finishedAt: DAY + 8.5 * HOUR,
    outcome: 'succeeded',
  },
  { env: 'prod', commitAt: 2 * DAY, createdAt: 3 * DAY - HOUR, finishedAt: 3 * DAY, outcome: 'succeeded' },
  { env: 'prod', kind: 'rollback', createdAt: 5 * DAY, finishedAt: 5 * DAY + HOUR / 6, outcome: 'succeeded' },
  { env: 'prod', commitAt: 6 * DAY, createdAt: 6 * DAY, finishedAt: 6 * DAY + HOUR, outcome: 'failed' },
  { env: 'dev', commitAt: -2 * DAY, createdAt: 2 * DAY - HOUR, finishedAt: 2 * DAY, outcome: 'succeeded' },
  { env: 'dev', createdAt: 2 * DAY, finishedAt: 2 * DAY + HOUR, outcome: 'succeeded' },
];

/**
 * Records a deployment's whole life through the domain functions the worker uses (queued, started, finished),
 * each with a clock that answers the seeded time.
 */
async function seed(api: DeployingApi, deployment: Seeded, setId: string): Promise<void> {
  const context = systemContext('seed', 'seed-insights');
  const target = { app: deployment.app ?? 'shop', env: deployment.env };
  const queued = await api.store.transaction((tx) =>
    insertDeployment(
      tx,
      context,
      target,
      deployment.kind ?? 'deploy',
      { setId, timeoutSeconds: 60, autoRollback: true },
      'seeded',
      deployment.commitAt === undefined
        ? undefined
        : { id: null, commit: `c${deployment.createdAt}`, commitTime: iso(deployment.commitAt) },
      () => iso(deployment.createdAt),
    ),
  );
  const id = Number(queued.id);
  await recordRunStart(api.store.db, id, {
    setId,
    previousSetId: null,
    valuesVersion: null,
    startedAt: iso(deployment.createdAt),
  });
  const finished = () => iso(deployment.finishedAt);
  if (deployment.outcome === 'succeeded') {
    await api.store.transaction((tx) => recordSuccess(tx, id, { ...target, setId }, undefined, finished));
  } else {
    await recordFailure(api.store.db, id, 'seeded failure', deployment.outcome === 'rolled-back', finished);
  }
}

describe.each(storeEngines)('DORA insights on %s', (engine) => {
  let api: DeployingApi;
  const tokens: Record<string, string> = {};
  const insights = async (query: string, token = api.token): Promise<Insights> => {
    const response = await api.app.inject({
      method: 'GET',
      url: `/api/v1/apps/shop/insights${query}`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime });
    const setup: Array<[string, object]> = [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['/apps/shop/envs', { id: 'prod', type: 'production' }],
      ['/apps', { id: 'other' }],
      ['/users', { username: 'vera', password: PASSWORD }],
      ['/users', { username: 'otto', password: PASSWORD }],
      ['/roles', { role: 'viewer', user: 'vera', app: 'shop' }],
      ['/roles', { role: 'developer', user: 'otto', app: 'other' }],
    ];
    for (const [url, body] of setup) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, `${url}: ${response.body}`).toBeLessThan(300);
    }
    for (const username of ['vera', 'otto']) {
      const login = await api.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: PASSWORD },
      });
      tokens[username] = login.json().token;
    }
    const setId = await saveSet(api.store.db, {});
    for (const deployment of HISTORY) await seed(api, deployment, setId);
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('computes the four measures and their bands over every environment, as counted by hand', async () => {
    const result = await insights('?since=14d');
    expect(result.envs).toEqual(['dev', 'prod']);
    expect(result.days).toBe(14);
    // 8 succeeded deployments in 14 days: 0.571 a day, 4 a week: weekly, not daily.
    expect(result.deploymentFrequency).toEqual({ deployments: 8, perDay: 0.571, perWeek: 4, band: 'high' });
    // Lead times 2h, 2h, 6h, 24h, 96h: median (rank 3) 6h, p90 (rank 5) 96h.
    expect(result.leadTime).toEqual({
      count: 5,
      medianSeconds: 6 * 3600,
      p90Seconds: 96 * 3600,
      band: 'elite',
    });
    // d2 (auto-rolled back), d4 (rolled back within 24h) and d8 (failed) of 10 finished.
    expect(result.changeFailureRate).toEqual({ finished: 10, failures: 3, rate: 0.3, band: 'low' });
    // Restores 1h and 2.5h (d8 is not restored): median (rank 1) 1h, which is not under an hour.
    expect(result.timeToRestore).toEqual({
      count: 2,
      medianSeconds: 3600,
      p90Seconds: 9000,
      band: 'high',
      unrestored: 1,
    });
  });

  it('gives the figures of each UTC day of the window', async () => {
    const result = await insights('?since=14d');
    expect(result.series.length).toBe(15);
    const day = (offset: number) => result.series.find((d) => d.date === iso(offset).slice(0, 10))!;
    expect(day(0)).toEqual({
      date: iso(0).slice(0, 10),
      deployments: 2,
      finished: 3,
      failures: 1,
      leadTimeMedianSeconds: 2 * 3600,
      restoreMedianSeconds: 3600,
    });
    expect(day(DAY)).toMatchObject({ deployments: 2, finished: 2, failures: 1, restoreMedianSeconds: 9000 });
    expect(day(6 * DAY)).toMatchObject({
      deployments: 0,
      finished: 1,
      failures: 1,
      restoreMedianSeconds: null,
    });
    expect(day(8 * DAY)).toMatchObject({ deployments: 0, finished: 0, leadTimeMedianSeconds: null });
  });

  it('narrows to one environment, and an empty window gives no figures rather than zeros', async () => {
    const prod = await insights('?since=14d&env=prod');
    expect(prod.envs).toEqual(['prod']);
    expect(prod.deploymentFrequency.deployments).toBe(6);
    // Lead times 2h, 2h, 6h, 24h: median rank 2, p90 rank 4.
    expect(prod.leadTime).toMatchObject({ count: 4, medianSeconds: 7200, p90Seconds: 86_400 });
    expect(prod.changeFailureRate).toMatchObject({ finished: 8, failures: 3, rate: 0.375 });

    const lastHours = await insights('?since=1h');
    expect(lastHours.deploymentFrequency).toMatchObject({ deployments: 0, band: 'low' });
    expect(lastHours.leadTime).toEqual({ count: 0, medianSeconds: null, p90Seconds: null, band: null });
    expect(lastHours.changeFailureRate).toEqual({ finished: 0, failures: 0, rate: null, band: null });
  });

  it('gives the same figures for deployments recorded before migration 0024, which fills in their facts', async () => {
    const location = await createTestStoreLocation(engine);
    const before = migrations.filter((migration) => migration.name < '0024');
    expect(migrations[before.length]?.name).toBe('0024_deployment_facts');
    try {
      const old = await openStore({ url: location.url, dataDir: location.dataDir, migrations: before });
      const created = { created_by: 'seed', created_at: iso(-30 * DAY) };
      await old.db
        .insertInto('apps')
        .values({ id: 'shop', name: 'shop', ...created })
        .execute();
      for (const env of ['dev', 'prod']) {
        await old.db
          .insertInto('environments')
          .values({ app_id: 'shop', id: env, type: 'development', ...created })
          .execute();
      }
      for (const deployment of HISTORY) {
        await old.db
          .insertInto('deployments')
          .values({
            app_id: 'shop',
            env_id: deployment.env,
            kind: deployment.kind ?? 'deploy',
            request: '{}',
            set_id: null,
            previous_set_id: null,
            actor: 'seed',
            message: '',
            status: deployment.outcome === 'succeeded' ? 'succeeded' : 'failed',
            reason: deployment.outcome === 'succeeded' ? null : 'seeded failure',
            rolled_back: deployment.outcome === 'rolled-back' ? 1 : 0,
            created_at: iso(deployment.createdAt),
            started_at: iso(deployment.createdAt),
            finished_at: iso(deployment.finishedAt),
            commit: deployment.commitAt === undefined ? null : `c${deployment.createdAt}`,
            commit_time: deployment.commitAt === undefined ? null : iso(deployment.commitAt),
          })
          .execute();
      }
      await old.close();
      const migrated = await openStore({ url: location.url, dataDir: location.dataDir });
      try {
        const scope = { app: 'shop', envs: ['dev', 'prod'], since: iso(-4 * DAY), until: iso(10 * DAY) };
        const figures = await computeInsights(migrated, scope);
        expect(figures.changeFailureRate).toMatchObject({ finished: 10, failures: 3 });
        expect(figures.timeToRestore).toMatchObject({ count: 2, medianSeconds: 3600, unrestored: 1 });
        expect(figures).toEqual(await computeInsights(api.store, scope));
      } finally {
        await migrated.close();
      }
    } finally {
      await location.cleanup();
    }
  });

  it('counts restarts nowhere: no deployment, failure, lead time or restore; a rollback looks past them', async () => {
    for (const [url, payload] of [
      ['/apps', { id: 'cafe' }],
      ['/apps/cafe/envs', { id: 'live', type: 'development' }],
    ] as const) {
      expect((await api.call('POST', url, payload)).statusCode).toBe(201);
    }
    const setId = await saveSet(api.store.db, {});
    const live = { app: 'cafe', env: 'live' };
    for (const deployment of [
      // Succeeded, then rolled back after the restart that followed it: a failed change, restored in 2.5 h.
      { ...live, commitAt: 0, createdAt: HOUR, finishedAt: 2 * HOUR, outcome: 'succeeded' },
      { ...live, kind: 'restart', createdAt: 3 * HOUR, finishedAt: 3.5 * HOUR, outcome: 'succeeded' },
      { ...live, kind: 'rollback', createdAt: 4 * HOUR, finishedAt: 4.5 * HOUR, outcome: 'succeeded' },
      { ...live, kind: 'restart', createdAt: 5 * HOUR, finishedAt: 5.5 * HOUR, outcome: 'failed' },
    ] as Seeded[]) {
      await seed(api, deployment, setId);
    }
    const figures = await computeInsights(api.store, {
      app: 'cafe',
      envs: ['live'],
      since: iso(-4 * DAY),
      until: iso(10 * DAY),
    });
    expect(figures.deploymentFrequency.deployments).toBe(2);
    expect(figures.changeFailureRate).toMatchObject({ finished: 2, failures: 1 });
    expect(figures.leadTime).toMatchObject({ count: 1, medianSeconds: 7200 });
    expect(figures.timeToRestore).toMatchObject({ count: 1, medianSeconds: 9000, unrestored: 0 });
    expect(figures.series.reduce((sum, day) => sum + day.finished, 0)).toBe(2);
  });

  it('is read like deployments: a viewer of the app sees it, others do not learn the app exists', async () => {
    const seen = await insights('?since=14d', tokens.vera);
    expect(seen.envs).toEqual(['dev', 'prod']);
    expect(seen.changeFailureRate.failures).toBe(3);
    const outsider = await api.app.inject({
      method: 'GET',
      url: '/api/v1/apps/shop/insights',
      headers: { authorization: `Bearer ${tokens.otto}` },
    });
    expect(outsider.statusCode).toBe(404);
  });

  it('refuses a malformed window and an unknown environment, saying how to fix them', async () => {
    const window = await api.call('GET', '/apps/shop/insights?since=30days');
    expect(window.statusCode).toBe(400);
    expect(window.json().errors[0].message).toMatch(/24h, 30d or 12w/);
    const env = await api.call('GET', '/apps/shop/insights?env=nope');
    expect(env.statusCode).toBe(404);
  });

  it('records the commit and its time given with a deployment, and refuses a commit time alone', async () => {
    const alone = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [],
      commitTime: '2026-01-31T12:00:00Z',
    });
    expect(alone.statusCode).toBe(400);
    expect(alone.json().errors[0].path).toBe('/commitTime');
    const queued = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [],
      commit: 'abc1234',
      commitTime: '2026-01-31T13:00:00+01:00',
    });
    expect(queued.statusCode, queued.body).toBe(202);
    expect(queued.json()).toMatchObject({ commit: 'abc1234', commitTime: '2026-01-31T12:00:00.000Z' });
  });

  it('refuses a commit time in the future, which would give a negative lead time', async () => {
    const tomorrow = new Date(Date.now() + DAY).toISOString();
    const deployment = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [],
      commit: 'abc1234',
      commitTime: tomorrow,
    });
    expect(deployment.statusCode, deployment.body).toBe(400);
    expect(deployment.json().errors).toEqual([
      { path: '/commitTime', message: expect.stringMatching(/in the future/) },
    ]);
    const score =
      'apiVersion: score.dev/v1b1\nmetadata:\n  name: api\ncontainers:\n  main:\n    image: node:20\n';
    const artifact = await api.call('POST', '/apps/shop/artifacts', {
      commit: 'abc1234',
      commitTime: tomorrow,
      scoreFiles: [{ file: 'score.yaml', dir: '/srv/shop', content: score }],
    });
    expect(artifact.statusCode, artifact.body).toBe(400);
    expect(artifact.json().errors).toEqual([
      { path: '/commitTime', message: expect.stringMatching(/in the future/) },
    ]);
    // A clock a little ahead of the control plane's is not a mistake: a minute ahead is taken.
    const skewed = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [],
      commit: 'abc1234',
      commitTime: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(skewed.statusCode, skewed.body).toBe(202);
  });

  it('counts a commit time a little ahead of the finish (clock skew) as a lead time of zero', async () => {
    const created = await api.call('POST', '/apps/shop/envs', { id: 'skewed', type: 'development' });
    expect(created.statusCode, created.body).toBe(201);
    const setId = await saveSet(api.store.db, {});
    // The committer's clock runs two minutes ahead: within the five minutes the API accepts.
    const finishedAt = 3 * DAY;
    await seed(
      api,
      {
        env: 'skewed',
        commitAt: finishedAt + 2 * 60_000,
        createdAt: finishedAt - 60_000,
        finishedAt,
        outcome: 'succeeded',
      },
      setId,
    );
    const { leadTime } = await insights('?env=skewed&since=14d');
    expect(leadTime).toMatchObject({ count: 1, medianSeconds: 0, p90Seconds: 0 });
  });
});
