import { chmodSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvironmentStatus } from '@pave/core';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { makeAppDir } from '../support/app-dir.ts';

// A workload that tries to get at Pave's secrets, another environment's files and the host's password
// hashes, and to take Pave's port on the IPv6 loopback; it reports every attempt and otherwise serves.
const PROBE = `
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const attempt = (fn) => { try { fn(); return 'succeeded'; } catch (error) { return 'failed: ' + error.code; } };
const listen = () => new Promise((resolve) => {
  const server = net.createServer();
  server.once('error', (error) => resolve('failed: ' + error.code));
  server.listen(Number(process.env.PAVE_PORT), '::1', () => { server.close(); resolve('succeeded'); });
});
http.createServer(async (req, res) => {
  if (req.url !== '/attempts') return res.end('serving');
  const report = { uid: process.getuid() };
  for (const [name, file] of Object.entries(JSON.parse(process.env.TARGETS))) {
    report[name] = attempt(() => fs.readFileSync(file));
  }
  report.paveIpv6Port = await listen();
  res.end(JSON.stringify(report));
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

describe('workload isolation, end to end through `pave up`', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let appDir: string;
  const env = () => clientEnv(server.url, location.dataDir);
  const pave = (...args: string[]) => runPave(args, env());

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    // Pave's data directory, which someone then left open to everyone, with a file anyone could read.
    await (await startPave(['--data-dir', location.dataDir])).stop();
    chmodSync(location.dataDir, 0o777);
    writeFileSync(join(location.dataDir, 'notes.txt'), 'left here', { mode: 0o666 });
    chmodSync(join(location.dataDir, 'notes.txt'), 0o666);
    server = await startPave(['--data-dir', location.dataDir]);
    await shortenStabilityWindow(server.url, location.dataDir);
    // The workload user must be able to read its code, as any service user must.
    appDir = makeAppDir('pave-isolation-app-');
    writeFileSync(join(appDir, 'probe.cjs'), PROBE);
    expect((await pave('apps', 'create', 'shop')).code).toBe(0);
    for (const envId of ['dev', 'other']) {
      expect((await pave('envs', 'create', envId, '--app', 'shop', '--type', 'development')).code).toBe(0);
    }
  }, 60_000);
  afterAll(async () => {
    if (server) await pave('apps', 'delete', 'shop', '--force');
    await server?.stop();
    await location?.cleanup();
    if (appDir) rmSync(appDir, { recursive: true, force: true });
  }, 60_000);

  it("makes the data directory Pave's alone, whatever its modes were", () => {
    const owner = process.getuid?.();
    for (const name of ['', 'notes.txt', 'admin.token', 'master.key', 'pave.db']) {
      const stat = statSync(join(location.dataDir, name));
      expect(stat.mode & 0o077, `${name || 'the data directory'} is open to others`).toBe(0);
      expect(stat.uid).toBe(owner);
    }
  });

  it('says at start which isolation is in force', () => {
    expect(server.output()).toMatch(/workloads and exec commands run with isolation (sandbox|user|none)/);
  });

  it("a workload cannot read Pave's secrets, another environment's files or /etc/shadow, nor take Pave's port on ::1, and still serves", async () => {
    const paveUrl = new URL(server.url);
    const neighbourFile = join(location.dataDir, 'runtime/process/shop/other/probe/files/main/neighbour.txt');
    const score = (variables: Record<string, string>) =>
      [
        'apiVersion: score.dev/v1b1',
        'metadata:',
        '  name: probe',
        'service:',
        '  ports:',
        '    web:',
        '      port: 8080',
        'containers:',
        '  main:',
        '    image: node:20',
        "    command: ['node', 'probe.cjs']",
        '    files:',
        '      - target: /neighbour.txt',
        '        content: a secret of the other environment',
        '    variables:',
        ...Object.entries(variables).map(([key, value]) => `      ${key}: '${value}'`),
        '',
      ].join('\n');
    const file = join(appDir, 'probe.score.yaml');
    writeFileSync(
      file,
      score({
        PAVE_PORT: paveUrl.port,
        TARGETS: JSON.stringify({
          adminToken: join(location.dataDir, 'admin.token'),
          masterKey: join(location.dataDir, 'master.key'),
          store: join(location.dataDir, 'pave.db'),
          otherEnvironment: neighbourFile,
          shadow: '/etc/shadow',
        }),
      }),
    );
    for (const envId of ['other', 'dev']) {
      const deployed = await pave('deploy', '-f', file, '--app', 'shop', '--env', envId, '--wait');
      expect(deployed.code, deployed.stderr + deployed.stdout).toBe(0);
    }
    const result = await pave('status', '--app', 'shop', '--env', 'dev', '-o', 'json');
    const status = JSON.parse(result.stdout) as EnvironmentStatus;
    expect(status.workloads.map((w) => [w.workload, w.state])).toEqual([['probe', 'ready']]);
    const url = status.workloads[0]!.urls[0]!;
    expect(await (await fetch(url)).text()).toBe('serving');
    const report = (await (await fetch(new URL('/attempts', url))).json()) as Record<string, unknown>;
    expect(report).toMatchObject({
      adminToken: expect.stringMatching(/^failed/),
      masterKey: expect.stringMatching(/^failed/),
      store: expect.stringMatching(/^failed/),
      otherEnvironment: expect.stringMatching(/^failed/),
      paveIpv6Port: 'failed: EADDRINUSE',
    });
    if (process.getuid?.() === 0) {
      expect(report.uid).not.toBe(0);
      expect(report.shadow).toMatch(/^failed/);
    }
    // Pave answers on the IPv6 loopback itself.
    const health = await fetch(`http://[::1]:${paveUrl.port}/healthz`).catch(() => null);
    expect(health?.status).toBe(200);
  }, 120_000);
});
