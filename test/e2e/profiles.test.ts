import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { makeAppDir } from '../support/app-dir.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';

const SCORE = [
  'apiVersion: score.dev/v1b1',
  'metadata:',
  '  name: api',
  'containers:',
  '  main:',
  '    image: registry.example.com/shop/api:1.0.0',
  "    command: ['node', '-e', 'setInterval(() => {}, 1000)']",
  '',
].join('\n');

// The example of docs/profiles.md.
const PROFILES = `- id: prod-hardening
  criteria: [{ envType: production }]
  patches:
    - target: { kind: Deployment }
      ops:
        - { op: add, path: /spec/replicas, value: 3 }
        - { op: add, path: /spec/template/spec/securityContext, value: { runAsNonRoot: true } }
`;

type Manifest = {
  kind: string;
  spec?: { replicas?: number; template?: { spec?: { securityContext?: object } } };
};

describe('workload profiles through the real CLI and server', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let appDir: string;
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));
  const path = (name: string) => join(appDir, name);
  const ok = async (...args: string[]) => {
    const result = await pave(...args);
    expect(result.code, `pave ${args.join(' ')}: ${result.stderr}${result.stdout}`).toBe(0);
    return result;
  };
  const deployment = (yaml: string) =>
    parseAllDocuments(yaml)
      .map((document) => document.toJSON() as Manifest)
      .find((object) => object.kind === 'Deployment');

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
    await shortenStabilityWindow(server.url, location.dataDir);
    appDir = makeAppDir('pave-profiles-');
    writeFileSync(path('score.yaml'), SCORE);
    writeFileSync(path('profiles.yaml'), PROFILES);
    writeFileSync(
      path('broken.yaml'),
      PROFILES.replace(
        '{ op: add, path: /spec/template/spec/securityContext',
        '{ op: replace, path: /spec/template/spec/securityContext',
      ),
    );
    // Production environments render for a kubernetes target (created once both run their set locally).
    writeFileSync(
      path('targets.yaml'),
      '- id: cluster\n  type: kubernetes\n  criteria:\n    - envType: production\n',
    );
    await ok('apps', 'create', 'shop');
    await ok('envs', 'create', 'dev', '--app', 'shop', '--type', 'development');
    await ok('envs', 'create', 'prod', '--app', 'shop', '--type', 'production');
    for (const env of ['dev', 'prod']) {
      await ok('deploy', '-f', path('score.yaml'), '--app', 'shop', '--env', env, '--wait');
    }
    await ok('targets', 'apply', '-f', path('targets.yaml'), '--yes');
  });
  afterAll(async () => {
    await pave('apps', 'delete', 'shop', '--force');
    await server?.stop();
    await location?.cleanup();
    rmSync(appDir, { recursive: true, force: true });
  });

  it('applies a profile that pave render shows for production and not for development', async () => {
    const applied = await ok('profiles', 'apply', '-f', path('profiles.yaml'));
    expect(applied.stdout).toContain('create    prod-hardening');
    expect((await ok('profiles', 'apply', '-f', path('profiles.yaml'))).stdout).toContain('No changes');
    const match = JSON.parse(
      (await ok('profiles', 'match', '--app', 'shop', '--env', 'prod', '-o', 'json')).stdout,
    );
    expect(match.matches.map((m: { id: string }) => m.id)).toEqual(['prod-hardening']);
    expect((await ok('profiles', 'list')).stdout).toMatch(/prod-hardening\s+envType=production\s+1\s+0\s+1/u);

    const prod = await ok('render', '--app', 'shop', '--env', 'prod');
    expect(deployment(prod.stdout)?.spec).toMatchObject({
      replicas: 3,
      template: { spec: { securityContext: { runAsNonRoot: true } } },
    });
    const dev = await ok('render', '--app', 'shop', '--env', 'dev', '--target', 'cluster');
    expect(deployment(dev.stdout)?.spec?.replicas).toBe(1);
    expect(dev.stdout).not.toContain('runAsNonRoot');
  });

  it('refuses a patch that cannot apply at profiles apply, naming the profile, patch, operation and path', async () => {
    const refused = await pave('profiles', 'apply', '-f', path('broken.yaml'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `${path('broken.yaml')}:7:32: prod-hardening.patches[0].ops[1].path: profile prod-hardening, patch 0, ` +
        'operation 1 (replace /spec/template/spec/securityContext): the path does not exist',
    );
    expect(refused.stderr).toContain('nothing was sent');
  });
});
