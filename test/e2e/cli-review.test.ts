import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, PaveExitedError, runPave, startPave, type PaveProcess } from '../support/pave.ts';

describe('pave validate of several files', () => {
  it('refuses two files that define one workload, at the second name, as pave deploy of them would', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pave-validate-twice-'));
    try {
      const score =
        'apiVersion: score.dev/v1b1\nmetadata:\n  name: api\ncontainers:\n  main:\n    image: busybox\n';
      for (const name of ['a.yaml', 'b.yaml']) writeFileSync(join(dir, name), score);
      const result = await runPave(['validate', '-f', join(dir, 'a.yaml'), '-f', join(dir, 'b.yaml')], {});
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `${join(dir, 'b.yaml')}:3:3: metadata.name: workload "api" is also defined by ${join(dir, 'a.yaml')}`,
      );
      expect(result.stdout).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pave validate of a probe of a port that is not a service port', () => {
  // Valid Score that kubernetes and Compose probe at the container port: only an environment on the process or
  // docker runtime refuses it (`pave validate --app --env`, packages/cli/test/probe-ports.test.ts).
  it('accepts it offline, where the runtime is not known, as it accepts a declared one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pave-validate-probe-'));
    try {
      const file = join(dir, 'score.yaml');
      const score = (port: number) =>
        'apiVersion: score.dev/v1b1\nmetadata:\n  name: api\ncontainers:\n  main:\n    image: busybox\n' +
        `    readinessProbe:\n      httpGet:\n        path: /healthz\n        port: ${port}\n` +
        'service:\n  ports:\n    web:\n      port: 80\n      targetPort: 3000\n';
      for (const port of [8080, 3000]) {
        writeFileSync(file, score(port));
        const accepted = await runPave(['validate', '-f', file], {});
        expect(accepted.stdout, accepted.stderr).toBe('1 file valid\n');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a --server URL with a password', () => {
  it('never prints the password, whether the server cannot be reached or no token is known for it', async () => {
    const server = 'http://ops:hunter2pw@127.0.0.1:9';
    const unreachable = await runPave(['apps', 'list', '--server', server, '--token', 'pave_x'], {});
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toContain('cannot reach Pave at http://ops:***@127.0.0.1:9');
    const dataDir = mkdtempSync(join(tmpdir(), 'pave-server-password-'));
    try {
      const tokenless = await runPave(['apps', 'list', '--server', server], {
        PAVE_DATA_DIR: dataDir,
        PAVE_CONFIG: join(dataDir, 'client-config.json'),
      });
      expect(tokenless.code).not.toBe(0);
      expect(tokenless.stderr).toContain('no API token for http://ops:***@127.0.0.1:9');
      for (const result of [unreachable, tokenless]) {
        expect(`${result.stdout}${result.stderr}`).not.toContain('hunter2pw');
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('pave CLI against a server that is not Pave', () => {
  let other: Server;
  let url: string;

  beforeAll(async () => {
    // What answers on a mistyped --server: a web server that serves its page for every path, with 200.
    other = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<!doctype html>\n<html>\n\n<body>some other app</body>\n\n</html>\n');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => other.close(resolve));
  });

  it('says the server did not answer with JSON, naming it and --server, instead of a TypeError', async () => {
    const result = await runPave(['apps', 'list'], { PAVE_SERVER: url, PAVE_TOKEN: 'pave_x' });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `pave: error: the server at ${url} answered 200 with something other than a JSON object ` +
        '(content type text/html); is it a Pave server? Check --server or PAVE_SERVER\n',
    );
  });

  it('fails `pave logs` on an answer that is not an event stream, instead of exiting 0 with nothing', async () => {
    const result = await runPave(['logs', '--app', 'shop', '--env', 'dev'], {
      PAVE_SERVER: url,
      PAVE_TOKEN: 'pave_x',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^pave: error: the server at \S+ answered 200 with something other than an event stream \(content type text\/html\)/,
    );
  });
});

describe('pave logs when the log stream fails', () => {
  let standIn: Server;
  let url: string;

  beforeAll(async () => {
    // Answers as Pave's logs route does: a line, then `event: error` when the runtime cannot read the logs
    // (a kubernetes cluster gone, say), or (workload "cut") a stream that stops without its `event: end`, as when Pave is stopped.
    standIn = createServer((request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      response.write('event: log\ndata: {"workload":"api","container":"main","stream":"stdout",');
      response.write('"at":"2026-01-01T00:00:00.000Z","line":"hello"}\n\n');
      if (request.url?.includes('workload=cut')) response.end();
      else
        response.end('event: error\ndata: {"message":"reading pod logs failed: connect ECONNREFUSED"}\n\n');
    });
    await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => standIn.close(resolve));
  });

  it('says the error the server sent, exit 1, instead of ending quietly with exit 0', async () => {
    const result = await runPave(['logs', '--app', 'shop', '--env', 'dev'], {
      PAVE_SERVER: url,
      PAVE_TOKEN: 'pave_x',
    });
    expect(result).toMatchObject({
      code: 1,
      stdout: 'api/main | hello\n',
      stderr: 'pave: error: the log stream ended: reading pod logs failed: connect ECONNREFUSED\n',
    });
  });

  it('says a followed stream was cut off, exit 1, instead of ending quietly with exit 0', async () => {
    const result = await runPave(['logs', 'cut', '--app', 'shop', '--env', 'dev', '-f'], {
      PAVE_SERVER: url,
      PAVE_TOKEN: 'pave_x',
    });
    expect(result).toMatchObject({
      code: 1,
      stdout: 'api/main | hello\n',
      stderr: `pave: error: the log stream from ${url} was cut off before its end (did the server stop?)\n`,
    });
  });
});

describe('pave CLI review against a real `pave up`', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  const env = () => clientEnv(server.url, location.dataDir);

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
  });
  afterAll(async () => {
    await server?.stop();
    await location?.cleanup();
  });

  it('says where a refused token came from: a stale PAVE_TOKEN hides the one `pave login` saved', async () => {
    const admin = readFileSync(join(location.dataDir, 'admin.token'), 'utf8').trim();
    const created = await runPave(['tokens', 'create', 'old', '-o', 'json'], env());
    const { id, token } = JSON.parse(created.stdout) as { id: string; token: string };
    expect((await runPave(['tokens', 'revoke', id], env())).code).toBe(0);
    const login = await runPave(['login', '--token', admin], env());
    expect(login.code).toBe(0);

    const result = await runPave(['apps', 'list'], { ...env(), PAVE_TOKEN: token });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^pave: error: the bearer token has been revoked/);
    expect(result.stderr).toContain(
      '  (the token came from PAVE_TOKEN, which is used before the one `pave login` saved; fix or unset it)\n',
    );
    expect(result.stderr).not.toContain(token);
  });

  it('checks --wait-timeout before it deploys: a bad one, or one without --wait, is a usage error and nothing runs', async () => {
    expect((await runPave(['apps', 'create', 'waits'], env())).code).toBe(0);
    expect(
      (await runPave(['envs', 'create', 'dev', '--app', 'waits', '--type', 'development'], env())).code,
    ).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'pave-review-score-'));
    const file = join(dir, 'score.yaml');
    writeFileSync(
      file,
      'apiVersion: score.dev/v1b1\nmetadata:\n  name: sleeper\ncontainers:\n  main:\n    image: .\n' +
        '    command: ["sleep", "600"]\n',
    );
    try {
      const deploy = (...extra: string[]) =>
        runPave(['deploy', '-f', file, '--app', 'waits', '--env', 'dev', ...extra], env());
      const malformed = await deploy('--wait', '--wait-timeout', '10x');
      expect(malformed).toMatchObject({ code: 2, stdout: '' });
      expect(malformed.stderr).toMatch(/^pave: error: --wait-timeout: "10x" is not a duration/);
      const alone = await deploy('--wait-timeout', '5m');
      expect(alone).toMatchObject({
        code: 2,
        stdout: '',
        stderr:
          'pave: error: --wait-timeout goes with --wait: add --wait to follow the deployment (and stop waiting ' +
          'after that long)\n',
      });
      const list = await runPave(
        ['deployments', 'list', '--app', 'waits', '--env', 'dev', '-o', 'json'],
        env(),
      );
      expect(JSON.parse(list.stdout).items).toEqual([]);
    } finally {
      await runPave(['apps', 'delete', 'waits', '--force'], env());
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses `pave login --no-browser` without --sso, where it would do nothing, and saves nothing', async () => {
    const admin = readFileSync(join(location.dataDir, 'admin.token'), 'utf8').trim();
    const config = join(location.dataDir, 'no-browser-config.json');
    const result = await runPave(['login', '--server', server.url, '--token', admin, '--no-browser'], {
      PAVE_CONFIG: config,
    });
    expect(result).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'pave: error: --no-browser goes with --sso: it prints the sign-in URL instead of opening it\n',
    });
    expect(existsSync(config)).toBe(false);
  });

  it('`pave login` without --server logs in to the saved server, as its --help says', async () => {
    const admin = readFileSync(join(location.dataDir, 'admin.token'), 'utf8').trim();
    const saved = { PAVE_CONFIG: join(location.dataDir, 'login-config.json') };
    expect((await runPave(['login', '--server', server.url, '--token', admin], saved)).code).toBe(0);
    const again = await runPave(['login', '--token', admin], saved);
    expect(again).toMatchObject({ code: 0, stdout: `Logged in to ${server.url} as admin\n` });
    const help = await runPave(['login', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      '--server <url> Pave server URL (env PAVE_SERVER; default: the logged-in server, else http://127.0.0.1:7300)',
    );
  });
  // Found by a review of the CLI: the server's problems named its route parameters (`path.env`,
  // `query.cursor`), which no one typed; the CLI names the flag or argument they came from.
  it('names the flag or argument a refused route parameter came from, with the value typed', async () => {
    expect((await runPave(['apps', 'create', 'flags'], env())).code).toBe(0);
    try {
      const env404 = await runPave(['deployments', 'list', '--app', 'flags', '--env', 'nope'], env());
      expect(env404.code).toBe(1);
      expect(env404.stderr).toMatch(/^ {2}- --env "nope": no such environment/m);
      const app404 = await runPave(['apps', 'get', 'nope'], env());
      expect(app404.stderr).toMatch(/^ {2}- <app> "nope": /m);
      expect(
        (await runPave(['envs', 'create', 'dev', '--app', 'flags', '--type', 'development'], env())).code,
      ).toBe(0);
      const cursor = await runPave(
        ['deployments', 'list', '--app', 'flags', '--env', 'dev', '--cursor', 'not-a-cursor'],
        env(),
      );
      expect(cursor.code).toBe(1);
      expect(cursor.stderr).toMatch(/^ {2}- --cursor "not-a-cursor": /m);
      expect(`${env404.stderr}${app404.stderr}${cursor.stderr}`).not.toMatch(/path\.|query\./);
    } finally {
      await runPave(['apps', 'delete', 'flags', '--force'], env());
    }
  });

  it('`pave values unset` of a key that is not set says so and exits 0, as `heroku config:unset` does', async () => {
    expect((await runPave(['apps', 'create', 'unsets'], env())).code).toBe(0);
    try {
      const result = await runPave(['values', 'unset', 'NOPE', '--app', 'unsets'], env());
      expect(result).toMatchObject({
        code: 0,
        stdout:
          'NOPE is not set in the app-level values of unsets: nothing was removed ' +
          '(`pave values list --app unsets` lists them).\n',
        stderr: '',
      });
    } finally {
      await runPave(['apps', 'delete', 'unsets', '--force'], env());
    }
  });

  it('`pave deploy -f -` reads the Score file from stdin; an --override-policy of no policy is refused, naming it', async () => {
    expect((await runPave(['apps', 'create', 'piped'], env())).code).toBe(0);
    expect(
      (await runPave(['envs', 'create', 'dev', '--app', 'piped', '--type', 'development'], env())).code,
    ).toBe(0);
    const score =
      'apiVersion: score.dev/v1b1\nmetadata:\n  name: fromstdin\ncontainers:\n  main:\n    image: .\n' +
      '    command: ["sleep", "600"]\n';
    try {
      const deploy = (...extra: string[]) =>
        runPave(['deploy', '-f', '-', '--app', 'piped', '--env', 'dev', '--plan', ...extra], env(), score);
      const plan = await deploy();
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain('fromstdin');
      const overridden = await deploy('--override-policy', 'no-such-policy', '--reason', 'INC-42');
      expect(overridden).toMatchObject({ code: 1, stdout: '' });
      expect(overridden.stderr).toContain(
        '  - --override-policy "no-such-policy": there is no policy "no-such-policy" to override (there are none); ' +
          'fix the id, or leave the override out (`pave policies list` shows the policies)\n',
      );
    } finally {
      await runPave(['apps', 'delete', 'piped', '--force'], env());
    }
  });

  it('`pave policies apply` refuses a promotion gate from a type that does not exist, at its line in the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pave-review-policies-'));
    const file = join(dir, 'policies.yaml');
    writeFileSync(
      file,
      '- id: staging-first\n  severity: deny\n  message: deploy it to staging first\n' +
        '  promotionGate: { from: stagin, within: 7d }\n',
    );
    try {
      const result = await runPave(['policies', 'apply', '-f', file], env());
      expect(result).toMatchObject({ code: 1, stdout: '' });
      expect(result.stderr).toBe(
        `${file}:4:26: staging-first.promotionGate.from: environment type "stagin" does not exist (there are: ` +
          'development, production, staging), so no deployment could ever pass this gate; fix the name, or ' +
          'create the type first (`pave env-types create stagin`)\n' +
          `pave: error: 1 problem in ${file}, found by the server; nothing was applied\n`,
      );
      const listed = await runPave(['policies', 'list', '-o', 'json'], env());
      expect(JSON.parse(listed.stdout).items).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`pave logout` forgets the saved login, says which server, and is idempotent', async () => {
    const admin = readFileSync(join(location.dataDir, 'admin.token'), 'utf8').trim();
    const config = join(location.dataDir, 'logout-config.json');
    // No PAVE_SERVER, and no admin token nearby: only the saved login can say where and as whom.
    const saved = { PAVE_CONFIG: config, PAVE_DATA_DIR: join(location.dataDir, 'nowhere') };
    expect((await runPave(['login', '--server', server.url, '--token', admin], saved)).code).toBe(0);
    expect((await runPave(['apps', 'list'], saved)).code).toBe(0);

    const logout = await runPave(['logout'], saved);
    expect(logout).toMatchObject({
      code: 0,
      stdout: `Logged out of ${server.url}: forgot the token saved in ${config}.\n`,
      stderr: '',
    });
    expect(existsSync(config)).toBe(false);
    const after = await runPave(['apps', 'list', '--server', server.url], saved);
    expect(after.code).toBe(2);
    expect(after.stderr).toContain(`no API token for ${server.url}; log in with \`pave login`);

    const again = await runPave(['logout'], saved);
    expect(again).toMatchObject({
      code: 0,
      stdout: `Not logged in: no login is saved in ${config}; nothing to forget.\n`,
    });
  });
});

describe('pave up settings', () => {
  it('refuses a log level that is not one, naming --log-level or PAVE_LOG_LEVEL, with exit code 2', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pave-review-'));
    try {
      const flag = await startPave(['--data-dir', dataDir, '--log-level', 'loud']).catch((e: unknown) => e);
      expect(flag).toBeInstanceOf(PaveExitedError);
      expect((flag as PaveExitedError).code).toBe(2);
      expect((flag as PaveExitedError).output).toBe(
        'pave: error: --log-level: "loud" is not a log level; use fatal, error, warn, info, debug, trace or silent\n',
      );
      const variable = await startPave(['--data-dir', dataDir], { PAVE_LOG_LEVEL: 'verbose' }).catch(
        (e: unknown) => e,
      );
      expect((variable as PaveExitedError).code).toBe(2);
      expect((variable as PaveExitedError).output).toMatch(
        /^pave: error: PAVE_LOG_LEVEL: "verbose" is not a log level/,
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('--log-level wins over PAVE_LOG_LEVEL, as every other flag wins over its variable', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pave-review-'));
    try {
      // The variable a flag replaces is not looked at (as PAVE_EVENT_RETENTION beside --event-retention);
      // before, this one won and stopped Pave with pino's "default level:loud must be included in custom levels".
      const pave = await startPave(['--data-dir', dataDir, '--log-level', 'info'], {
        PAVE_LOG_LEVEL: 'loud',
      });
      await pave.stop();
      expect(pave.output()).toContain('"level":30');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('expands ~ in PAVE_DATA_DIR as client commands do, so they find its admin token', async () => {
    const home = mkdtempSync(join(tmpdir(), 'pave-review-home-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'pave-review-cwd-'));
    const cwd = process.cwd();
    const settings = { HOME: home, PAVE_DATA_DIR: '~/pave-data' };
    // Run from a scratch directory: without the expansion Pave would make a directory named "~" in it.
    process.chdir(elsewhere);
    let pave: PaveProcess | undefined;
    try {
      pave = await startPave([], settings);
      expect(existsSync(join(elsewhere, '~'))).toBe(false);
      expect(existsSync(join(home, 'pave-data', 'admin.token'))).toBe(true);
      const list = await runPave(['apps', 'list', '-o', 'json'], { ...settings, PAVE_SERVER: pave.url });
      expect(list).toMatchObject({ code: 0, stderr: '' });
    } finally {
      process.chdir(cwd);
      await pave?.stop();
      rmSync(home, { recursive: true, force: true });
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
