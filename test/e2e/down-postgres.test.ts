import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { runPave, startPave, type PaveProcess } from '../support/pave.ts';

/*
 * `pave up` on a PostgreSQL store takes no exclusive lock on its data directory (replicas on one host share
 * it), yet it runs workloads from there: `pave down` must refuse while it serves, as it does for SQLite.
 */
describe('pave down beside a pave up on a PostgreSQL store', () => {
  let location: TestStoreLocation;
  let server: PaveProcess | undefined;

  beforeAll(async () => {
    location = await createTestStoreLocation('postgres');
    server = await startPave(['--data-dir', location.dataDir, '--store', location.url!]);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await location?.cleanup();
  });

  it('refuses while it serves, naming its pid, and goes ahead once it has stopped', async () => {
    const refused = await runPave(['down', '--data-dir', location.dataDir]);
    expect(refused.code, refused.stderr + refused.stdout).toBe(1);
    expect(refused.stderr).toContain(`pave up (pid ${server!.child.pid}) is serving ${location.dataDir}`);

    // And no replica starts while pave down holds the directory: tested the other way round, a replica that
    // finds the lock of a live pave down refuses to start.
    await server!.stop();
    server = undefined;
    const allowed = await runPave(['down', '--data-dir', location.dataDir]);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain('Nothing was running');
  }, 60_000);
});
