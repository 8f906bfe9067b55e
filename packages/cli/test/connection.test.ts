import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configPath, readConfig, writeConfig } from '../src/config.ts';
import { DEFAULT_SERVER, resolveConnection, resolveDataDir, resolveServer } from '../src/connection.ts';
import { recordPort, registerReplica } from '@pave/core/data-dir-lock';
import { temporaryDir } from './helpers.ts';

const REMOTE = 'https://pave.example.com';

/**
 * A home directory with, optionally, a saved login (via PAVE_CONFIG) and a local admin token, written by a
 * `pave up` (this process, as far as the data directory can tell) listening on `ports` (7300, 9000 by default).
 */
function setup(
  options: { saved?: { server: string; token: string }; adminToken?: string; ports?: number[] } = {},
) {
  const homeDir = temporaryDir();
  const config = join(homeDir, 'pave-config.json');
  if (options.saved) writeConfig(config, options.saved);
  const dataDir = join(homeDir, 'pave-data');
  mkdirSync(dataDir);
  if (options.adminToken !== undefined) writeFileSync(join(dataDir, 'admin.token'), options.adminToken);
  // As `pave up` leaves it: its lock file (or, on PostgreSQL, a file per replica) with the port it listens on.
  for (const port of options.ports ?? [7300, 9000]) {
    const release = registerReplica(dataDir, () => new Error('held'));
    recordPort(dataDir, port);
    const file = join(dataDir, 'replicas', String(process.pid));
    writeFileSync(join(dataDir, 'replicas', `${process.pid}-${port}`), readFileSync(file));
    release();
  }
  return { homeDir, dataDir, env: { PAVE_CONFIG: config, PAVE_DATA_DIR: dataDir } as Record<string, string> };
}

describe('token resolution order', () => {
  const all = () =>
    setup({ saved: { server: DEFAULT_SERVER, token: 'pave_saved' }, adminToken: 'pave_admin\n' });

  it('uses --token before everything else', () => {
    const { homeDir, env } = all();
    const connection = resolveConnection(
      { token: 'pave_flag' },
      { env: { ...env, PAVE_TOKEN: 'pave_env' }, homeDir },
    );
    expect(connection).toEqual({ server: DEFAULT_SERVER, token: 'pave_flag', tokenSource: '--token' });
  });

  it('uses PAVE_TOKEN when there is no --token', () => {
    const { homeDir, env } = all();
    const connection = resolveConnection({}, { env: { ...env, PAVE_TOKEN: 'pave_env' }, homeDir });
    expect(connection.token).toBe('pave_env');
    expect(connection.tokenSource).toBe('PAVE_TOKEN');
  });

  it('uses the token saved by `pave login` before the local admin token', () => {
    const { homeDir, env } = all();
    expect(resolveConnection({}, { env, homeDir })).toEqual({
      server: DEFAULT_SERVER,
      token: 'pave_saved',
      tokenSource: 'config',
    });
  });

  it('uses the saved token only for the server it was saved for', () => {
    const { homeDir, env } = setup({
      saved: { server: REMOTE, token: 'pave_saved' },
      adminToken: 'pave_admin',
    });
    const local = resolveConnection({ server: 'http://localhost:7300' }, { env, homeDir });
    expect(local).toMatchObject({ token: 'pave_admin', tokenSource: 'admin.token' });
    const same = resolveConnection({ server: `${REMOTE}/` }, { env, homeDir });
    expect(same).toMatchObject({ server: REMOTE, token: 'pave_saved', tokenSource: 'config' });
  });

  it('falls back to <data-dir>/admin.token, trimmed, for a local server', () => {
    for (const server of ['http://127.0.0.1:7300', 'http://localhost:9000', 'http://[::1]:7300']) {
      const { homeDir, env } = setup({ adminToken: '  pave_admin\n' });
      expect(resolveConnection({ server }, { env, homeDir })).toEqual({
        server,
        token: 'pave_admin',
        tokenSource: 'admin.token',
      });
    }
  });

  it('reads admin.token from --data-dir before PAVE_DATA_DIR', () => {
    const { homeDir, env } = setup({ adminToken: 'pave_from_env_dir' });
    const flagDir = setup({ adminToken: 'pave_from_flag_dir' }).dataDir;
    expect(resolveConnection({ dataDir: flagDir }, { env, homeDir }).token).toBe('pave_from_flag_dir');
  });

  // Found by a review of the CLI: a mistyped port handed the admin token to whatever listened there.
  it('sends the admin token only to a port its `pave up` listens on, and says where that is', () => {
    const { homeDir, dataDir, env } = setup({ adminToken: 'pave_admin', ports: [7300] });
    expect(resolveConnection({ server: 'http://127.0.0.1:7300' }, { env, homeDir }).token).toBe('pave_admin');
    // The address to use comes first (a newcomer's review: the login hint led, though the port was known).
    expect(() => resolveConnection({ server: 'http://127.0.0.1:7481' }, { env, homeDir })).toThrow(
      `the pave up of ${dataDir} listens on http://127.0.0.1:7300 (port 7300), not on port 7481: ` +
        'pass --server http://127.0.0.1:7300 or set PAVE_SERVER=http://127.0.0.1:7300',
    );
    const stopped = setup({ adminToken: 'pave_admin', ports: [] });
    expect(() => resolveConnection({ server: 'http://127.0.0.1:7300' }, stopped)).toThrow(
      `no pave up of ${stopped.dataDir} is running`,
    );
  });

  it('never sends the local admin token to a remote server', () => {
    const { homeDir, env } = setup({ adminToken: 'pave_admin' });
    expect(() => resolveConnection({ server: REMOTE }, { env, homeDir })).toThrow(
      `no API token for ${REMOTE}; log in with \`pave login --server ${REMOTE} --token T\``,
    );
  });

  it('refuses a token no request can carry, naming where it came from, rather than failing to reach the server', () => {
    const { homeDir, env } = setup();
    const refusal = (flags: { token?: string }, extra: Record<string, string>) => {
      try {
        resolveConnection(flags, { env: { ...env, ...extra }, homeDir });
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('expected a refusal');
    };
    const flag = refusal({ token: 'pave_abc\u007fdef' }, {});
    expect(flag.name).toBe('CliUsageError');
    expect(flag.message).toBe(
      '--token: the token holds U+007F at position 9, a character no token has and no request can carry; ' +
        'copy the token again (`pave tokens create` makes a new one)',
    );
    expect(refusal({}, { PAVE_TOKEN: 'pave_a\tb' }).message).toMatch(
      /^PAVE_TOKEN: the token holds U\+0009 at/,
    );
    expect(refusal({}, { PAVE_TOKEN: 'pave_\u{1F600}' }).message).toMatch(
      /^PAVE_TOKEN: the token holds U\+1F600 /,
    );
    const saved = setup({ saved: { server: DEFAULT_SERVER, token: 'pave_x\u0000y' } });
    let fromConfig: unknown;
    try {
      resolveConnection({}, { env: saved.env, homeDir: saved.homeDir });
    } catch (caught) {
      fromConfig = caught;
    }
    expect((fromConfig as Error).message).toContain(
      `the token saved by \`pave login\` in ${saved.env.PAVE_CONFIG}: the token holds U+0000`,
    );
    // Latin-1 letters can be sent: the server says what a token may hold.
    expect(resolveConnection({ token: 'pave_ü' }, { env, homeDir }).token).toBe('pave_ü');
  });

  it('fails with a usage error saying how to get a token when there is none', () => {
    const { homeDir, dataDir, env } = setup();
    let error: unknown;
    try {
      resolveConnection({}, { env, homeDir });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ name: 'CliUsageError' });
    const message = (error as Error).message;
    expect(message).toContain(`pave login --server ${DEFAULT_SERVER} --token T`);
    expect(message).toContain('run `pave up`');
    expect(message).toContain(join(dataDir, 'admin.token'));
    expect(message).toContain('found with --data-dir or PAVE_DATA_DIR');
  });
});

describe('server resolution order', () => {
  it('prefers --server, then PAVE_SERVER, then the saved server, then http://127.0.0.1:7300', () => {
    const { homeDir, env } = setup({ saved: { server: REMOTE, token: 't' } });
    const withEnv = { ...env, PAVE_SERVER: 'http://env.example:1' };
    expect(resolveServer({ server: 'http://flag.example:2' }, { env: withEnv, homeDir })).toBe(
      'http://flag.example:2',
    );
    expect(resolveServer({}, { env: withEnv, homeDir })).toBe('http://env.example:1');
    expect(resolveServer({}, { env, homeDir })).toBe(REMOTE);
    const fresh = setup();
    expect(resolveServer({}, { env: fresh.env, homeDir: fresh.homeDir })).toBe(DEFAULT_SERVER);
  });

  it('refuses a server that is not an http(s) URL, naming where it came from', () => {
    const { homeDir, env } = setup();
    expect(() => resolveServer({ server: 'pave.example.com' }, { env, homeDir })).toThrow(
      /^--server: "pave.example.com" is not an http\(s\) URL/,
    );
    expect(() => resolveServer({}, { env: { ...env, PAVE_SERVER: 'ftp://x' }, homeDir })).toThrow(
      /^PAVE_SERVER: /,
    );
  });

  it('does not read the config file when flags decide everything, so a broken one does not block them', () => {
    const { homeDir, env } = setup();
    writeFileSync(env.PAVE_CONFIG!, '{not json');
    expect(resolveConnection({ server: REMOTE, token: 'pave_x' }, { env, homeDir }).token).toBe('pave_x');
    expect(() => resolveConnection({}, { env, homeDir })).toThrow(/config file .* is not valid/);
  });
});

describe('data directory', () => {
  it('defaults to ~/.pave and expands a leading ~', () => {
    const homeDir = temporaryDir();
    expect(resolveDataDir({}, { env: {}, homeDir })).toBe(join(homeDir, '.pave'));
    expect(resolveDataDir({ dataDir: '~/state' }, { env: {}, homeDir })).toBe(join(homeDir, 'state'));
  });
});

describe('config file', () => {
  it('lives at PAVE_CONFIG, else $XDG_CONFIG_HOME/pave/config.json, else ~/.config/pave/config.json', () => {
    expect(
      configPath({ env: { PAVE_CONFIG: '/x/c.json', XDG_CONFIG_HOME: '/xdg' }, homeDir: '/home/u' }),
    ).toBe('/x/c.json');
    expect(configPath({ env: { XDG_CONFIG_HOME: '/xdg' }, homeDir: '/home/u' })).toBe(
      '/xdg/pave/config.json',
    );
    expect(configPath({ env: {}, homeDir: '/home/u' })).toBe('/home/u/.config/pave/config.json');
  });

  it.skipIf(process.platform === 'win32')(
    'is written readable by the owner only (file 0600, new directory 0700)',
    () => {
      const homeDir = temporaryDir();
      const path = configPath({ env: {}, homeDir });
      writeConfig(path, { server: REMOTE, token: 'pave_secret' });
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(join(homeDir, '.config', 'pave')).mode & 0o777).toBe(0o700);
      expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ server: REMOTE, token: 'pave_secret' });
    },
  );

  it.skipIf(process.platform === 'win32')(
    'tightens a config file that existed with a wider mode to 0600',
    () => {
      const path = join(temporaryDir(), 'config.json');
      writeFileSync(path, '{}', { mode: 0o644 });
      writeConfig(path, { server: REMOTE, token: 'pave_secret' });
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(readConfig(path)).toEqual({ server: REMOTE, token: 'pave_secret' });
    },
  );

  it('reads as absent when there is no file', () => {
    expect(readConfig(join(temporaryDir(), 'missing.json'))).toBeUndefined();
  });
});
