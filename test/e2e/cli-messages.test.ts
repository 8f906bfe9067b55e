import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';

/*
 * What a newcomer's first commands print when they go wrong: each message names what the person typed and a
 * fix that works, through the real CLI against a real `pave up`.
 */
describe('pave CLI messages for first mistakes', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let work: string;
  const env = () => clientEnv(server.url, location.dataDir);

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
    work = mkdtempSync(join(tmpdir(), 'pave-cli-messages-'));
    const created = await runPave(['apps', 'create', 'shop'], env());
    expect(created.code, created.stderr).toBe(0);
  });
  afterAll(async () => {
    await server?.stop();
    await location?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('names the argument the user typed, with its value, when the server refuses the field it became', async () => {
    const result = await runPave(['envs', 'create', 'E_1', '--app', 'shop', '--type', 'development'], env());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('  - <env> "E_1": must be a DNS label');
    expect(result.stderr).not.toContain('/id:');
  });

  it('says the app is not found, with `pave apps list`, when deploying to an environment of a missing app', async () => {
    const score = join(work, 'score.yaml');
    writeFileSync(
      score,
      'apiVersion: score.dev/v1b1\nmetadata:\n  name: web\ncontainers:\n  main:\n    image: nginx\n',
    );
    const result = await runPave(['deploy', '-f', score, '--app', 'nosuch', '--env', 'dev'], env());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('pave: error: app "nosuch" not found');
    expect(result.stderr).toContain('`pave apps list`');
    expect(result.stderr).not.toContain('pave envs list --app nosuch');
  });

  it('says what is wrong with a token that starts with pave_ but is cut short, without echoing it', async () => {
    const result = await runPave(['apps', 'list', '--token', 'pave_bogus'], env());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('after "pave_" a token has 43 characters, this one has 5');
    expect(result.stderr).not.toContain('expected "Bearer pave_…"');
    expect(result.stderr).not.toContain('bogus');
  });

  it('takes a --server URL that ends in /api/v1 as the server itself', async () => {
    const result = await runPave(['apps', 'list', '--server', `${server.url}/api/v1`, '-o', 'json'], env());
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).items.map((app: { id: string }) => app.id)).toEqual(['shop']);
  });
});

describe('pave up on a port in use', () => {
  let busy: Server;
  let port: number;
  let parent: string;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    port = (busy.address() as { port: number }).port;
    parent = mkdtempSync(join(tmpdir(), 'pave-busy-port-'));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => busy.close(() => resolve()));
    rmSync(parent, { recursive: true, force: true });
  });

  it('is refused before a new data directory is made: no store, master key, audit key or admin', async () => {
    const dataDir = join(parent, 'new');
    const result = await runPave(['up', '--port', String(port), '--data-dir', dataDir]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is already in use by pid ${process.pid}`);
    expect(result.stderr).toContain(`--port ${port + 1}`);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('is refused before an empty data directory is filled', async () => {
    const dataDir = mkdtempSync(join(parent, 'empty-'));
    const result = await runPave(['up', '--port', String(port), '--data-dir', dataDir]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(readdirSync(dataDir)).toEqual([]);
  });
});
