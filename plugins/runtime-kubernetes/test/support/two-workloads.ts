import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseScore, substitutePlaceholders, type ScoreWorkload } from '@pave/core';
import type { RenderedWorkload } from '@pave/plugin-api';
import { serviceAddress, type RenderManifestsInput } from '../../src/index.ts';
import { renderedFromScore } from './score.ts';

const FIXTURE = fileURLToPath(new URL('../../../../test/fixtures/two-workloads/', import.meta.url));
export const NAMESPACE = 'pave-shop-dev';

function readSpec(file: string): ScoreWorkload {
  const { workload, problems } = parseScore(readFileSync(`${FIXTURE}${file}`, 'utf8'), file);
  if (!workload) throw new Error(`${file}: ${problems.map((problem) => problem.message).join('; ')}`);
  return workload;
}

/**
 * The repository's two-workload test app (test/fixtures/two-workloads: `api` serves HTTP, `worker` calls it
 * through a service-port resource) as the control plane would render it for Kubernetes, plus what the
 * fixture does not have so that one app shows every kind: a secret variable on each workload, a file and a
 * volume on `api`, resource limits, an exec liveness probe on `worker`, and a route to `api`.
 */
export function twoWorkloadsApp(): RenderManifestsInput {
  const apiSpec = readSpec('api.score.yaml');
  const workerSpec = readSpec('worker.score.yaml');
  const api = renderedFromScore(apiSpec, 'dep-7');
  const webPort = api.ports.find((port) => port.name === 'web');
  if (!webPort) throw new Error('the fixture api has no port "web"');
  const address = serviceAddress('api', webPort, NAMESPACE);
  const expand = (spec: ScoreWorkload, text: string) =>
    substitutePlaceholders(text, (parts) => {
      const [root, first, second] = parts;
      if (root === 'metadata' && first === 'name') return spec.metadata.name;
      if (root === 'resources' && first === 'api' && second === 'hostname') return address.hostname;
      if (root === 'resources' && first === 'api' && second === 'port') return String(address.port);
      throw new Error(`unexpected placeholder \${${parts.join('.')}}`);
    });
  const variables = (spec: ScoreWorkload) =>
    Object.fromEntries(
      Object.entries(spec.containers.main?.variables ?? {}).map(([key, value]) => [key, expand(spec, value)]),
    );
  const worker = renderedFromScore(workerSpec, 'dep-7');
  const apiWorkload: RenderedWorkload = {
    ...api,
    hash: 'sha256-3f1c0e2a9b7d',
    containers: api.containers.map((container) => ({
      ...container,
      env: { ...variables(apiSpec), API_TOKEN: 's3cr3t-token' },
      files: [{ target: '/app/config.json', content: '{"greeting":"hello"}\n', mode: '0640' }],
      volumes: [{ source: 'uploads', target: '/var/lib/api/uploads' }],
      resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
    })),
  };
  const workerWorkload: RenderedWorkload = {
    ...worker,
    hash: 'sha256-9a8b7c6d5e4f',
    containers: worker.containers.map((container) => ({
      ...container,
      env: { ...variables(workerSpec), DATABASE_PASSWORD: 'hunter2' },
      livenessProbe: { exec: { command: ['node', '-e', 'process.exit(0)'] } },
    })),
  };
  return {
    app: 'shop',
    env: 'dev',
    namespace: NAMESPACE,
    workloads: [apiWorkload, workerWorkload],
    routes: [{ host: 'shop.example.com', path: '/', workload: 'api', port: webPort.port }],
    secretKeys: (workload) => (workload === 'api' ? ['API_TOKEN'] : ['DATABASE_PASSWORD']),
  };
}
