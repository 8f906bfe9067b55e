import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RenderedPort, RuntimeTarget, WorkloadShape } from '@pave/plugin-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessRuntime } from '../src/index.ts';
import { persistableCheck, readinessChecks } from '../src/readiness.ts';
import { shapeFailures } from '../src/validation.ts';
import { copySupervisor, FIXTURES, freePort, nodeWorkload, port, testContext } from './support.ts';

let root: string;
let runtime: ProcessRuntime;
let fixtures: string;
const targets: RuntimeTarget[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pave-process-refusals-'));
  fixtures = join(root, 'app');
  mkdirSync(fixtures);
  for (const [name, content] of Object.entries(FIXTURES)) writeFileSync(join(fixtures, name), content);
  runtime = ProcessRuntime.fromConfig({
    dataDir: join(root, 'data'),
    supervisorScript: await copySupervisor(join(root, 'dist')),
    readyTimeoutMs: 15_000,
    stopGraceMs: 2_000,
  });
});
afterAll(async () => {
  for (const target of targets) await runtime.destroy(target, testContext());
  rmSync(root, { recursive: true, force: true });
});

function newTarget(name: string): RuntimeTarget {
  const target = { app: 'shop', env: `${name}-${process.pid}` };
  targets.push(target);
  return target;
}

const PATH_REASON =
  'the process runtime uses a volume whole, not a path inside it ("sub"): a workload could point that path ' +
  'elsewhere with a symbolic link; leave `path` out and use the directory inside the volume';
const hostReason = (host: string) =>
  `"${host}" is not this machine: the process runtime probes the workload where it runs, so leave \`host\` ` +
  'out (or use localhost, 127.0.0.1 or ::1)';

/** A one-container shape as the server plans it: the Score container's fields, volumes and files as written. */
function shape(container: Partial<WorkloadShape['containers'][number]>): WorkloadShape {
  return { containers: [{ name: 'main', image: 'node:20', command: ['node', 'server.js'], ...container }] };
}

/*
 * `pave deploy --plan` (and the deployment's plan phase) asks the runtime's `check`: what the process runtime
 * refuses whatever the placeholders expand to must be refused there, before anything is provisioned, at the
 * Score file's path, not only when the workload starts.
 */
describe("the process runtime's check, as a deployment is planned", () => {
  it('refuses a path inside a volume, at the volume as the Score file keys it', () => {
    const map = shape({ volumes: { '/data': { source: '${resources.data}', path: 'sub' } } });
    expect(runtime.check(map)).toEqual([
      { property: 'containers.main.volumes["/data"].path', reason: PATH_REASON },
    ]);
    // The deprecated list form is addressed by its index.
    const list = shape({ volumes: [{ target: '/data', source: '${resources.data}', path: 'sub' }] });
    expect(runtime.check(list)).toEqual([
      { property: 'containers.main.volumes[0].path', reason: PATH_REASON },
    ]);
    expect(shapeFailures(shape({ volumes: { '/data': { source: '${resources.data}' } } }))).toEqual([]);
  });

  it('refuses a readiness probe aimed at another host, and accepts this machine by any of its names', () => {
    for (const host of ['10.0.0.5', '169.254.169.254', 'db.internal']) {
      expect(runtime.check(shape({ readinessProbe: { httpGet: { host, port: 8080, path: '/' } } }))).toEqual([
        { property: 'containers.main.readinessProbe.httpGet.host', reason: hostReason(host) },
      ]);
    }
    for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '::1']) {
      expect(shapeFailures(shape({ readinessProbe: { httpGet: { host, port: 8080, path: '/' } } }))).toEqual(
        [],
      );
    }
  });

  it("refuses a file target that names no file, at its key (or the list item's target)", () => {
    expect(runtime.check(shape({ files: { '/etc/app/': { content: 'x' } } }))).toEqual([
      {
        property: 'containers.main.files["/etc/app/"]',
        reason: expect.stringContaining('"/etc/app/" does not name a file'),
      },
    ]);
    expect(runtime.check(shape({ files: [{ target: '/', content: 'x' }] }))).toEqual([
      {
        property: 'containers.main.files[0].target',
        reason: expect.stringContaining('"/" does not name a file'),
      },
    ]);
  });

  it('lists every problem of every container at once', () => {
    const workload: WorkloadShape = {
      containers: [
        { name: 'web', image: 'nginx:1.27' },
        {
          name: 'worker',
          image: 'node:20',
          command: ['node', 'worker.js'],
          volumes: { '/data': { source: '${resources.data}', path: 'sub' } },
          readinessProbe: { httpGet: { host: 'db.internal', port: 8080, path: '/' } },
        },
      ],
    };
    const failures = runtime.check(workload);
    expect(failures.map((failure) => failure.property)).toEqual([
      'containers.web.command',
      'containers.worker.volumes["/data"].path',
      'containers.worker.readinessProbe.httpGet.host',
    ]);
  });
});

describe('a deployment the process runtime refuses when it starts', () => {
  it('names each problem once, at its Score path, with the reasons check gives', async () => {
    const target = newTarget('refused');
    const workload = nodeWorkload('api', {
      dir: fixtures,
      script: 'server.cjs',
      container: {
        volumes: [{ source: fixtures, path: 'sub', target: '/data' }],
        readinessProbe: { httpGet: { port: 8080, path: '/', host: 'db.internal' } },
      },
    });
    const error = (await runtime
      .deploy(target, workload, testContext())
      .catch((caught: unknown) => caught)) as {
      name: string;
      message: string;
      errors: Array<{ path: string; message: string }>;
    };
    expect(error.name).toBe('InputError');
    expect(error.errors).toEqual([
      { path: 'containers.main.volumes["/data"].path', message: PATH_REASON },
      { path: 'containers.main.readinessProbe.httpGet.host', message: hostReason('db.internal') },
    ]);
    // The control plane prints the message followed by each problem: the message must not repeat them.
    expect(error.message).toBe('the process runtime cannot run workload "api"');
    expect(await runtime.status(target, testContext())).toEqual([]);
  });
});

describe('readiness of a workload whose ports are not all TCP', () => {
  const udp = (name: string, hostPort: number): RenderedPort => ({
    ...port(name, hostPort),
    protocol: 'UDP',
  });

  it('checks the first TCP port, and with none only that the workload runs', () => {
    const environment = () => ({});
    const workload = (ports: RenderedPort[]) =>
      nodeWorkload('dns', { dir: fixtures, script: 'worker.cjs', ports });
    expect(readinessChecks(workload([udp('dns', 20053), port('admin', 20080)]), environment)).toEqual([
      { container: null, check: { kind: 'tcp', port: 20080 } },
    ]);
    expect(readinessChecks(workload([udp('dns', 20053)]), environment)).toEqual([
      { container: null, check: { kind: 'running' } },
    ]);
    // An exec probe is kept on disk as the default check, which skips UDP ports as well.
    const exec = {
      container: 'main',
      check: { kind: 'exec' as const, command: ['true'], cwd: '/', env: {} },
    };
    expect(persistableCheck(exec, [udp('dns', 20053)])).toEqual({
      container: 'main',
      check: { kind: 'running' },
    });
    expect(persistableCheck(exec, [udp('dns', 20053), port('admin', 20080)])).toEqual({
      container: 'main',
      check: { kind: 'tcp', port: 20080 },
    });
  });

  it('makes a workload whose only port is UDP ready once it has kept running', async () => {
    const target = newTarget('udp');
    const workload = nodeWorkload('dns', {
      dir: fixtures,
      script: 'worker.cjs',
      ports: [udp('dns', await freePort())],
    });
    await runtime.deploy(target, workload, testContext());
    expect(await runtime.waitReady(target, 'dns', testContext(), { stableMs: 300 })).toEqual({ ready: true });
  }, 30_000);
});
