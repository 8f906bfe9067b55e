import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectIsolationHost, type IsolationLevel, type RuntimeTarget } from '@pave/plugin-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessRuntime } from '../src/index.ts';
import { copySupervisor, freePort, httpText, nodeWorkload, port, testContext } from './support.ts';

// A workload that tries to get at what is not its own and reports each attempt, while serving normally.
const PROBE = `
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const attempt = (fn) => { try { fn(); return 'succeeded'; } catch (error) { return 'failed: ' + error.code; } };
http.createServer((req, res) => {
  if (req.url !== '/attempts') return res.end('serving');
  const targets = JSON.parse(process.env.TARGETS);
  const result = { uid: process.getuid() };
  for (const [name, file] of Object.entries(targets)) result[name] = attempt(() => fs.readFileSync(file));
  result.listDataDir = attempt(() => fs.readdirSync(process.env.DATA_DIR));
  result.writeOwnFiles = attempt(() => fs.writeFileSync(path.join(process.env.PAVE_FILES_DIR, 'note'), 'x'));
  result.readOwnFile = attempt(() => fs.readFileSync(path.join(process.env.PAVE_FILES_DIR, 'app/config')));
  result.writeVolume = attempt(() => fs.writeFileSync(path.join(process.env.VOLUME, 'data'), 'x'));
  result.writeTmp = attempt(() => fs.writeFileSync('/tmp/pave-isolation-test', 'x'));
  res.end(JSON.stringify(result));
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

const root = process.getuid?.() === 0;
let dir: string;
let dataDir: string;
let appDir: string;
let runtime: ProcessRuntime;
let host: ReturnType<typeof detectIsolationHost>;
const targets: RuntimeTarget[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pave-isolation-'));
  chmodSync(dir, 0o755);
  dataDir = join(dir, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  for (const secret of ['admin.token', 'master.key', 'pave.db']) {
    writeFileSync(join(dataDir, secret), `${secret}-canary`, { mode: 0o600 });
  }
  appDir = join(dir, 'app');
  mkdirSync(appDir, { mode: 0o755 });
  writeFileSync(join(appDir, 'probe.cjs'), PROBE, { mode: 0o644 });
  host = detectIsolationHost({ dataDir });
  runtime = ProcessRuntime.fromConfig({
    dataDir,
    supervisorScript: await copySupervisor(dir),
    isolationHost: host,
    readyTimeoutMs: 15_000,
    stopGraceMs: 1_000,
  });
}, 120_000);

afterAll(async () => {
  for (const target of targets) await runtime?.destroy(target, testContext());
  rmSync(dir, { recursive: true, force: true });
});

/** Deploys the probe at `level` next to a neighbour environment holding a file, and returns its report. */
async function attempts(level: IsolationLevel): Promise<Record<string, unknown>> {
  const target = { app: 'shop', env: `${level}-${process.pid}` };
  const neighbour = { app: 'shop', env: `${level}-neighbour-${process.pid}` };
  targets.push(target, neighbour);
  const ctx = testContext();
  const isolated = runtime.isolated(level);
  const neighbourPort = await freePort();
  await isolated.deploy(
    neighbour,
    nodeWorkload('other', {
      dir: appDir,
      script: 'probe.cjs',
      env: { TARGETS: '{}', DATA_DIR: dataDir, VOLUME: '/nonexistent' },
      ports: [port('web', neighbourPort)],
      container: { files: [{ target: '/secret.txt', content: 'neighbour secret' }] },
    }),
    ctx,
  );
  const volume = join(dataDir, 'volumes', 'shop', target.env, 'data');
  mkdirSync(volume, { recursive: true, mode: 0o700 });
  const hostPort = await freePort();
  await isolated.deploy(
    target,
    nodeWorkload('probe', {
      dir: appDir,
      script: 'probe.cjs',
      env: {
        DATA_DIR: dataDir,
        VOLUME: volume,
        TARGETS: JSON.stringify({
          adminToken: join(dataDir, 'admin.token'),
          masterKey: join(dataDir, 'master.key'),
          store: join(dataDir, 'pave.db'),
          neighbourFile: join(dataDir, 'runtime/process/shop', neighbour.env, 'other/files/main/secret.txt'),
          shadow: '/etc/shadow',
        }),
      },
      ports: [port('web', hostPort)],
      container: {
        files: [{ target: '/app/config', content: 'mine' }],
        volumes: [{ source: volume, target: '/data' }],
      },
    }),
    ctx,
  );
  // It has no readiness probe: a short stability window keeps the test fast.
  expect(await isolated.waitReady(target, 'probe', ctx, { stableMs: 300 })).toEqual({ ready: true });
  expect(await httpText(hostPort, '/')).toBe('serving');
  return JSON.parse(await httpText(hostPort, '/attempts')) as Record<string, unknown>;
}

describe('workload isolation on the process runtime', () => {
  it('sandbox: a workload cannot read Pave secrets, another environment files or /etc/shadow, yet serves and writes its own directories', async (context) => {
    if (!host.bwrap) context.skip(`bubblewrap is not usable here: ${host.bwrapProblem}`);
    const report = await attempts('sandbox');
    expect(report).toMatchObject({
      adminToken: expect.stringMatching(/^failed/),
      masterKey: expect.stringMatching(/^failed/),
      store: expect.stringMatching(/^failed/),
      neighbourFile: expect.stringMatching(/^failed/),
      writeOwnFiles: 'succeeded',
      readOwnFile: 'succeeded',
      writeVolume: 'succeeded',
      writeTmp: 'succeeded', // its private /tmp
    });
    if (root) {
      expect(report.uid).toBe(host.identity!.uid);
      expect(report.shadow).toMatch(/^failed/);
    }
  }, 60_000);

  it.skipIf(!root)(
    'user: a workload runs as the workload user and cannot read Pave secrets, list the data directory or read /etc/shadow',
    async () => {
      const report = await attempts('user');
      expect(report).toMatchObject({
        uid: host.identity!.uid,
        adminToken: expect.stringMatching(/^failed/),
        masterKey: expect.stringMatching(/^failed/),
        store: expect.stringMatching(/^failed/),
        shadow: expect.stringMatching(/^failed/),
        listDataDir: expect.stringMatching(/^failed/),
        writeOwnFiles: 'succeeded',
        readOwnFile: 'succeeded',
        writeVolume: 'succeeded',
      });
    },
    60_000,
  );

  // Found by a newcomer's review: run as root with pyenv, Pave handed workloads its own PATH, whose first
  // entry (/root/.pyenv/shims) the workload user cannot enter: `python3` failed with "Permission denied",
  // pointing into Pave's private home, instead of saying that no python3 is there for the workload.
  it.skipIf(!root)(
    "user: a command is looked up only where the workload user may look, never in Pave's private directories",
    async () => {
      const privateHome = mkdtempSync(join(dir, 'root-home-'));
      chmodSync(privateHome, 0o700);
      const shims = join(privateHome, 'shims');
      mkdirSync(shims, { mode: 0o755 });
      writeFileSync(join(shims, 'greet'), '#!/bin/sh\necho private\n', { mode: 0o755 });
      const pathRuntime = ProcessRuntime.fromConfig(
        {
          dataDir,
          supervisorScript: await copySupervisor(dir),
          isolationHost: host,
          readyTimeoutMs: 15_000,
          stopGraceMs: 1_000,
        },
        { hostEnv: { ...process.env, PATH: `${shims}:/usr/bin:/bin` } },
      );
      const target = { app: 'shop', env: `path-${process.pid}` };
      const ctx = testContext();
      const workload = nodeWorkload('greeter', {
        dir: appDir,
        script: 'unused',
        container: { command: ['/bin/sh', '-c', 'greet'] },
      });
      try {
        await pathRuntime.isolated('user').deploy(target, workload, ctx);
        const result = await pathRuntime.waitReady(target, 'greeter', ctx);
        expect(result.ready).toBe(false);
        const said = result.ready ? '' : result.lastLogs.join('\n');
        expect(said).toMatch(/greet: not found/);
        expect(said).not.toMatch(/Permission denied/);
      } finally {
        await pathRuntime.destroy(target, ctx);
      }
    },
    60_000,
  );

  it.skipIf(!root)(
    'refuses a workload whose working directory the workload user cannot read, saying how to fix it',
    async () => {
      const closed = mkdtempSync(join(dir, 'closed-'));
      const target = { app: 'shop', env: `closed-${process.pid}` };
      targets.push(target);
      const workload = nodeWorkload('probe', { dir: closed, script: 'probe.cjs' });
      await expect(runtime.isolated('user').deploy(target, workload, testContext())).rejects.toMatchObject({
        name: 'InputError',
        errors: [
          {
            path: 'containers.main.workingDir',
            message: expect.stringContaining(`chmod o+rx ${closed}`),
          },
        ],
      });
    },
  );

  // Whatever reaches the runtime, a bind must not show what the sandbox hides: the data directory as the
  // working directory, or a volume inside it that is not this environment's own.
  it("refuses a working directory inside the data directory, and a volume there that is not the environment's own", async (context) => {
    if (!host.bwrap) context.skip(`bubblewrap is not usable here: ${host.bwrapProblem}`);
    const target = { app: 'shop', env: `hidden-${process.pid}` };
    targets.push(target);
    const isolated = runtime.isolated('sandbox');
    await expect(
      isolated.deploy(target, nodeWorkload('probe', { dir: dataDir, script: 'probe.cjs' }), testContext()),
    ).rejects.toMatchObject({
      name: 'InputError',
      // (As root, the workload user also cannot read it.)
      errors: expect.arrayContaining([
        {
          path: 'containers.main.workingDir',
          message: `${dataDir} is inside ${dataDir}, which workloads may not see (Pave's data directory): deploy from a directory outside it`,
        },
      ]),
    });
    // Nor through a symbolic link to it (one a workload could make in its own working directory).
    const link = join(dir, `link-${process.pid}`);
    symlinkSync(dataDir, link);
    await expect(
      isolated.deploy(target, nodeWorkload('probe', { dir: link, script: 'probe.cjs' }), testContext()),
    ).rejects.toMatchObject({
      name: 'InputError',
      errors: expect.arrayContaining([
        expect.objectContaining({
          path: 'containers.main.workingDir',
          message: expect.stringContaining(`is inside ${dataDir}, which workloads may not see`),
        }),
      ]),
    });
    const others = join(dataDir, 'volumes', 'bank', 'prod', 'vault.data');
    mkdirSync(others, { recursive: true, mode: 0o700 });
    for (const source of [dataDir, others]) {
      const workload = nodeWorkload('probe', {
        dir: appDir,
        script: 'probe.cjs',
        container: { volumes: [{ source, target: '/data' }] },
      });
      await expect(isolated.deploy(target, workload, testContext())).rejects.toMatchObject({
        name: 'InputError',
        errors: [
          {
            path: 'containers.main.volumes[0].source',
            message: `${source} is inside ${dataDir}, which workloads may not see, and not a volume of shop/${target.env}`,
          },
        ],
      });
    }
  }, 60_000);
});
