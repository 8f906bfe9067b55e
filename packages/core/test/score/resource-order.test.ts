import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkScoreResourceCycles, dependencyOrder, parseScore } from '../../src/index.ts';

const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges));

const FIX =
  'a resource cannot use its own outputs, directly or through other resources: remove one of these ' +
  'references (set that param to a literal value instead)';

describe('the dependency order of resources', () => {
  it('places every vertex after its dependencies, ties by name, whatever order they are listed in', () => {
    expect(dependencyOrder(graph({ route: ['dns'], dns: [], db: [], app: ['route', 'db'] }))).toEqual({
      order: ['db', 'dns', 'route', 'app'],
      cycles: [],
    });
  });

  it('names each cycle once, from its smallest vertex, and leaves out what depends on one', () => {
    expect(
      dependencyOrder(
        graph({
          self: ['self'],
          b: ['c'],
          a: ['b'],
          c: ['a', 'x'],
          d: ['a'],
          x: [],
          y: ['z'],
          z: ['y'],
        }),
      ),
    ).toEqual({
      order: ['x'],
      cycles: [
        ['a', 'b', 'c', 'a'],
        ['self', 'self'],
        ['y', 'z', 'y'],
      ],
    });
  });

  it('gives the shortest cycle through the smallest vertex of a tangle, and ignores unknown dependencies', () => {
    expect(dependencyOrder(graph({ a: ['c', 'b', 'gone'], b: ['c'], c: ['a'] })).cycles).toEqual([
      ['a', 'c', 'a'],
    ]);
  });

  it('finds a cycle through 20 000 resources without exhausting the stack', () => {
    const size = 20_000;
    const name = (index: number) => `r${String(index).padStart(6, '0')}`;
    const chain = new Map(
      Array.from({ length: size }, (_, index) => [name(index), [name((index + 1) % size)]]),
    );
    const { order, cycles } = dependencyOrder(chain);
    expect(order).toEqual([]);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toHaveLength(size + 1);
  });

  it('orders every acyclic graph, and otherwise reports only real cycles', () => {
    const vertices = ['a', 'b', 'c', 'd', 'e', 'f'];
    const graphs = fc
      .array(fc.tuple(fc.constantFrom(...vertices), fc.constantFrom(...vertices)), { maxLength: 12 })
      .map((edges) => {
        const dependsOn = new Map(vertices.map((vertex) => [vertex, [] as string[]]));
        for (const [from, to] of edges) dependsOn.get(from)?.push(to);
        return dependsOn;
      });
    fc.assert(
      fc.property(graphs, (dependsOn) => {
        const { order, cycles } = dependencyOrder(dependsOn);
        const position = new Map(order.map((vertex, index) => [vertex, index]));
        for (const vertex of order) {
          for (const dependency of dependsOn.get(vertex) ?? []) {
            expect(position.get(dependency)).toBeLessThan(position.get(vertex) as number);
          }
        }
        expect(cycles.length === 0).toBe(order.length === vertices.length);
        for (const cycle of cycles) {
          expect(cycle[0]).toBe(cycle.at(-1));
          for (let step = 0; step + 1 < cycle.length; step++) {
            expect(dependsOn.get(cycle[step] as string)).toContain(cycle[step + 1]);
          }
        }
      }),
    );
  });
});

describe('resource params cycles in a Score file', () => {
  it('are refused by parseScore at the placeholder where the cycle starts, naming it and how to fix it', () => {
    const text = `apiVersion: score.dev/v1b1
metadata:
  name: shop
containers:
  web:
    image: nginx
resources:
  route:
    type: route
    params:
      host: "www.\${resources.dns.host}"
  dns:
    type: dns
    params:
      target: \${resources.route.host}
`;
    expect(parseScore(text, 'score.yaml')).toEqual({
      problems: [
        {
          file: 'score.yaml',
          line: 15,
          column: 15,
          path: 'resources.dns.params.target',
          message: `resource params form a cycle: dns -> route -> dns; ${FIX}`,
        },
      ],
    });
  });

  it('include a resource that uses its own outputs, and longer cycles, each reported once', () => {
    const text = `apiVersion: score.dev/v1b1
metadata:
  name: shop
containers:
  web:
    image: nginx
resources:
  dns:
    type: dns
    params:
      names: [www, "api.\${resources.dns.host}"]
  one:
    type: route
    params: { next: "\${resources.two.x}" }
  two:
    type: route
    params: { next: "\${resources.three.x}", also: "\${resources.one.x}" }
  three:
    type: route
    params:
      nested:
        deep: \${resources.one.x}
`;
    expect(parseScore(text, 'score.yaml').problems).toEqual([
      {
        file: 'score.yaml',
        line: 11,
        column: 25,
        path: 'resources.dns.params.names[1]',
        message: `resource params form a cycle: dns -> dns; ${FIX}`,
      },
      {
        file: 'score.yaml',
        line: 14,
        column: 22,
        path: 'resources.one.params.next',
        message: `resource params form a cycle: one -> two -> one; ${FIX}`,
      },
    ]);
  });

  it('do not count escaped placeholders, metadata placeholders or undeclared resources', () => {
    const spec = {
      metadata: { name: 'shop' },
      resources: {
        a: {
          type: 'dns',
          params: { x: '$${resources.b.host}', y: '${metadata.name}', z: '${resources.nope.x}' },
        },
        b: { type: 'dns', params: { x: '${resources.a.host}' } },
      },
    };
    expect(checkScoreResourceCycles(spec)).toEqual([]);
  });

  it('treat the names of one shared id as one resource, as the server does', () => {
    const spec = {
      resources: {
        cache: { type: 'redis', id: 'main', params: { peer: '${resources.route.host}' } },
        route: { type: 'route', params: { backend: '${resources.cache-again.host}' } },
        'cache-again': { type: 'redis', id: 'main' },
      },
    };
    expect(checkScoreResourceCycles(spec)).toEqual([
      {
        cycle: ['cache', 'route', 'cache'],
        path: ['resources', 'cache', 'params', 'peer'],
        offset: 0,
        length: '${resources.route.host}'.length,
        message:
          'resource params form a cycle: cache -> route -> cache-again ' +
          `(cache and cache-again declare the same id "main": one resource); ${FIX}`,
      },
    ]);
  });

  it('name both names of a shared id that uses its own outputs through its other name', () => {
    const spec = {
      resources: {
        bb: { type: 'redis', id: 'main' },
        aa: { type: 'redis', id: 'main', params: { peer: 'x-${resources.bb.host}' } },
      },
    };
    expect(checkScoreResourceCycles(spec)).toEqual([
      {
        cycle: ['aa', 'aa'],
        path: ['resources', 'aa', 'params', 'peer'],
        offset: 2,
        length: '${resources.bb.host}'.length,
        message: `resource params form a cycle: aa -> bb (aa and bb declare the same id "main": one resource); ${FIX}`,
      },
    ]);
  });
});
