import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentDetail } from '@pave/core';
import { makeAppDir } from '../support/app-dir.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';

const score = (image: string) =>
  [
    'apiVersion: score.dev/v1b1',
    'metadata:',
    '  name: api',
    'containers:',
    '  main:',
    `    image: ${image}`,
    "    command: ['node', '-e', 'setInterval(() => {}, 1000)']",
    '',
  ].join('\n');

const POLICIES = [
  '- id: no-latest-images',
  '  criteria:',
  '    - envType: production',
  '  severity: deny',
  '  message: pin container images to a tag or digest other than latest',
  '  each: container',
  '  rule: container.image.contains("@") || (container.image.matches(":[^/:]+$") && !container.image.endsWith(":latest"))',
  '',
].join('\n');

const freeze = () => {
  const hour = 3_600_000;
  return [
    '- id: release-freeze',
    '  criteria:',
    '    - envType: production',
    '  severity: deny',
    '  message: production is frozen for the release',
    '  freeze:',
    `    from: "${new Date(Date.now() - hour).toISOString()}"`,
    `    to: "${new Date(Date.now() + hour).toISOString()}"`,
    '',
  ].join('\n');
};

describe('policies through the real CLI and server', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let appDir: string;
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));
  const path = (name: string) => join(appDir, name);

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
    await shortenStabilityWindow(server.url, location.dataDir);
    appDir = makeAppDir('pave-policies-');
    writeFileSync(path('latest.score.yaml'), score('nginx:latest'));
    writeFileSync(path('pinned.score.yaml'), score('nginx:1.27'));
    writeFileSync(path('policies.yaml'), POLICIES);
    expect((await pave('apps', 'create', 'shop')).code).toBe(0);
    expect((await pave('envs', 'create', 'dev', '--app', 'shop', '--type', 'development')).code).toBe(0);
    expect((await pave('envs', 'create', 'prod', '--app', 'shop', '--type', 'production')).code).toBe(0);
  });
  afterAll(async () => {
    await pave('apps', 'delete', 'shop', '--force');
    await server?.stop();
    await location?.cleanup();
    rmSync(appDir, { recursive: true, force: true });
  });

  it('refuses :latest in production at plan and deploy, deploys it to dev, and `policies test` agrees offline', async () => {
    const applied = await pave('policies', 'apply', '-f', path('policies.yaml'));
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('create    no-latest-images');
    expect((await pave('policies', 'apply', '-f', path('policies.yaml'))).stdout).toContain('No changes');

    const target = ['--app', 'shop', '--env', 'prod'];
    for (const plan of [['--plan'], []]) {
      const refused = await pave('deploy', '-f', path('latest.score.yaml'), ...target, ...plan);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        '  - policies/no-latest-images: no-latest-images: pin container images to a tag or digest other than latest (workload api, container main)',
      );
    }
    const planned = await pave('deploy', '-f', path('pinned.score.yaml'), ...target, '--plan');
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toMatch(/no-latest-images\s+pass\s+pin container images/);
    const dev = await pave(
      'deploy',
      '-f',
      path('latest.score.yaml'),
      '--app',
      'shop',
      '--env',
      'dev',
      '--wait',
    );
    expect(dev.code, dev.stderr).toBe(0);

    // Offline, without the server: the same verdicts.
    const offline = await runPave([
      'policies',
      'test',
      '-f',
      path('policies.yaml'),
      '-f',
      path('latest.score.yaml'),
      '--env-type',
      'production',
      '-o',
      'json',
    ]);
    expect(offline.code).toBe(1);
    expect(JSON.parse(offline.stdout).verdicts).toEqual([
      {
        policy: 'no-latest-images',
        severity: 'deny',
        outcome: 'deny',
        message: 'pin container images to a tag or digest other than latest',
        workload: 'api',
        container: 'main',
      },
    ]);
    const devOffline = await runPave([
      'policies',
      'test',
      '-f',
      path('policies.yaml'),
      '-f',
      path('latest.score.yaml'),
      '--env-type',
      'development',
    ]);
    expect(devOffline.code, devOffline.stderr).toBe(0);
  });

  it('freezes production; an admin overrides it with a reason, recorded on the deployment', async () => {
    writeFileSync(path('freeze.yaml'), freeze());
    expect((await pave('policies', 'apply', '-f', path('freeze.yaml'))).code).toBe(0);
    const target = ['-f', path('pinned.score.yaml'), '--app', 'shop', '--env', 'prod'];
    const frozen = await pave('deploy', ...target);
    expect(frozen.code).toBe(1);
    expect(frozen.stderr).toContain('release-freeze: production is frozen for the release (frozen from');

    const noReason = await pave('deploy', ...target, '--override-policy', 'release-freeze');
    expect(noReason.code).toBe(2);
    const overridden = await pave(
      'deploy',
      ...target,
      '--override-policy',
      'release-freeze',
      '--reason',
      'hotfix for INC-42',
      '--wait',
      '-o',
      'json',
    );
    expect(overridden.code, overridden.stderr).toBe(0);
    const listed = await pave('deployments', 'list', '--app', 'shop', '--env', 'prod', '-o', 'json');
    const [latest] = JSON.parse(listed.stdout).items as DeploymentDetail[];
    expect(latest!.policyOverrides).toEqual([
      { id: 'release-freeze', reason: 'hotfix for INC-42', by: 'admin' },
    ]);
    const audit = await pave('audit', '--app', 'shop', '-o', 'json');
    expect(audit.stdout).toContain('deployment.policy-override');
  });
});
