import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveRequestTimeout } from '../src/connection.ts';
import { runCli } from '../src/program.ts';
import { cliArgs, deploymentDetail, fakeIo, fakeServer } from './helpers.ts';

const servers: Array<Server | HttpServer> = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))));
});

async function listen(server: Server | HttpServer): Promise<string> {
  servers.push(server);
  server.on('connection', (socket: Socket) => sockets.push(socket));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

// A server that accepts every connection and reads the request, but never answers.
const silentServer = () => listen(createTcpServer((socket) => socket.resume()));

// What runCli resolves with, or `still running` when it has not finished after `ms`.
function within(ms: number, run: Promise<number>): Promise<number | 'still running'> {
  return Promise.race([run, sleep(ms, 'still running' as const)]);
}

describe('the request timeout (PAVE_TIMEOUT)', () => {
  it('ends a request a server accepted but never answered, naming the server, the limit and the variable', async () => {
    const url = await silentServer();
    const io = fakeIo({ env: { PAVE_TIMEOUT: '0.5' } });
    expect(await within(5_000, runCli(cliArgs(url, 'apps', 'list'), io))).toBe(1);
    expect(io.stderr.text).toBe(
      `pave: error: the server at ${url} did not answer GET /api/v1/apps within 0.5 s; ` +
        'if it is only slow, allow it longer with PAVE_TIMEOUT=<seconds> (0: no limit)\n',
    );
    expect(io.stdout.text).toBe('');
  });

  it('also ends an answer that starts and then stalls', async () => {
    const url = await listen(
      createHttpServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"items": [');
      }),
    );
    const io = fakeIo({ env: { PAVE_TIMEOUT: '0.5' } });
    expect(await within(5_000, runCli(cliArgs(url, 'apps', 'list'), io))).toBe(1);
    expect(io.stderr.text).toMatch(/did not answer GET \/api\/v1\/apps within 0\.5 s; .*PAVE_TIMEOUT=/);
  });

  it('allows 60 s without PAVE_TIMEOUT (0: no limit), so a slow answer within that is not cut', async () => {
    expect(resolveRequestTimeout({ env: {}, homeDir: '/' })).toBe(60);
    expect(resolveRequestTimeout({ env: { PAVE_TIMEOUT: '0' }, homeDir: '/' })).toBe(0);
    const url = await listen(
      createHttpServer((_request, response) => {
        setTimeout(() => {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end('{"items": [], "nextCursor": null}');
        }, 1_000);
      }),
    );
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    expect(await runCli(cliArgs(url, 'apps', 'list'), io)).toBe(0);
    expect(io.stderr.text).toBe('');
  });

  // A server that answers only once its drivers are done (a terraform destroy, a plan) takes as long as they do.
  async function slowServer(ms: number, body: unknown) {
    const requests: string[] = [];
    const url = await listen(
      createHttpServer((request, response) => {
        requests.push(`${request.method} ${request.url}`);
        request.resume();
        setTimeout(() => {
          if (body === undefined) return void response.writeHead(204).end();
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify(body));
        }, ms);
      }),
    );
    return { url, requests };
  }

  it('waits for `envs delete` and `apps delete` past the limit, as the server answers only when all is torn down', async () => {
    const server = await slowServer(1_200, undefined);
    const io = fakeIo({ env: { PAVE_TIMEOUT: '0.3', NO_COLOR: '1' } });
    const envArgs = cliArgs(server.url, 'envs', 'delete', 'y', '--app', 'x', '--force');
    const codes = [
      await within(5_000, runCli(envArgs, io)),
      await within(5_000, runCli(cliArgs(server.url, 'apps', 'delete', 'x', '--force'), io)),
    ];
    expect(io.stderr.text).toBe('');
    expect(codes).toEqual([0, 0]);
    expect(io.stdout.text).toContain('Deleted environment y of app x, its workloads and its resources\n');
    expect(server.requests).toEqual(['DELETE /api/v1/apps/x/envs/y', 'DELETE /api/v1/apps/x?force=true']);
  });

  it('waits for a plan (`promote --plan`) past the limit, as drivers work it out', async () => {
    const noChanges = { setId: null, label: 'the current set' };
    const plan = {
      setId: 'a1b2c3d4e5f6a7b8',
      workloads: [],
      diff: { from: noChanges, to: noChanges, changes: [], values: [], unified: '' },
      resources: [],
    };
    const server = await slowServer(1_200, plan);
    const io = fakeIo({ env: { PAVE_TIMEOUT: '0.3', NO_COLOR: '1' } });
    const args = cliArgs(
      server.url,
      'promote',
      '--app',
      'x',
      '--from',
      'dev',
      '--to',
      'y',
      '--plan',
      '-o',
      'json',
    );
    const code = await within(5_000, runCli(args, io));
    expect(io.stderr.text).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(io.stdout.text)).toEqual(plan);
    expect(server.requests).toEqual(['POST /api/v1/apps/x/envs/y/deployments']);
  });

  it('waits for `resources check` past the limit, as each driver reads its resource', async () => {
    const server = await slowServer(1_200, { items: [] });
    const io = fakeIo({ env: { PAVE_TIMEOUT: '0.3', NO_COLOR: '1' } });
    const args = cliArgs(server.url, 'resources', 'check', '--app', 'x', '--env', 'y', '-o', 'json');
    const code = await within(5_000, runCli(args, io));
    expect(io.stderr.text).toBe('');
    expect(code).toBe(0);
    expect(server.requests).toEqual(['GET /api/v1/apps/x/envs/y/resources/check']);
  });

  it('still cuts an ordinary request to a server as slow, and a deployment that is not a plan', async () => {
    const server = await slowServer(1_200, { items: [], nextCursor: null });
    const io = fakeIo({ env: { PAVE_TIMEOUT: '0.3', NO_COLOR: '1' } });
    expect(await within(5_000, runCli(cliArgs(server.url, 'apps', 'list'), io))).toBe(1);
    const promote = cliArgs(server.url, 'promote', '--app', 'x', '--from', 'dev', '--to', 'y');
    expect(await within(5_000, runCli(promote, io))).toBe(1);
    expect(io.stderr.text).toBe(
      `pave: error: the server at ${server.url} did not answer GET /api/v1/apps within 0.3 s; ` +
        'if it is only slow, allow it longer with PAVE_TIMEOUT=<seconds> (0: no limit)\n' +
        `pave: error: the server at ${server.url} did not answer POST /api/v1/apps/x/envs/y/deployments within ` +
        '0.3 s; if it is only slow, allow it longer with PAVE_TIMEOUT=<seconds> (0: no limit)\n',
    );
  });

  it('refuses a PAVE_TIMEOUT that is not a number of seconds, as a usage error', async () => {
    const url = await silentServer();
    for (const value of ['abc', '-1', '1m', '100000']) {
      const io = fakeIo({ env: { PAVE_TIMEOUT: value } });
      expect(await within(5_000, runCli(cliArgs(url, 'apps', 'list'), io)), value).toBe(2);
      expect(io.stderr.text).toBe(
        `pave: error: PAVE_TIMEOUT: "${value}" is not a number of seconds; ` +
          'use e.g. PAVE_TIMEOUT=120 (at most 86400; 0: no limit)\n',
      );
    }
  });

  it('does not cut a followed log stream that stays open longer than the limit', async () => {
    const url = await listen(
      createHttpServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const line = (text: string) =>
          `event: log\ndata: ${JSON.stringify({ workload: 'web', container: 'main', at: '2025-01-31T09:30:00.000Z', line: text })}\n\n`;
        response.write(line('first'));
        setTimeout(() => response.write(line('second')), 800);
        setTimeout(() => response.end(`${line('third')}event: end\ndata: {}\n\n`), 1_600);
      }),
    );
    const io = fakeIo({ env: { PAVE_TIMEOUT: '0.5', NO_COLOR: '1' } });
    const args = cliArgs(url, 'logs', '--app', 'shop', '--env', 'dev', '-f');
    expect(await within(5_000, runCli(args, io))).toBe(0);
    expect(io.stderr.text).toBe('');
    expect(io.stdout.text).toBe('web/main | first\nweb/main | second\nweb/main | third\n');
  });

  it('does not cut `--wait`, which asks again and again, each answer quick', async () => {
    let polls = 0;
    const running = deploymentDetail({ kind: 'rollback' });
    const server = await fakeServer((request) => {
      if (request.method === 'POST') return { status: 202, body: { ...running, status: 'queued' } };
      polls += 1;
      // Succeeded after about 1.5 s of polls (25 ms apart in the first second, then 100 ms).
      return polls < 50
        ? { status: 200, body: running }
        : { status: 200, body: { ...running, status: 'succeeded', finishedAt: '2025-01-31T09:30:02.000Z' } };
    });
    const io = fakeIo({ env: { PAVE_TIMEOUT: '0.5', NO_COLOR: '1' } });
    const args = ['rollback', '--app', 'shop', '--env', 'dev', '--wait'];
    expect(await within(10_000, runCli(cliArgs(server.url, ...args), io))).toBe(0);
    expect(io.stdout.text).toContain('Deployment 17 succeeded');
  });
});
