import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RenderedContainer, RenderedWorkload } from '@pave/plugin-api';
import { renderCompose, type ComposeEnvironment } from '../src/index.ts';
import { checkComposeFile, podmanComposeAvailable } from '../../../test/support/compose.ts';
import { port } from './support.ts';

/*
 * Found by a Score-conformance review: the Compose file ignored `containers.*.before` (every service started
 * at once, a migration restarted forever), dropped `metadata.annotations`, and took a probe's httpGet over its
 * exec when it had both, where Score prefers exec (as score-compose does).
 */

const TARGET = { app: 'shop', env: 'dev' };

const container = (name: string, extra: Partial<RenderedContainer> = {}): RenderedContainer => ({
  name,
  image: `${name}:1`,
  env: {},
  files: [],
  workingDir: '/',
  ...extra,
});

function environment(
  containers: RenderedContainer[],
  extra: Partial<RenderedWorkload> = {},
): ComposeEnvironment {
  return {
    workloads: [
      {
        name: 'api',
        containers,
        ports: [port('web', 8080, 41001)],
        hash: 'h1',
        deploymentId: 'd1',
        ...extra,
      },
    ],
    routes: [],
    secretKeys: () => [],
    secretFiles: () => [],
  };
}

type Service = Record<string, unknown>;
const servicesOf = (text: string) => (parse(text) as { services: Record<string, Service> }).services;

describe('renderCompose and before', () => {
  it('runs a container others wait for to complete once, on its own, before them', () => {
    const text = renderCompose(
      TARGET,
      environment([
        container('main'),
        container('migrate', {
          before: { main: { ready: 'complete' } },
          env: { DATABASE_URL: 'postgres://127.0.0.1:5432/shop' },
        }),
      ]),
    );
    const services = servicesOf(text);
    expect(services.api).toMatchObject({
      image: 'main:1',
      restart: 'unless-stopped',
      ports: ['127.0.0.1:41001:8080/tcp'],
      depends_on: { 'api-migrate': { condition: 'service_completed_successfully' } },
    });
    // Not restarted once it exits, and not in the network of a container that waits for it.
    expect(services['api-migrate']).toMatchObject({ image: 'migrate:1', restart: 'no' });
    expect(services['api-migrate']).not.toHaveProperty('network_mode');
    expect(services['api-migrate']).not.toHaveProperty('ports');
    // It has a network of its own, so it needs the host gateway itself.
    expect(services['api-migrate']?.extra_hosts).toEqual(['host.docker.internal:host-gateway']);
    // YAML 1.1 readers (podman-compose's PyYAML) would read a bare `no` as false.
    expect(text).toContain("restart: 'no'");
  });

  it('gives the network to the first container to start, and waits for started or healthy', () => {
    const services = servicesOf(
      renderCompose(
        TARGET,
        environment([
          container('main'),
          container('proxy', { before: { main: { ready: 'started' } } }),
          container('cache', {
            before: { main: { ready: 'healthy' } },
            livenessProbe: { exec: { command: ['redis-cli', 'ping'] } },
          }),
        ]),
      ),
    );
    // cache and proxy start before main; cache comes first in name order, so it holds the workload's network.
    expect(services.api).toMatchObject({
      image: 'cache:1',
      ports: ['127.0.0.1:41001:8080/tcp'],
      healthcheck: { test: ['CMD', 'redis-cli', 'ping'] },
    });
    expect(services['api-proxy']).toMatchObject({ network_mode: 'service:api', restart: 'unless-stopped' });
    expect(services['api-main']).toMatchObject({
      network_mode: 'service:api',
      depends_on: {
        api: { condition: 'service_healthy' },
        'api-proxy': { condition: 'service_started' },
      },
    });
  });

  it('waits for a container to start, saying so, when its probe has no healthcheck to be healthy by', () => {
    const text = renderCompose(
      TARGET,
      environment([
        container('main'),
        container('cache', {
          before: { main: { ready: 'healthy' } },
          readinessProbe: {
            httpGet: { port: 41001, path: '/', httpHeaders: [{ name: 'Authorization', value: 'Bearer x' }] },
          },
        }),
      ]),
    );
    expect(servicesOf(text)['api-main']?.depends_on).toEqual({ api: { condition: 'service_started' } });
    expect(text).toContain('#   - before of service api: api-main waits for it to start, not to be healthy');
  });

  it('names a workload without before as it did: its first container is the workload', () => {
    const services = servicesOf(
      renderCompose(TARGET, environment([container('main'), container('sidecar')])),
    );
    expect(Object.keys(services)).toEqual(['api', 'api-sidecar']);
    expect(services.api).not.toHaveProperty('depends_on');
    expect(services['api-sidecar']).toMatchObject({ network_mode: 'service:api' });
  });
});

describe('renderCompose and the rest of Score', () => {
  it("puts the workload's annotations on each of its services", () => {
    const services = servicesOf(
      renderCompose(
        TARGET,
        environment([container('main'), container('sidecar')], {
          annotations: { 'example.com/team': 'payments', 'example.com/cost': '$5' },
        }),
      ),
    );
    for (const name of ['api', 'api-sidecar']) {
      expect(services[name]?.annotations).toEqual({
        'example.com/cost': '$$5',
        'example.com/team': 'payments',
      });
    }
  });

  it('takes the exec of a probe that has both exec and httpGet, as Score prefers', () => {
    const services = servicesOf(
      renderCompose(
        TARGET,
        environment([
          container('main', {
            readinessProbe: { httpGet: { port: 41001, path: '/ready' }, exec: { command: ['/bin/ready'] } },
          }),
        ]),
      ),
    );
    expect(services.api?.healthcheck).toMatchObject({ test: ['CMD', '/bin/ready'] });
  });
});

const skipReason =
  !podmanComposeAvailable() && !process.env.CI ? ' (skipped: podman-compose is not installed)' : '';

describe.skipIf(skipReason !== '')(
  `podman-compose reads a file with before and annotations${skipReason}`,
  () => {
    it('accepts it, orders the services and does not restart the migration', () => {
      const dir = mkdtempSync(join(tmpdir(), 'pave-compose-before-'));
      try {
        const file = join(dir, 'compose.yaml');
        writeFileSync(
          file,
          renderCompose(
            TARGET,
            environment(
              [container('main'), container('migrate', { before: { main: { ready: 'complete' } } })],
              { annotations: { 'example.com/team': 'payments' } },
            ),
          ),
        );
        const result = checkComposeFile(file);
        expect(result.status, result.output).toBe(0);
        expect(result.services).toEqual(['api', 'api-migrate']);
        // The migration's restart policy reaches podman as the word "no", not as YAML 1.1's false.
        expect(result.output).toContain('--restart no');
        expect(result.output).not.toMatch(/--restart False/i);
        // Created (and started) before the service that waits for it.
        expect(result.output.indexOf('_api-migrate_1')).toBeGreaterThan(-1);
        expect(result.output.indexOf('_api-migrate_1')).toBeLessThan(result.output.indexOf('_api_1'));
        expect(result.output).toContain('--annotation example.com/team=payments');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
