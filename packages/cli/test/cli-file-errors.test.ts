import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeConfig } from '../src/config.ts';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, temporaryDir } from './helpers.ts';

// Nothing is listening on port 9: every one of these fails before it would send a request.
const NO_SERVER = 'http://127.0.0.1:9';

describe('a file the CLI cannot read', () => {
  // A path that goes through a regular file (ENOTDIR), which no file-system permission (or root) changes.
  function throughAFile(): string {
    const dir = temporaryDir();
    writeFileSync(join(dir, 'plain'), '');
    return join(dir, 'plain', 'score.yaml');
  }

  it('is said in words, never Node’s own message, by each command that reads one', async () => {
    const path = throughAFile();
    const why = 'a part of the path is a file, not a directory';
    for (const [args, message] of [
      [['validate', '-f', path], `cannot read ${path}: ${why}`],
      [['deploy', '-f', path, '--app', 'shop', '--env', 'dev'], `cannot read the Score file ${path}: ${why}`],
      [['defs', 'apply', '-f', path, '--yes'], `cannot read the definitions file ${path}: ${why}`],
      [['targets', 'apply', '-f', path, '--yes'], `cannot read the targets file ${path}: ${why}`],
    ] as const) {
      const io = fakeIo();
      expect(await runCli(cliArgs(NO_SERVER, ...args), io), args[0]).toBe(2);
      expect(io.stderr.text, args[0]).toBe(`pave: error: ${message}\n`);
    }
  });

  it('names a --manifests directory that cannot be read, and why', async () => {
    const dir = temporaryDir();
    writeFileSync(
      join(dir, 'score.yaml'),
      'apiVersion: score.dev/v1b1\nmetadata: {name: web}\ncontainers:\n  main: {image: nginx, command: [nginx]}\n',
    );
    symlinkSync('loop', join(dir, 'loop'));
    for (const [manifests, why] of [
      [join(dir, 'none'), 'no such directory'],
      [join(dir, 'score.yaml'), 'it is not a directory'],
      [join(dir, 'loop'), 'too many symbolic links (a loop?)'],
    ] as const) {
      const io = fakeIo();
      const args = ['deploy', '-f', join(dir, 'score.yaml'), '--manifests', manifests];
      expect(
        await runCli(cliArgs(NO_SERVER, ...args, '--app', 'shop', '--env', 'dev'), io),
        io.stderr.text,
      ).toBe(2);
      expect(io.stderr.text, why).toBe(`pave: error: --manifests ${manifests}: ${why}\n`);
    }
  });

  it('says why the config file cannot be read', async () => {
    const config = throughAFile();
    const io = fakeIo({ env: { PAVE_CONFIG: config } });
    expect(await runCli(['node', 'pave', 'apps', 'list'], io)).toBe(1);
    expect(io.stderr.text).toBe(
      `pave: error: cannot read the config file ${config}: a part of the path is a file, not a directory\n`,
    );
  });

  it('says why the config file cannot be saved, never Node’s own message', () => {
    const config = throughAFile();
    const dir = join(config, '..');
    const token = `pave_${'a'.repeat(43)}`;
    expect(() => writeConfig(join(config, 'config.json'), { server: NO_SERVER, token })).toThrow(
      `cannot save the config file ${join(config, 'config.json')}: cannot create ${config}: ${dir} is a ` +
        'file, not a directory; set PAVE_CONFIG to a file in a directory you may write to',
    );
  });
});
