import type { RenderedPort, RenderedWorkload } from '@pave/plugin-api';
import type { Store } from '../../store/index.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import { decryptValues, latestValuesVersion, valuesContent } from '../values.ts';
import { buildResourceGraph } from '../resources/graph.ts';
import { resourceRows, rowOutputs, workloadOutputs } from '../resources/provision.ts';
import type { ResourceOutputs } from '@pave/plugin-api';
import { currentWorkloads } from './service.ts';
import { renderSet } from './render.ts';

/** An environment's current set rendered as it runs, plus which rendered values are secrets. */
export interface EnvironmentPreview {
  /** The environment's current deployment set (null before its first deployment). */
  setId: string | null;
  workloads: RenderedWorkload[];
  /** Environment variables whose values hold a secret (a secret value or a secret resource output), by workload and container. */
  secretKeys: (workload: string, container: string) => string[];
  routes: Array<{ host: string; path: string; workload: string; port: number }>;
  /** The targets of a container's files whose content holds a secret, by workload and container. */
  secretFiles: (workload: string, container: string) => string[];
  /** Whether `text` holds a secret value (for what renderers print outside variables and files). */
  holdsSecret: (text: string) => boolean;
}

/**
 * Renders an environment's current set with its newest values and the outputs of its provisioned resources,
 * changing nothing but port allocations (made on first render): what `pave render` prints. Resources not
 * provisioned yet leave their placeholders unresolved, which renderSet reports.
 */
export async function previewEnvironment(
  store: Store,
  box: SecretBox,
  target: { app: string; env: string },
  serviceAddress?: (workload: string, port: RenderedPort) => { hostname: string; port: number },
): Promise<EnvironmentPreview> {
  const { setId, workloads } = await currentWorkloads(store.db, target.app, target.env);
  const version = await latestValuesVersion(store.db, target.app, target.env);
  const content = version === null ? {} : await valuesContent(store.db, target.app, target.env, version);
  const values = await decryptValues(box, content);
  const secrets = new Set(
    Object.entries(content)
      .filter(([, entry]) => entry.secret)
      .map(([key]) => values[key]!)
      .filter(Boolean),
  );
  const graph = buildResourceGraph(workloads);
  const rows = await resourceRows(store.db, target.app, target.env);
  const outputs = new Map<string, ResourceOutputs>();
  for (const node of graph.nodes) {
    const row = rows.get(node.address);
    if (!row) continue;
    const provided = await rowOutputs(box, row);
    outputs.set(node.address, provided);
    for (const secret of Object.values(provided.secrets)) if (secret) secrets.add(secret);
  }
  const resources = workloadOutputs(workloads, graph.nodes, outputs);
  const rendered = await renderSet(
    store.db,
    {
      ...target,
      deploymentId: 'preview',
      values,
      resources,
      withProfiles: true,
      ...(serviceAddress ? { serviceAddress } : {}),
    },
    workloads,
  );
  const routes: EnvironmentPreview['routes'] = [];
  for (const [workload, named] of resources) {
    for (const output of named.values()) {
      if (output.type !== 'route' || !output.values.host) continue;
      routes.push({
        host: output.values.host,
        path: output.values.path ?? '/',
        workload,
        port: Number(output.values.port),
      });
    }
  }
  const container = (workload: string, name: string) =>
    rendered.find((w) => w.name === workload)?.containers.find((c) => c.name === name);
  // A secret counts JSON-escaped too: `${resources.NAME}` expands to the resource's outputs as JSON.
  const forms = [...secrets]
    .filter((secret) => secret !== '')
    .flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)]);
  const holdsSecret = (text: string) => forms.some((form) => text.includes(form));
  return {
    setId,
    workloads: rendered,
    routes,
    secretFiles: (workload, name) =>
      (container(workload, name)?.files ?? [])
        .filter((file) =>
          holdsSecret(file.binary ? Buffer.from(file.content, 'base64').toString() : file.content),
        )
        .map((file) => file.target)
        .sort(),
    holdsSecret,
    secretKeys: (workload, container) => {
      const env =
        rendered.find((w) => w.name === workload)?.containers.find((c) => c.name === container)?.env ?? {};
      return Object.entries(env)
        .filter(([, value]) => holdsSecret(value))
        .map(([key]) => key)
        .sort();
    },
  };
}
