import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.ts';
import { fakeIo, temporaryDir } from './helpers.ts';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** A live process registered as a `pave up` replica (PostgreSQL store) serving `dataDir`, as registerReplica does. */
function replicaOf(dataDir: string): number {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(child);
  mkdirSync(join(dataDir, 'replicas'), { recursive: true, mode: 0o700 });
  writeFileSync(join(dataDir, 'replicas', String(child.pid)), `${child.pid}\n`, { mode: 0o600 });
  return child.pid!;
}

/*
 * `pave down --data-dir dd` beside several `pave up` replicas on that data directory named one of them ("pave up
 * (pid 14731) is serving …; … kill 14731"): stopping that one and running it again refused again.
 */
describe('pave down beside several pave up replicas on its data directory', () => {
  it('names every replica serving it, and how to stop them all', async () => {
    const dataDir = temporaryDir();
    writeFileSync(join(dataDir, 'master.key'), 'x', { mode: 0o600 });
    const pids = [replicaOf(dataDir), replicaOf(dataDir), replicaOf(dataDir)].sort((a, b) => a - b);
    // A replica that is gone is not named.
    writeFileSync(join(dataDir, 'replicas', '999999999'), '999999999\n');

    const io = fakeIo();
    expect(await runCli(['node', 'pave', 'down', '--data-dir', dataDir], io), io.stderr.text).toBe(1);
    expect(io.stderr.text).toContain(
      `3 pave up replicas (pids ${pids.join(', ')}) are serving ${dataDir}; stop them all first ` +
        `(Ctrl-C where they run, or kill ${pids.join(' ')}), then run pave down again`,
    );
    expect(io.stderr.text).not.toContain('999999999');
  });

  it('names the one replica as before when only one serves it', async () => {
    const dataDir = temporaryDir();
    writeFileSync(join(dataDir, 'master.key'), 'x', { mode: 0o600 });
    const pid = replicaOf(dataDir);

    const io = fakeIo();
    expect(await runCli(['node', 'pave', 'down', '--data-dir', dataDir], io), io.stderr.text).toBe(1);
    expect(io.stderr.text).toContain(
      `pave up (pid ${pid}) is serving ${dataDir}; stop it first (Ctrl-C where it runs, or kill ${pid}), ` +
        'then run pave down again',
    );
  });
});
