import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from '@photostructure/sqlite';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, buildApi, openStore, type Store } from '../src/index.ts';
import { isStoreUnavailable } from '../src/store/index.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/support/postgres.ts';

/**
 * A TCP relay between the store and PostgreSQL that can be cut and mended, as a network partition or a
 * database restart would: cut, it closes every relayed connection and refuses new ones.
 */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(5432, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
  }
}

describe('the API while PostgreSQL cannot be reached', () => {
  const relay = new Relay();
  let database: TestDatabase;
  let dataDir: string;
  let store: Store;
  let app: FastifyInstance;
  let token: string;

  const get = (url: string) =>
    app.inject({ method: 'GET', url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'pave-outage-'));
    await relay.open();
    const url = new URL(database.url);
    url.port = String(relay.port);
    store = await openStore({ url: url.toString(), dataDir });
    token = readFileSync((await bootstrapAdmin(store, dataDir))!, 'utf8').trim();
    app = await buildApi({ store });
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/apps',
      headers: { authorization: `Bearer ${token}` },
      payload: { id: 'shop' },
    });
    expect(created.statusCode, created.body).toBe(201);
  });
  afterAll(async () => {
    await app?.close();
    await relay.cut();
    await store?.close().catch(() => undefined);
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After, not a 500, and serves again once it answers', async () => {
    expect((await get('/apps/shop')).statusCode).toBe(200);
    await relay.cut();
    // The token's actor is cached for a second: past it, authentication itself needs the store.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    for (const url of ['/apps', '/apps/shop', '/whoami']) {
      const response = await get(url);
      expect(response.statusCode, `${url}: ${response.body}`).toBe(503);
      expect(response.headers['retry-after'], url).toBe('5');
      const problem = response.json() as { detail: string };
      expect(problem.detail).toMatch(/^the store does not answer right now; try again in a few seconds/);
      expect(problem.detail).not.toContain('127.0.0.1');
    }
    // The readiness check takes no token: it says the store does not answer, and nothing of where it is.
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({
      status: 'unavailable',
      detail: 'the store does not answer; the server log says why',
    });
    expect(ready.body).not.toMatch(/127\.0\.0\.1|postgres|pave_test/u);
    await relay.open();
    const back = await get('/apps/shop');
    expect(back.statusCode, back.body).toBe(200);
  });

  it('survives a connection cut while a query holds it: the query fails, the process goes on', async () => {
    // node-postgres also emits 'error' on a client whose connection ends under a query; with no listener on
    // a client the pool has handed out, that is an uncaught exception, which ends a real `pave up`.
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.prependListener('uncaughtException', onUncaught);
    try {
      const inFlight = sql`select pg_sleep(5)`.execute(store.db).then(
        () => 'answered',
        (error: Error) => error.message,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await relay.cut();
      expect(await inFlight).toMatch(/Connection terminated/u);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(uncaught.map(String)).toEqual([]);
      await relay.open();
      const back = await get('/apps/shop');
      expect(back.statusCode, back.body).toBe(200);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});

describe('what counts as a store that cannot serve now', () => {
  it('is a locked SQLite file, not a broken statement or a duplicate key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pave-locked-'));
    const holder = new DatabaseSync(join(dir, 'pave.db'));
    const other = new DatabaseSync(join(dir, 'pave.db'), { timeout: 0 });
    try {
      holder.exec('create table t (id integer primary key)');
      holder.exec('begin exclusive');
      const locked = catchError(() => other.exec('insert into t values (1)'));
      expect(isStoreUnavailable(locked), String(locked)).toBe(true);
      holder.exec('commit');
      other.exec('insert into t values (1)');
      expect(isStoreUnavailable(catchError(() => other.exec('insert into t values (1)')))).toBe(false);
      expect(isStoreUnavailable(catchError(() => other.exec('select nonsense from t')))).toBe(false);
      expect(isStoreUnavailable(new Error('something else'))).toBe(false);
    } finally {
      other.close();
      holder.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe("the store's location in messages", () => {
  it('shows no password given in the query of a PostgreSQL URL', async () => {
    const refused = await openStore({
      url: 'postgres://pave@127.0.0.1:1/pave?password=hunter2-in-the-query&sslmode=disable',
      dataDir: tmpdir(),
    }).catch((error: unknown) => error as Error);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toContain(
      'cannot reach the store at postgres://pave@127.0.0.1:1/pave?',
    );
    expect((refused as Error).message).toContain('sslmode=disable');
    expect((refused as Error).message).not.toContain('hunter2');
  });
});
