import { createHash } from 'node:crypto';
import type { RenderedWorkload } from '@pave/plugin-api';
import { describeRuntimeDriverContract } from '@pave/plugin-api/testing';
import { KubernetesRuntime } from '../src/index.ts';
import {
  startFakeCluster,
  type FakeCluster,
  type FakeKubeApi,
  type PodBehaviour,
} from './support/fake-kube-api.ts';

// No cluster runs on this machine: the suite runs against the fake API server's in-memory cluster, whose
// miniature Deployment controller and kubelet run each pod as its image says (below). Nothing serves
// HTTP there, so what a workload answers on its host port is what its ready pod would serve: the GREETING
// the applied objects give its first container. The rendering itself is validated against the Kubernetes
// schemas and run with `podman kube play` (kube-play.test.ts).
const REGISTRY = 'registry.example/pave-contract';
const REFUSED_REGISTRY = 'untrusted.example';

/** How the fake kubelet runs a pod, by its first container's image. */
function kubelet(containers: Array<{ image: string }>): PodBehaviour {
  const image = containers[0]?.image ?? '';
  if (image === `${REGISTRY}/crash:1`) return { kind: 'crash', exitCode: 3, logs: ['something broke'] };
  if (image === `${REGISTRY}/never-ready:1`) return { kind: 'never-ready', logs: ['waiting for a database'] };
  return { kind: 'ready', logs: ['listening on 8080'] };
}

let nextPort = 36_000 + (process.pid % 5_000);
let environments = 0;
let api: FakeKubeApi | undefined;
let cluster: FakeCluster | undefined;

/** A workload running `image` with `env`, its port on a new host port, probed on GET /healthz. */
function workload(name: string, image: string, env: Record<string, string> = {}): RenderedWorkload {
  const hostPort = nextPort++;
  return {
    name,
    deploymentId: 'dep-1',
    hash: createHash('sha256')
      .update(JSON.stringify([name, image, env, hostPort]))
      .digest('hex')
      .slice(0, 16),
    ports: [{ name: 'web', port: 8080, targetPort: 8080, protocol: 'TCP', hostPort }],
    containers: [
      {
        name: 'main',
        image,
        env,
        files: [],
        workingDir: '/',
        readinessProbe: { httpGet: { port: 8080, path: '/healthz' } },
      },
    ],
  };
}

describeRuntimeDriverContract('kubernetes (against a fake API server)', {
  driver: async () => {
    ({ api, cluster } = await startFakeCluster({
      kubelet,
      // An image policy, as admission webhooks enforce them: the unstartable workload's Deployment is refused.
      admission: (object) =>
        object.kind === 'Deployment' && JSON.stringify(object).includes(`"${REFUSED_REGISTRY}/`)
          ? `images from ${REFUSED_REGISTRY} are not allowed`
          : null,
    }));
    return KubernetesRuntime.fromConfig({ kubeconfig: api.kubeconfigFile, context: 'fake', pollMs: 20 });
  },
  target: () => ({ app: 'contract', env: `env-${++environments}` }),
  workload: (name, greeting) => workload(name, `${REGISTRY}/web:1`, { GREETING: greeting }),
  unstartable: (name) => workload(name, `${REFUSED_REGISTRY}/web:1`),
  crashing: (name) => workload(name, `${REGISTRY}/crash:1`),
  neverReady: (name) => workload(name, `${REGISTRY}/never-ready:1`),
  answers: async (_workload, hostPort) =>
    cluster?.answer(hostPort) ?? 'no answer (the fake cluster is not running)',
  cleanup: async () => api?.close(),
});
