import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreWorkload } from '@pave/core';
import { startServer, type RunningServer } from '../src/index.ts';
import { startReceiver, type Receiver } from './support/webhook-receiver.ts';

/** The supervisor the process runtime starts workloads with (`npm test` builds it first). */
const SUPERVISOR = fileURLToPath(new URL('../../cli/dist/process-supervisor.js', import.meta.url));

const SECRET = `secret-canary-${Math.random().toString(36).slice(2)}`;
const PLAIN = `plain-canary-${Math.random().toString(36).slice(2)}`;

/** A workload that reads both values and keeps running. */
const workload = (name: string, command: string[]): ScoreWorkload => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name },
  containers: {
    main: {
      image: 'node:20',
      command,
      variables: { TOKEN: '${resources.env.TOKEN}', MODE: '${resources.env.MODE}' },
    },
  },
  resources: { env: { type: 'environment' }, host: { type: 'dns' } },
});

describe('GET /metrics on a running control plane', () => {
  let server: RunningServer;
  let dataDir: string;
  let appDir: string;
  let admin: string;
  let hook: Receiver;
  const tokens: Record<string, string> = {};

  const request = (method: string, url: string, token?: string, payload?: object) =>
    server.app.inject({
      method: method as 'GET',
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(payload ? { payload } : {}),
    });
  const scrape = async (token = admin) => {
    const response = await request('GET', '/metrics', token);
    expect(response.statusCode, response.body).toBe(200);
    return response.body;
  };
  const deploy = async (workloads: ScoreWorkload[]) => {
    const queued = await request('POST', '/api/v1/apps/shop/envs/dev/deployments', admin, {
      workloads: workloads.map((spec) => ({ spec, dir: appDir })),
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const id = queued.json().id as string;
    for (let attempt = 0; attempt < 300; attempt++) {
      const shown = (await request('GET', `/api/v1/apps/shop/envs/dev/deployments/${id}`, admin)).json();
      if (shown.status === 'succeeded' || shown.status === 'failed') return shown as { status: string };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`deployment ${id} did not finish in 30 s`);
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-metrics-'));
    appDir = mkdtempSync(join(tmpdir(), 'pave-metrics-app-'));
    // Workloads run as an unprivileged user when Pave is root: it must reach its working directory.
    chmodSync(appDir, 0o755);
    server = await startServer({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      env: {},
      logDestination: new PassThrough().resume(),
      supervisorScript: SUPERVISOR,
      janitorIntervalMs: 3_600_000,
      metricsPort: 0,
      webhookAllow: ['127.0.0.1/32', '::1/128'],
    });
    hook = await startReceiver();
    admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    for (const [username, role] of [
      ['mia', 'member'],
      ['pat', 'platform'],
    ] as const) {
      const created = await request('POST', '/api/v1/users', admin, {
        username,
        password: 'correct horse battery',
      });
      expect(created.statusCode, created.body).toBe(201);
      if (role === 'platform') await request('POST', '/api/v1/roles', admin, { role, user: username });
      const login = await request('POST', '/api/v1/auth/login', undefined, {
        username,
        password: 'correct horse battery',
      });
      tokens[username] = login.json().token as string;
    }
    await request('PATCH', '/api/v1/env-types/development', admin, { minReadySeconds: 1 });
    expect((await request('POST', '/api/v1/apps', admin, { id: 'shop' })).statusCode).toBe(201);
    expect(
      (await request('POST', '/api/v1/apps/shop/envs', admin, { id: 'dev', type: 'development' })).statusCode,
    ).toBe(201);
    const values = await request('PATCH', '/api/v1/apps/shop/envs/dev/values', admin, {
      set: { TOKEN: { value: SECRET, secret: true }, MODE: { value: PLAIN } },
    });
    expect(values.statusCode, values.body).toBe(200);
    const webhook = await request('POST', '/api/v1/webhooks', admin, {
      name: 'ci',
      url: hook.url,
      app: 'shop',
    });
    expect(webhook.statusCode, webhook.body).toBe(201);
  }, 60_000);
  afterAll(async () => {
    if (server) await request('DELETE', '/api/v1/apps/shop?force=true', admin);
    await server?.close();
    await hook?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(appDir, { recursive: true, force: true });
  });

  it('refuses a caller without a token (401) and one without metrics.read (403)', async () => {
    const anonymous = await request('GET', '/metrics');
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['content-type']).toMatch(/problem\+json/);
    const member = await request('GET', '/metrics', tokens.mia);
    expect(member.statusCode, member.body).toBe(403);
    expect(member.body).toContain('metrics.read');
    expect(member.body).not.toContain('pave_http_request_duration_seconds');
  });

  it('serves the Prometheus text to admins and platform users', async () => {
    const text = await scrape(tokens.pat);
    expect(text).toMatch(/^# HELP /m);
    for (const name of [
      'pave_http_request_duration_seconds_bucket',
      'pave_deployment_queue_depth',
      'pave_deployment_queue_oldest_age_seconds',
      'pave_process_cpu_user_seconds_total',
      'pave_nodejs_eventloop_lag_seconds',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('labels request durations with the route pattern, never the URL', async () => {
    await request('GET', '/api/v1/apps/shop', admin);
    await request('GET', '/api/v1/apps/shop/envs?cursor=hunter2', admin);
    await request('GET', '/api/v1/apps/no-such-app-xyz', admin);
    const text = await scrape();
    expect(text).toMatch(
      /pave_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/apps\/:app",status="200"\} \d+/,
    );
    expect(text).toMatch(/route="\/api\/v1\/apps\/:app",status="404"/);
    expect(text).not.toContain('no-such-app-xyz');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('/api/v1/apps/shop');
  });

  it('counts deployments by kind and outcome, times their phases and driver calls, and never shows a value', async () => {
    const ok = await deploy([workload('api', ['node', '-e', 'setInterval(() => {}, 1000)'])]);
    expect(ok.status, JSON.stringify(ok)).toBe('succeeded');
    const failed = await deploy([workload('api', ['node', '-e', 'process.exit(3)'])]);
    expect(failed.status).toBe('failed');
    const text = await scrape();
    expect(text).toMatch(/pave_deployments_total\{kind="deploy",outcome="succeeded"\} 1/);
    expect(text).toMatch(/pave_deployments_total\{kind="deploy",outcome="failed"\} 1/);
    for (const phase of ['plan', 'provision', 'render', 'start', 'wait ready', 'prune']) {
      expect(text).toMatch(
        new RegExp(
          `pave_deployment_phase_duration_seconds_count\\{phase="${phase}",outcome="succeeded"\\} \\d+`,
        ),
      );
    }
    expect(text).toMatch(
      /pave_deployment_phase_duration_seconds_count\{phase="wait ready",outcome="failed"\} 1/,
    );
    expect(text).toMatch(
      /pave_runtime_driver_duration_seconds_count\{driver="process",operation="deploy",outcome="succeeded"\} \d+/,
    );
    expect(text).toMatch(
      /pave_resource_driver_duration_seconds_count\{driver="dns-localhost",operation="create"/,
    );
    // The canary: neither value reaches the metrics, on either port.
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(PLAIN);
    const unauthenticated = await (await fetch(server.metricsUrl!)).text();
    expect(unauthenticated).toContain('pave_deployments_total');
    expect(unauthenticated).not.toContain(SECRET);
    expect(unauthenticated).not.toContain(PLAIN);
  });

  it('counts workloads by runtime target and state, refreshed at most every 10 s', async () => {
    let text = '';
    for (let attempt = 0; attempt < 30; attempt++) {
      text = await scrape();
      if (/pave_workloads\{target="local",state="ready"\} 1/.test(text)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(text).toMatch(/pave_workloads\{target="local",state="ready"\} 1/);
    expect(text).toMatch(/pave_workloads\{target="local",state="crash-looping"\} 0/);
  });

  it('counts webhook delivery attempts by outcome', async () => {
    let text = '';
    for (let attempt = 0; attempt < 50; attempt++) {
      text = await scrape();
      if (/pave_webhook_delivery_attempts_total\{outcome="succeeded"\} [1-9]/.test(text)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(hook.requests.length).toBeGreaterThan(0);
    expect(text).toMatch(/pave_webhook_delivery_attempts_total\{outcome="succeeded"\} [1-9]/);
  });

  it('counts refused logins without naming the user', async () => {
    const refused = await request('POST', '/api/v1/auth/login', undefined, {
      username: 'mia',
      password: 'wrong-password-zz',
    });
    expect(refused.statusCode).toBe(401);
    const text = await scrape();
    expect(text).toMatch(/pave_login_failures_total\{reason="rejected"\} 1/);
    expect(text).not.toContain('wrong-password-zz');
    expect(text).not.toMatch(/"mia"/);
  });

  it('serves only GET /metrics on the metrics port, without a token', async () => {
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const other = await fetch(server.metricsUrl!.replace('/metrics', '/api/v1/apps'));
    expect(other.status).toBe(404);
    const text = await (await fetch(server.metricsUrl!)).text();
    expect(text).toContain('pave_http_request_duration_seconds');
  });
});
