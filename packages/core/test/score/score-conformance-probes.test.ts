import { describe, expect, it } from 'vitest';
import {
  HOST_PROBING_RUNTIMES,
  checkScoreProbePorts,
  parseScore,
  resolveRoutePort,
  routePortProblem,
  servicePortOf,
  type ScoreWorkload,
} from '../../src/index.ts';

/*
 * Found by a Score-conformance review: Pave refused every probe of a port that service.ports lacks, on any
 * runtime, so `pave validate` and `pave deploy` refused the official probe samples (a container probed on its
 * own port, at readiness and liveness), which Kubernetes and Compose render as they are (they probe the
 * container port). Only the process and docker runtimes run readiness probes from the host, at a service
 * port's host port: there alone such a readiness probe cannot be run.
 */

// Shaped like the specification's probes example: no service ports, both probes on the container's port.
const NO_SERVICE = `apiVersion: score.dev/v1b1
metadata:
  name: probed
containers:
  main:
    image: busybox
    command: ["/bin/sh", "-c", "sleep 1000"]
    livenessProbe:
      httpGet:
        path: /alive
        port: 8080
    readinessProbe:
      httpGet:
        path: /ready
        port: 8080
`;

// Shaped like the full samples: service ports that the probes do not name, a readiness probe with a host and
// headers, a liveness probe with httpGet and exec.
const OTHER_PORTS = `apiVersion: score.dev/v1b1
metadata:
  name: full
service:
  ports:
    first:
      port: 1000
      targetPort: 10000
    second:
      port: 8000
containers:
  one:
    image: nginx
    livenessProbe:
      httpGet:
        port: 8080
        path: /livez
      exec:
        command: ["/bin/curl", "-f", "http://localhost:8080/livez"]
    readinessProbe:
      httpGet:
        host: 127.0.0.1
        port: 80
        scheme: HTTP
        path: /readyz
        httpHeaders:
          - name: SOME_HEADER
            value: some-value
`;

const parsed = (text: string): ScoreWorkload => {
  const { workload, problems } = parseScore(text, 'score.yaml');
  expect(problems).toEqual([]);
  return workload!;
};

describe('probes of a port service.ports lacks', () => {
  it.each([
    ['the probes example', NO_SERVICE],
    ['the full sample', OTHER_PORTS],
  ])('are accepted offline in %s, as pave validate and pave deploy check it', (_, text) => {
    expect(parseScore(text, 'score.yaml', { renderable: true }).problems).toEqual([]);
  });

  it('are not refused without a runtime, nor on kubernetes, which probes the container port', () => {
    for (const text of [NO_SERVICE, OTHER_PORTS]) {
      expect(checkScoreProbePorts(parsed(text))).toEqual([]);
      expect(checkScoreProbePorts(parsed(text), 'kubernetes')).toEqual([]);
    }
  });

  it.each(HOST_PROBING_RUNTIMES)(
    'are refused on the %s runtime at readiness only (its liveness probes are not run)',
    (runtime) => {
      expect(HOST_PROBING_RUNTIMES).toEqual(['process', 'docker']);
      expect(checkScoreProbePorts(parsed(OTHER_PORTS), runtime)).toEqual([
        {
          path: ['containers', 'one', 'readinessProbe', 'httpGet', 'port'],
          message:
            `port 80 is not a port of service.ports, and the ${runtime} runtime runs readiness probes from ` +
            'the host, at the host port Pave gives a service port; declare it in service.ports, or probe a ' +
            'declared one (workload "full" declares first: port 1000, targetPort 10000; second: port 8000)',
        },
      ]);
      expect(checkScoreProbePorts(parsed(NO_SERVICE), runtime)).toEqual([
        {
          path: ['containers', 'main', 'readinessProbe', 'httpGet', 'port'],
          message: expect.stringMatching(/\(workload "probed" declares none\)$/u),
        },
      ]);
    },
  );

  it('are accepted on the process runtime once the readiness probe names a service port', () => {
    const text = OTHER_PORTS.replace('port: 80\n', 'port: 10000\n');
    expect(checkScoreProbePorts(parsed(text), 'process')).toEqual([]);
  });
});

describe('service ports named by a resource', () => {
  const service = { ports: { web: { port: 80, targetPort: 3000 }, admin: { port: 9000 } } };
  const api: ScoreWorkload = {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'api' },
    containers: { main: { image: 'node' } },
    service,
  };

  it('are found by name, else by port, else by targetPort', () => {
    expect(servicePortOf(service, 'web')).toEqual({ name: 'web', port: service.ports.web });
    expect(servicePortOf(service, 9000)?.name).toBe('admin');
    expect(servicePortOf(service, '80')?.name).toBe('web');
    expect(servicePortOf(service, 3000)?.name).toBe('web');
    expect(servicePortOf(service, 'wbe')).toBeUndefined();
    expect(servicePortOf(undefined, 'web')).toBeUndefined();
  });

  it("make a route's port name its port, and refuse a name service.ports lacks, naming the ports", () => {
    expect(resolveRoutePort(api, 'web')).toBe(80);
    for (const port of [8080, '8080', 'wbe', '${resources.x.port}', undefined]) {
      expect(resolveRoutePort(api, port)).toBe(port);
    }
    expect(routePortProblem(api, 'wbe')).toBe(
      '"wbe" is not a port of service.ports; name one (workload "api" declares admin: port 9000; web: port 80, ' +
        'targetPort 3000), or give its port number',
    );
    for (const port of ['web', 'admin', 80, '8080', '${resources.x.port}', undefined]) {
      expect(routePortProblem(api, port)).toBeUndefined();
    }
  });
});
