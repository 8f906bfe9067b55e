import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';

// A workload whose container names an image and no command: docker and kubernetes run it, the process
// runtime cannot. The container's key `main` is on line 5, column 3.
const IMAGE_ONLY = `apiVersion: score.dev/v1b1
metadata:
  name: web
containers:
  main:
    image: nginx:1.27
`;

/** What both `pave validate` and `pave deploy` say about it, and how to fix it. */
const REASON =
  'has no "command", and the process runtime runs commands on this host, not images ("nginx:1.27"): give it a ' +
  '"command" in the Score file, e.g. ["node", "server.js"] (paths are relative to the Score file\'s directory), ' +
  'or deploy it to a docker or kubernetes target to run the image';

describe('pave validate knows the runtime target of --app/--env', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let dir: string;
  let file: string;
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
    dir = mkdtempSync(join(tmpdir(), 'pave-validate-'));
    file = join(dir, 'score.yaml');
    writeFileSync(file, IMAGE_ONLY);
    // Staging environments run on a docker target (its engine is never asked: validate only reads its type).
    const targets = join(dir, 'targets.yaml');
    writeFileSync(targets, '- id: containers\n  type: docker\n  criteria:\n    - envType: staging\n');
    for (const args of [
      ['targets', 'apply', '-f', targets, '--yes'],
      ['apps', 'create', 'shop'],
      ['envs', 'create', 'dev', '--app', 'shop', '--type', 'development'],
      ['envs', 'create', 'stage', '--app', 'shop', '--type', 'staging'],
    ]) {
      const result = await pave(...args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    }
  });
  afterAll(async () => {
    await server?.stop();
    await location?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('warns about a container without command when validating the file alone, and exits 0', async () => {
    const result = await runPave(['validate', '-f', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('1 file valid\n');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^${escape(file)}:5:3: containers\\.main: warning: container "main" of workload "web" has no "command"`,
      ),
    );
    expect(lines[0]).toContain(REASON);
    expect(lines[0]).toContain('pass --app and --env');
  });

  it('refuses it, exiting 1, for an environment on the process runtime', async () => {
    const result = await pave('validate', '-f', file, '--app', 'shop', '--env', 'dev');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const [problem, summary] = result.stderr.trimEnd().split('\n');
    expect(problem).toMatch(
      new RegExp(
        `^${escape(file)}:5:3: containers\\.main: container "main" of workload "web" has no "command"`,
      ),
    );
    expect(problem).toContain(REASON);
    expect(problem).toContain('(shop/dev runs on the process runtime target "local")');
    expect(problem).not.toContain('warning');
    expect(summary).toBe('pave: error: 1 problem in 1 of 1 file');
  });

  it('says the same as pave deploy, which refuses the workload on that environment', async () => {
    const deploy = await pave('deploy', '-f', file, '--app', 'shop', '--env', 'dev');
    expect(deploy.code).not.toBe(0);
    expect(deploy.stderr).toContain(REASON);
  });

  it('accepts it, with no warning, for an environment on a docker target', async () => {
    const result = await pave('validate', '-f', file, '--app', 'shop', '--env', 'stage');
    expect(result).toEqual({ code: 0, stdout: '1 file valid\n', stderr: '' });
  });

  it('reports the target and the error with -o json, and the same data with -o yaml', async () => {
    const args = ['validate', '-f', file, '--app', 'shop', '--env', 'dev'];
    const json = await pave(...args, '-o', 'json');
    const yaml = await pave(...args, '-o', 'yaml');
    expect(json.code).toBe(1);
    expect(yaml.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report.target).toEqual({ id: 'local', type: 'process' });
    expect(report.files[0]).toMatchObject({ file, valid: false, warnings: [] });
    expect(report.files[0].problems).toEqual([
      expect.objectContaining({ file, line: 5, column: 3, path: 'containers.main' }),
    ]);
    expect(parse(yaml.stdout)).toEqual(report);
  });

  it('refuses a resource type no definition provisions in the environment, at its line, as pave deploy would', async () => {
    const withResources = join(dir, 'resources.yaml');
    writeFileSync(
      withResources,
      [
        'apiVersion: score.dev/v1b1',
        'metadata:',
        '  name: api',
        'containers:',
        '  main:',
        '    image: node:20',
        "    command: ['node', 'server.js']",
        'resources:',
        '  db:',
        '    type: postgres',
        '  env:',
        '    type: environment',
        '  events:',
        '    type: kafka-topic',
        '',
      ].join('\n'),
    );
    const result = await pave('validate', '-f', withResources, '--app', 'shop', '--env', 'dev');
    expect(result.code).toBe(1);
    const [problem, summary] = result.stderr.trimEnd().split('\n');
    expect(problem).toBe(
      `${withResources}:13:3: resources.events.type: no resource definition provisions type "kafka-topic" ` +
        '(class "default") in shop/dev, so `pave deploy` would refuse it; `pave defs match --app shop --env dev ' +
        '--type kafka-topic` says why none matches (a platform engineer adds one)',
    );
    expect(summary).toContain('1 problem in 1 of 1 file');
    // Checked without --app/--env, the file alone is valid: definitions belong to environments.
    expect((await runPave(['validate', '-f', withResources])).code).toBe(0);
  });

  it('needs --app and --env together, saying which is missing', async () => {
    const result = await pave('validate', '-f', file, '--app', 'shop');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--app needs --env');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
