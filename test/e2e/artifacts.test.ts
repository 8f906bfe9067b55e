import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentDetail, PushedArtifact } from '@pave/core';
import { makeAppDir } from '../support/app-dir.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';

// A workload whose container runs the image CI built (`.`); the process runtime runs its command.
const score = (greeting: string) =>
  [
    'apiVersion: score.dev/v1b1',
    'metadata:',
    '  name: api',
    'containers:',
    '  main:',
    '    image: .',
    "    command: ['node', '-e', 'setInterval(() => {}, 1000)']",
    '    variables:',
    `      GREETING: ${greeting}`,
    '',
  ].join('\n');

describe('build artifacts and rules through the real CLI and server', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let appDir: string;
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));
  const file = () => join(appDir, 'api.score.yaml');

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
    await shortenStabilityWindow(server.url, location.dataDir);
    appDir = makeAppDir('pave-artifacts-');
    writeFileSync(file(), score('first'));
    expect((await pave('apps', 'create', 'shop')).code).toBe(0);
    expect((await pave('envs', 'create', 'dev', '--app', 'shop', '--type', 'development')).code).toBe(0);
  });
  afterAll(async () => {
    await pave('apps', 'delete', 'shop', '--force');
    await server?.stop();
    await location?.cleanup();
    rmSync(appDir, { recursive: true, force: true });
  });

  it('deploys a push on main at once through a dev rule, names its commit, and ignores feature branches', async () => {
    const rule = await pave(
      'rules',
      'create',
      '--app',
      'shop',
      '--env',
      'dev',
      '--branch',
      'main',
      '-o',
      'json',
    );
    expect(rule.code, rule.stderr).toBe(0);
    const ruleId = (JSON.parse(rule.stdout) as { id: string }).id;

    writeFileSync(file(), score('changed'));
    const commit = '1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c';
    const pushed = await pave(
      ...['artifacts', 'push', '--app', 'shop', '-f', file(), '--image', 'registry.test/shop/api:1f2e3d'],
      ...['--commit', commit, '--branch', 'main', '-o', 'json'],
    );
    const returnedAt = Date.now();
    expect(pushed.code, pushed.stderr).toBe(0);
    const artifact = JSON.parse(pushed.stdout) as PushedArtifact;
    expect(artifact).toMatchObject({ commit, branch: 'main', workloads: ['api'] });
    expect(artifact.triggered).toEqual([
      { ruleId, env: 'dev', deploymentId: expect.any(String), awaitsApproval: false, refused: null },
    ]);
    const deploymentId = artifact.triggered[0]!.deploymentId!;

    // The rule queued it in the push's request and poked the worker, which started it at once (the times
    // are the server's own, so spawning the CLI to poll adds nothing); then it succeeds.
    let detail: DeploymentDetail | undefined;
    for (let attempt = 0; attempt < 600; attempt++) {
      const shown = await pave(
        ...['deployments', 'get', deploymentId, '--app', 'shop', '--env', 'dev', '-o', 'json'],
      );
      expect(shown.code, shown.stderr).toBe(0);
      detail = JSON.parse(shown.stdout) as DeploymentDetail;
      if (detail.status === 'succeeded' || detail.status === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(detail).toMatchObject({
      status: 'succeeded',
      actor: `rule:${ruleId}`,
      commit,
      artifactId: artifact.id,
    });
    expect(Date.parse(detail!.createdAt)).toBeLessThanOrEqual(returnedAt);
    expect(Date.parse(detail!.startedAt!) - Date.parse(detail!.createdAt)).toBeLessThan(2_000);

    const table = await pave('deployments', 'get', deploymentId, '--app', 'shop', '--env', 'dev');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(commit);
    const listed = await pave('deployments', 'list', '--app', 'shop', '--env', 'dev');
    expect(listed.stdout).toMatch(
      new RegExp(`${deploymentId} +deploy +succeeded .*${commit.slice(0, 12)} +rule:${ruleId}`),
    );

    const feature = await pave(
      ...['artifacts', 'push', '--app', 'shop', '-f', file(), '--image', 'registry.test/shop/api:feat'],
      ...['--commit', 'abcdef1', '--branch', 'feature/x'],
    );
    expect(feature.code, feature.stderr).toBe(0);
    expect(feature.stdout).toContain('No rule matched it.');
    const after = await pave('deployments', 'list', '--app', 'shop', '--env', 'dev', '-o', 'json');
    expect((JSON.parse(after.stdout) as { items: unknown[] }).items).toHaveLength(1);

    const artifacts = await pave('artifacts', 'list', '--app', 'shop');
    expect(artifacts.code, artifacts.stderr).toBe(0);
    expect(artifacts.stdout).toMatch(/^ID +COMMIT +BRANCH +WORKLOADS +IMAGE +PUSHED +BY$/m);
    expect(artifacts.stdout).toMatch(/abcdef1 +feature\/x +api +registry\.test\/shop\/api:feat/);
    expect(artifacts.stdout).toContain(commit.slice(0, 12));
  });

  it('deploys an artifact by hand with --artifact, and refuses it together with -f naming both flags', async () => {
    const listed = await pave('artifacts', 'list', '--app', 'shop', '-o', 'json');
    const [newest] = (JSON.parse(listed.stdout) as { items: Array<{ id: string; commit: string }> }).items;
    const both = await pave(
      'deploy',
      '--artifact',
      newest!.id,
      '-f',
      file(),
      '--app',
      'shop',
      '--env',
      'dev',
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--artifact and -f/--file');
    const deployed = await pave(
      'deploy',
      '--artifact',
      newest!.id,
      '--app',
      'shop',
      '--env',
      'dev',
      '--wait',
    );
    expect(deployed.code, deployed.stderr + deployed.stdout).toBe(0);
    const list = await pave('deployments', 'list', '--app', 'shop', '--env', 'dev', '-o', 'json');
    expect((JSON.parse(list.stdout) as { items: Array<{ commit: string | null }> }).items[0]!.commit).toBe(
      newest!.commit,
    );
    const rules = await pave('rules', 'list', '--app', 'shop');
    expect(rules.stdout).toMatch(/dev +main +\(any\) +admin/);
  });

  it('pushes a Score file that mounts a file by `source`, inlined: deployed, the workload has it', async () => {
    writeFileSync(join(appDir, 'conf.txt'), 'greeting=from the source file\n');
    const withSource = join(appDir, 'sourced.score.yaml');
    writeFileSync(
      withSource,
      `${score('sourced')}    files:\n      - target: /etc/app/conf.txt\n        source: conf.txt\n`,
    );
    const pushed = await pave(
      ...['artifacts', 'push', '--app', 'shop', '-f', withSource, '--image', 'registry.test/shop/api:src'],
      ...['--commit', '5ca1ab1e', '--branch', 'feature/source', '-o', 'json'],
    );
    expect(pushed.code, pushed.stderr).toBe(0);
    const { id } = JSON.parse(pushed.stdout) as PushedArtifact;
    const deployed = await pave('deploy', '--artifact', id, '--app', 'shop', '--env', 'dev', '--wait');
    expect(deployed.code, deployed.stderr + deployed.stdout).toBe(0);
    // The process runtime writes a container's files under its files directory, at their target path.
    const written = join(location.dataDir, 'runtime/process/shop/dev/api/files/main/etc/app/conf.txt');
    expect(readFileSync(written, 'utf8')).toBe('greeting=from the source file\n');
  });
});
