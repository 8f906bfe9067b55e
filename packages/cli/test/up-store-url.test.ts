import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/program.ts';
import { fakeIo } from './helpers.ts';

/*
 * `pave up --store mysql://…` exited 1 with the server's "unsupported store URL" and without its hint, and
 * left `replicas/` in a new data directory.
 */
describe('pave up with a store URL of a kind Pave does not take', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'pave-store-url-')), 'data');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('exits 2 naming --store and what it takes, its password not repeated, before making the data directory', async () => {
    vi.stubEnv('PAVE_STORE', '');
    const io = fakeIo();
    const argv = ['node', 'pave', 'up', '--port', '0', '--data-dir', dataDir];
    expect(await runCli([...argv, '--store', 'mysql://pave:hunter22@db:3306/pave'], io)).toBe(2);
    expect(io.stderr.text).toBe(
      'pave: error: --store: "mysql://pave:***@db:3306/pave" is not a store Pave can use; give ' +
        'postgres://USER:PASSWORD@HOST:PORT/DATABASE for PostgreSQL, or leave it out for SQLite in the data ' +
        'directory\n',
    );
    expect(readdirSync(join(dataDir, '..'))).toEqual([]);
  });

  it('names PAVE_STORE when the URL came from the environment', async () => {
    vi.stubEnv('PAVE_STORE', 'redis://127.0.0.1:6379');
    const io = fakeIo();
    expect(await runCli(['node', 'pave', 'up', '--port', '0', '--data-dir', dataDir], io)).toBe(2);
    expect(io.stderr.text).toMatch(/^pave: error: PAVE_STORE: "redis:\/\/127\.0\.0\.1:6379" is not a store/u);
    expect(readdirSync(join(dataDir, '..'))).toEqual([]);
  });
});
