import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer, temporaryDir } from './helpers.ts';

// What a mistyped --server pointing at another JSON API answers, to every path, with 200.
const OTHER_API = { status: 200, body: { foo: 1 } };

const notPave = (url: string, request: string) =>
  `pave: error: the server at ${url} answered 200 to ${request} with something other than what Pave ` +
  'answers there; is it a Pave server? Check --server or PAVE_SERVER\n';

describe('a server that answers JSON that is not Pave’s', () => {
  it('is said to be no Pave server, naming it and --server, instead of a TypeError, for any command', async () => {
    const server = await fakeServer(() => OTHER_API);
    for (const [args, request] of [
      [['apps', 'list'], 'GET /api/v1/apps'],
      [['apps', 'get', 'shop'], 'GET /api/v1/apps/shop'],
      [
        ['deployments', 'list', '--app', 'shop', '--env', 'dev'],
        'GET /api/v1/apps/shop/envs/dev/deployments',
      ],
      [['whoami'], 'GET /api/v1/whoami'],
    ] as const) {
      const io = fakeIo();
      expect(await runCli(cliArgs(server.url, ...args), io), args.join(' ')).toBe(1);
      expect(io.stderr.text).toBe(notPave(server.url, request));
      expect(io.stdout.text).toBe('');
    }
  });

  it('shows the TypeError it stands for only with PAVE_DEBUG=1', async () => {
    const server = await fakeServer(() => OTHER_API);
    const io = fakeIo({ env: { PAVE_DEBUG: '1' } });
    expect(await runCli(cliArgs(server.url, 'apps', 'list'), io)).toBe(1);
    expect(io.stderr.text.startsWith(notPave(server.url, 'GET /api/v1/apps').trimEnd())).toBe(true);
    expect(io.stderr.text).toMatch(/\nCaused by: TypeError: /);
  });

  it('is refused by `pave login`, which saves nothing', async () => {
    const server = await fakeServer(() => OTHER_API);
    const home = temporaryDir();
    const config = join(home, 'config.json');
    const io = fakeIo({ homeDir: home, env: { PAVE_CONFIG: config } });
    expect(await runCli(['node', 'pave', 'login', '--server', server.url, '--token', 'pave_test'], io)).toBe(
      1,
    );
    expect(io.stderr.text).toBe(notPave(server.url, 'GET /api/v1/whoami'));
    expect(existsSync(config)).toBe(false);
  });

  it('leaves a TypeError that no answer of the server came before as it is', async () => {
    const io = fakeIo();
    // No server answers on port 9: a ConnectionError, as before.
    expect(await runCli(cliArgs('http://127.0.0.1:9', 'apps', 'list'), io)).toBe(1);
    expect(io.stderr.text).toMatch(/^pave: error: cannot reach Pave at http:\/\/127\.0\.0\.1:9/);
  });
});

describe('a log stream whose events are not Pave’s', () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  it('is said to be no Pave server instead of a raw TypeError or SyntaxError', async () => {
    for (const data of ['{"foo":1}', 'not json']) {
      const server = createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.end(`event: log\ndata: ${data}\n\nevent: end\ndata: {}\n\n`);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      close = () => server.close();
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const io = fakeIo();
      expect(await runCli(cliArgs(url, 'logs', '--app', 'shop', '--env', 'dev'), io), data).toBe(1);
      expect(io.stderr.text).toBe(notPave(url, 'GET /api/v1/apps/shop/envs/dev/logs'));
      server.close();
    }
  });
});

// The server answers 204 for an environment whose runtime keeps no logs; the client showed "No Content".
describe('pave logs of a runtime that keeps no logs', () => {
  it('says so, naming the environment, exit 1', async () => {
    const server = await fakeServer(() => ({ status: 204 }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'logs', '--app', 'shop', '--env', 'dev'), io)).toBe(1);
    expect(io.stderr.text).toBe(
      "pave: error: the runtime of shop/dev's target keeps no logs: read them where its workloads run\n",
    );
  });
});
