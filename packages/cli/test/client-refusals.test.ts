import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer, temporaryDir } from './helpers.ts';

// Nothing is listening on port 9.
const NO_SERVER = 'http://127.0.0.1:9';

/* Found by a review of the CLI: what a request that cannot be right, or a server that is down, showed. */
describe('requests the CLI refuses or cannot send', () => {
  it('refuses an empty id before sending, instead of calling the list route and blaming the server', async () => {
    const server = await fakeServer(() => ({ status: 200, body: { items: [], nextCursor: null } }));
    for (const args of [
      ['apps', 'get', ''],
      ['envs', 'get', '', '--app', 'shop'],
      ['apps', 'delete', ''],
    ]) {
      const io = fakeIo({ stdinTTY: false });
      expect(
        await runCli(cliArgs(server.url, ...args, ...(args[1] === 'delete' ? ['--yes'] : [])), io),
      ).not.toBe(0);
      expect(io.stderr.text, args.join(' ')).toMatch(/^pave: error: an id in the request is empty/);
    }
    expect(server.requests).toEqual([]);
  });

  it('asks before deleting an app on a terminal, naming what goes with --force; --yes and scripts do not', async () => {
    const server = await fakeServer(() => ({ status: 204 }));
    const declined = fakeIo({ stdinTTY: true, answers: ['n'] });
    expect(await runCli(cliArgs(server.url, 'apps', 'delete', 'shop', '--force'), declined)).toBe(1);
    expect(declined.questions).toEqual([
      'Delete app shop and all its environments, their workloads and resources (databases are dropped)? [y/N] ',
    ]);
    expect(server.requests).toEqual([]);
    const yes = fakeIo({ stdinTTY: true });
    expect(await runCli(cliArgs(server.url, 'apps', 'delete', 'shop', '--yes'), yes)).toBe(0);
    const script = fakeIo({ stdinTTY: false });
    expect(await runCli(cliArgs(server.url, 'apps', 'delete', 'shop', '--force'), script)).toBe(0);
    expect(script.questions).toEqual([]);
    expect(server.requests.map((request) => [request.method, request.url])).toEqual([
      ['DELETE', '/api/v1/apps/shop'],
      ['DELETE', '/api/v1/apps/shop?force=true'],
    ]);
  });

  it('refuses catalog export --dir "", which would write over files in the current directory', async () => {
    const io = fakeIo();
    expect(await runCli(cliArgs(NO_SERVER, 'catalog', 'export', '--dir', ''), io)).toBe(2);
    expect(io.stderr.text).toBe(
      'pave: error: --dir: give a directory, e.g. --dir ./catalog (use --dir . for this one)\n',
    );
  });

  it('says an empty page after a cursor is that, not "No apps yet"', async () => {
    const server = await fakeServer(() => ({ status: 200, body: { items: [], nextCursor: null } }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'apps', 'list', '--cursor', 'zzz'), io)).toBe(0);
    expect(io.stdout.text).toBe('No apps after "zzz".\n');
  });

  it('says a request body is over the 1 MiB the server takes, before sending it, naming the size', async () => {
    const server = await fakeServer(() => ({ status: 202, body: {} }));
    const dir = temporaryDir();
    const file = join(dir, 'score.yaml');
    const big = 'x'.repeat(1_100_000);
    writeFileSync(
      file,
      `apiVersion: score.dev/v1b1\nmetadata: {name: web}\ncontainers:\n  web:\n    image: nginx\n    variables:\n      BIG: "${big}"\n`,
    );
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'deploy', '-f', file, '--app', 'shop', '--env', 'dev'), io)).toBe(
      1,
    );
    expect(io.stderr.text).toMatch(/^pave: error: the request is 1\.\d MiB; Pave takes at most 1 MiB/);
    expect(io.stderr.text).not.toMatch(/EPIPE|cannot reach/);
    expect(io.stderr.text).toContain('split the deployment');
    expect(server.requests).toEqual([]);
  });

  it('says what to do about a body over 1 MiB by what it sends: a values import is split, not a deployment', async () => {
    const server = await fakeServer(() => ({ status: 200, body: {} }));
    const file = join(temporaryDir(), 'big.env');
    // Each value under the 64 KiB a value may have, together over 1 MiB.
    const lines = Array.from({ length: 20 }, (_, index) => `KEY_${index}=${'x'.repeat(60_000)}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const io = fakeIo();
    const args = cliArgs(server.url, 'values', 'import', file, '--app', 'shop', '--env', 'dev');
    expect(await runCli(args, io)).toBe(1);
    expect(io.stderr.text).toMatch(/the request is 1\.\d MiB; Pave takes at most 1 MiB/);
    expect(io.stderr.text).toContain('import the file in parts, each under 1 MiB');
    expect(io.stderr.text).not.toContain('deployment');
    expect(server.requests).toEqual([]);
  });

  it('says a log or event stream cannot reach the server as every command does, without "TypeError: fetch failed"', async () => {
    for (const args of [
      ['logs', '--app', 'shop', '--env', 'dev'],
      ['events', '-f'],
    ]) {
      const io = fakeIo();
      expect(await runCli(cliArgs(NO_SERVER, ...args), io), args.join(' ')).toBe(1);
      expect(io.stderr.text).toBe(
        `pave: error: cannot reach Pave at ${NO_SERVER} (ECONNREFUSED); start it with \`pave up\` or pass --server\n`,
      );
    }
  });
});
