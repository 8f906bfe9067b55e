import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { escapeControlCharacters, escapeStrings } from '../src/output/terminal-text.ts';
import { cliArgs, deploymentDetail, fakeIo, fakeServer } from './helpers.ts';

const app = (name: string) => ({
  id: 'shop',
  name,
  createdBy: 'admin\u009b2J',
  createdAt: '2025-01-31T09:30:00.000Z',
});

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('what the CLI prints for people never carries raw control characters', () => {
  it('escapes escape sequences, NUL and C1 in `pave apps list`, keeping the columns aligned', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: { items: [app('Shop\u001b[2J\u001b]0;owned\u0007\u0000\ud800')], nextCursor: null },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'apps', 'list'), io)).toBe(0);
    expect(io.stdout.text).toBe(
      [
        'ID    NAME                                     CREATED BY   CREATED AT',
        'shop  Shop\\x1b[2J\\x1b]0;owned\\x07\\x00\\u{d800}  admin\\x9b2J  2025-01-31T09:30:00Z',
        '',
      ].join('\n'),
    );
  });

  it('prints the JSON unchanged with -o json (JSON escapes control characters itself)', async () => {
    const body = { items: [app('Shop\u001b[2J')], nextCursor: null };
    const server = await fakeServer(() => ({ status: 200, body }));
    const io = fakeIo();
    expect(await runCli([...cliArgs(server.url, 'apps', 'list'), '-o', 'json'], io)).toBe(0);
    expect(JSON.parse(io.stdout.text)).toEqual(body);
    expect(io.stdout.text).not.toMatch(RAW_CONTROL);
  });

  it('escapes control characters in the error the server sends', async () => {
    const server = await fakeServer(() => ({
      status: 404,
      body: {
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: 'app "x\u001b[8m" not found',
        requestId: 'req-1',
        errors: [{ path: 'app\r', message: 'hidden\u001b[0m' }],
      },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'apps', 'get', 'x'), io)).toBe(1);
    expect(io.stderr.text).toBe(
      'pave: error: app "x\\x1b[8m" not found\n  - app\\r: hidden\\x1b[0m\n  (request id req-1)\n',
    );
  });

  it('keeps the colours the CLI adds itself on a terminal', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: { items: [app('Shop\u001b[31m')], nextCursor: null },
    }));
    const io = fakeIo({ tty: true, env: { FORCE_COLOR: '1' } });
    expect(await runCli(cliArgs(server.url, 'apps', 'list'), io)).toBe(0);
    // The header is bold (the CLI's own SGR); the name's escape sequence is shown, not obeyed.
    expect(io.stdout.text).toContain('\u001b[1mID');
    expect(io.stdout.text).toContain('Shop\\x1b[31m');
  });
});

describe('what the server says in a streamed error or a log line’s metadata is shown escaped too', () => {
  let closeStream: (() => void) | undefined;
  afterEach(() => closeStream?.());

  /** A server answering every request with this Server-Sent Events text. */
  async function eventStream(text: string): Promise<string> {
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(text);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closeStream = () => server.close();
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('`pave logs -f`: the error ending the stream, and the workload/container prefix and time of a line', async () => {
    const url = await eventStream(
      'event: log\ndata: {"workload":"web\\u001b[2J","container":"main\\u009b1m","stream":"stdout",' +
        '"at":"2026-01-01T00:00:00Z\\u0007","line":"hello"}\n\n' +
        'event: error\ndata: {"message":"pod gone\\u001b]0;owned\\u0007\\r"}\n\n',
    );
    const io = fakeIo();
    const args = ['logs', '--app', 'shop', '--env', 'dev', '-f', '--timestamps'];
    expect(await runCli(cliArgs(url, ...args), io)).toBe(1);
    expect(io.stdout.text).toBe('2026-01-01T00:00:00Z\\x07 web\\x1b[2J/main\\x9b1m | hello\n');
    expect(io.stderr.text).toBe('pave: error: the log stream ended: pod gone\\x1b]0;owned\\x07\\r\n');
  });

  it('`pave events -f`: the error ending the stream', async () => {
    const url = await eventStream('event: error\ndata: {"message":"token revoked\\u001b[8m"}\n\n');
    const io = fakeIo();
    expect(await runCli(cliArgs(url, 'events', '-f'), io)).toBe(1);
    expect(io.stderr.text).toBe('pave: error: the event stream ended: token revoked\\x1b[8m\n');
    expect(io.stderr.text).not.toMatch(RAW_CONTROL);
  });

  it('`--wait`: the reason a deployment failed, its lines kept', async () => {
    const failed = deploymentDetail({
      status: 'failed',
      reason: 'web: exited\u001b[2J\u001b]0;owned\u0007\nlast line\u009b',
      finishedAt: '2025-01-31T09:31:00.000Z',
    });
    const server = await fakeServer((request) => ({
      status: request.method === 'POST' ? 202 : 200,
      body: failed,
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'rollback', '--app', 'shop', '--env', 'dev', '--wait'), io)).toBe(
      1,
    );
    expect(io.stderr.text).toContain(
      'pave: error: deployment 17 failed: web: exited\\x1b[2J\\x1b]0;owned\\x07\n  last line\\x9b\n',
    );
    expect(io.stderr.text).not.toMatch(RAW_CONTROL);
  });
});

describe('escapeControlCharacters', () => {
  it('leaves printable text alone and leaves no control character or lone surrogate in anything', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(escapeControlCharacters(text)).toBe(
          text.replace(/[\n\r\t]/g, (c) => JSON.stringify(c).slice(1, -1)),
        );
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const escaped = escapeControlCharacters(text);
        expect(escaped).not.toMatch(RAW_CONTROL);
        expect(escaped).not.toMatch(/[\ud800-\udfff]/u);
        // Escaping is idempotent: the result is printable.
        expect(escapeControlCharacters(escaped)).toBe(escaped);
      }),
    );
  });

  it('keeps line breaks and tabs, or the CLI’s own colours, only when asked', () => {
    expect(escapeControlCharacters('a\n\tb\r')).toBe('a\\n\\tb\\r');
    expect(escapeControlCharacters('a\n\tb\r', { keepLineBreaks: true })).toBe('a\n\tb\\r');
    expect(escapeControlCharacters('\u001b[1mbold\u001b[22m \u001b[2J', { keepColors: true })).toBe(
      '\u001b[1mbold\u001b[22m \\x1b[2J',
    );
  });

  it('escapes every string of a response, keys included, and nothing else', () => {
    expect(escapeStrings({ 'k\u0007': ['v\u001b', 1, true, null], n: { m: 'ok\n' } })).toEqual({
      'k\\x07': ['v\\x1b', 1, true, null],
      n: { m: 'ok\n' },
    });
  });
});
