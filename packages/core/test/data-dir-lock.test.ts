import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, claimDataDir, registerReplica } from '../src/data-dir-lock.ts';

const dirs: string[] = [];
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'pave-lock-'));
  dirs.push(dir);
  return dir;
};
const refuse = (holder: number) => new Error(`held by ${holder}`);

describe('the data directory lock', () => {
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('names a live holder, and records its start so that a reused pid is not taken for it', () => {
    const dir = dataDir();
    const release = claimDataDir(dir, refuse);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toMatch(new RegExp(`^${process.pid} \\d+\\n$`));
    release();
    // A lock left before a reboot: pid 1 lives, but it is not the process that wrote the lock.
    writeFileSync(join(dir, LOCK_FILE), '1 999999999999\n');
    expect(() => claimDataDir(dir, refuse)()).not.toThrow();
    writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
    expect(() => claimDataDir(dir, refuse)).toThrow(`held by ${process.ppid}`);
  });

  it('keeps replicas (PostgreSQL stores) out while another process holds the lock, and them in sight', () => {
    const dir = dataDir();
    const release = claimDataDir(dir, refuse);
    // Held by this process here: a replica that finds a live holder refuses to start.
    writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
    expect(() => registerReplica(dir, refuse)).toThrow(`held by ${process.ppid}`);
    release();
    rmSync(join(dir, LOCK_FILE), { force: true });
    const unregister = registerReplica(dir, refuse);
    expect(() => claimDataDir(dir, refuse)).toThrow(`held by ${process.pid}`);
    unregister();
    claimDataDir(dir, refuse)();
  });
});
