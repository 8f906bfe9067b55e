import { describe, expect, it } from 'vitest';
import type { WorkloadSource } from '@pave/core';
import { patchWorkloadArtifacts, workloadArtifactsOf } from '../src/domain/deployments/provenance.ts';

const source = (name: string): WorkloadSource => ({
  spec: { apiVersion: 'score.dev/v1b1', metadata: { name }, containers: { main: { image: 'node:20' } } },
  dir: '/srv/shop',
});

describe('the artifact each workload of a set came from', () => {
  it("counts every workload of a deployment that recorded none as its own artifact's, whatever its name", () => {
    // `constructor` and `toString` are valid workload names and names of every object's prototype.
    const workloads = {
      constructor: source('constructor'),
      toString: source('tostring'),
      api: source('api'),
    };
    expect(workloadArtifactsOf({ workload_artifacts: null, artifact_id: 7 }, workloads)).toEqual({
      constructor: '7',
      toString: '7',
      api: '7',
    });
    expect(
      workloadArtifactsOf(
        { workload_artifacts: JSON.stringify({ api: '3', constructor: null }), artifact_id: null },
        workloads,
      ),
    ).toEqual({ constructor: null, toString: null, api: '3' });
  });

  it('gives the workloads a deployment upserts its artifact, keeps the others and drops the removed', () => {
    expect(patchWorkloadArtifacts({ api: '3', worker: null, old: '2' }, ['worker'], ['old'], '9')).toEqual({
      api: '3',
      worker: '9',
    });
  });
});
