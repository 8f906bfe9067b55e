import { describe, expect, it } from 'vitest';
import type { PaveError } from '@pave/core';
import type { RenderedContainer, RenderedWorkload } from '@pave/plugin-api';
import { renderManifests, validateManifests, type KubernetesManifest } from '../src/index.ts';

/*
 * Found by a Score-conformance review: `containers.*.before` was ignored (every container became an app
 * container, started with the others) and `metadata.annotations` never reached the Deployment.
 */

const container = (name: string, extra: Partial<RenderedContainer> = {}): RenderedContainer => ({
  name,
  image: 'busybox',
  env: {},
  files: [],
  workingDir: '/',
  ...extra,
});
const web = { name: 'web', port: 80, targetPort: 8080, protocol: 'TCP' as const, hostPort: 24567 };

function workload(containers: RenderedContainer[], extra: Partial<RenderedWorkload> = {}): RenderedWorkload {
  return { name: 'api', containers, ports: [web], hash: 'h1', deploymentId: 'd1', ...extra };
}

function render(rendered: RenderedWorkload): KubernetesManifest[] {
  return renderManifests({ app: 'shop', env: 'dev', namespace: 'pave-shop-dev', workloads: [rendered] });
}

function deploymentOf(objects: KubernetesManifest[]) {
  const found = objects.find((object) => object.kind === 'Deployment');
  if (found?.kind !== 'Deployment') throw new Error('no Deployment');
  return found;
}

function refusal(run: () => unknown): PaveError {
  try {
    run();
  } catch (error) {
    expect((error as Error).name).toBe('InputError');
    return error as PaveError;
  }
  throw new Error('expected an InputError');
}

const readiness = { httpGet: { port: web.hostPort, path: '/ready' } };

describe('containers with before in the Kubernetes manifests', () => {
  it('runs a container others wait for to complete as an init container, in order, without probes', () => {
    const objects = render(
      workload([
        container('main', { readinessProbe: readiness }),
        // Named to sort before main and before each other the wrong way round: the order is before's.
        container('seed', { before: { main: { ready: 'complete' } } }),
        container('a-schema', {
          before: { seed: { ready: 'complete' } },
          readinessProbe: { exec: { command: ['true'] } },
        }),
      ]),
    );
    const pod = deploymentOf(objects).spec?.template.spec;
    expect(pod?.initContainers?.map((init) => init.name)).toEqual(['a-schema', 'seed']);
    expect(pod?.containers.map((app) => app.name)).toEqual(['main']);
    // Kubernetes refuses probes on an init container that runs to completion.
    expect(pod?.initContainers?.[0]).not.toHaveProperty('readinessProbe');
    expect(pod?.initContainers?.[0]).not.toHaveProperty('restartPolicy');
    // The pod's ports are declared on an app container, not on one that exits.
    expect(pod?.initContainers?.[0]).not.toHaveProperty('ports');
    expect(pod?.containers[0]?.ports).toEqual([{ containerPort: 8080, protocol: 'TCP' }]);
    expect(validateManifests(objects)).toEqual([]);
  });

  it('runs a container others wait for to start as a sidecar, and one they wait for to be healthy with a startup probe', () => {
    const objects = render(
      workload([
        container('main'),
        container('a-proxy', { before: { main: { ready: 'started' } } }),
        container('b-cache', {
          before: { main: { ready: 'healthy' } },
          readinessProbe: readiness,
        }),
        container('c-agent', {
          before: { main: { ready: 'healthy' } },
          livenessProbe: { exec: { command: ['pgrep', 'agent'] } },
        }),
      ]),
    );
    const pod = deploymentOf(objects).spec?.template.spec;
    expect(pod?.containers.map((app) => app.name)).toEqual(['main']);
    const [proxy, cache, agent] = pod?.initContainers ?? [];
    expect(proxy).toMatchObject({ name: 'a-proxy', restartPolicy: 'Always' });
    expect(proxy).not.toHaveProperty('startupProbe');
    // The kubelet starts the next container once a sidecar's startup probe passes: healthy.
    expect(cache).toMatchObject({
      name: 'b-cache',
      restartPolicy: 'Always',
      readinessProbe: { httpGet: { path: '/ready', port: 8080 } },
      startupProbe: { httpGet: { path: '/ready', port: 8080 } },
    });
    expect(agent).toMatchObject({
      name: 'c-agent',
      restartPolicy: 'Always',
      livenessProbe: { exec: { command: ['pgrep', 'agent'] } },
      startupProbe: { exec: { command: ['pgrep', 'agent'] } },
    });
    expect(validateManifests(objects)).toEqual([]);
  });

  it('renders a workload without before as before: every container an app container', () => {
    const pod = deploymentOf(render(workload([container('main'), container('sidecar')]))).spec?.template.spec;
    expect(pod?.containers.map((app) => app.name)).toEqual(['main', 'sidecar']);
    expect(pod).not.toHaveProperty('initContainers');
  });

  it('refuses before naming an unknown container, the container itself, or a cycle', () => {
    const error = refusal(() =>
      render(
        workload([
          container('main', { before: { nope: { ready: 'complete' } } }),
          container('a', { before: { b: { ready: 'started' } } }),
          container('b', { before: { a: { ready: 'started' }, b: { ready: 'started' } } }),
        ]),
      ),
    );
    expect(error.errors).toEqual(
      expect.arrayContaining([
        { path: 'workloads.api.containers.main.before.nope', message: expect.stringContaining('"nope"') },
        { path: 'workloads.api.containers.b.before.b', message: expect.stringContaining('itself') },
        { path: 'workloads.api.containers.a.before', message: expect.stringContaining('a → b → a') },
      ]),
    );
  });
});

describe("the workload's annotations in the Kubernetes manifests", () => {
  it("are on the Deployment and its pod template, next to Pave's own, which win", () => {
    const deployment = deploymentOf(
      render(
        workload([container('main')], {
          annotations: {
            'prometheus.io/scrape': 'true',
            'example.com/team': 'payments',
            'pave.dev/hash': 'forged',
          },
        }),
      ),
    );
    expect(deployment.metadata?.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'example.com/team': 'payments',
      'pave.dev/hash': 'h1',
      'pave.dev/deployment': 'd1',
    });
    expect(deployment.spec?.template.metadata?.annotations).toEqual({
      'example.com/team': 'payments',
      'prometheus.io/scrape': 'true',
      'pave.dev/hash': 'h1',
    });
  });
});
