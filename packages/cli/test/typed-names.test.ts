import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedBuiltInTemplates } from '../../server/src/domain/templates.ts';
import { openFullApi, type FullApi } from '../../server/test/support/full-api.ts';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer, temporaryDir } from './helpers.ts';

const BUILT_IN_TEMPLATES = join(import.meta.dirname, '../../server/templates');

// A refusal names what the user typed (or the flag that would have said it), never the API's field, against a
// real server.
describe('refusals name the command line, not the API', () => {
  let api: FullApi;
  let server: string;

  beforeAll(async () => {
    api = await openFullApi('sqlite');
    await seedBuiltInTemplates(api.store, BUILT_IN_TEMPLATES);
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
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

  const pave = async (...args: string[]) => {
    const io = fakeIo();
    const code = await runCli(['node', 'pave', ...args, '--server', server, '--token', api.token], io);
    return { code, stderr: io.stderr.text };
  };

  it('pave render of an environment on a process target names --target and both ways out', async () => {
    const { code, stderr } = await pave('render', '--app', 'shop', '--env', 'dev');
    expect(code, stderr).toBe(1);
    expect(stderr).not.toContain('query.target');
    expect(stderr).toContain('\n  - --target: ');
    expect(stderr).toContain('--target ID');
    expect(stderr).toContain('--format compose');
  });

  it('pave render --target of a process target names the flag with its value', async () => {
    const { code, stderr } = await pave('render', '--app', 'shop', '--env', 'dev', '--target', 'local');
    expect(code, stderr).toBe(1);
    expect(stderr).toContain('\n  - --target "local": ');
    expect(stderr).toContain('--format compose');
  });

  it('pave init names [dir] for a name made from the directory', async () => {
    const dir = join(temporaryDir(), 'Bad_Dir');
    const { code, stderr } = await pave('init', 'node-http', dir, '--no-deploy');
    expect(code, stderr).toBe(1);
    expect(stderr).not.toContain('/answers');
    expect(stderr).toContain(`\n  - [dir] ${JSON.stringify(dir)}: `);
    expect(stderr).toContain('--set name=');
  });

  it('pave init names the --set flag that gave an answer', async () => {
    const dir = join(temporaryDir(), 'orders');
    const port = await pave('init', 'node-http', dir, '--set', 'port=abc', '--no-deploy');
    expect(port.code, port.stderr).toBe(1);
    expect(port.stderr).not.toContain('/answers');
    expect(port.stderr).toContain('\n  - --set "port=abc": ');

    const name = await pave('init', 'node-http', dir, '--set', 'name=Bad_Name', '--no-deploy');
    expect(name.code, name.stderr).toBe(1);
    expect(name.stderr).not.toContain('/answers');
    expect(name.stderr).toContain('\n  - --set "name=Bad_Name": ');
  });
});

describe('pave init, an answer nobody typed', () => {
  it('is named as the --set flag that would give it', async () => {
    const template = {
      id: 'svc',
      title: 'Service',
      tags: [],
      parameters: { type: 'object', properties: { name: { type: 'string' }, region: { type: 'string' } } },
      files: [],
      setup: { app: 'svc', environments: [], values: [], prepare: [] },
      version: 1,
      createdAt: '2026-01-01T00:00:00.000Z',
      createdBy: 'system',
    };
    const server = await fakeServer((request) =>
      request.method === 'GET'
        ? { status: 200, body: template }
        : {
            status: 400,
            body: {
              type: 'https://pave.dev/problems/invalid-input',
              title: 'Invalid input',
              status: 400,
              detail: 'the answers do not fit template svc version 1: 1 problem(s)',
              errors: [{ path: '/answers/region', message: "region: must be one of 'eu', 'us'" }],
            },
          },
    );
    const io = fakeIo();
    const args = cliArgs(server.url, 'init', 'svc', join(temporaryDir(), 'svc'), '--no-deploy');
    expect(await runCli(args, io)).toBe(1);
    expect(io.stderr.text).toContain("\n  - --set region=…: region: must be one of 'eu', 'us'\n");
  });
});

describe('a flag that takes a value and was not given', () => {
  const refusing = (path: string, message: string) => ({
    status: 400,
    body: {
      type: 'https://pave.dev/problems/invalid-input',
      title: 'Invalid input',
      status: 400,
      detail: 'the request is invalid',
      errors: [{ path, message }],
    },
  });

  it('names the field the server chose in its stead by the flag alone', async () => {
    const server = await fakeServer(() => refusing('query.target', 'is not allowed here'));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'render', '--app', 'shop', '--env', 'dev'), io)).toBe(1);
    expect(io.stderr.text).toContain('\n  - --target: is not allowed here\n');
  });

  it('is not a connection flag, which no request field is made from', async () => {
    const server = await fakeServer(() => refusing('/token', 'is not allowed here'));
    const io = fakeIo({ env: { PAVE_SERVER: server.url, PAVE_TOKEN: 'pave_test' } });
    expect(await runCli(['node', 'pave', 'apps', 'create', 'shop'], io)).toBe(1);
    expect(io.stderr.text).toContain('\n  - /token: is not allowed here\n');
  });
});
