import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testDriverContext } from '@pave/plugin-api/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesRuntime } from '../src/index.ts';

/* A cluster API that accepts connections and never answers held `status` forever. */
describe('the kubernetes runtime, its cluster silent', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  let dir: string;

  beforeAll(async () => {
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    dir = mkdtempSync(join(tmpdir(), 'pave-silent-cluster-'));
    const server = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    writeFileSync(
      join(dir, 'kubeconfig'),
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{ name: silent, cluster: { server: '${server}', insecure-skip-tls-verify: true } }]`,
        'users: [{ name: silent, user: { token: t } }]',
        'contexts: [{ name: silent, context: { cluster: silent, user: silent } }]',
        'current-context: silent',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives status up when the call’s time is up, saying so', async () => {
    const runtime = KubernetesRuntime.fromConfig({ kubeconfig: join(dir, 'kubeconfig'), context: 'silent' });
    await expect(
      runtime.status({ app: 'shop', env: 'dev' }, testDriverContext(AbortSignal.timeout(300))),
    ).rejects.toThrow(/was given up: the call's time is up/u);
  });
});
