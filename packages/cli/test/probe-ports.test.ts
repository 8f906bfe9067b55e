import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '@pave/core';
import { runCli } from '../src/program.ts';
import { checkSetRenders } from '../../server/src/domain/deployments/render.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from '../../server/test/support/deploying-api.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { fakeIo, temporaryDir } from './helpers.ts';

// A probe of a port that is not in service.ports cannot be rendered: `pave validate` and `pave deploy --plan`
// say so before anything is deployed, as the deployment's render would, and `pave deploy` says it once.

// The probe's port is on line 11, column 15.
const SCORE = `apiVersion: score.dev/v1b1
metadata:
  name: api
containers:
  main:
    image: node
    command: ['node', 'server.js']
    readinessProbe:
      httpGet:
        path: /healthz
        port: 8080
service:
  ports:
    web:
      port: 80
      targetPort: 3000
`;

const SPEC = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: {
    main: {
      image: 'node',
      command: ['node', 'server.js'],
      readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
    },
  },
  service: { ports: { web: { port: 80, targetPort: 3000 } } },
};

/** What the deployment's render says, without the file and path before it. */
const RENDER_SAYS =
  'port 8080 is not a port of service.ports; declare it there so Pave can map it to a host port, or probe a ' +
  'declared one (workload "api" declares web: port 80, targetPort 3000)';

describe.each(storeEngines)('a readiness probe of a port service.ports lacks, on %s', (engine) => {
  let api: DeployingApi;
  let server: string;
  const pave = async (...args: string[]) => {
    const io = fakeIo();
    const code = await runCli(['node', 'pave', ...args, '--server', server, '--token', api.token], io);
    return { code, stdout: io.stdout.text, stderr: io.stderr.text };
  };
  const scoreFile = () => {
    const file = join(temporaryDir(), 'api.score.yaml');
    writeFileSync(file, SCORE);
    return file;
  };
  const problemLine = (file: string) =>
    `${file}:11:15: containers.main.readinessProbe.httpGet.port: ${RENDER_SAYS}`;
  const deploymentsOf = async (env: string) =>
    (await api.call('GET', `/apps/shop/envs/${env}/deployments`)).json().items as unknown[];

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['/apps/shop/envs', { id: 'qa', type: 'development' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, response.body).toBeLessThan(300);
    }
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('is refused by the API with the render’s words, and by the render in a set saved before, which validate and --plan must foresee', async () => {
    const refused = await api.call('POST', '/apps/shop/envs/qa/deployments', {
      workloads: [{ spec: SPEC, dir: '/srv/api' }],
    });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().errors).toEqual([
      { path: '/workloads/0/spec/containers/main/readinessProbe/httpGet/port', message: RENDER_SAYS },
    ]);
    // A rollback or promotion of a set saved before the API refused such workloads reaches the render.
    const rendered = await checkSetRenders(
      api.store.db,
      { app: 'shop', env: 'qa' },
      {
        api: { spec: SPEC, dir: '/srv/api' },
      },
      [],
    ).catch((error: unknown) => error);
    expect(rendered).toBeInstanceOf(InputError);
    expect((rendered as InputError).errors).toContainEqual({
      path: 'workloads.api.containers.main.readinessProbe.httpGet.port',
      message: RENDER_SAYS,
    });
    expect(await deploymentsOf('qa')).toEqual([]);
  });

  it('is refused by pave validate, alone and with --app and --env, at the port', async () => {
    const file = scoreFile();
    for (const args of [[], ['--app', 'shop', '--env', 'dev']]) {
      expect(await pave('validate', '-f', file, ...args)).toEqual({
        code: 1,
        stdout: '',
        stderr: `${problemLine(file)}\npave: error: 1 problem in 1 of 1 file\n`,
      });
    }
  });

  it('is refused by pave deploy --plan, and said once by pave deploy, with nothing deployed', async () => {
    const file = scoreFile();
    for (const extra of [['--plan'], ['--wait']]) {
      const result = await pave('deploy', '-f', file, '--app', 'shop', '--env', 'dev', ...extra);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `${problemLine(file)}\npave: error: 1 problem in the Score files; nothing was sent to the server\n`,
      );
    }
    expect(await deploymentsOf('dev')).toEqual([]);
  });

  it('passes once the probe names a declared port, by its targetPort or its port', async () => {
    for (const port of [3000, 80]) {
      const file = join(temporaryDir(), 'api.score.yaml');
      writeFileSync(file, SCORE.replace('port: 8080', `port: ${port}`));
      expect(await pave('validate', '-f', file, '--app', 'shop', '--env', 'dev')).toMatchObject({ code: 0 });
    }
  });
});
