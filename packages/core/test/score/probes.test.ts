import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkScoreProbePorts,
  formatScoreProblem,
  parseScore,
  probedServicePort,
  type ScoreWorkload,
} from '../../src/index.ts';
import { SAMPLES_DIR } from './support.ts';

// Pave maps a probe's port to the host port of a service port; the process and docker runtimes run readiness
// probes from the host, so there a readiness probe of any other port cannot be run (kubernetes probes the
// container port: see score-conformance-probes.test.ts).

const SCORE = `apiVersion: score.dev/v1b1
metadata:
  name: api
containers:
  main:
    image: node
    readinessProbe:
      httpGet:
        path: /healthz
        port: 8080
    livenessProbe:
      exec:
        command: ["true"]
  sidecar:
    image: envoy
    livenessProbe:
      httpGet: { path: /ready, port: 9901 }
service:
  ports:
    web:
      port: 80
      targetPort: 3000
    admin:
      port: 9000
`;

const DECLARES = 'workload "api" declares admin: port 9000; web: port 80, targetPort 3000';

const workload = (service: ScoreWorkload['service'], port = 8080): ScoreWorkload => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image: 'node', readinessProbe: { httpGet: { path: '/healthz', port } } } },
  ...(service ? { service } : {}),
});

describe('probedServicePort', () => {
  const service = {
    ports: { web: { port: 80, targetPort: 3000 }, admin: { port: 3000 }, other: { port: 81 } },
  };

  it('names the port whose targetPort is probed first, then the one whose port is', () => {
    expect(probedServicePort(service, 3000)).toBe('admin');
    expect(probedServicePort({ ports: { web: { port: 80, targetPort: 3000 } } }, 3000)).toBe('web');
    expect(probedServicePort(service, 80)).toBe('web');
    expect(probedServicePort(service, 81)).toBe('other');
  });

  it('names none for a port the service does not declare, or without a service', () => {
    expect(probedServicePort(service, 8080)).toBeUndefined();
    expect(probedServicePort(undefined, 80)).toBeUndefined();
  });
});

describe('checkScoreProbePorts', () => {
  it('is empty when every probe names a service port, by targetPort or port', () => {
    for (const port of [80, 3000]) {
      expect(
        checkScoreProbePorts(workload({ ports: { web: { port: 80, targetPort: 3000 } } }, port)),
      ).toEqual([]);
    }
    expect(checkScoreProbePorts({ ...workload(undefined), containers: { main: { image: 'node' } } })).toEqual(
      [],
    );
  });

  it('reports a readiness probe of another port on the process runtime at its path, naming the declared ports and the fix', () => {
    expect(
      checkScoreProbePorts(workload({ ports: { web: { port: 80, targetPort: 3000 } } }), 'process'),
    ).toEqual([
      {
        path: ['containers', 'main', 'readinessProbe', 'httpGet', 'port'],
        message:
          'port 8080 is not a port of service.ports, and the process runtime runs readiness probes from the ' +
          'host, at the host port Pave gives a service port; declare it in service.ports, or probe a declared ' +
          'one (workload "api" declares web: port 80, targetPort 3000)',
      },
    ]);
  });

  it('says the workload declares none when it has no service ports', () => {
    expect(checkScoreProbePorts(workload(undefined), 'docker')[0]?.message).toMatch(
      /workload "api" declares none\)$/u,
    );
  });
});

describe('parseScore with renderable', () => {
  it('accepts probes of undeclared ports: which runtime runs them is not known offline', () => {
    expect(
      parseScore(SCORE, 'api.score.yaml', { renderable: true }).problems.map(formatScoreProblem),
    ).toEqual([]);
    expect(
      checkScoreProbePorts(parseScore(SCORE, 'api.score.yaml').workload!, 'process').map(
        (problem) => problem.message,
      ),
    ).toEqual([expect.stringContaining(`(${DECLARES})`)]);
  });

  it('accepts such probes without it: they are valid Score', () => {
    const result = parseScore(SCORE, 'api.score.yaml');
    expect(result.problems).toEqual([]);
    expect(result.workload?.containers.main?.readinessProbe?.httpGet?.port).toBe(8080);
  });

  it('accepts probes of declared ports', () => {
    const text = SCORE.replace('port: 8080', 'port: 3000').replace('port: 9901', 'port: 9000');
    expect(parseScore(text, 'api.score.yaml', { renderable: true }).problems).toEqual([]);
  });

  it('leaves a port the schema refuses to the schema', () => {
    const text = SCORE.replace('port: 8080', 'port: http');
    expect(
      parseScore(text, 'api.score.yaml', { renderable: true }).problems.map((problem) => problem.message),
    ).toEqual(['expected a number, got "http"']);
  });

  const sample = join(SAMPLES_DIR, 'examples/specification/probes/score.yaml');
  it.skipIf(!existsSync(sample))('accepts the official probes sample, which is valid Score', () => {
    const text = readFileSync(sample, 'utf8');
    expect(parseScore(text, 'score.yaml').problems).toEqual([]);
    expect(parseScore(text, 'score.yaml', { renderable: true }).problems).toEqual([]);
  });
});
