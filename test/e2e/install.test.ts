import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { EnvironmentStatus } from '@pave/core';
import { stopEmbeddedPostgres } from '@pave/resource-postgres';
import { makeAppDir } from '../support/app-dir.ts';

/** The installable CLI `npm run build` packs (see scripts/build.mjs). */
const TARBALL = fileURLToPath(new URL('../../dist/pave-cli.tgz', import.meta.url));

/** A workload with no dependencies: it answers, and tells the test the database Pave gave it. */
const SERVER_JS = `require('node:http')
  .createServer((request, response) =>
    response.end(request.url === '/db' ? process.env.DATABASE_URL : 'hello from the installed pave'),
  )
  .listen(Number(process.env.PORT), '127.0.0.1');
`;
const SCORE_YAML = `apiVersion: score.dev/v1b1
metadata:
  name: api
service:
  ports:
    web:
      port: 8080
containers:
  main:
    image: node:20
    command: ['node', 'server.js']
    variables:
      DATABASE_URL: \${resources.db.url}
resources:
  db:
    type: postgres
`;

/** This process's environment without PAVE_* settings and with the npm of this Node.js. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PAVE_')));
  return { ...env, NO_COLOR: '1', ...extra };
}

describe('the CLI installs from its tarball and runs a control plane away from the checkout', () => {
  const prefix = mkdtempSync(join(tmpdir(), 'pave-install-'));
  const home = mkdtempSync(join(tmpdir(), 'pave-install-cwd-'));
  const dataDir = join(home, 'data');
  const pave = join(prefix, 'bin', 'pave');
  const appDir = makeAppDir('pave-install-app-');
  let server: ChildProcess | undefined;
  let serverOutput = '';
  let url = '';

  /** Runs the installed pave from the temp directory, as a user would, against the server it started. */
  const run = (...args: string[]) => {
    const result = spawnSync(pave, args, {
      cwd: home,
      encoding: 'utf8',
      env: cleanEnv({ PAVE_SERVER: url, PAVE_DATA_DIR: dataDir, PAVE_CONFIG: join(home, 'config.json') }),
      timeout: 120_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  beforeAll(() => {
    expect(existsSync(TARBALL), `${TARBALL} is missing: run \`npm run build\` first`).toBe(true);
    const started = Date.now();
    const install = spawnSync(
      'npm',
      ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', TARBALL],
      { cwd: home, encoding: 'utf8', env: cleanEnv() },
    );
    expect(install.status, install.stderr).toBe(0);
    console.log(`npm install -g of the CLI took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    writeFileSync(join(appDir, 'server.js'), SERVER_JS);
    writeFileSync(join(appDir, 'score.yaml'), SCORE_YAML);
  }, 600_000);

  afterAll(async () => {
    if (url) run('apps', 'delete', 'shop', '--force');
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server?.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await stopEmbeddedPostgres(dataDir).catch(() => undefined);
    for (const dir of [prefix, home, appDir]) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('prints its version', () => {
    const result = run('--version');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('validates a Score file, and keeps the Score parser code cache where it is installed', () => {
    const parser = join(prefix, 'lib', 'node_modules', '@pave', 'cli', 'dist', 'score-parser.cjs');
    expect(existsSync(parser)).toBe(true);
    expect(
      existsSync(`${parser}.cache`),
      'the tarball carries no code cache: it names the build directory',
    ).toBe(false);
    const result = run('validate', '-f', join(appDir, 'score.yaml'));
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('1 file valid');
    expect(
      readFileSync(`${parser}.cache`)
        .subarray(0, parser.length + 1)
        .toString(),
    ).toBe(`${parser}\n`);
  });

  it('pave up serves the API and the portal', async () => {
    server = spawn(pave, ['up', '--port', '0', '--data-dir', dataDir], {
      cwd: home,
      // The embedded Postgres is PGlite, the engine whose WebAssembly files the bundle carries.
      env: cleanEnv({ PAVE_EMBEDDED_POSTGRES: 'pglite' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout?.on('data', (chunk: Buffer) => (serverOutput += chunk.toString()));
    server.stderr?.on('data', (chunk: Buffer) => (serverOutput += chunk.toString()));
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pave up did not start:\n${serverOutput}`)), 30_000);
      server?.stdout?.on('data', () => {
        const match = /"url":"(http:\/\/[^"]+)"/.exec(serverOutput);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      server?.once('exit', (code) => reject(new Error(`pave up exited (${code}):\n${serverOutput}`)));
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${url}/`)).text()).toContain('<title>Pave</title>');
  }, 40_000);

  it('deploys a workload with an embedded postgres; the workload answers and its database takes queries', async () => {
    expect(run('apps', 'create', 'shop').code).toBe(0);
    expect(run('envs', 'create', 'dev', '--app', 'shop', '--type', 'development').code).toBe(0);
    expect(run('env-types', 'update', 'development', '--min-ready', '1s').code).toBe(0);
    const deploy = run('deploy', '-f', join(appDir, 'score.yaml'), '--app', 'shop', '--env', 'dev', '--wait');
    expect(deploy.code, `${deploy.stderr}${deploy.stdout}\n${serverOutput}`).toBe(0);
    const status = run('status', '--app', 'shop', '--env', 'dev', '-o', 'json');
    const workload = (JSON.parse(status.stdout) as EnvironmentStatus).workloads[0];
    const workloadUrl = workload?.urls[0] ?? 'http://127.0.0.1:1';
    expect(await (await fetch(workloadUrl)).text()).toBe('hello from the installed pave');
    const db = new pg.Client({ connectionString: await (await fetch(`${workloadUrl}/db`)).text() });
    await db.connect();
    try {
      expect((await db.query('select 40 + 2 as answer')).rows).toEqual([{ answer: 42 }]);
    } finally {
      await db.end();
    }
  }, 240_000);
});
