import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAVE_BIN } from '../support/pave.ts';

/*
 * The CLI exits as soon as its command is done; `-o json` of a long list into a pipe whose reader was slower
 * than the output (`pave events -o json | jq`, a script reading a little later) lost what did not fit in the
 * pipe, and the JSON ended in the middle of a string.
 */

const APPS = Array.from({ length: 2000 }, (_, index) => ({
  id: `app-${String(index).padStart(5, '0')}`,
  name: `app number ${index}, named at some length`,
  createdBy: 'admin',
  createdAt: '2026-12-07T00:00:00.000Z',
}));

/** How long the reader leaves the pipe unread: the CLI is done with its command well before. */
const READER_LATE_MS = 500;

describe('pave -o json into a pipe read late', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ items: APPS, nextCursor: null }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('writes all of its output before it exits', async () => {
    const child = spawn(process.execPath, [PAVE_BIN, 'apps', 'list', '--limit', '500', '-o', 'json'], {
      env: { ...process.env, PAVE_SERVER: url, PAVE_TOKEN: `pave_${'a'.repeat(43)}`, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pause();
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    setTimeout(() => {
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stdout.resume();
    }, READER_LATE_MS);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.length).toBeGreaterThan(200_000);
    const printed = JSON.parse(stdout) as { items: Array<{ id: string }> } | Array<{ id: string }>;
    const items = Array.isArray(printed) ? printed : printed.items;
    expect(items.map((app) => app.id)).toEqual(APPS.map((app) => app.id));
  });
});
