import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestStoreLocation } from '../support/stores.ts';
import { runPave, startPave } from '../support/pave.ts';

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
    expect(result.stderr).toContain('--port');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(location.dataDir, 'admin.token'))).toBe(false);
    expect(existsSync(join(location.dataDir, 'pave.lock'))).toBe(false);
  });

  it('on a SQLite data directory another pave up uses: refused with the holder’s pid, then allowed once it stops', async () => {
    const location = await createTestStoreLocation('sqlite');
    cleanups.push(() => location.cleanup());
    const first = await startPave(['--data-dir', location.dataDir]);
    cleanups.push(() => first.stop());
    const second = await runPave(['up', '--port', '0', '--data-dir', location.dataDir]);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(
      `another pave up (pid ${first.child.pid}) already uses the data directory`,
    );
    expect(second.stderr).toMatch(/PostgreSQL --store/);
    await first.stop();
    const third = await startPave(['--data-dir', location.dataDir]);
    cleanups.push(() => third.stop());
    expect((await fetch(`${third.url}/healthz`)).status).toBe(200);
    await third.stop();
    expect(existsSync(join(location.dataDir, 'pave.lock'))).toBe(false);
  });
});
