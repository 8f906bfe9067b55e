import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { PaveError } from '@pave/core';
import { dnsLabel, type RenderedWorkload } from '@pave/plugin-api';
import {
  KIND_ORDER,
  assertValidManifests,
  labelValue,
  manifestsToYaml,
  namespaceFor,
  renderManifests,
  serviceAddress,
  validateManifests,
  type KubernetesManifest,
} from '../src/index.ts';
import { NAMESPACE, twoWorkloadsApp } from './support/two-workloads.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/u;

function find<K extends KubernetesManifest['kind']>(
  objects: KubernetesManifest[],
  kind: K,
  name: string,
): Extract<KubernetesManifest, { kind: K }> {
  const found = objects.find((object) => object.kind === kind && object.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in ${objects.map((o) => `${o.kind}/${o.metadata?.name}`)}`);
  return found as Extract<KubernetesManifest, { kind: K }>;
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

function keysSortedEverywhere(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(keysSortedEverywhere);
  if (value === null || typeof value !== 'object') return true;
  const keys = Object.keys(value);
  return (
    keys.every((key, index) => index === 0 || (keys[index - 1] ?? '') < key) &&
    Object.values(value).every(keysSortedEverywhere)
  );
}

describe('the Kubernetes manifests of the two-workload app', () => {
  const objects = renderManifests(twoWorkloadsApp());

  it('are pinned by a snapshot', async () => {
    await expect(manifestsToYaml(objects)).toMatchFileSnapshot('__snapshots__/two-workloads.yaml');
  });

  it('come Namespace first, then by kind, then by name, every key sorted', () => {
    expect(objects.map((object) => `${object.kind}/${object.metadata?.name}`)).toEqual([
      `Namespace/${NAMESPACE}`,
      'ConfigMap/api',
      'ConfigMap/worker',
      'Secret/api',
      'Secret/worker',
      'PersistentVolumeClaim/uploads',
      'Service/api',
      'Deployment/api',
      'Deployment/worker',
      expect.stringMatching(/^Ingress\/api-shop-example-com-[0-9a-f]{8}$/u),
    ]);
    const kinds = objects.map((object) => KIND_ORDER.indexOf(object.kind));
    expect(kinds).toEqual([...kinds].sort((a, b) => a - b));
    expect(objects.every(keysSortedEverywhere)).toBe(true);
    expect(validateManifests(objects)).toEqual([]);
  });

  it('do not depend on the order of the workloads, and the same input gives the same text', () => {
    const input = twoWorkloadsApp();
    const reversed = renderManifests({ ...input, workloads: [...input.workloads].reverse() });
    expect(manifestsToYaml(reversed)).toBe(manifestsToYaml(objects));
    expect(manifestsToYaml(renderManifests(twoWorkloadsApp()))).toBe(manifestsToYaml(objects));
  });

  it('keep secret variables out of ConfigMaps: they are in the Secret, base64, referenced by key', () => {
    const yamlOfConfigMaps = manifestsToYaml(objects.filter((object) => object.kind === 'ConfigMap'));
    expect(yamlOfConfigMaps).not.toContain('s3cr3t-token');
    expect(yamlOfConfigMaps).not.toContain('hunter2');
    const secret = find(objects, 'Secret', 'api');
    expect(secret.data).toEqual({ 'main.API_TOKEN': Buffer.from('s3cr3t-token').toString('base64') });
    const container = find(objects, 'Deployment', 'api').spec?.template.spec?.containers[0];
    expect(container?.env).toEqual([
      { name: 'API_TOKEN', valueFrom: { secretKeyRef: { key: 'main.API_TOKEN', name: 'api' } } },
      { name: 'GREETING', valueFrom: { configMapKeyRef: { key: 'main.GREETING', name: 'api' } } },
    ]);
    expect(find(objects, 'ConfigMap', 'api').data?.['main.GREETING']).toBe('hello from api');
  });

  it('probe the container port that the probe host port maps to, and label pods with workload and hash', () => {
    const deployment = find(objects, 'Deployment', 'api');
    const container = deployment.spec?.template.spec?.containers[0];
    expect(container?.readinessProbe).toEqual({ httpGet: { path: '/healthz', port: 8080 } });
    expect(container?.ports).toEqual([{ containerPort: 8080, protocol: 'TCP' }]);
    expect(deployment.spec?.template.metadata?.annotations).toEqual({
      'pave.dev/hash': 'sha256-3f1c0e2a9b7d',
    });
    expect(deployment.metadata?.annotations?.['pave.dev/deployment']).toBe('dep-7');
    expect(deployment.spec?.selector.matchLabels).toEqual({
      'pave.dev/app': 'shop',
      'pave.dev/env': 'dev',
      'pave.dev/workload': 'api',
    });
    expect(deployment.spec?.template.metadata?.labels).toMatchObject({
      'app.kubernetes.io/name': 'api',
      'app.kubernetes.io/instance': 'shop-dev',
      'app.kubernetes.io/managed-by': 'pave',
    });
    const worker = find(objects, 'Deployment', 'worker').spec?.template.spec?.containers[0];
    expect(worker?.livenessProbe).toEqual({ exec: { command: ['node', '-e', 'process.exit(0)'] } });
  });

  it('mount files from the ConfigMap with subPath and their mode, and volumes from a 1Gi claim', () => {
    const deployment = find(objects, 'Deployment', 'api');
    const pod = deployment.spec?.template.spec;
    // A file's key is its container and path, cleaned, with a hash of the path (cleaning is lossy).
    const key =
      Object.keys(find(objects, 'ConfigMap', 'api').data ?? {}).find((k) => k.startsWith('main.file.')) ?? '';
    expect(key).toMatch(/^main\.file\.app_config\.json\.[0-9a-f]{8}$/u);
    expect(find(objects, 'ConfigMap', 'api').data?.[key]).toBe('{"greeting":"hello"}\n');
    expect(pod?.containers[0]?.volumeMounts).toEqual([
      { mountPath: '/app/config.json', name: 'pave-files', readOnly: true, subPath: key },
      { mountPath: '/var/lib/api/uploads', name: 'pvc-uploads' },
    ]);
    expect(pod?.volumes).toEqual([
      { configMap: { items: [{ key, mode: 0o640, path: key }], name: 'api' }, name: 'pave-files' },
      { name: 'pvc-uploads', persistentVolumeClaim: { claimName: 'uploads' } },
    ]);
    expect(find(objects, 'PersistentVolumeClaim', 'uploads').spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '1Gi' } },
    });
    // A claim is usually ReadWriteOnce: the old pod must go before the new one starts.
    expect(deployment.spec?.strategy).toEqual({ type: 'Recreate' });
    expect(find(objects, 'Deployment', 'worker').spec?.strategy).toEqual({ type: 'RollingUpdate' });
  });

  it('keep files that hold a secret out of ConfigMaps: in the Secret, base64, mounted from it', () => {
    const input = twoWorkloadsApp();
    const api = input.workloads[0]!;
    const container = api.containers[0]!;
    const withSecretFile: RenderedWorkload = {
      ...api,
      containers: [
        {
          ...container,
          files: [
            ...container.files,
            { target: '/etc/app/conf.ini', content: 'key=s3cr3t-token\n', mode: '0400' },
            { target: '/etc/app/key.bin', content: Buffer.from([0, 1, 2]).toString('base64'), binary: true },
          ],
        },
      ],
    };
    const rendered = renderManifests({
      ...input,
      workloads: [withSecretFile, ...input.workloads.slice(1)],
      secretFiles: (workload) => (workload === 'api' ? ['/etc/app/conf.ini', '/etc/app/key.bin'] : []),
    });
    expect(manifestsToYaml(rendered.filter((object) => object.kind === 'ConfigMap'))).not.toContain('s3cr3t');
    const configMap = find(rendered, 'ConfigMap', 'api');
    expect(Object.keys(configMap.data ?? {})).toEqual([
      'main.GREETING',
      expect.stringMatching(/^main\.file\.app_/u),
    ]);
    expect(configMap.binaryData).toBeUndefined();
    const secret = find(rendered, 'Secret', 'api').data ?? {};
    const ini = Object.keys(secret).find((key) => key.startsWith('main.file.etc_app_conf.ini.')) ?? '';
    const bin = Object.keys(secret).find((key) => key.startsWith('main.file.etc_app_key.bin.')) ?? '';
    expect(Buffer.from(secret[ini] ?? '', 'base64').toString()).toBe('key=s3cr3t-token\n');
    expect(secret[bin]).toBe(Buffer.from([0, 1, 2]).toString('base64'));
    const pod = find(rendered, 'Deployment', 'api').spec?.template.spec;
    expect(pod?.volumes).toContainEqual({
      name: 'pave-secret-files',
      secret: {
        secretName: 'api',
        items: [
          { key: ini, mode: 0o400, path: ini },
          { key: bin, path: bin },
        ],
      },
    });
    expect(pod?.containers[0]?.volumeMounts).toContainEqual({
      mountPath: '/etc/app/conf.ini',
      name: 'pave-secret-files',
      readOnly: true,
      subPath: ini,
    });
    expect(() => assertValidManifests(rendered)).not.toThrow();
  });

  it('route the host through an Ingress to the Service port; workloads without ports get no Service', () => {
    const ingress = objects.find((object) => object.kind === 'Ingress');
    expect(ingress?.kind === 'Ingress' && ingress.spec?.rules).toEqual([
      {
        host: 'shop.example.com',
        http: {
          paths: [
            { backend: { service: { name: 'api', port: { number: 8080 } } }, path: '/', pathType: 'Prefix' },
          ],
        },
      },
    ]);
    expect(find(objects, 'Service', 'api').spec?.ports).toEqual([
      { name: 'web', port: 8080, protocol: 'TCP', targetPort: 8080 },
    ]);
    expect(objects.some((object) => object.kind === 'Service' && object.metadata?.name === 'worker')).toBe(
      false,
    );
    // The worker reaches the api through its Service, as serviceAddress said.
    expect(find(objects, 'ConfigMap', 'worker').data?.['main.API_URL']).toBe(
      `http://api.${NAMESPACE}.svc:8080/`,
    );
  });
});

const workload = (name: string, overrides: Partial<RenderedWorkload> = {}): RenderedWorkload => ({
  name,
  containers: [{ name: 'main', image: 'busybox', env: {}, files: [], workingDir: '/' }],
  ports: [],
  hash: 'h1',
  deploymentId: 'd1',
  ...overrides,
});

describe('rendering Kubernetes manifests', () => {
  it('refuses routes to unknown workloads or ports, listing every problem', () => {
    const error = refusal(() =>
      renderManifests({
        app: 'shop',
        env: 'dev',
        namespace: 'pave-shop-dev',
        workloads: [workload('api')],
        routes: [
          { host: 'a.example.com', path: '/', workload: 'nope', port: 80 },
          { host: 'b.example.com', path: '/', workload: 'api', port: 80 },
        ],
      }),
    );
    expect(error.errors).toEqual([
      { path: 'routes[0].workload', message: expect.stringContaining('"nope", which is not in the set') },
      { path: 'routes[1].port', message: expect.stringContaining('serves no port 80 (its ports: none)') },
    ]);
  });

  it('refuses a namespace that is not a DNS label, naming the object and the path', () => {
    const error = refusal(() =>
      renderManifests({ app: 'shop', env: 'dev', namespace: 'Not_A_Label', workloads: [workload('api')] }),
    );
    expect(error.errors).toContainEqual({
      path: 'Namespace/Not_A_Label/metadata/name',
      message: expect.stringContaining('must be a DNS label'),
    });
    expect(error.errors).toContainEqual({
      path: 'Deployment/Not_A_Label/api/metadata/namespace',
      message: expect.stringContaining('must be a DNS label'),
    });
  });

  it('makes stable DNS labels of long names, and label values of long instances', () => {
    const long = `w${'x'.repeat(62)}`;
    const objects = renderManifests({
      app: 'a'.repeat(63),
      env: 'e'.repeat(63),
      namespace: namespaceFor('pave-{app}-{env}', 'a'.repeat(63), 'e'.repeat(63)),
      workloads: [
        workload(long, {
          containers: [
            {
              name: 'main',
              image: 'i',
              env: {},
              files: [],
              workingDir: '/',
              volumes: [
                { source: '/var/lib/pave/volumes/shop/dev/a very long source/with spaces', target: '/data' },
              ],
            },
          ],
        }),
      ],
    });
    expect(validateManifests(objects)).toEqual([]);
    for (const object of objects) {
      expect(object.metadata?.name).toMatch(DNS_LABEL);
      for (const value of Object.values(object.metadata?.labels ?? {}))
        expect(value.length).toBeLessThanOrEqual(63);
    }
    expect(objects[0]?.metadata?.name).toMatch(/^pave-a+-[0-9a-f]{8}$/u);
    expect(objects[0]?.metadata?.name).toHaveLength(63);
    const claim = objects.find((object) => object.kind === 'PersistentVolumeClaim');
    expect(claim?.metadata?.name).toMatch(
      /^var-lib-pave-volumes-shop-dev-a-very-long-source-with-[0-9a-f]{8}$/u,
    );
  });

  it('publishes host ports only when asked (for podman kube play)', () => {
    const ports = [{ name: 'web', port: 80, targetPort: 8080, protocol: 'TCP' as const, hostPort: 24567 }];
    const render = (hostPorts?: { hostIP?: string }) =>
      renderManifests({
        app: 'a1',
        env: 'e1',
        namespace: 'pave-a1-e1',
        workloads: [workload('web', { ports })],
        ...(hostPorts ? { hostPorts } : {}),
      }).find((object) => object.kind === 'Deployment');
    const containerPorts = (object: KubernetesManifest | undefined) =>
      object?.kind === 'Deployment' ? object.spec?.template.spec?.containers[0]?.ports : undefined;
    expect(containerPorts(render())).toEqual([{ containerPort: 8080, protocol: 'TCP' }]);
    expect(containerPorts(render({ hostIP: '127.0.0.1' }))).toEqual([
      { containerPort: 8080, hostIP: '127.0.0.1', hostPort: 24567, protocol: 'TCP' },
    ]);
  });

  it('gives service addresses by Service name and service port', () => {
    const port = { name: 'web', port: 80, targetPort: 8080, protocol: 'TCP' as const, hostPort: 20001 };
    expect(serviceAddress('api', port, 'pave-shop-dev')).toEqual({
      hostname: 'api.pave-shop-dev.svc',
      port: 80,
    });
    expect(serviceAddress('api', port)).toEqual({ hostname: 'api', port: 80 });
    // A Service name must start with a letter.
    expect(serviceAddress('9lives', port).hostname).toMatch(/^s-9lives$/u);
  });

  it('names namespaces from the pattern', () => {
    expect(namespaceFor('pave-{app}-{env}', 'shop', 'dev')).toBe('pave-shop-dev');
    expect(namespaceFor('{app}', 'shop', 'dev')).toBe('shop');
    expect(namespaceFor('Team_{app}', 'shop', 'dev')).toMatch(/^team-shop-[0-9a-f]{8}$/u);
  });
});

describe('dnsLabel', () => {
  it('always gives a DNS label, the same for the same input, and keeps valid labels', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (raw) => {
        const label = dnsLabel(raw);
        expect(label).toMatch(DNS_LABEL);
        expect(dnsLabel(raw)).toBe(label);
        if (DNS_LABEL.test(raw)) expect(label).toBe(raw);
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (raw) => {
        const value = labelValue(raw);
        expect(value.length).toBeLessThanOrEqual(63);
        expect(value).toMatch(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/u);
      }),
    );
  });

  it('keeps different inputs apart when cleaning makes them equal', () => {
    expect(dnsLabel('a.b')).not.toBe(dnsLabel('a_b'));
    expect(dnsLabel('x'.repeat(64))).not.toBe(dnsLabel('x'.repeat(65)));
  });
});

describe('validating manifests', () => {
  it('reports every problem with the kind, name and JSON path', () => {
    const problems = validateManifests([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'api', namespace: 'ns', labels: { 'pave.dev/app': 'has spaces' } },
        spec: {
          selector: {},
          template: { spec: { containers: [{ name: 'main', ports: [{ containerPort: 'eighty' }] }] } },
        },
      },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: '1api' } },
      { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'x', namespace: 'ns' } },
    ]);
    expect(problems).toEqual([
      {
        kind: 'Deployment',
        name: 'ns/api',
        path: '/spec/template/spec/containers/0/ports/0/containerPort',
        message: 'must be integer',
      },
      {
        kind: 'Deployment',
        name: 'ns/api',
        path: '/metadata/labels/pave.dev~1app',
        message: expect.stringContaining('a label value must be at most 63'),
      },
      {
        kind: 'Service',
        name: '1api',
        path: '/metadata/name',
        message: expect.stringContaining('a DNS-1035 label'),
      },
      {
        kind: 'Service',
        name: '1api',
        path: '/metadata/namespace',
        message: 'a Service needs metadata.namespace',
      },
      {
        kind: 'CronJob',
        name: 'ns/x',
        path: '/kind',
        message: expect.stringContaining('no schema for batch/v1 CronJob'),
      },
    ]);
    const error = refusal(() =>
      assertValidManifests([{ apiVersion: 'v1', kind: 'Service', metadata: { name: '1api' } }]),
    );
    expect(error.message).toBe('2 problems in the rendered Kubernetes manifests');
    expect(error.errors.map((problem) => problem.path)).toEqual([
      'Service/1api/metadata/name',
      'Service/1api/metadata/namespace',
    ]);
  });
});

describe('manifestsToYaml', () => {
  it('writes one YAML document per object that reads back as the same objects', () => {
    const objects = renderManifests(twoWorkloadsApp());
    const documents = parseAllDocuments(manifestsToYaml(objects));
    expect(Array.isArray(documents) && documents.map((document) => document.toJS())).toEqual(objects);
  });
});
