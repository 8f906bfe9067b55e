import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RenderedWorkload } from '@pave/plugin-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestsToYaml, renderManifests } from '../src/index.ts';
import { buildBusyboxImage, podman, podmanAvailable } from '../../../test/support/podman.ts';

const SKIP_REASON = 'needs podman, busybox-static and root (see docs/runtimes.md)';
const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;
const GREETING = `hello from Pave's Kubernetes manifests (${run})`;

/** The busybox app: writes $GREETING into /www/index.html and serves /www on 8080. */
const START_SH = [
  '#!/bin/sh',
  'mkdir -p /www',
  'echo "$GREETING" > /www/index.html',
  'exec httpd -f -p 8080 -h /www',
  '',
].join('\n');

/**
 * Podman 4.3's `kube play` plays Deployments and ConfigMaps (and claims as podman volumes); it ignores
 * Namespaces, Services and Ingresses, and a Secret document becomes a podman secret its own secretKeyRef
 * cannot read back ("secret … is not valid JSON"). It has no --publish either: the Deployment publishes its
 * port through hostPort/hostIP, which renderManifests adds when asked (`hostPorts`).
 */
const KINDS_PODMAN_PLAYS = new Set(['Deployment', 'ConfigMap']);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** GETs `url` until it answers 200 (the pod is starting), for at most `ms`. */
async function fetchWhenUp(url: string, ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return await response.text();
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer within ${ms} ms: ${last}`);
}

describe.skipIf(!podmanAvailable())(
  `podman kube play of rendered manifests (skipped: ${SKIP_REASON})`,
  () => {
    let dir: string;
    let image: string;
    let file: string;

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'pave-kube-play-'));
      file = join(dir, 'manifests.yaml');
      image = buildBusyboxImage(`pave-kube-play-${run}`, 'test', { '/start.sh': START_SH });
    });

    afterAll(() => {
      try {
        podman(['kube', 'down', file]);
      } catch {
        // Nothing was played, or it is gone already.
      }
      try {
        podman(['rmi', '-f', image]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('runs the busybox app and it answers with the greeting from its ConfigMap', async () => {
      const hostPort = await freePort();
      const workload: RenderedWorkload = {
        name: `greeter-${run}`,
        containers: [
          {
            name: 'main',
            image,
            command: ['/start.sh'],
            env: { GREETING },
            files: [],
            workingDir: '/',
          },
        ],
        ports: [{ name: 'web', port: 80, targetPort: 8080, protocol: 'TCP', hostPort }],
        hash: `hash-${run}`,
        deploymentId: `dep-${run}`,
      };
      const objects = renderManifests({
        app: 'kube-play',
        env: 'test',
        namespace: 'pave-kube-play-test',
        workloads: [workload],
        hostPorts: { hostIP: '127.0.0.1' },
      });
      const played = objects.filter((object) => KINDS_PODMAN_PLAYS.has(object.kind));
      expect(played.map((object) => object.kind)).toEqual(['ConfigMap', 'Deployment']);
      writeFileSync(file, manifestsToYaml(played));

      podman(['kube', 'play', file]);
      expect(await fetchWhenUp(`http://127.0.0.1:${hostPort}/`, 30_000)).toBe(`${GREETING}\n`);

      const down = podman(['kube', 'down', file]);
      expect(down).toContain('Pods removed');
    }, 120_000);
  },
);
