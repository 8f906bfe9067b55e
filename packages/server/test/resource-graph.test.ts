import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScore, type PaveError, type ScoreResource, type ScoreWorkload } from '@pave/core';
import type { SetWorkloads } from '../src/domain/deployments/sets.ts';
import { buildResourceGraph, renderGraphText } from '../src/domain/resources/graph.ts';
import { NEGATIVE_SAMPLES, SAMPLES_DIR, listSamples } from '../../core/test/score/support.ts';

const spec = (name: string, resources: Record<string, ScoreResource> = {}): ScoreWorkload => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name },
  containers: { main: { image: 'node:20' } },
  resources,
});
const set = (...specs: ScoreWorkload[]): SetWorkloads =>
  Object.fromEntries(specs.map((workload) => [workload.metadata.name, { spec: workload, dir: '/srv/app' }]));

// The InputError buildResourceGraph throws for `workloads`.
function refusal(workloads: SetWorkloads): PaveError {
  try {
    buildResourceGraph(workloads);
  } catch (error) {
    expect((error as Error).name).toBe('InputError');
    return error as PaveError;
  }
  throw new Error('expected buildResourceGraph to refuse the set');
}

describe('the resource graph of a deployment set', () => {
  it("gives each workload's resources their own node at <workload>.<name>, with class default when unset", () => {
    const graph = buildResourceGraph(
      set(
        spec('api', { db: { type: 'postgres' } }),
        spec('worker', { db: { type: 'postgres', class: 'large' } }),
      ),
    );
    expect(graph.nodes).toEqual([
      {
        address: 'api.db',
        type: 'postgres',
        class: 'default',
        resId: 'api.db',
        shared: false,
        builtIn: false,
        params: {},
        consumers: [{ workload: 'api', name: 'db' }],
        dependsOn: [],
      },
      expect.objectContaining({
        address: 'worker.db',
        class: 'large',
        consumers: [{ workload: 'worker', name: 'db' }],
      }),
    ]);
    expect(graph.edges).toEqual([
      { from: 'api', to: 'api.db', kind: 'uses' },
      { from: 'worker', to: 'worker.db', kind: 'uses' },
    ]);
  });

  it('collapses the declarations of one shared id into one node that lists every consumer', () => {
    const graph = buildResourceGraph(
      set(
        spec('worker', { queue: { type: 'amqp', id: 'orders' } }),
        spec('api', {
          orders: { type: 'amqp', id: 'orders', params: { durable: true } },
          db: { type: 'postgres' },
        }),
      ),
    );
    expect(graph.nodes.map((node) => node.address)).toEqual(['api.db', 'shared.orders']);
    expect(graph.nodes[1]).toEqual({
      address: 'shared.orders',
      type: 'amqp',
      class: 'default',
      resId: 'orders',
      shared: true,
      builtIn: false,
      params: { durable: true },
      consumers: [
        { workload: 'api', name: 'orders' },
        { workload: 'worker', name: 'queue' },
      ],
      dependsOn: [],
    });
    expect(graph.edges.filter((edge) => edge.to === 'shared.orders')).toEqual([
      { from: 'api', to: 'shared.orders', kind: 'uses' },
      { from: 'worker', to: 'shared.orders', kind: 'uses' },
    ]);
  });

  it('refuses one shared id declared with different types or classes, naming both declarations', () => {
    const error = refusal(
      set(
        spec('api', { db: { type: 'postgres', id: 'main' } }),
        spec('worker', {
          cache: { type: 'redis', id: 'main' },
          db: { type: 'postgres', class: 'large', id: 'main' },
        }),
      ),
    );
    expect(error.errors).toEqual([
      {
        path: 'workloads.worker.resources.cache.id',
        message: expect.stringContaining(
          'shared resource id "main" is declared here as redis (class default) but as postgres (class default) at workloads.api.resources.db',
        ),
      },
      {
        path: 'workloads.worker.resources.db.id',
        message: expect.stringContaining('as postgres (class large) but as postgres (class default)'),
      },
    ]);
    expect(error.message).toContain('workloads.worker.resources.cache.id');
  });

  it('refuses one shared id given different params, and takes them from the one declaration that sets them', () => {
    const error = refusal(
      set(
        spec('api', { db: { type: 'postgres', id: 'main', params: { version: '16' } } }),
        spec('worker', { db: { type: 'postgres', id: 'main', params: { version: '17' } } }),
      ),
    );
    expect(error.errors).toEqual([
      { path: 'workloads.worker.resources.db.params', message: expect.stringContaining('different params') },
    ]);
  });

  it('refuses a workload named "shared" whose resource takes a shared address', () => {
    const error = refusal(
      set(
        spec('shared', { db: { type: 'postgres' } }),
        spec('api', { main: { type: 'postgres', id: 'db' } }),
      ),
    );
    expect(error.errors).toEqual([
      {
        path: 'workloads.shared.resources.db',
        message: expect.stringContaining('rename the workload "shared" or change that id'),
      },
    ]);
  });

  it('includes built-in types as nodes, flagged', () => {
    const graph = buildResourceGraph(
      set(
        spec('api', {
          env: { type: 'environment' },
          peer: { type: 'service-port' },
          db: { type: 'postgres' },
        }),
      ),
    );
    expect(graph.nodes.map(({ address, builtIn }) => ({ address, builtIn }))).toEqual([
      { address: 'api.db', builtIn: false },
      { address: 'api.env', builtIn: true },
      { address: 'api.peer', builtIn: true },
    ]);
  });
});

describe('resource dependencies', () => {
  it('order every resource after the resources its params use, ties by address', () => {
    const graph = buildResourceGraph(
      set(
        spec('api', {
          route: { type: 'route', params: { host: '${resources.dns.host}', path: '/', port: 8080 } },
          dns: { type: 'dns' },
          alpha: { type: 'volume' },
          zeta: { type: 'dns', params: { nested: [{ deep: 'x-${resources.cache.host}' }] } },
          cache: { type: 'redis', id: 'main-cache' },
        }),
      ),
    );
    expect(graph.nodes.map((node) => node.address)).toEqual([
      'api.alpha',
      'api.dns',
      'api.route',
      'shared.main-cache',
      'api.zeta',
    ]);
    expect(graph.nodes.find((node) => node.address === 'api.zeta')?.dependsOn).toEqual(['shared.main-cache']);
    expect(graph.edges.filter((edge) => edge.kind === 'depends-on')).toEqual([
      { from: 'api.route', to: 'api.dns', kind: 'depends-on' },
      { from: 'api.zeta', to: 'shared.main-cache', kind: 'depends-on' },
    ]);
  });

  it('ignore other placeholders and escaped ones', () => {
    const graph = buildResourceGraph(
      set(
        spec('api', {
          dns: {
            type: 'dns',
            params: { name: '${metadata.name}', literal: '$${resources.nothing.host}', cost: '$$5' },
          },
        }),
      ),
    );
    expect(graph.nodes[0]?.dependsOn).toEqual([]);
  });

  it('refuse a reference to a resource the workload does not declare, at the string that holds it', () => {
    const error = refusal(
      set(
        spec('api', {
          route: {
            type: 'route',
            params: { hosts: ['${resources.dsn.host}', '${resources.constructor.name}'] },
          },
          dns: { type: 'dns' },
        }),
        spec('web', { dsn: { type: 'dns' } }),
      ),
    );
    expect(error.errors).toEqual([
      {
        path: 'workloads.api.resources.route.params.hosts[0]',
        message: expect.stringContaining(
          '${resources.dsn.host} names resource "dsn", which workload api does not declare; declared resources: dns, route',
        ),
      },
      {
        path: 'workloads.api.resources.route.params.hosts[1]',
        message: expect.stringContaining('names resource "constructor", which workload api does not declare'),
      },
    ]);
  });

  it('refuse a cycle, printing it with addresses', () => {
    const error = refusal(
      set(
        spec('api', {
          b: { type: 'dns', params: { host: '${resources.c.host}' } },
          a: { type: 'route', params: { host: '${resources.b.host}' } },
          c: { type: 'dns', params: { host: '${resources.a.host}' } },
          d: { type: 'dns', params: { host: '${resources.a.host}' } },
        }),
      ),
    );
    expect(error.errors).toEqual([
      {
        path: 'workloads.api.resources.a.params.host',
        message: expect.stringContaining('api.a -> api.b -> api.c -> api.a'),
      },
    ]);
    expect(error.message).toContain('api.a -> api.b -> api.c -> api.a');
  });

  it('refuse a resource that uses its own outputs, and report every problem at once', () => {
    const error = refusal(
      set(
        spec('api', { dns: { type: 'dns', params: { host: 'x.${resources.dns.host}' } } }),
        spec('web', {
          route: { type: 'route', params: { host: '${resources.nope.host}', open: '${resources' } },
        }),
      ),
    );
    expect(error.errors.map((problem) => problem.path)).toEqual([
      'workloads.web.resources.route.params.host',
      'workloads.web.resources.route.params.open',
      'workloads.api.resources.dns.params.host',
    ]);
    expect(error.errors[2]?.message).toContain('api.dns -> api.dns');
  });

  it('do not depend on the order workloads and resources are listed in', () => {
    const workloads = [
      spec('api', {
        route: { type: 'route', params: { host: '${resources.dns.host}' } },
        dns: { type: 'dns' },
      }),
      spec('web', {
        cache: { type: 'redis', id: 'main' },
        dns: { type: 'dns', params: { c: '${resources.cache.x}' } },
      }),
      spec('worker', { cache: { type: 'redis', id: 'main' } }),
    ];
    const expected = buildResourceGraph(set(...workloads));
    fc.assert(
      fc.property(fc.shuffledSubarray(workloads, { minLength: workloads.length }), (shuffled) => {
        expect(buildResourceGraph(set(...shuffled))).toEqual(expected);
      }),
    );
  });
});

describe('the text rendering of a resource graph', () => {
  it('lists each workload with its resources, shared and built-in markers and dependency arrows', () => {
    const graph = buildResourceGraph(
      set(
        spec('worker', { cache: { type: 'redis', id: 'main-cache' } }),
        spec('api', {
          route: { type: 'route', params: { host: '${resources.dns.host}' } },
          dns: { type: 'dns', class: 'public' },
          env: { type: 'environment' },
          cache: { type: 'redis', id: 'main-cache' },
        }),
      ),
    );
    expect(renderGraphText(graph)).toBe(
      [
        'api',
        '├── cache  redis (class default)  [shared as shared.main-cache, also used by worker]',
        '├── dns    dns (class public)',
        '├── env    environment (class default)  [built-in]',
        '└── route  route (class default)',
        '    └── depends on api.dns (dns)',
        'worker',
        '└── cache  redis (class default)  [shared as shared.main-cache, also used by api]',
        '',
      ].join('\n'),
    );
  });

  it('says so when there are no resources', () => {
    expect(renderGraphText(buildResourceGraph(set(spec('api'))))).toBe('no resources\n');
  });
});

// The vendored public Score samples (see packages/core/test/score), minus the ones MANIFEST.md marks negative.
const positiveSamples = listSamples().filter((sample) => !NEGATIVE_SAMPLES.has(sample));
const parsed = positiveSamples.flatMap((sample) => {
  const { workload } = parseScore(readFileSync(join(SAMPLES_DIR, sample), 'utf8'), sample);
  return workload ? [{ sample, workload }] : [];
});

describe(`the resource graphs of the Score samples in ${SAMPLES_DIR}`, () => {
  it('build for every sample that parses, alone in a set', () => {
    expect(parsed.length).toBeGreaterThan(0);
    const types = new Map<string, number>();
    for (const { sample, workload } of parsed) {
      const graph = buildResourceGraph({ [workload.metadata.name]: { spec: workload, dir: '/tmp' } });
      expect(graph.nodes.length, sample).toBe(Object.keys(workload.resources ?? {}).length);
      expect(renderGraphText(graph), sample).toMatch(/\n$/u);
      for (const node of graph.nodes) types.set(node.type, (types.get(node.type) ?? 0) + 1);
    }
    const summary = [...types]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, count]) => `${type} ${count}`);
    console.log(
      `resource graphs of ${parsed.length} of ${positiveSamples.length} positive samples; ` +
        `resource types: ${summary.join(', ')}`,
    );
  });

  it('collapse the shared resources of samples that are deployed together', () => {
    const together = (folder: string) =>
      Object.fromEntries(
        parsed
          .filter(({ sample }) => dirname(sample).startsWith(folder))
          .map(({ workload }) => [workload.metadata.name, { spec: workload, dir: '/tmp' }]),
      );
    const compose = buildResourceGraph(together('score-compose/examples/06-resource-provisioning'));
    expect(compose.nodes.find((node) => node.address === 'shared.main-cache')?.consumers).toEqual([
      { workload: 'workload-one', name: 'cache-a' },
      { workload: 'workload-two', name: 'cache-b' },
    ]);
    const store = buildResourceGraph(together('examples/samples/aks-store-demo'));
    expect(
      store.nodes.find((node) => node.address === 'shared.orders-queue')?.consumers.map((c) => c.workload),
    ).toEqual(['makeline-service', 'order-service']);
  });
});
