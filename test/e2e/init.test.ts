import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopEmbeddedPostgres } from '@pave/resource-postgres';
import type { PaveProcess } from '../support/pave.ts';
import { NO_GIT_IDENTITY, startInitFixture, viaUrl, type InitFixture } from '../support/init.ts';

const NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));
const NODE_HTTP = fileURLToPath(new URL('../../packages/server/templates/node-http', import.meta.url));

describe('pave init end to end: a golden path from template to a deployed app', () => {
  let fixture: InitFixture;
  let server: PaveProcess;
  let work: string;
  const pave = (...args: string[]) => fixture.pave(...args);
  const ok = (...args: string[]) => fixture.ok(...args);

  beforeAll(async () => {
    fixture = await startInitFixture('pave-init-');
    ({ server, work } = fixture);
  }, 60_000);
  afterAll(async () => {
    await fixture?.cleanup(['orders', 'legacy', 'nested'], stopEmbeddedPostgres);
  }, 120_000);

  it('refuses bad answers before anything is written, naming the parameter and the rule', async () => {
    const notInteger = await pave('init', 'node-http', join(work, 'orders'), '--set', 'port=abc');
    expect(notInteger.code).toBe(1);
    expect(notInteger.stderr).toContain('port: must be integer (type)');
    const noName = await pave('init', 'node-http', '--set', 'port=8080');
    expect(noName.code).toBe(1);
    expect(noName.stderr).toContain('name: is required (required)');
    const unknown = await pave('init', 'node-http', join(work, 'orders'), '--set', 'colour=blue');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--set colour: the template has no such parameter');
    expect(existsSync(join(work, 'orders'))).toBe(false);
    expect((await ok('apps', 'list', '-o', 'json')).stdout).not.toContain('orders');
  });

  it('lists the files and API calls with --dry-run, and does none of them', async () => {
    const result = await ok('init', 'node-http', join(work, 'orders'), '--dry-run');
    expect(result.stdout).toContain('Would write 8 files');
    expect(result.stdout).toContain('score.yaml');
    expect(result.stdout).toContain('POST /api/v1/templates/node-http/instantiate?version=1');
    expect(result.stdout).toContain('npm install --omit=dev');
    expect(existsSync(join(work, 'orders'))).toBe(false);
  });

  it('generates, commits, creates and deploys orders: its URL answers with rows from its database', async () => {
    // The template's prepare step installs `pg` unless node_modules exists: link the repository's (it has
    // pg), so the test needs no registry. pave init refuses a non-empty directory without --force.
    const dir = join(work, 'orders');
    mkdirSync(dir, { mode: 0o755 });
    symlinkSync(NODE_MODULES, join(dir, 'node_modules'));
    const refused = await pave('init', 'node-http', dir, '--set', 'port=8080');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is not empty');

    const result = await ok('init', 'node-http', dir, '--set', 'port=8080', '--force');
    for (const file of [
      'score.yaml',
      'server.js',
      'package.json',
      'README.md',
      '.gitignore',
      'src/handler.js',
    ]) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }
    expect(readFileSync(join(dir, 'score.yaml'), 'utf8')).toContain('port: 8080');
    // One commit, by Pave since git has no identity here; node_modules is ignored, not committed.
    const log = execFileSync('git', ['log', '--format=%an <%ae>|%s'], {
      cwd: dir,
      env: { ...process.env, ...NO_GIT_IDENTITY },
    })
      .toString()
      .trim();
    expect(log).toBe('Pave <pave@localhost>|Generated from template node-http version 1 by pave init');
    const tracked = execFileSync('git', ['ls-files'], { cwd: dir }).toString();
    expect(tracked).not.toContain('node_modules');

    const app = JSON.parse((await ok('apps', 'get', 'orders', '-o', 'json')).stdout);
    expect(app.environments.map((e: { id: string }) => e.id)).toEqual(['dev']);
    const deployments = JSON.parse(
      (await ok('deployments', 'list', '--app', 'orders', '--env', 'dev', '-o', 'json')).stdout,
    );
    expect(deployments.items[0].status).toBe('succeeded');

    const url = /Your app is served at (\S+)/.exec(result.stdout)?.[1];
    expect(url, result.stdout).toMatch(/^http:\/\/api\.dev\.orders\.localhost:\d+\/$/);
    expect((await viaUrl(server.url, url!, 'POST', '/rows', JSON.stringify({ value: 'first' }))).status).toBe(
      201,
    );
    const rows = await viaUrl(server.url, url!, 'GET', '/rows');
    expect(JSON.parse(rows.body)).toEqual([{ id: 1, value: 'first' }]);

    // The generated project's own tests pass (they need no database).
    const test = execFileSync('npm', ['test'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(test).toMatch(/# pass 3/);
    expect(test).toMatch(/# fail 0/);
  }, 180_000);

  it('keeps the first version of a template instantiable after a second is applied', async () => {
    const changed = join(work, 'node-http-v2');
    cpSync(NODE_HTTP, changed, { recursive: true });
    writeFileSync(join(changed, 'files', 'README.md'), '# {{ name }}\n\nVersion two of the template.\n');
    expect((await ok('templates', 'apply', '-f', changed)).stdout).toContain(
      'Template node-http updated: version 2.',
    );
    expect((await ok('templates', 'apply', '-f', changed)).stdout).toContain('is unchanged (version 2)');

    const dir = join(work, 'legacy');
    await ok('init', 'node-http', dir, '--version', '1', '--no-deploy');
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).not.toContain('Version two');
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('# legacy');
    const latest = await ok('init', 'node-http', join(work, 'newer'), '--dry-run', '-o', 'json');
    expect(JSON.parse(latest.stdout).template).toEqual({ id: 'node-http', version: 2 });
    const get = JSON.parse(
      (await ok('templates', 'get', 'node-http', '--version', '1', '-o', 'json')).stdout,
    );
    expect(get.version).toBe(1);
  });

  it('inside a repository (a checkout, as in the README) commits nothing there; rm -rf and apps delete undo it', async () => {
    mkdirSync(join(work, 'checkout'));
    const checkout = realpathSync(join(work, 'checkout'));
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: checkout, env: { ...process.env, ...NO_GIT_IDENTITY } })
        .toString()
        .trim();
    git('init', '-q');
    git(
      '-c',
      'user.name=t',
      '-c',
      'user.email=t@example.com',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'start',
    );
    const head = git('rev-parse', 'HEAD');
    const dir = join(checkout, 'nested');

    const dryRun = await ok('init', 'node-http', dir, '--no-deploy', '--dry-run');
    expect(dryRun.stdout).not.toMatch(/^ {2}git /mu);
    expect(dryRun.stdout).toContain(
      `${dir} is inside the git repository at ${checkout}: would not create one; commit it there yourself`,
    );
    const result = await ok('init', 'node-http', dir, '--no-deploy');
    expect(result.stdout).toContain(
      `${dir} is inside the git repository at ${checkout}: not creating one; commit it there yourself`,
    );
    expect(git('rev-parse', 'HEAD')).toBe(head);
    expect(existsSync(join(dir, '.git'))).toBe(false);
    expect(git('status', '--porcelain')).toBe('?? nested/');

    await ok('apps', 'delete', 'nested', '--force');
    rmSync(dir, { recursive: true });
    expect(git('status', '--porcelain')).toBe('');
    expect(git('rev-parse', 'HEAD')).toBe(head);
    expect((await ok('apps', 'list', '-o', 'json')).stdout).not.toContain('"nested"');
  });

  it('points at the template file and line when a template names an undefined variable', async () => {
    const broken = join(work, 'broken');
    cpSync(NODE_HTTP, broken, { recursive: true });
    writeFileSync(join(broken, 'files', 'server.js'), '// {{ name }}\nconst port = {{ prot }};\n');
    const result = await pave('templates', 'apply', '-f', broken, '--dry-run');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${join(broken, 'files', 'server.js')}:2:14: {{ prot }} is undefined`);
  });

  it('points at template.yaml, line and column, when its parameters are not a valid JSON Schema', async () => {
    const broken = join(work, 'bad-schema');
    cpSync(NODE_HTTP, broken, { recursive: true });
    const yamlFile = join(broken, 'template.yaml');
    const lines = readFileSync(yamlFile, 'utf8').split('\n');
    const at = lines.findIndex((line) => /^\s+type: integer\s*$/.test(line));
    expect(at, 'the port parameter of node-http').toBeGreaterThan(0);
    lines[at] = lines[at]!.replace('integer', 'integr');
    writeFileSync(yamlFile, lines.join('\n'));
    const result = await pave('templates', 'apply', '-f', broken, '--dry-run');
    expect(result.code).toBe(1);
    const column = lines[at]!.indexOf('integr') + 1;
    expect(result.stderr).toContain(`${yamlFile}:${at + 1}:${column}: /parameters/properties/port/type:`);
  });
});
