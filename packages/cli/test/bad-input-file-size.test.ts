import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScoreFiles } from '../src/commands/deploy.ts';
import { readUtf8File } from '../src/file-arguments.ts';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer, temporaryDir } from './helpers.ts';

// The most the CLI reads from a file given to it: well above the 1 MiB the server takes in a request.
const LIMIT = 16 * 1024 * 1024;
const WHY =
  'Pave reads at most 16 MiB from a file and sends at most 1 MiB in a request: give the file you meant, or a ' +
  'smaller one';
const TOO_LARGE = `it is 16.0 MiB (${LIMIT + 1} bytes); ${WHY}`;
const ENDLESS = `it holds more than 16 MiB; ${WHY}`;

/** A file of `size` bytes of `a` in a fresh directory. */
function fileOf(size: number, name = 'big.yaml'): string {
  const path = join(temporaryDir(), name);
  writeFileSync(path, Buffer.alloc(size, 'a'));
  return path;
}

describe('file arguments over the size limit', () => {
  it('are read up to the limit, and refused one byte over it', async () => {
    expect((await readUtf8File(fileOf(LIMIT))).length).toBe(LIMIT);
    await expect(readUtf8File(fileOf(LIMIT + 1))).rejects.toThrow(TOO_LARGE);
  });

  it('pave validate refuses one, naming the file, its size and the limit', async () => {
    const file = fileOf(LIMIT + 1);
    const io = fakeIo();
    expect(await runCli(['node', 'pave', 'validate', '-f', file], io)).toBe(2);
    expect(io.stderr.text).toContain(`cannot read ${file}: ${TOO_LARGE}`);
  });

  it('pave values import refuses one before contacting the server', async () => {
    const server = await fakeServer(() => ({ status: 500, body: {} }));
    const file = fileOf(LIMIT + 1, 'big.env');
    const io = fakeIo();
    const args = cliArgs(server.url, 'values', 'import', file, '--app', 'fz', '--env', 'dev');
    expect(await runCli(args, io)).toBe(2);
    expect(io.stderr.text).toContain(`cannot read ${file}: ${TOO_LARGE}`);
    expect(server.requests).toEqual([]);
  });

  it('pave deploy reports a `source` file over the limit at its line and column', async () => {
    const dir = temporaryDir();
    writeFileSync(
      join(dir, 'score.yaml'),
      'apiVersion: score.dev/v1b1\nmetadata:\n  name: fz\ncontainers:\n  main:\n    image: nginx\n' +
        '    files:\n      /srv/big.bin:\n        source: big.bin\n',
    );
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(LIMIT + 1));
    const { problems } = await loadScoreFiles(['score.yaml'], dir);
    expect(problems).toEqual([
      `score.yaml:9:17: containers.main.files["/srv/big.bin"].source: cannot read "big.bin": ${TOO_LARGE}` +
        ` (${join(dir, 'big.bin')})`,
    ]);
  });

  it("pave templates apply refuses a file of the template's files/ over the limit, sending nothing", async () => {
    const dir = temporaryDir();
    writeFileSync(join(dir, 'template.yaml'), 'id: hello\ntitle: Hello\n');
    mkdirSync(join(dir, 'files'));
    writeFileSync(join(dir, 'files', 'big.bin'), Buffer.alloc(LIMIT + 1));
    const server = await fakeServer(() => ({ status: 500 }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'templates', 'apply', '-f', dir), io)).toBe(2);
    expect(io.stderr.text).toContain(`cannot read ${join(dir, 'files', 'big.bin')}: ${TOO_LARGE}`);
    expect(server.requests).toEqual([]);
  });
});

describe('endless files (devices, pipes)', () => {
  it('pave validate -f /dev/zero stops reading at the limit', async () => {
    const io = fakeIo();
    expect(await runCli(['node', 'pave', 'validate', '-f', '/dev/zero'], io)).toBe(2);
    expect(io.stderr.text).toContain(`cannot read /dev/zero: ${ENDLESS}`);
  });

  it('pave values import /dev/urandom stops reading at the limit', async () => {
    const server = await fakeServer(() => ({ status: 500, body: {} }));
    const io = fakeIo();
    const args = cliArgs(server.url, 'values', 'import', '/dev/urandom', '--app', 'fz', '--env', 'dev');
    expect(await runCli(args, io)).toBe(2);
    expect(io.stderr.text).toContain(`cannot read /dev/urandom: ${ENDLESS}`);
    expect(server.requests).toEqual([]);
  });
});
