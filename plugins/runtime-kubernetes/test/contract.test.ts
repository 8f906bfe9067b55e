import { describeRuntimeDriverContract } from '@pave/plugin-api/testing';
import { KubernetesRuntime } from '../src/index.ts';

// The suite deploys workloads and fetches them over HTTP, which needs a cluster. This machine has none: the
// rendering is validated against the Kubernetes schemas and run with `podman kube play` (kube-play.test.ts),
// and the apply, rollout, prune, status and logs logic is tested against recorded API responses
// (apply.test.ts, runtime.test.ts).
describeRuntimeDriverContract('kubernetes', {
  skip: 'no Kubernetes cluster on this machine; see render, kube-play, apply and runtime tests',
  driver: () => KubernetesRuntime.fromConfig({}),
  target: () => ({ app: 'contract', env: 'dev' }),
  workload: () => {
    throw new Error('not run without a cluster');
  },
});
