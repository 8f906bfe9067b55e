import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScore } from '@pave/core';
import { NEGATIVE_SAMPLES, SAMPLES_DIR, listSamples } from '../../../packages/core/test/score/support.ts';
import {
  manifestsToYaml,
  renderManifests,
  validateManifests,
  type KubernetesManifest,
} from '../src/index.ts';
import { renderedFromScore } from './support/score.ts';

const positiveSamples = listSamples().filter((sample) => !NEGATIVE_SAMPLES.has(sample));

/** The manifests of one sample: variables named like secrets go to a Secret, the first port gets a route. */
function manifestsOf(sample: string): KubernetesManifest[] {
  const { workload, problems } = parseScore(readFileSync(join(SAMPLES_DIR, sample), 'utf8'), sample);
  expect(problems).toEqual([]);
  if (!workload) throw new Error(`${sample} did not parse`);
  const rendered = renderedFromScore(workload);
  return renderManifests({
    app: 'samples',
    env: 'test',
    namespace: 'pave-samples-test',
    workloads: [rendered],
    secretKeys: (_workload, container) =>
      Object.keys(rendered.containers.find((candidate) => candidate.name === container)?.env ?? {}).filter(
        (key) => /PASSWORD|SECRET|TOKEN|KEY/u.test(key),
      ),
    routes: rendered.ports.slice(0, 1).map((port) => ({
      host: `${rendered.name}.example.com`,
      path: '/',
      workload: rendered.name,
      port: port.port,
    })),
  });
}

describe(`the Kubernetes manifests of the positive Score samples in ${SAMPLES_DIR}`, () => {
  it('are there to test', () => {
    expect(positiveSamples.length).toBeGreaterThan(0);
  });

  it.each(positiveSamples)('%s: validate against the Kubernetes schemas with no problem', (sample) => {
    const objects = manifestsOf(sample);
    expect(validateManifests(objects)).toEqual([]);
    expect(objects.filter((object) => object.kind === 'Deployment')).toHaveLength(1);
    expect(manifestsToYaml(objects)).toContain('kind: Deployment');
  });

  it('exercise every kind Pave renders', () => {
    const kinds = new Set(
      positiveSamples.flatMap((sample) => manifestsOf(sample).map((object) => object.kind)),
    );
    expect([...kinds].sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'Ingress',
      'Namespace',
      'PersistentVolumeClaim',
      'Secret',
      'Service',
    ]);
  });
});
