import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentPlan } from '@pave/core';
import { startServer, type RunningServer } from '@pave/server';
import { loadScoreFiles } from '../src/commands/deploy.ts';
import { runCli } from '../src/program.ts';
import { fakeIo, temporaryDir } from './helpers.ts';

const API = `apiVersion: score.dev/v1b1
metadata:
  name: api
containers:
  main:
    image: registry.example.com/orders/api:1
    command: [serve]
`;

const CONFIG = `apiVersion: v1
kind: ConfigMap
metadata:
  name: api-config
data:
  LEVEL: debug
`;

/** A checkout holding the orders app's Score file (and its manifests) in `dev/orders`. */
function checkout(): { root: string; project: string } {
  const root = temporaryDir();
  const project = join(root, 'dev', 'orders');
  mkdirSync(join(project, 'k8s'), { recursive: true });
  writeFileSync(join(project, 'score.yaml'), API);
  writeFileSync(join(project, 'k8s', 'config.yaml'), CONFIG);
  return { root, project };
}

/** Runs `fn` with `dir` as the working directory, as a person who typed the command there. */
async function inDir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const before = process.cwd();
  process.chdir(dir);
  try {
    return await fn();
  } finally {
    process.chdir(before);
  }
}

describe('pave deploy: the deployment set does not depend on how the Score file path was typed', () => {
  let dataDir: string;
  let server: RunningServer;
  let token: string;
  const pave = async (...args: string[]) => {
    const io = fakeIo();
    const code = await runCli(['node', 'pave', ...args, '--server', server.url, '--token', token], io);
    expect(code, io.stderr.text).toBe(0);
    return io.stdout.text;
  };
  const planned = async (cwd: string, ...files: string[]) => {
    const args = files.flatMap((file) => ['-f', file]);
    const out = await inDir(cwd, () =>
      pave('deploy', ...args, '--app', 'orders', '--env', 'dev', '--plan', '-o', 'json'),
    );
    return (JSON.parse(out) as DeploymentPlan).setId;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-cli-score-path-'));
    server = await startServer({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      env: {},
      logDestination: new PassThrough().resume(),
      // A plan runs nothing, so no workload is ever supervised.
      supervisorScript: '/nonexistent/process-supervisor.js',
      janitorIntervalMs: 3_600_000,
    });
    token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    await pave('apps', 'create', 'orders');
    await pave('envs', 'create', 'dev', '--app', 'orders', '--type', 'development');
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('plans one set for score.yaml, ./score.yaml, the path from the parent directory and the absolute path', async () => {
    const { root, project } = checkout();
    const sets = [
      await planned(project, 'score.yaml'),
      await planned(project, './score.yaml'),
      await planned(root, 'dev/orders/score.yaml'),
      await planned(root, './dev//orders/../orders/score.yaml'),
      await planned(tmpdir(), join(project, 'score.yaml')),
    ];
    expect(new Set(sets).size, sets.join('\n')).toBe(1);
  });

  it('gives a pushed artifact the set `pave deploy -f` plans for the same file, wherever CI pushed it from', async () => {
    const { root, project } = checkout();
    const pushed = await inDir(root, () =>
      pave(
        'artifacts',
        'push',
        '--app',
        'orders',
        '-f',
        'dev/orders/score.yaml',
        '--commit',
        '1f2e3d4',
        '-o',
        'json',
      ),
    );
    const artifact = (JSON.parse(pushed) as { id: string }).id;
    const fromArtifact = await pave(
      'deploy',
      '--artifact',
      artifact,
      '--app',
      'orders',
      '--env',
      'dev',
      '--plan',
      '-o',
      'json',
    );
    expect((JSON.parse(fromArtifact) as DeploymentPlan).setId).toBe(await planned(project, 'score.yaml'));
  });

  it('names the Score file and its manifests relative to its directory, whatever the working directory', async () => {
    const { root, project } = checkout();
    const fromProject = await loadScoreFiles(['./score.yaml'], project, {}, ['k8s']);
    const fromRoot = await loadScoreFiles(['dev/orders/score.yaml'], root, {}, ['dev/orders/k8s']);
    expect([fromProject.problems, fromRoot.problems]).toEqual([[], []]);
    expect(fromRoot.workloads).toEqual(fromProject.workloads);
    expect(fromRoot.workloads[0]).toMatchObject({
      dir: project,
      file: 'score.yaml',
      manifests: [{ file: 'k8s/config.yaml', document: 1 }],
    });
  });
});
