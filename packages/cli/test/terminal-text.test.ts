import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { escapeControlCharacters, escapeStrings } from '../src/output/terminal-text.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

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
