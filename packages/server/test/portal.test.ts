import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi, type Store } from '../src/index.ts';
import { openTestStore } from '../../../test/support/stores.ts';

describe('the portal served at / by the API server', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  const dir = mkdtempSync(join(tmpdir(), 'pave-portal-'));

  beforeAll(async () => {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Pave</title><div id="root"></div>');
    writeFileSync(join(dir, 'assets/index-abc123.js'), 'console.log("portal")');
    const opened = await openTestStore('sqlite');
    store = opened.store;
    cleanup = opened.cleanup;
    app = await buildApi({ store, portalDir: dir });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at / without a token, never cached', async () => {
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/html');
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.body).toContain('<div id="root">');
  });

  it('serves hashed assets as immutable', async () => {
    const response = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toContain('immutable');
  });

  it('keeps the API behind its tokens and its problem answers', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/v1/apps' })).statusCode).toBe(401);
    const missing = await app.inject({ method: 'GET', url: '/no-such-page' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
  });
});
