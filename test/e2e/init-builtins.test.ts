import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { embeddedRedisAdminUrl, stopEmbeddedRedis } from '@pave/resource-redis';
import type { TestStoreLocation } from '../support/stores.ts';
import type { PaveProcess } from '../support/pave.ts';
import { NO_GIT_IDENTITY, startInitFixture, viaUrl, type InitFixture } from '../support/init.ts';

const NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));

/** The generated project's own `npm test` (node --test): throws with its output when it fails. */
function npmTest(dir: string): string {
  return execFileSync('npm', ['test'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('pave init end to end with the static-site and worker templates', () => {
  let fixture: InitFixture;
  let location: TestStoreLocation;
  let server: PaveProcess;
  let work: string;
  const pave = (...args: string[]) => fixture.pave(...args);
  const ok = (...args: string[]) => fixture.ok(...args);
  const deployments = async (app: string) =>
    JSON.parse((await ok('deployments', 'list', '--app', app, '--env', 'dev', '-o', 'json')).stdout)
      .items as {
      status: string;
    }[];

  beforeAll(async () => {
    fixture = await startInitFixture('pave-init-builtins-');
    ({ location, server, work } = fixture);
  }, 60_000);
  afterAll(async () => {
    // Deleting an app deletes its workloads and resources (the worker's Redis user and keys too).
    await fixture?.cleanup(['site', 'jobs'], stopEmbeddedRedis);
  }, 120_000);

  it('refuses a port for static-site that is not an integer before anything is written', async () => {
    const notInteger = await pave('init', 'static-site', join(work, 'site'), '--set', 'port=abc');
    expect(notInteger.code).toBe(1);
    expect(notInteger.stderr).toContain('port: must be integer (type)');
    expect(existsSync(join(work, 'site'))).toBe(false);
    const apps = JSON.parse((await ok('apps', 'list', '-o', 'json')).stdout).items as { id: string }[];
    expect(apps.map((a) => a.id)).not.toContain('site');
  });

  it('generates, commits, creates and deploys a static site on port 8090: its URL serves the titled page', async () => {
    // static-site has no dependencies and no prepare step: nothing to install or link.
    const dir = join(work, 'site');
    const result = await ok(
      'init',
      'static-site',
      dir,
      '--set',
      'port=8090',
      '--set',
      'title=Docs of the site',
    );
    for (const file of [
      'score.yaml',
      'server.js',
      'static.js',
      'package.json',
      'README.md',
      '.gitignore',
      'public/index.html',
      'public/style.css',
      'test/static.test.js',
    ]) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }
    // The port parameter reaches every place of score.yaml that names the port: none keeps the default.
    const score = readFileSync(join(dir, 'score.yaml'), 'utf8');
    expect(score).toContain("APP_PORT: '8090'");
    expect(score.match(/port: 8090/g)).toHaveLength(3);
    expect(score).not.toContain('8080');
    const log = execFileSync('git', ['log', '--format=%an <%ae>|%s'], {
      cwd: dir,
      env: { ...process.env, ...NO_GIT_IDENTITY },
    })
      .toString()
      .trim();
    expect(log).toBe('Pave <pave@localhost>|Generated from template static-site version 1 by pave init');

    const app = JSON.parse((await ok('apps', 'get', 'site', '-o', 'json')).stdout);
    expect(app.environments.map((e: { id: string }) => e.id)).toEqual(['dev']);
    expect((await deployments('site'))[0]?.status).toBe('succeeded');

    const url = /Your app is served at (\S+)/.exec(result.stdout)?.[1];
    expect(url, result.stdout).toMatch(/^http:\/\/web\.dev\.site\.localhost:\d+\/$/);
    const home = await viaUrl(server.url, url!, 'GET', '/');
    expect(home.status).toBe(200);
    expect(home.type).toContain('text/html');
    expect(home.body).toContain('<title>Docs of the site</title>');
    expect(home.body).toContain('<h1>Docs of the site</h1>');
    const style = await viaUrl(server.url, url!, 'GET', '/style.css');
    expect(style.status).toBe(200);
    expect(style.type).toContain('text/css');
    expect((await viaUrl(server.url, url!, 'GET', '/nothing.txt')).status).toBe(404);

    const test = npmTest(dir);
    expect(test).toMatch(/# pass 2/);
    expect(test).toMatch(/# fail 0/);
  }, 180_000);

  it('generates and deploys a worker on embedded Redis: it takes a pushed job and records its result', async () => {
    // The template's prepare step installs ioredis unless node_modules exists: link the repository's (it has
    // ioredis), so the test needs no registry. pave init refuses a non-empty directory without --force.
    const dir = join(work, 'jobs');
    mkdirSync(dir, { mode: 0o755 });
    symlinkSync(NODE_MODULES, join(dir, 'node_modules'));
    const result = await ok('init', 'worker', dir, '--force');
    for (const file of ['score.yaml', 'worker.js', 'src/jobs.js', 'test/jobs.test.js', 'package.json']) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }
    // A worker has no route, so there is no URL to print.
    expect(result.stdout).not.toContain('Your app is served at');
    // Committed like any generated project; the linked node_modules is ignored, not committed.
    const log = execFileSync('git', ['log', '--format=%s'], { cwd: dir }).toString().trim();
    expect(log).toBe('Generated from template worker version 1 by pave init');
    expect(execFileSync('git', ['ls-files'], { cwd: dir }).toString()).not.toContain('node_modules');

    const app = JSON.parse((await ok('apps', 'get', 'jobs', '-o', 'json')).stdout);
    expect(app.environments.map((e: { id: string }) => e.id)).toEqual(['dev']);
    expect((await deployments('jobs'))[0]?.status).toBe('succeeded');
    const status = JSON.parse((await ok('status', '--app', 'jobs', '--env', 'dev', '-o', 'json')).stdout) as {
      workloads: { workload: string; state: string }[];
    };
    expect(status.workloads.map((w) => [w.workload, w.state])).toEqual([['worker', 'ready']]);

    // The queue resource (a workload's own: worker.queue) is an ACL user on the embedded redis-server, limited
    // to its key prefix; the worker takes jobs from `<prefix>jobs` (the default queue).
    const resources = JSON.parse(
      (await ok('resources', 'list', '--app', 'jobs', '--env', 'dev', '-o', 'json')).stdout,
    ).items as { type: string; values: Record<string, string> }[];
    const queue = resources.find((r) => r.type === 'redis');
    expect(queue?.values.prefix).toMatch(/^jobs:dev:worker\.queue_[0-9a-f]{8}:$/);
    const list = `${queue!.values.prefix}jobs`;
    const logs = async () => (await ok('logs', '--app', 'jobs', '--env', 'dev')).stdout;
    // It logs once it has connected and starts waiting; a job pushed before would be taken too, but waiting
    // for the line shows the workload is running its loop.
    await vi.waitFor(async () => expect(await logs()).toContain(`jobs is waiting for jobs on ${list}`), {
      timeout: 30_000,
      interval: 500,
    });

    // Push a job as the server's admin, as `redis-cli LPUSH` in the generated README would.
    const adminUrl = await embeddedRedisAdminUrl(location.dataDir);
    expect(adminUrl, 'the embedded redis-server runs').toBeTruthy();
    const redis = new Redis(adminUrl!, { maxRetriesPerRequest: 1 });
    try {
      await redis.lpush(list, JSON.stringify({ kind: 'greet', name: 'Ada' }));
      const done = '{"ok":true,"kind":"greet","result":"hello, Ada"}';
      await vi.waitFor(async () => expect(await logs()).toContain(`job done: ${done}`), {
        timeout: 30_000,
        interval: 500,
      });
      expect(await redis.lrange(`${list}:done`, 0, -1)).toEqual([done]);
      expect(await redis.llen(list)).toBe(0);
    } finally {
      redis.disconnect();
    }

    const test = npmTest(dir);
    expect(test).toMatch(/# pass 3/);
    expect(test).toMatch(/# fail 0/);
  }, 180_000);
});
