import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { openFullApi } from '../../server/test/support/full-api.ts';
import { cliArgs, fakeIo, fakeServer, temporaryDir } from './helpers.ts';

// "Café template" in Latin-1: the é is byte 0xE9, the 32nd byte of the file, on line 3 at column 11.
const LATIN1_TEMPLATE = Buffer.concat([
  Buffer.from('id: latin1\nfiles: []\ntitle: Caf', 'utf8'),
  Buffer.from([0xe9]),
  Buffer.from(' template\n', 'utf8'),
]);
const NOT_UTF8 = 'it is not UTF-8: byte 32 (0xE9, line 3, column 11) does not begin a UTF-8 character';

describe('pave templates apply of a template that is not UTF-8', () => {
  it('refuses a YAML file that is not UTF-8 at the byte, sending nothing', async () => {
    const path = join(temporaryDir(), 'tmpl-latin1.yaml');
    writeFileSync(path, LATIN1_TEMPLATE);
    const server = await fakeServer(() => ({ status: 500 }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'templates', 'apply', '-f', path), io)).toBe(2);
    expect(io.stderr.text).toContain(`cannot read ${path}: ${NOT_UTF8}`);
    expect(server.requests).toEqual([]);
  });

  it("refuses a directory's template.yaml that is not UTF-8 the same way", async () => {
    const dir = temporaryDir();
    writeFileSync(join(dir, 'template.yaml'), LATIN1_TEMPLATE);
    const server = await fakeServer(() => ({ status: 500 }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'templates', 'apply', '-f', dir), io)).toBe(2);
    expect(io.stderr.text).toContain(`cannot read ${join(dir, 'template.yaml')}: ${NOT_UTF8}`);
    expect(server.requests).toEqual([]);
  });

  it('refuses a binary file in one short line, not a syntax error made of its bytes', async () => {
    const path = join(temporaryDir(), 'random.bin');
    const bytes = Buffer.alloc(10_000, 0xff);
    bytes.write('id: x\n', 0, 'utf8');
    writeFileSync(path, bytes);
    const server = await fakeServer(() => ({ status: 500 }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'templates', 'apply', '-f', path), io)).toBe(2);
    expect(io.stderr.text).toContain(`cannot read ${path}: it is not UTF-8: byte 7 (0xFF, line 2, column 1)`);
    expect(io.stderr.text).not.toContain('YAML syntax error');
    expect(io.stderr.text.length).toBeLessThan(500);
    expect(server.requests).toEqual([]);
  });

  it('still sends the files under files/ that are not UTF-8 as they are, in base64', async () => {
    const dir = temporaryDir();
    writeFileSync(join(dir, 'template.yaml'), 'id: hello\ntitle: Hello\n');
    mkdirSync(join(dir, 'files'));
    writeFileSync(join(dir, 'files', 'logo.png'), Buffer.from([0x89, 0xe9, 0x00]));
    const server = await fakeServer(() => ({
      status: 200,
      body: { id: 'hello', version: 1, action: 'create', applied: true },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'templates', 'apply', '-f', dir), io), io.stderr.text).toBe(0);
    expect((server.requests[0]!.body as { files: unknown[] }).files).toEqual([
      { path: 'logo.png', binaryContent: Buffer.from([0x89, 0xe9, 0x00]).toString('base64') },
    ]);
  });
});

// Three templates in one file; the second and third are refused by what only the server checks: a placeholder
// that names no parameter, and a deployment to an environment the template does not create.
const THREE_TEMPLATES = `id: fz-ok-one
title: OK one
parameters: { type: object, properties: { name: { type: string } }, required: [name] }
files: []
---
id: fz-bad-two
title: Bad two
parameters: { type: object, properties: { name: { type: string } }, required: [name] }
files:
  - path: README.md
    content: "{{ nosuchvar.constructor }}"
---
id: fz-bad-three
title: Bad three
parameters: { type: object, properties: { name: { type: string } }, required: [name] }
files: []
setup:
  deploy: prod
`;

describe('pave templates apply of a file whose templates the server refuses', () => {
  it('stores none of them, and lists every refusal at its line', async () => {
    const api = await openFullApi('sqlite');
    try {
      await api.app.listen({ port: 0, host: '127.0.0.1' });
      const server = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
      const file = join(temporaryDir(), 'templates.yaml');
      writeFileSync(file, THREE_TEMPLATES);
      const apply = async () => {
        const io = fakeIo();
        const code = await runCli(
          ['node', 'pave', 'templates', 'apply', '-f', file, '--server', server, '--token', api.token],
          io,
        );
        return { code, stdout: io.stdout.text, stderr: io.stderr.text };
      };

      const refused = await apply();
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`^${file}:11:14: /files/0/content: .*constructor`, 'mu'));
      expect(refused.stderr).toMatch(
        new RegExp(`^${file}:18:11: /setup/deploy: must name an environment`, 'mu'),
      );
      expect(refused.stderr).toMatch(/fz-bad-two, fz-bad-three.*; nothing was applied\n$/u);
      expect(refused.stderr).not.toContain('applied before it');
      expect((await api.call('GET', '/templates/fz-ok-one')).statusCode).toBe(404);

      // Without the refused ones, all are applied.
      writeFileSync(
        file,
        `${THREE_TEMPLATES.split('---\n')[0]!}---\nid: fz-ok-four\ntitle: OK four\nparameters: { type: object, properties: { name: { type: string } }, required: [name] }\nfiles: []\n`,
      );
      const applied = await apply();
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout).toBe(
        'Template fz-ok-one created: version 1.\nTemplate fz-ok-four created: version 1.\n',
      );
      expect((await api.call('GET', '/templates/fz-ok-one')).statusCode).toBe(200);
      expect((await api.call('GET', '/templates/fz-ok-four')).statusCode).toBe(200);
    } finally {
      await api.cleanup();
    }
  });
});
