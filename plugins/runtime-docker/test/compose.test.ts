import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RenderedWorkload } from '@pave/plugin-api';
import { renderCompose, rewriteLoopback, type ComposeEnvironment } from '../src/index.ts';
import { checkComposeFile, podmanComposeAvailable } from '../../../test/support/compose.ts';
import { port, workload } from './support.ts';

const TARGET = { app: 'shop', env: 'dev' };
const SECRET = 'hunter2-s3cret';
const DATABASE_URL = `postgres://shop:${SECRET}@127.0.0.1:5433/shop`;

/** An API (one container, a port, a file, a volume, an httpGet probe, a secret) and a two-container worker. */
function twoWorkloads(): ComposeEnvironment {
  const api = workload(
    'api',
    'h1',
    {
      image: 'node:20',
      command: ['node', 'server.js'],
      env: { GREETING: 'hello from api', PRICE: 'costs $5', DATABASE_URL },
      files: [{ target: '/etc/api/config.json', content: '{"mode":"dev"}', mode: '0640' }],
      volumes: [{ source: '/var/lib/pave/volumes/data', target: '/data', readOnly: true }],
      readinessProbe: { httpGet: { port: 41001, path: '/healthz' } },
      livenessProbe: { exec: { command: ['true'] } },
      resources: { limits: { cpu: '500m', memory: '128Mi' } },
    },
    [{ name: 'web', port: 80, targetPort: 8080, protocol: 'TCP', hostPort: 41001 }],
  );
  const worker: RenderedWorkload = {
    ...workload('worker', 'h2', {
      image: 'busybox',
      args: ['sh', '-c', 'while true; do wget -qO- $API_URL; sleep 5; done'],
      env: { API_URL: 'http://api:8080/', CACHE: 'redis://localhost:6379' },
      readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] } },
    }),
    containers: [
      {
        name: 'main',
        image: 'busybox',
        args: ['sh', '-c', 'while true; do wget -qO- $API_URL; sleep 5; done'],
        env: { API_URL: 'http://api:8080/', CACHE: 'redis://localhost:6379' },
        files: [{ target: '/run/token', content: `token=${SECRET}` }],
        workingDir: '/',
        readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] } },
      },
      {
        name: 'sidecar',
        image: 'busybox',
        command: ['sleep', 'infinity'],
        env: {},
        files: [],
        workingDir: '/',
      },
    ],
    ports: [port('metrics', 9090, 41002)],
  };
  return {
    workloads: [worker, api],
    routes: [{ host: 'api.dev.shop.localhost', path: '/', workload: 'api', port: 80 }],
    secretKeys: (name, container) => (name === 'api' && container === 'main' ? ['DATABASE_URL'] : []),
    secretFiles: (name, container) => (name === 'worker' && container === 'main' ? ['/run/token'] : []),
    deploymentSet: 'set-123',
  };
}

type Service = Record<string, unknown> & { environment?: Record<string, string> };
type Project = {
  name: string;
  services: Record<string, Service>;
  configs?: Record<string, { content: string }>;
};

describe('renderCompose: an environment as a Compose file', () => {
  const text = renderCompose(TARGET, twoWorkloads());
  const project = parse(text) as Project;

  it('makes one service per container: the workload for its first, workload-container for the others', () => {
    expect(project.name).toBe('pave-shop-dev');
    expect(Object.keys(project.services)).toEqual(['api', 'worker', 'worker-sidecar']);
    expect(project.services['worker-sidecar']?.network_mode).toBe('service:worker');
    expect(project.services['worker-sidecar']?.ports).toBeUndefined();
  });

  it('maps Score command to entrypoint and args to command', () => {
    expect(project.services.api?.entrypoint).toEqual(['node', 'server.js']);
    expect(project.services.api?.command).toBeUndefined();
    expect(project.services.worker?.entrypoint).toBeUndefined();
    // `$` is doubled so Compose leaves the shell's variable alone.
    expect(project.services.worker?.command).toEqual([
      'sh',
      '-c',
      'while true; do wget -qO- $$API_URL; sleep 5; done',
    ]);
  });

  it('publishes ports on loopback at the host ports Pave allocated', () => {
    expect(project.services.api?.ports).toEqual(['127.0.0.1:41001:8080/tcp']);
    expect(project.services.worker?.ports).toEqual(['127.0.0.1:41002:9090/tcp']);
  });

  it('never writes a secret value: secret variables are references listed in the header', () => {
    expect(text).not.toContain(SECRET);
    expect(project.services.api?.environment).toEqual({
      DATABASE_URL: '${API_DATABASE_URL:?export API_DATABASE_URL (a secret Pave does not print)}',
      GREETING: 'hello from api',
      PRICE: 'costs $$5',
    });
    expect(text).toMatch(/^# {3}API_DATABASE_URL {2}\(service api, variable DATABASE_URL\)$/m);
  });

  it("names the host for this machine's loopback, and maps it to the host gateway", () => {
    expect(project.services.worker?.environment).toEqual({
      API_URL: 'http://api:8080/',
      CACHE: 'redis://host.docker.internal:6379',
    });
    expect(project.services.worker?.extra_hosts).toEqual(['host.docker.internal:host-gateway']);
    expect(project.services.api?.extra_hosts).toBeUndefined();
  });

  it('mounts files as configs with inline content, and leaves secret files out', () => {
    expect(project.services.api?.configs).toEqual([
      { source: 'api-file-0', target: '/etc/api/config.json', mode: 0o640 },
    ]);
    expect(project.configs).toEqual({ 'api-file-0': { content: '{"mode":"dev"}' } });
    expect(project.services.worker?.configs).toBeUndefined();
    expect(text).toContain('#   - file /run/token of service worker: it holds a secret; mount it yourself');
  });

  it('binds volumes and takes the healthcheck from the readiness probe', () => {
    expect(project.services.api?.volumes).toEqual([
      { type: 'bind', source: '/var/lib/pave/volumes/data', target: '/data', read_only: true },
    ]);
    const check = project.services.api?.healthcheck as { test: string[] };
    expect(check.test[0]).toBe('CMD-SHELL');
    expect(check.test[1]).toContain("wget -q -O /dev/null 'http://127.0.0.1:8080/healthz'");
    expect(project.services.worker?.healthcheck).toMatchObject({
      test: ['CMD', 'test', '-f', '/tmp/ready'],
    });
    expect(project.services.api).toMatchObject({ cpus: 0.5, mem_limit: 128 * 2 ** 20 });
  });

  it('says what it comes from and what it left out', () => {
    expect(text.split('\n')[0]).toBe(
      '# Compose file of app shop, environment dev, deployment set set-123: `pave render --format compose`.',
    );
    expect(text).toContain('#   - liveness probe of service api');
    expect(text).toContain(
      '#   - routes (no ingress in Compose; use the published ports): api.dev.shop.localhost/ -> api',
    );
  });

  it('renders the same text for the same environment, whatever the order of workloads', () => {
    const environment = twoWorkloads();
    const reversed = { ...environment, workloads: [...environment.workloads].reverse() };
    expect(renderCompose(TARGET, reversed)).toBe(text);
  });
});

describe('rewriteLoopback', () => {
  it('rewrites loopback hosts only', () => {
    expect(rewriteLoopback('postgres://u:p@127.0.0.1:5432/db')).toBe(
      'postgres://u:p@host.docker.internal:5432/db',
    );
    expect(rewriteLoopback('localhost')).toBe('host.docker.internal');
    expect(rewriteLoopback('http://[::1]:80/')).toBe('http://host.docker.internal:80/');
    expect(rewriteLoopback('http://api.dev.shop.localhost/')).toBe('http://api.dev.shop.localhost/');
    expect(rewriteLoopback('localhostname')).toBe('localhostname');
    expect(rewriteLoopback('1127.0.0.1')).toBe('1127.0.0.1');
  });
});

// podman-compose is how CI proves the file is one Compose reads (.ci/run installs it): with CI set this runs,
// and fails if podman-compose is missing.
const skipReason =
  !podmanComposeAvailable() && !process.env.CI ? ' (skipped: podman-compose is not installed)' : '';

describe.skipIf(skipReason !== '')(`podman-compose reads the file${skipReason}`, () => {
  it('accepts the two-workload file and sees every service, with the secret from the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pave-compose-'));
    try {
      const file = join(dir, 'compose.yaml');
      writeFileSync(file, renderCompose(TARGET, twoWorkloads()));
      const result = checkComposeFile(file, { API_DATABASE_URL: 'postgres://from-the-developer' });
      expect(result.status, result.output).toBe(0);
      expect(result.services).toEqual(['api', 'worker', 'worker-sidecar']);
      expect(result.output).toContain('postgres://from-the-developer');
      expect(result.output).toContain('costs $5');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start without the secret variables the header lists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pave-compose-'));
    try {
      const file = join(dir, 'compose.yaml');
      writeFileSync(file, renderCompose(TARGET, twoWorkloads()));
      const result = checkComposeFile(file);
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('export API_DATABASE_URL');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
