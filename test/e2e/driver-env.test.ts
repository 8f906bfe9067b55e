import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resource } from '@pave/core';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';

/*
 * `pave up --driver-env NAMES` (env PAVE_DRIVER_ENV) passes those variables of its environment on to the exec
 * and terraform resource drivers' commands (docs/terraform.md, plugins/resource-basic/README.md).
 */
describe('pave up --driver-env', () => {
  let dataDir: string;
  let work: string;
  let server: PaveProcess;
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, dataDir));
  const ok = async (...args: string[]) => {
    const result = await pave(...args);
    expect(result.code, `pave ${args.join(' ')}\n${result.stderr}${result.stdout}`).toBe(0);
    return result;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pave-driver-env-'));
    work = mkdtempSync(join(tmpdir(), 'pave-driver-env-work-'));
    // Exec commands run as the workload user when Pave is root: it must reach the script.
    chmodSync(work, 0o755);
    server = await startPave(['--data-dir', dataDir, '--driver-env', 'CLOUD_PROFILE'], {
      CLOUD_PROFILE: 'platform-team',
      CLOUD_SECRET: 'not-for-drivers',
    });
    await shortenStabilityWindow(server.url, dataDir);
  }, 60_000);
  afterAll(async () => {
    if (server) await pave('apps', 'delete', 'shop', '--force');
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('passes the named variables on to exec commands, and no others', async () => {
    const script = join(work, 'profile.sh');
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        'cat >/dev/null',
        'case "$PAVE_ACTION" in',
        '  create|update|read)',
        '    printf \'{"values":{"profile":"%s","secret":"%s"}}\' "${CLOUD_PROFILE-unset}" "${CLOUD_SECRET-unset}";;',
        'esac',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    writeFileSync(
      join(work, 'defs.yaml'),
      `- id: profiles\n  type: cloud-profile\n  driver: exec\n  driverInputs:\n    values:\n      command: ['${script}']\n`,
    );
    writeFileSync(
      join(work, 'api.score.yaml'),
      [
        'apiVersion: score.dev/v1b1',
        'metadata:',
        '  name: api',
        'containers:',
        '  main:',
        '    image: node:20',
        "    command: ['node', '-e', 'setInterval(() => {}, 1000)']",
        '    variables:',
        '      PROFILE: ${resources.cloud.profile}',
        'resources:',
        '  cloud:',
        '    type: cloud-profile',
        '',
      ].join('\n'),
    );
    await ok('defs', 'apply', '-f', join(work, 'defs.yaml'));
    await ok('apps', 'create', 'shop');
    await ok('envs', 'create', 'dev', '--app', 'shop', '--type', 'development');
    await ok('deploy', '-f', join(work, 'api.score.yaml'), '--app', 'shop', '--env', 'dev', '--wait');
    const { items } = JSON.parse(
      (await ok('resources', 'list', '--app', 'shop', '--env', 'dev', '-o', 'json')).stdout,
    ) as { items: Resource[] };
    expect(items.find((r) => r.address === 'api.cloud')?.values).toEqual({
      profile: 'platform-team',
      secret: 'unset',
    });
  }, 120_000);

  it('refuses a name that is not one of an environment variable, naming the flag, with exit 2', async () => {
    const result = await runPave(['up', '--data-dir', dataDir, '--driver-env', 'CLOUD-PROFILE']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--driver-env: not an environment variable name: "CLOUD-PROFILE"');
  });
});
