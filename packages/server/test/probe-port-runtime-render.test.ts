import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreWorkload } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

// A readiness probe of a port service.ports lacks cannot be run where readiness is probed from the host (the
// process and docker runtimes): a deployment there fails at its render, naming the port; elsewhere it deploys.
const probed: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'probed' },
  containers: {
    main: {
      image: 'node:20',
      command: ['node', 'server.js'],
      readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
    },
  },
  service: { ports: { web: { port: 80, targetPort: 3000 } } },
};

describe.each(storeEngines)('a readiness probe of another port, on %s', (engine) => {
  for (const name of ['process', 'kubernetes']) {
    describe(`on a runtime named ${name}`, () => {
      let api: DeployingApi;
      beforeAll(async () => {
        api = await openDeployingApi(engine, { runtime: { ...idleRuntime, name }, worker: true });
        for (const [url, body] of [
          ['/apps', { id: 'shop' }],
          ['/apps/shop/envs', { id: 'dev', type: 'development' }],
        ] as const) {
          const response = await api.call('POST', url, body);
          expect(response.statusCode, response.body).toBeLessThan(300);
        }
      });
      afterAll(async () => {
        await api?.cleanup();
      });

      it(name === 'process' ? 'fails the deployment at its render' : 'deploys', async () => {
        const deployed = await api.deploy('shop', 'dev', { workloads: [{ spec: probed, dir: '/srv/app' }] });
        if (name === 'process') {
          expect(deployed.status).toBe('failed');
          expect(deployed.reason).toContain(
            'workloads.probed.containers.main.readinessProbe.httpGet.port: port 8080 is not a port of ' +
              'service.ports, and the process runtime runs readiness probes from the host',
          );
        } else {
          expect(deployed.status, deployed.reason ?? '').toBe('succeeded');
        }
      });
    });
  }
});
