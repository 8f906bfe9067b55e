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

// A readiness probe of a port that is not in service.ports is valid Score, which kubernetes and Compose probe
// at the container port; the process and docker runtimes probe readiness from the host, at a service port's
// host port, so there it cannot be run: `pave validate --app --env` says so for an environment on one of them,
// as the deployment's render (and a plan that knows the runtime) would. Offline, nothing is refused.

// The container's key is on line 5, column 3.
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

/** What the deployment's render on the process runtime says, without the file and path before it. */
const RENDER_SAYS =
  'port 8080 is not a port of service.ports, and the process runtime runs readiness probes from the host, at ' +
  'the host port Pave gives a service port; declare it in service.ports, or probe a declared one (workload ' +
  '"api" declares web: port 80, targetPort 3000)';

describe.each(storeEngines)('a readiness probe of a port service.ports lacks, on %s', (engine) => {
  let api: DeployingApi;
  let server: string;
  const pave = async (...args: string[]) => {
    const io = fakeIo();
    const code = await runCli(['node', 'pave', ...args, '--server', server, '--token', api.token], io);
    return { code, stdout: io.stdout.text, stderr: io.stderr.text };
  };
  const scoreFile = (text = SCORE) => {
    const file = join(temporaryDir(), 'api.score.yaml');
    writeFileSync(file, text);
    return file;
  };

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
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

  it('is accepted by pave validate offline, where the runtime is not known', async () => {
    expect(await pave('validate', '-f', scoreFile())).toEqual({
      code: 0,
      stdout: '1 file valid\n',
      stderr: '',
    });
  });

  it('is refused by pave validate --app --env for an environment on the process runtime, at the container', async () => {
    const file = scoreFile();
    expect(await pave('validate', '-f', file, '--app', 'shop', '--env', 'dev')).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `${file}:5:3: containers.main.readinessProbe.httpGet.port: ${RENDER_SAYS} (shop/dev runs on the ` +
        'process runtime target "local")\npave: error: 1 problem in 1 of 1 file\n',
    });
  });

  it('is refused by the render and the plan check that know the runtime is process, and by no other', async () => {
    const check = (runtime?: string) =>
      checkSetRenders(
        api.store.db,
        { app: 'shop', env: 'dev', ...(runtime ? { runtime } : {}) },
        { api: { spec: SPEC, dir: '/srv/api' } },
        [],
      ).catch((error: unknown) => error);
    const refused = await check('process');
    expect(refused).toBeInstanceOf(InputError);
    expect((refused as InputError).errors).toEqual([
      { path: 'workloads.api.containers.main.readinessProbe.httpGet.port', message: RENDER_SAYS },
    ]);
    expect(await check('kubernetes')).toBeUndefined();
    expect(await check()).toBeUndefined();
  });

  it('passes pave validate --app --env once the probe names a declared port, by its targetPort or its port', async () => {
    for (const port of [3000, 80]) {
      const file = scoreFile(SCORE.replace('port: 8080', `port: ${port}`));
      expect(await pave('validate', '-f', file, '--app', 'shop', '--env', 'dev')).toMatchObject({ code: 0 });
    }
  });
});
