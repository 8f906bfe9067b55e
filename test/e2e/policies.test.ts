import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentDetail } from '@pave/core';
import { makeAppDir } from '../support/app-dir.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { createTestStoreLocation, storeEngines, type TestStoreLocation } from '../support/stores.ts';

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

const GATE = [
  '- id: staging-first',
  '  criteria:',
  '    - envType: production',
  '  severity: deny',
  '  message: deploy it to staging first',
  '  promotionGate:',
  '    from: staging',
  '    within: 7d',
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

describe.each(storeEngines)('policies through the real CLI and server on %s', (engine) => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let appDir: string;
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));
  const path = (name: string) => join(appDir, name);

  beforeAll(async () => {
    location = await createTestStoreLocation(engine);
    server = await startPave([
      '--data-dir',
      location.dataDir,
      ...(location.url ? ['--store', location.url] : []),
    ]);
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

  it('lets into production only a set that succeeded in staging: the same set, not one variable apart', async () => {
    const gated = (greeting: string) => `${score('nginx:1.27')}    variables:\n      GREETING: ${greeting}\n`;
    writeFileSync(path('gate.yaml'), GATE);
    writeFileSync(path('hello.score.yaml'), gated('hello'));
    writeFileSync(path('howdy.score.yaml'), gated('howdy'));
    expect((await pave('policies', 'apply', '-f', path('gate.yaml'))).code).toBe(0);
    expect((await pave('envs', 'create', 'staging', '--app', 'shop', '--type', 'staging')).code).toBe(0);
    const into = (env: string, file: string) =>
      pave('deploy', '-f', path(file), '--app', 'shop', '--env', env, '--wait');

    const untried = await into('prod', 'hello.score.yaml');
    expect(untried.code).toBe(1);
    expect(untried.stderr).toContain('staging-first: deploy it to staging first');
    const staged = await into('staging', 'hello.score.yaml');
    expect(staged.code, staged.stderr).toBe(0);
    const promoted = await into('prod', 'hello.score.yaml');
    expect(promoted.code, promoted.stderr).toBe(0);
    const changed = await into('prod', 'howdy.score.yaml');
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain('staging-first');
    expect((await pave('policies', 'delete', 'staging-first')).code).toBe(0);
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
