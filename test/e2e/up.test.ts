import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestStoreLocation } from '../support/stores.ts';
import { PAVE_BIN, runPave, startPave } from '../support/pave.ts';

/** Listens on a free port of 127.0.0.1 and resolves with the server and the port. */
async function occupyPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

describe('pave up refuses to start where it cannot serve, having changed nothing', () => {
  const cleanups: Array<() => unknown> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('on a port in use: exits at once naming the process that holds it and --port; no admin is created', async () => {
    const location = await createTestStoreLocation('sqlite');
    cleanups.push(() => location.cleanup());
    const { server, port } = await occupyPort();
    cleanups.push(() => server.close());
    const started = Date.now();
    const result = await runPave(['up', '--port', String(port), '--data-dir', location.dataDir]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is already in use by pid ${process.pid}`);
    expect(result.stderr).toContain(`--port ${port + 1}`);
    // Clients default to 7300, the other process: the message says how to point them at the new port.
    expect(result.stderr).toContain(`PAVE_SERVER=http://127.0.0.1:${port + 1}`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(location.dataDir, 'admin.token'))).toBe(false);
    expect(existsSync(join(location.dataDir, 'pave.lock'))).toBe(false);
  });

  it('on a host that is not this machine’s: a usage error naming --host (or --metrics-host), before any data', async () => {
    const location = await createTestStoreLocation('sqlite');
    cleanups.push(() => location.cleanup());
    const up = (...args: string[]) => runPave(['up', '--port', '0', '--data-dir', location.dataDir, ...args]);
    const unresolved = await up('--host', '999.1.1.1');
    expect(unresolved.code).toBe(2);
    expect(unresolved.stderr).toContain('--host: "999.1.1.1" is not a host name this machine resolves;');
    expect(unresolved.stderr).toContain('e.g. --host 127.0.0.1 (this machine only) or --host 0.0.0.0');
    const foreign = await up('--host', '192.0.2.1');
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain('--host: 192.0.2.1 is not an address of this machine');
    const metrics = await up('--metrics-port', '0', '--metrics-host', '192.0.2.1');
    expect(metrics.code).toBe(2);
    expect(metrics.stderr).toContain('--metrics-host: 192.0.2.1 is not an address of this machine');
    expect(metrics.stderr).toContain('e.g. --metrics-host 127.0.0.1');
    for (const result of [unresolved, foreign, metrics]) expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(location.dataDir, 'pave.db'))).toBe(false);
    expect(existsSync(join(location.dataDir, 'master.key'))).toBe(false);

    // A data directory Pave made before is checked by the server, in the same words.
    const first = await startPave(['--data-dir', location.dataDir]);
    await first.stop();
    const again = await up('--host', '192.0.2.1');
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(
      /cannot listen on 192\.0\.2\.1:\d+: 192\.0\.2\.1 is not an address of this machine/,
    );
    expect(again.stderr).not.toMatch(/\n\s+at /);
  });

  it('on a SQLite data directory another pave up uses: refused with the holder’s pid, then allowed once it stops', async () => {
    const location = await createTestStoreLocation('sqlite');
    cleanups.push(() => location.cleanup());
    const first = await startPave(['--data-dir', location.dataDir]);
    cleanups.push(() => first.stop());
    // What the running server (or an embedded server it started) relies on; a refused start changes nothing.
    chmodSync(location.dataDir, 0o755);
    const second = await runPave(['up', '--port', '0', '--data-dir', location.dataDir]);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(
      `another pave up (pid ${first.child.pid}) already uses the data directory`,
    );
    expect(second.stderr).toMatch(/PostgreSQL --store/);
    expect(statSync(location.dataDir).mode & 0o777).toBe(0o755);
    await first.stop();
    const third = await startPave(['--data-dir', location.dataDir]);
    cleanups.push(() => third.stop());
    expect((await fetch(`${third.url}/healthz`)).status).toBe(200);
    expect(statSync(location.dataDir).mode & 0o777).toBe(0o700);
    await third.stop();
    expect(existsSync(join(location.dataDir, 'pave.lock'))).toBe(false);
  });
});

/**
 * Spawns `pave up ARGS` (JSON log lines), sends SIGTERM once its output matches `when` (and again `again` ms
 * later, if given), and resolves with how it ended and what it printed.
 */
async function signalWhileStarting(
  args: string[],
  when: RegExp,
  again?: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PAVE_')));
  const child = spawn(process.execPath, [PAVE_BIN, 'up', '--port', '0', ...args], {
    env: { ...env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let signalled = false;
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString();
    if (signalled || !when.test(output)) return;
    signalled = true;
    child.kill('SIGTERM');
    if (again !== undefined) setTimeout(() => child.kill('SIGTERM'), again);
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
  );
  return { code, signal, output };
}

describe('pave up stops on a signal that comes while it starts', () => {
  const cleanups: Array<() => unknown> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('stops cleanly once started: it logs that it stopped, exits 0 and releases its data directory', async () => {
    const location = await createTestStoreLocation('sqlite');
    cleanups.push(() => location.cleanup());
    // "store ready" comes while the server is still being built, before it listens.
    const result = await signalWhileStarting(['--data-dir', location.dataDir], /"msg":"store ready"/);
    expect(result.signal, result.output).toBeNull();
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('"msg":"stopping"');
    expect(result.output).toContain('"msg":"stopped"');
    expect(existsSync(join(location.dataDir, 'pave.lock'))).toBe(false);
  });

  it('ends a start that hangs at the second signal, with the exit code of a SIGTERM', async () => {
    const location = await createTestStoreLocation('sqlite');
    cleanups.push(() => location.cleanup());
    // A PostgreSQL store that accepts connections and never answers: the start waits on it.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => silent.close());
    const port = (silent.address() as { port: number }).port;
    const result = await signalWhileStarting(
      ['--data-dir', location.dataDir, '--store', `postgres://pave:pave@127.0.0.1:${port}/pave`],
      /"msg":"workloads and exec commands run with isolation/,
      200,
    );
    expect(result.signal, result.output).toBeNull();
    expect(result.code, result.output).toBe(143);
    expect(result.output).not.toContain('is listening on');
  });
});

/** Runs `pave up ARGS` and resolves with how it ended; a run still going after `limitMs` is killed (`hung`). */
async function upWithin(
  args: string[],
  limitMs: number,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; hung: boolean; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PAVE_')));
  const child = spawn(process.execPath, [PAVE_BIN, 'up', '--port', '0', ...args], {
    env: { ...base, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let hung = false;
  // SIGKILL: a start that hangs takes a first SIGTERM as a request to stop once started.
  const timer = setTimeout(() => ((hung = true), child.kill('SIGKILL')), limitMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, hung, stderr };
}

describe('pave up with a data directory it cannot create or use', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pave-up-data-dir-'));
  const file = join(dir, 'a-file');
  writeFileSync(file, '');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.runIf(existsSync('/proc/self'))(
    'fails at once where the file system refuses new directories (/proc), naming --data-dir, instead of hanging',
    async () => {
      const result = await upWithin(['--data-dir', '/proc/pave-data'], 15_000);
      expect(result.hung, result.stderr).toBe(false);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        'pave: error: --data-dir: cannot use /proc/pave-data as the data directory: cannot create it: /proc ' +
          'does not allow directories to be created in it; give --data-dir a directory that pave up may ' +
          'create and write to\n',
      );
    },
  );

  it('fails clearly under a regular file, or on one, naming --data-dir or PAVE_DATA_DIR and creating nothing', async () => {
    const under = await upWithin(['--data-dir', join(file, 'x', 'y')], 15_000);
    expect(under).toMatchObject({ hung: false, code: 2 });
    expect(under.stderr).toBe(
      `pave: error: --data-dir: cannot use ${join(file, 'x', 'y')} as the data directory: ${file} is not ` +
        'a directory; give --data-dir a directory that pave up may create and write to\n',
    );
    const on = await upWithin([], 15_000, { PAVE_DATA_DIR: file });
    expect(on).toMatchObject({ hung: false, code: 2 });
    expect(on.stderr).toMatch(
      /^pave: error: PAVE_DATA_DIR: cannot use \S+ as the data directory: it is not a directory;/,
    );
    expect(readFileSync(file, 'utf8')).toBe('');
  });
});

describe('pave up given a directory that is not its own', () => {
  it('refuses a directory like a home or a project, leaving its modes and creating nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pave-up-foreign-'));
    try {
      writeFileSync(join(dir, '.profile'), 'mine', { mode: 0o644 });
      chmodSync(join(dir, '.profile'), 0o644);
      mkdirSync(join(dir, 'projects'), { mode: 0o755 });
      chmodSync(join(dir, 'projects'), 0o755);
      chmodSync(dir, 0o755);
      const result = await upWithin(['--data-dir', dir], 15_000);
      expect(result).toMatchObject({ hung: false, code: 2 });
      expect(result.stderr).toBe(
        `pave: error: --data-dir: cannot use ${dir} as the data directory: it holds directories or hidden ` +
          "files that are not Pave's (.profile, projects/), as a home or a project does, and pave up makes " +
          'everything in its data directory its own (no access for group or others), so it takes only a new ' +
          'directory, one with plain files only (a log, a secret file), or one it made; give --data-dir a ' +
          'directory that pave up may create and write to\n',
      );
      expect(statSync(join(dir, '.profile')).mode & 0o777).toBe(0o644);
      expect(statSync(join(dir, 'projects')).mode & 0o777).toBe(0o755);
      expect(statSync(dir).mode & 0o777).toBe(0o755);
      expect(readdirSync(dir).sort()).toEqual(['.profile', 'projects']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pave up after a start that a second signal ended', () => {
  it('takes over the lock the ended process left, at once: the data directory is not refused', async () => {
    const location = await createTestStoreLocation('sqlite');
    try {
      // What a second Ctrl-C during a start leaves: pave.lock naming a process that is gone.
      const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout;
      writeFileSync(join(location.dataDir, 'pave.lock'), `${gone.toString()}\n`);
      const pave = await startPave(['--data-dir', location.dataDir]);
      try {
        expect(readFileSync(join(location.dataDir, 'pave.lock'), 'utf8').split(' ')[0]).toBe(
          String(pave.child.pid),
        );
      } finally {
        await pave.stop();
      }
      expect(existsSync(join(location.dataDir, 'pave.lock'))).toBe(false);
    } finally {
      await location.cleanup();
    }
  });
});
