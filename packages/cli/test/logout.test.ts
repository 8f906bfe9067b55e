import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeConfig } from '../src/config.ts';
import { runCli } from '../src/program.ts';
import { fakeIo, temporaryDir } from './helpers.ts';

const SERVER = 'https://pave.example.com';

/** A CLI environment whose config file holds a login to `server`, as `pave login` saves it. */
function loggedIn(server = SERVER, env: Record<string, string> = {}) {
  const config = join(temporaryDir(), 'config.json');
  writeConfig(config, { server, token: 'pave_saved' });
  return { config, io: fakeIo({ env: { PAVE_CONFIG: config, ...env } }) };
}

describe('pave logout', () => {
  it('forgets the token `pave login` saved, naming the server and the file', async () => {
    const { config, io } = loggedIn();
    expect(await runCli(['node', 'pave', 'logout'], io)).toBe(0);
    expect(existsSync(config)).toBe(false);
    expect(io.stdout.text).toBe(`Logged out of ${SERVER}: forgot the token saved in ${config}.\n`);
    expect(io.stderr.text).toBe('');
  });

  it('never shows a password in the saved server URL', async () => {
    const { io } = loggedIn('https://ci:hunter2@pave.example.com');
    expect(await runCli(['node', 'pave', 'logout', '-o', 'json'], io)).toBe(0);
    expect(io.stdout.text).not.toContain('hunter2');
    const text = loggedIn('https://ci:hunter2@pave.example.com');
    expect(await runCli(['node', 'pave', 'logout'], text.io)).toBe(0);
    expect(text.io.stdout.text).toMatch(/^Logged out of https:\/\/ci:\*+@pave\.example\.com/);
  });

  it('is idempotent: with nothing saved it says so and exits 0', async () => {
    const { config, io } = loggedIn();
    expect(await runCli(['node', 'pave', 'logout'], io)).toBe(0);
    const again = fakeIo({ env: { PAVE_CONFIG: config } });
    expect(await runCli(['node', 'pave', 'logout'], again)).toBe(0);
    expect(again.stdout.text).toBe(`Not logged in: no login is saved in ${config}; nothing to forget.\n`);
  });

  it('forgets a login only for the server named with --server or PAVE_SERVER, and says whose it is', async () => {
    const other = 'https://other.example.com';
    for (const { args, env } of [
      { args: ['--server', other], env: {} },
      { args: [], env: { PAVE_SERVER: other } },
    ]) {
      const { config, io } = loggedIn(SERVER, env);
      expect(await runCli(['node', 'pave', 'logout', ...args], io)).toBe(0);
      expect(readFileSync(config, 'utf8')).toContain('pave_saved');
      expect(io.stdout.text).toBe(
        `Not logged in to ${other}: the login saved in ${config} is for ${SERVER} ` +
          `(\`pave logout --server ${SERVER}\` forgets it); nothing changed.\n`,
      );
    }
    const { config, io } = loggedIn();
    expect(await runCli(['node', 'pave', 'logout', '--server', `${SERVER}/`], io)).toBe(0);
    expect(existsSync(config)).toBe(false);
  });

  it('says that PAVE_TOKEN, which it cannot forget, is still used', async () => {
    const { io } = loggedIn(SERVER, { PAVE_TOKEN: 'pave_env' });
    expect(await runCli(['node', 'pave', 'logout'], io)).toBe(0);
    expect(io.stderr.text).toBe(
      'pave: note: PAVE_TOKEN is set in the environment, and later commands use it; unset it too\n',
    );
  });

  it('prints what it did as JSON with -o json, never the token', async () => {
    const { config, io } = loggedIn();
    expect(await runCli(['node', 'pave', 'logout', '-o', 'json'], io)).toBe(0);
    expect(JSON.parse(io.stdout.text)).toEqual({ server: SERVER, config, loggedOut: true });
    expect(io.stdout.text).not.toContain('pave_saved');
  });

  it('refuses to delete a config file that is not one `pave login` wrote, saying what to do', async () => {
    const config = join(temporaryDir(), 'config.json');
    writeFileSync(config, 'not json');
    const io = fakeIo({ env: { PAVE_CONFIG: config } });
    expect(await runCli(['node', 'pave', 'logout'], io)).toBe(1);
    expect(io.stderr.text).toMatch(/^pave: error: the config file .* is not valid/);
    expect(existsSync(config)).toBe(true);
  });
});
