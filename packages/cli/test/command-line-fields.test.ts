import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFieldAliasesOf } from '../src/field-origins.ts';
import { createProgram, runCli } from '../src/program.ts';
import { openFullApi, type FullApi } from '../../server/test/support/full-api.ts';
import { cliArgs, fakeIo, fakeServer, temporaryDir } from './helpers.ts';

const SCORE = 'apiVersion: score.dev/v1b1\nmetadata:\n  name: web\ncontainers:\n  main:\n    image: nginx\n';

// Commands whose flags or arguments are named otherwise than the API's fields they become: a refusal from a
// real server names the flag or argument the user typed, never the API's field.
describe('a refusal names the flag or argument, not the API field, against a real server', () => {
  let api: FullApi;
  let server: string;

  beforeAll(async () => {
    api = await openFullApi('sqlite');
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['/users', { username: 'bob', password: 'correct-horse-battery' }],
      ['/teams', { id: 'ops' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, response.body).toBeLessThan(300);
    }
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  const cases: { args: string[]; shown: string; api: string }[] = [
    { args: ['env-types', 'get', 'nope'], shown: '<id> "nope"', api: 'path.type' },
    { args: ['env-types', 'update', 'nope', '--description', 'x'], shown: '<id> "nope"', api: 'path.type' },
    { args: ['init', 'nope', 'DIR'], shown: '<template> "nope"', api: 'path.id' },
    {
      args: ['resources', 'move', 'a.b.c', 'd.e.f', '--app', 'shop', '--env', 'dev'],
      shown: '<from> "a.b.c"',
      api: '/from',
    },
    {
      args: ['values', 'rollback', '99', '--app', 'shop', '--env', 'dev'],
      shown: '<version> "99"',
      api: '/version',
    },
    {
      args: ['deploy', '--artifact', '99', '--app', 'shop', '--env', 'dev'],
      shown: '--artifact "99"',
      api: '/artifact',
    },
    {
      args: ['logs', 'web', '--app', 'shop', '--env', 'dev'],
      shown: '<workload> "web"',
      api: 'query.workload',
    },
    { args: ['diff', '1', '2', '--app', 'shop', '--env', 'dev'], shown: '<to> "2"', api: 'query.to' },
    {
      args: ['rollback', '99', '--app', 'shop', '--env', 'dev'],
      shown: '<deployment> "99"',
      api: '/deploymentId',
    },
    {
      args: ['promote', '--app', 'shop', '--from', 'nope', '--to', 'dev'],
      shown: '--from "nope"',
      api: 'env',
    },
    {
      args: ['promote', '--app', 'shop', '--from', 'dev', '--to', 'nope'],
      shown: '--to "nope"',
      api: 'path.env',
    },
    { args: ['users', 'unlock', 'nope'], shown: '<name> "nope"', api: 'path.username' },
    {
      args: ['users', 'set-password', 'nope', '--password-stdin'],
      shown: '<name> "nope"',
      api: 'path.username',
    },
    { args: ['teams', 'create', 'ops'], shown: '<team> "ops"', api: '/id' },
    { args: ['teams', 'add', 'ops', 'nope'], shown: '<user> "nope"', api: 'path.username' },
    { args: ['teams', 'remove', 'ops', 'nope'], shown: '<user> "nope"', api: 'path.username' },
    {
      args: ['roles', 'grant', 'developer', '--user', 'nope', '--app', 'shop'],
      shown: '--user "nope"',
      api: '/user',
    },
    {
      args: ['roles', 'grant', 'deployer', '--user', 'bob', '--env-type', 'nope'],
      shown: '--env-type "nope"',
      api: '/envType',
    },
    {
      args: ['roles', 'revoke', 'developer', '--user', 'bob', '--app', 'shop'],
      shown: '<role> "developer"',
      api: '/role',
    },
    { args: ['webhooks', 'create', 'w', '--url', 'ftp://x'], shown: '--url "ftp://x"', api: '/url' },
    { args: ['webhooks', 'redeliver', '99'], shown: '<delivery-id> "99"', api: 'path.id' },
    {
      args: ['rules', 'create', '--app', 'shop', '--env', 'nope', '--branch', 'main'],
      shown: '--env "nope"',
      api: '/env',
    },
  ];
  for (const { args, shown, api: field } of cases) {
    it(`pave ${args.join(' ')}: names ${shown}, not ${field}`, async () => {
      const io = fakeIo({ stdin: 'a-new-password-1234\n' });
      const argv = args.map((arg) => (arg === 'DIR' ? join(temporaryDir(), 'project') : arg));
      const code = await runCli(['node', 'pave', ...argv, '--server', server, '--token', api.token], io);
      expect(code, io.stderr.text).toBe(1);
      expect(io.stderr.text).toContain(`\n  - ${shown}: `);
      expect(io.stderr.text).not.toContain(`  - ${field}:`);
    });
  }
});

describe('a refused switch', () => {
  // The server's answer refusing one body field, in the shape problems.ts gives it.
  const refusing = (path: string) => ({
    status: 400,
    body: {
      type: 'urn:pave:problem:400',
      title: 'Bad Request',
      status: 400,
      detail: 'the request body is invalid',
      requestId: 'req-1',
      errors: [{ path, message: 'is not allowed here' }],
    },
  });

  it('is named as the switch typed, and not as one left at its default', async () => {
    const file = join(temporaryDir(), 'score.yaml');
    writeFileSync(file, SCORE);
    const server = await fakeServer(() => refusing('/autoRollback'));
    const deploy = (...extra: string[]) =>
      cliArgs(server.url, 'deploy', '-f', file, '--app', 'shop', '--env', 'dev', ...extra);

    const typed = fakeIo();
    expect(await runCli(deploy('--no-auto-rollback'), typed)).toBe(1);
    expect(typed.stderr.text).toContain('\n  - --no-auto-rollback: is not allowed here');

    const untyped = fakeIo();
    expect(await runCli(deploy(), untyped)).toBe(1);
    expect(untyped.stderr.text).toContain('\n  - /autoRollback: is not allowed here');
  });
});

describe('aliasApiFields', () => {
  it('names, for every command, only flags and arguments that command has', () => {
    const wrong: string[] = [];
    const walk = (command: Command, path: string) => {
      const names = new Set([
        ...command.options.map((option) => option.long),
        ...command.registeredArguments.map((argument) => `<${argument.name()}>`),
      ]);
      for (const [field, name] of Object.entries(apiFieldAliasesOf(command))) {
        if (!names.has(name)) wrong.push(`${path}: ${field} -> ${name}`);
      }
      for (const sub of command.commands) walk(sub, `${path} ${sub.name()}`);
    };
    walk(createProgram(fakeIo()), 'pave');
    expect(wrong).toEqual([]);
  });
});
