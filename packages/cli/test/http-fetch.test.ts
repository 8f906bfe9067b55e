import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFetch } from '../src/http-fetch.ts';

const servers: Array<Server | ReturnType<typeof createTcpServer>> = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))));
});

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  servers.push(server);
  server.on('connection', (socket: Socket) => sockets.push(socket));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return (server.address() as AddressInfo).port;
}

describe('nodeFetch', () => {
  it('sends method, headers and body over http and reads the answer', async () => {
    const port = await listen(
      createHttpServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        request.on('end', () => {
          response.setHeader('content-type', 'application/json');
          response.end(JSON.stringify({ method: request.method, auth: request.headers.authorization, body }));
        });
      }),
    );
    const response = await nodeFetch(`http://127.0.0.1:${port}/x`, {
      method: 'POST',
      headers: { authorization: 'Bearer t' },
      body: '{"a":1}',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('application/json');
    expect(await response.json()).toEqual({ method: 'POST', auth: 'Bearer t', body: '{"a":1}' });
  });

  // node:https loads only for https URLs; this shows that it does, and that certificates are checked.
  it('speaks TLS to an https server and refuses a certificate no CA vouches for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pave-http-fetch-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      let handshakes = 0;
      const server = createHttpsServer(
        { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
        (_request, response) => response.end('{}'),
      );
      server.on('tlsClientError', () => (handshakes += 1));
      const port = await listen(server);
      const failure = await nodeFetch(`https://127.0.0.1:${port}/`).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(TypeError);
      expect(((failure as TypeError).cause as NodeJS.ErrnoException).code).toBe(
        'DEPTH_ZERO_SELF_SIGNED_CERT',
      );
      await expect.poll(() => handshakes).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Requests the server answers only when drivers are done are not held to the limit once sent; until then
  // they are, so an upload a server stops taking in is still cut, though bytes flowed at first.
  it('cuts an upload that stops flowing, even of a request whose answer has no limit', async () => {
    const port = await listen(createTcpServer((socket) => socket.pause()));
    const timeout = { ms: 300, untilSent: true, error: () => new Error('timed out') };
    const started = Date.now();
    const failure = await nodeFetch(
      `http://127.0.0.1:${port}/plan`,
      { method: 'POST', body: 'x'.repeat(64 * 1024 * 1024) },
      timeout,
    ).catch((error: unknown) => error);
    expect(failure).toEqual(new Error('timed out'));
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
