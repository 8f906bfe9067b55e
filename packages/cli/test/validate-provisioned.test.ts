import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from '../../server/test/support/deploying-api.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { fakeIo, temporaryDir } from './helpers.ts';

// `pave validate --app --env` answers what `pave deploy` does with a resource already provisioned there: a
// deployment keeps it on the definition stored with it instead of matching it again.

// The resource `dns` is on line 9, column 3.
const SCORE = `apiVersion: score.dev/v1b1
metadata:
  name: web
containers:
  main:
    image: nginx
    command: ['nginx']
resources:
  dns:
    type: dns
`;

const SPEC = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'web' },
  containers: { main: { image: 'nginx', command: ['nginx'] } },
  resources: { dns: { type: 'dns' } },
};

/** A static dns definition `id` matching `criterion`, answering with `host`. */
const dnsDefinition = (id: string, criterion: Record<string, string>, host: string) => ({
  id,
  type: 'dns',
  driver: 'static',
  driverInputs: { values: { host } },
  criteria: [criterion],
});

// The same workload with a bucket, a type Pave ships no definition of; the resource is on line 9, column 3.
const BUCKET_SCORE = SCORE.replace('  dns:\n    type: dns', '  files:\n    type: bucket');
const BUCKET_SPEC = { ...SPEC, resources: { files: { type: 'bucket' } } };
const bucketDefinition = (criterion: Record<string, string>) => ({
  id: 'bucket-shop',
  type: 'bucket',
  driver: 'static',
  driverInputs: { values: { name: 'shop-files' } },
  criteria: [criterion],
});

describe.each(storeEngines)('pave validate --app --env of a provisioned resource on %s', (engine) => {
  let api: DeployingApi;
  let server: string;
  const pave = async (...args: string[]) => paveAs(api.token, ...args);
  const paveAs = async (token: string, ...args: string[]) => {
    const io = fakeIo();
    const code = await runCli(['node', 'pave', ...args, '--server', server, '--token', token], io);
    return { code, stdout: io.stdout.text, stderr: io.stderr.text };
  };
  const ok = async (method: 'POST' | 'DELETE', url: string, body?: object) => {
    const response = await api.call(method, url, body);
    expect(response.statusCode, response.body).toBeLessThan(300);
  };
  // Written in each test: a test's temporary directories are removed after it.
  const scoreFile = (text = SCORE) => {
    const file = join(temporaryDir(), 'score.yaml');
    writeFileSync(file, text);
    return file;
  };
  const deploy = (env: string, spec: object = SPEC) =>
    api.deploy('shop', env, { workloads: [{ spec, dir: '/srv/shop' }] });

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
    await ok('POST', '/apps', { id: 'shop' });
    for (const env of ['dev', 'qa', 'ci'])
      await ok('POST', '/apps/shop/envs', { id: env, type: 'development' });
    await ok('POST', '/resource-definitions/apply', {
      definitions: [
        dnsDefinition('dns-shop', { appId: 'shop' }, 'shop.example.test'),
        dnsDefinition('dns-shop-dev', { appId: 'shop', envId: 'dev' }, 'dev.example.test'),
        dnsDefinition('dns-shop-qa', { appId: 'shop', envId: 'qa' }, 'qa.example.test'),
        bucketDefinition({ appId: 'shop', envId: 'ci' }),
      ],
    });
    for (const [env, spec] of [
      ['dev', SPEC],
      ['qa', SPEC],
      ['ci', BUCKET_SPEC],
    ] as const) {
      const deployed = await deploy(env, spec);
      expect(deployed.status, JSON.stringify(deployed)).toBe('succeeded');
    }
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('accepts a resource that stays on its definition after the match moved to another, as deploy does', async () => {
    // qa's resource was provisioned by dns-shop-qa; narrowed to another environment, dns-shop matches now.
    await ok('POST', '/resource-definitions/apply', {
      definitions: [dnsDefinition('dns-shop-qa', { appId: 'shop', envId: 'staging' }, 'qa.example.test')],
    });
    const redeployed = await deploy('qa');
    expect(redeployed.status, JSON.stringify(redeployed)).toBe('succeeded');
    const resource = (await api.call('GET', '/apps/shop/envs/qa/resources/web.dns')).json();
    expect(resource).toMatchObject({ definitionId: 'dns-shop-qa', values: { host: 'qa.example.test' } });
    expect(await pave('validate', '-f', scoreFile(), '--app', 'shop', '--env', 'qa')).toEqual({
      code: 0,
      stdout: '1 file valid\n',
      stderr: '',
    });
  });

  it('refuses a resource whose definition was deleted at its line, as deploy refuses it', async () => {
    // dev's resource was provisioned by dns-shop-dev; once it is deleted, dns-shop would match a new one.
    await ok('DELETE', '/resource-definitions/dns-shop-dev?force=true');
    const refused = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [{ spec: SPEC, dir: '/srv/shop' }],
    });
    expect(refused.statusCode).toBe(409);
    const reason = 'its resource definition "dns-shop-dev" no longer exists';
    expect(refused.json().errors).toMatchObject([
      { path: 'web.dns', message: expect.stringMatching(new RegExp(`^${escape(reason)}`)) },
    ]);

    const file = scoreFile();
    const result = await pave('validate', '-f', file, '--app', 'shop', '--env', 'dev');
    expect(result.stdout).toBe('');
    const [problem, summary, ...rest] = result.stderr.trimEnd().split('\n');
    expect(problem).toMatch(new RegExp(`^${escape(file)}:9:3: resources\\.dns\\.type: `));
    expect(problem).toContain(`web.dns in shop/dev: ${reason}`);
    expect(problem).toContain('`pave deploy` refuses it until then');
    expect(summary).toBe('pave: error: 1 problem in 1 of 1 file');
    expect(rest).toEqual([]);
    expect(result.code).toBe(1);
  });

  it('refuses a resource provisioned with another type at its line, as deploy refuses it', async () => {
    const retyped = SCORE.replace('type: dns', 'type: route');
    const refused = await api.call('POST', '/apps/shop/envs/qa/deployments', {
      workloads: [{ spec: { ...SPEC, resources: { dns: { type: 'route' } } }, dir: '/srv/shop' }],
    });
    expect(refused.statusCode).toBe(409);
    const reason = 'is a dns resource here, but the set declares it as route';
    expect(refused.body).toContain(`web.dns ${reason}`);

    const file = scoreFile(retyped);
    const result = await pave('validate', '-f', file, '--app', 'shop', '--env', 'qa');
    const [problem, summary] = result.stderr.trimEnd().split('\n');
    expect(problem).toMatch(new RegExp(`^${escape(file)}:9:3: resources\\.dns\\.type: `));
    expect(problem).toContain(`web.dns in shop/qa ${reason}`);
    expect(problem).toContain('`pave resources move`');
    expect(summary).toBe('pave: error: 1 problem in 1 of 1 file');
    expect(result.code).toBe(1);
  });

  it('accepts a provisioned resource no definition matches any more, as deploy keeps it on its stored one', async () => {
    // ci's bucket was provisioned by bucket-shop; narrowed to another environment, nothing matches it now.
    await ok('POST', '/resource-definitions/apply', {
      definitions: [bucketDefinition({ appId: 'shop', envId: 'staging' })],
    });
    const redeployed = await deploy('ci', BUCKET_SPEC);
    expect(redeployed.status, JSON.stringify(redeployed)).toBe('succeeded');
    const resource = (await api.call('GET', '/apps/shop/envs/ci/resources/web.files')).json();
    expect(resource).toMatchObject({ definitionId: 'bucket-shop' });

    expect(await pave('validate', '-f', scoreFile(BUCKET_SCORE), '--app', 'shop', '--env', 'ci')).toEqual({
      code: 0,
      stdout: '1 file valid\n',
      stderr: '',
    });
  });

  it('refuses a resource not provisioned yet that no definition matches, at its line', async () => {
    // The same bucket under another name is a new resource: it needs a definition that matches it.
    const renamed = BUCKET_SCORE.replace('  files:', '  assets:');
    const file = scoreFile(renamed);
    const result = await pave('validate', '-f', file, '--app', 'shop', '--env', 'ci');
    const [problem, summary] = result.stderr.trimEnd().split('\n');
    expect(problem).toMatch(
      new RegExp(
        `^${escape(file)}:9:3: resources\\.assets\\.type: no resource definition provisions type "bucket"`,
      ),
    );
    expect(summary).toBe('pave: error: 1 problem in 1 of 1 file');
    expect(result.code).toBe(1);
  });

  it('checks the runtime target and the resources for a developer of the app, who may not read targets', async () => {
    const token = await api.createUser('dana');
    await ok('POST', '/roles', { role: 'developer', user: 'dana', app: 'shop' });
    const file = scoreFile();
    const result = await paveAs(token, 'validate', '-f', file, '--app', 'shop', '--env', 'dev');
    expect(result.stdout).toBe('1 file valid\n');
    // The definitions are the platform's: the resource check is left to the server's plan, and it says so.
    expect(result.stderr).toBe(
      `${file}:9:3: resources: warning: cannot tell whether resource definitions provision this file's ` +
        'resources in shop/dev (reading definitions needs the definition.read permission, which platform ' +
        `engineers hold); \`pave deploy -f ${file} --app shop --env dev --plan\` checks them on the server\n`,
    );
    expect(result.code).toBe(0);
    // A mistyped environment is not found, not blamed on a missing role.
    const typo = await paveAs(token, 'validate', '-f', file, '--app', 'shop', '--env', 'typo');
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/^pave: error: .*typo.* not found/);
    expect(typo.stderr).not.toContain('needs a role');
    // The environment tells which target a deployment would use, to whoever may read the environment.
    const environment = await api.callAs(token, 'GET', '/apps/shop/envs/dev');
    expect(environment.json()).toMatchObject({ runtimeTarget: { id: 'local', type: 'process' } });
  });

  it('warns that it checked the resources as new ones when it cannot see the provisioned ones', async () => {
    // A platform engineer reads definitions and targets, but an app's resources only with a role in it.
    const token = await api.createUser('pat');
    await ok('POST', '/roles', { role: 'platform', user: 'pat' });
    const file = scoreFile();
    const result = await paveAs(token, 'validate', '-f', file, '--app', 'shop', '--env', 'dev');
    expect(result.stdout).toBe('1 file valid\n');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^${escape(file)}:9:3: resources: warning: cannot see which resources shop/dev has provisioned ` +
          '\\(that needs a role in app "shop"\\), so this file\'s resources were checked as new ones',
      ),
    );
    expect(lines[0]).toContain('ask an owner of the app for a role (viewer is enough)');
    expect(result.code).toBe(0);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
