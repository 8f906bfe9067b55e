import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Deployment, DeploymentDetail, RenderedTemplate, TemplateRecord } from '@pave/core';
import { runCli } from '../src/program.ts';
import {
  NO_APP,
  cliArgs,
  fakeIo,
  fakeServer,
  isInstantiateDryRun,
  plannedInstance,
  temporaryDir,
} from './helpers.ts';
import type { Recorded } from './helpers.ts';

// `pave init` stopping half-way, after it wrote files: the message names what exists and how to finish or undo.

const SCORE = [
  'apiVersion: score.dev/v1b1',
  'metadata:',
  '  name: orders',
  'containers:',
  '  main:',
  '    image: nginx:1.27',
  '',
].join('\n');

const SETUP = {
  app: 'orders',
  environments: [{ id: 'dev', type: 'development' }],
  values: [{ key: 'API_KEY', secret: true }],
  prepare: ['exit 3'],
  deploy: 'dev',
};

const TEMPLATE: TemplateRecord = {
  id: 'node-http',
  title: 'Node HTTP',
  tags: [],
  parameters: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  files: [{ path: 'score.yaml', content: SCORE }],
  setup: SETUP,
  version: 2,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'system',
};

/** The template rendered for `name: orders`, running `prepare` before it deploys dev. */
function rendered(prepare: string[]): RenderedTemplate {
  return {
    id: 'node-http',
    version: 2,
    answers: { name: 'orders' },
    files: [{ path: 'score.yaml', content: SCORE }],
    setup: { ...SETUP, prepare, score: ['score.yaml'] },
  };
}

const INSTANCE = {
  template: { id: 'node-http', version: 2 },
  app: { id: 'orders', name: 'orders', createdBy: 'alice', createdAt: '2026-01-02T00:00:00.000Z' },
  environments: [
    {
      appId: 'orders',
      id: 'dev',
      type: 'development',
      createdBy: 'alice',
      createdAt: '2026-01-02T00:00:00.000Z',
      expiresAt: null,
    },
  ],
  pendingEnvironments: [] as Array<{ id: string; type: string; from: string; ttl?: string }>,
  values: [{ key: 'API_KEY', secret: true }],
  setup: { ...SETUP, score: ['score.yaml'] },
  files: ['score.yaml'],
  archive: '',
};

const QUEUED: Deployment = {
  id: '7',
  appId: 'orders',
  envId: 'dev',
  kind: 'deploy',
  setId: '0123456789abcdef0123',
  source: {},
  actor: 'alice',
  message: 'pave init from template node-http version 2',
  status: 'queued',
  reason: null,
  rolledBack: false,
  valuesVersion: null,
  artifactId: null,
  commit: null,
  createdAt: '2026-01-02T00:00:01.000Z',
  startedAt: null,
  finishedAt: null,
};

const FAILED: DeploymentDetail = {
  ...QUEUED,
  status: 'failed',
  reason: 'orders never became ready: ImagePullBackOff',
  startedAt: '2026-01-02T00:00:02.000Z',
  finishedAt: '2026-01-02T00:00:09.000Z',
  workloads: ['orders'],
  workloadArtifacts: { orders: null },
  journal: [
    {
      id: 1,
      at: '2026-01-02T00:00:02.000Z',
      step: 'start',
      workload: null,
      status: 'started',
      message: 'deploying 1 workload',
    },
    {
      id: 2,
      at: '2026-01-02T00:00:09.000Z',
      step: 'ready',
      workload: 'orders',
      status: 'failed',
      message: 'orders never became ready: ImagePullBackOff',
    },
  ],
};

/** A Pave server for `pave init` of {@link TEMPLATE} whose deployment of dev fails. */
function answerInit(
  prepare: string[],
  instance: typeof INSTANCE = INSTANCE,
  mayCreateApps = true,
): (request: Recorded) => { status: number; body?: unknown } {
  return (request) => {
    const { method, url } = request;
    if (url.includes('/render')) return { status: 200, body: rendered(prepare) };
    if (isInstantiateDryRun(request)) {
      if (mayCreateApps) return plannedInstance(rendered(prepare));
      const reason = 'app.create needs admin or member on the organisation';
      return forbidden(`you may not do this: ${reason}`, [
        { path: 'permission', message: `app.create: ${reason}` },
      ]);
    }
    if (url.includes('/instantiate')) return { status: 201, body: instance };
    if (method === 'POST' && url === '/api/v1/apps/orders/envs/dev/deployments') {
      return { status: 202, body: QUEUED };
    }
    if (method === 'GET' && url === '/api/v1/apps/orders/envs/dev/deployments/7') {
      return { status: 200, body: FAILED };
    }
    if (url.startsWith('/api/v1/apps/')) return NO_APP;
    return { status: 200, body: TEMPLATE };
  };
}

/** A 403 problem, as the server refuses a request for want of a permission. */
function forbidden(detail: string, errors: Array<{ path: string; message: string }>) {
  return {
    status: 403,
    body: { type: 'about:blank', title: 'Forbidden', status: 403, detail, requestId: 'r', errors },
  };
}

/** An io whose git has no user configuration, so the commit is made with Pave's fallback identity. */
function gitIo() {
  return fakeIo({
    env: { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', PATH: process.env.PATH },
  });
}

function commitSubject(dir: string): string {
  return execFileSync('git', ['log', '-1', '--format=%s'], { cwd: dir, encoding: 'utf8' }).trim();
}

describe('pave init for someone who may not create apps', () => {
  it('is refused before it writes a file, as its dry run is, naming the permission', async () => {
    const server = await fakeServer(answerInit([], INSTANCE, false));
    const dir = join(temporaryDir(), 'orders');
    for (const dryRun of [['--dry-run'], []]) {
      const io = gitIo();
      expect(
        await runCli(cliArgs(server.url, 'init', 'node-http', dir, '--set', 'API_KEY=x', ...dryRun), io),
      ).toBe(1);
      expect(io.stderr.text).toBe(
        'pave: error: pave init makes the app orders, and you may not create apps: app.create needs admin or ' +
          'member on the organisation; ask an admin for such a role (`pave auth can-i app.create` tells you ' +
          'when you may)\n',
      );
      expect(io.stdout.text).toBe('');
    }
    expect(existsSync(dir)).toBe(false);
    // Only the dry runs were asked for.
    expect(server.requests.filter((r) => r.url.includes('/instantiate')).every(isInstantiateDryRun)).toBe(
      true,
    );
  });
});

describe('pave init of a template with a production environment, for someone without deployer on it', () => {
  const reason =
    'env.create on a production environment needs deployer on environment type production besides owner ' +
    'on app orders, which you would hold as its creator';
  const fix =
    'the template creates prod of type production: ask an admin for deployer on environment type production ' +
    '(`pave roles grant deployer --user erin --env-type production`)';

  it('is refused before it writes a file, as its dry run is, saying what is refused and how to fix it', async () => {
    const server = await fakeServer((request) =>
      request.url.includes('/instantiate')
        ? forbidden(`you may not do this: ${reason}`, [{ path: '/setup/environments/1/type', message: fix }])
        : answerInit([])(request),
    );
    const dir = join(temporaryDir(), 'orders');
    for (const dryRun of [['--dry-run'], ['--no-deploy']]) {
      const io = gitIo();
      expect(
        await runCli(cliArgs(server.url, 'init', 'node-http', dir, '--set', 'API_KEY=k1', ...dryRun), io),
      ).toBe(1);
      expect(io.stderr.text).toBe(
        `pave: error: pave init makes the app orders, and you may not: ${reason}; ${fix}\n`,
      );
      expect(io.stdout.text).toBe('');
    }
    expect(existsSync(dir)).toBe(false);
    // Only the dry runs were asked for.
    expect(server.requests.filter((r) => r.url.includes('/instantiate')).map((r) => r.url)).toEqual([
      '/api/v1/templates/node-http/instantiate?version=2&dryRun=true',
      '/api/v1/templates/node-http/instantiate?version=2&dryRun=true',
    ]);
  });
});

describe('pave init against a server from before the instantiation dry run', () => {
  it('stops when the check created the app (the old server ignored dryRun), having written nothing', async () => {
    const answer = answerInit([]);
    const server = await fakeServer((request) =>
      isInstantiateDryRun(request) ? { status: 201, body: INSTANCE } : answer(request),
    );
    const dir = join(temporaryDir(), 'orders');
    const io = gitIo();
    expect(await runCli(cliArgs(server.url, 'init', 'node-http', dir, '--set', 'API_KEY=x'), io)).toBe(1);
    expect(io.stderr.text).toContain(
      'pave: error: the server is older than this pave and created the app orders while asked only to check it',
    );
    expect(existsSync(dir)).toBe(false);
    expect(server.requests.filter((r) => r.url.includes('/instantiate'))).toHaveLength(1);
  });
});

describe('pave init stopped after the app was created', () => {
  it('says what exists and how to finish or undo it when a prepare command fails', async () => {
    const server = await fakeServer(answerInit(['echo preparing', 'exit 3']));
    const dir = join(temporaryDir(), 'orders');
    const io = gitIo();
    expect(await runCli(cliArgs(server.url, 'init', 'node-http', dir, '--set', 'API_KEY=x'), io)).toBe(1);

    // What the message says exists does: the files, their commit, the app with dev; nothing was deployed.
    expect(existsSync(join(dir, 'score.yaml'))).toBe(true);
    expect(commitSubject(dir)).toBe('Generated from template node-http version 2 by pave init');
    const instantiations = server.requests.filter((r) => r.url.includes('/instantiate'));
    expect(instantiations.map(isInstantiateDryRun)).toEqual([true, false]);
    expect(server.requests.some((r) => r.url.includes('/deployments'))).toBe(false);

    expect(io.stdout.text).toContain('Running echo preparing');
    expect(io.stdout.text).toContain('Running exit 3');
    expect(io.stderr.text).toContain('preparing\n');
    expect(io.stderr.text).toContain(
      `pave: error: files written to ${dir}; committed; the app orders exists with dev; ` +
        '`exit 3` failed: `exit 3` exited with code 3\n' +
        `  finish with \`cd ${dir} && exit 3 && pave deploy -f score.yaml --app orders --env dev --wait\`,\n` +
        `  or undo with \`pave apps delete orders --force && rm -rf ${dir}\``,
    );
    expect(io.stderr.text).not.toContain('API_KEY=x');
  });

  it('says what exists and how to finish or undo it when the deployment fails', async () => {
    const server = await fakeServer(answerInit([]));
    const dir = join(temporaryDir(), 'orders');
    const io = gitIo();
    expect(await runCli(cliArgs(server.url, 'init', 'node-http', dir, '--set', 'API_KEY=x'), io)).toBe(1);

    expect(existsSync(join(dir, 'score.yaml'))).toBe(true);
    expect(commitSubject(dir)).toBe('Generated from template node-http version 2 by pave init');
    const deploy = server.requests.find((r) => r.method === 'POST' && r.url.endsWith('/deployments'));
    expect(deploy?.url).toBe('/api/v1/apps/orders/envs/dev/deployments');
    expect(deploy?.body).toMatchObject({
      autoRollback: true,
      message: 'pave init from template node-http version 2',
      workloads: [{ spec: { metadata: { name: 'orders' } } }],
    });
    expect(server.requests.some((r) => r.url === '/api/v1/apps/orders/envs/dev/deployments/7')).toBe(true);

    // The deployment's progress is on stderr, as `pave deploy --wait` writes it.
    expect(io.stderr.text).toContain('Deployment 7 queued for orders/dev');
    expect(io.stderr.text).toContain(
      `pave: error: files written to ${dir}; committed; the app orders exists with dev; ` +
        'deploying dev failed: deployment 7 failed: orders never became ready: ImagePullBackOff\n' +
        '  Details: pave deployments get 7 --app orders --env dev\n' +
        `  finish with \`cd ${dir} && pave deploy -f score.yaml --app orders --env dev --wait\`,\n` +
        `  or undo with \`pave apps delete orders --force && rm -rf ${dir}\``,
    );
    expect(io.stderr.text).not.toContain('API_KEY=x');
  });
});

describe('pave init stopped before the environments cloned from the deployed one', () => {
  it('lists their creation among the commands that finish it', async () => {
    const pending = [
      { id: 'staging', type: 'staging', from: 'dev' },
      { id: 'preview', type: 'development', from: 'dev', ttl: '7d' },
    ];
    const server = await fakeServer(answerInit([], { ...INSTANCE, pendingEnvironments: pending }));
    const dir = join(temporaryDir(), 'orders');
    const io = gitIo();
    expect(await runCli(cliArgs(server.url, 'init', 'node-http', dir, '--set', 'API_KEY=x'), io)).toBe(1);

    expect(io.stderr.text).toContain(
      `  finish with \`cd ${dir} && pave deploy -f score.yaml --app orders --env dev --wait && ` +
        'pave envs create staging --app orders --type staging --from dev && ' +
        'pave envs create preview --app orders --type development --from dev --ttl 7d`,\n',
    );
    expect(server.requests.some((r) => r.method === 'POST' && r.url === '/api/v1/apps/orders/envs')).toBe(
      false,
    );
  });
});

describe('pave init into a directory it cannot write', () => {
  it('says which directory, why and what to do, before anything is created (exit 2)', async () => {
    const server = await fakeServer(answerInit([]));
    const file = join(temporaryDir(), 'a-file');
    writeFileSync(file, 'in the way\n');
    const io = gitIo();
    expect(
      await runCli(cliArgs(server.url, 'init', 'node-http', join(file, 'orders'), '--set', 'API_KEY=x'), io),
    ).toBe(2);
    expect(io.stderr.text).toBe(
      `pave: error: cannot use ${join(file, 'orders')}: a part of the path is a file, not a directory; ` +
        'give a directory you may write to\n',
    );
    expect(server.requests.some((r) => r.url.includes('/instantiate'))).toBe(false);
  });
});
