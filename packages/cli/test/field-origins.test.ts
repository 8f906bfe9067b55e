import { describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

// The server's answer when it refuses fields of a request body (problem+json with JSON pointers).
function refusing(...fields: { path: string; message: string }[]) {
  return {
    status: 400,
    body: {
      type: 'https://pave.dev/problems/invalid-input',
      title: 'Invalid input',
      status: 400,
      detail: 'the request body is invalid',
      requestId: 'req-1',
      errors: fields,
    },
  };
}

const DNS_LABEL = 'must be a DNS label';

describe('a refused body field is named as the argument or flag the user typed', () => {
  const cases: { args: string[]; path: string; shown: string }[] = [
    { args: ['apps', 'create', 'Shop_1'], path: '/id', shown: '<app> "Shop_1"' },
    { args: ['apps', 'create', 'shop', '--name', 'x'], path: '/name', shown: '--name "x"' },
    {
      args: ['envs', 'create', 'E_1', '--app', 'shop', '--type', 'development'],
      path: '/id',
      shown: '<env> "E_1"',
    },
    {
      args: ['envs', 'create', 'pr-1', '--app', 'shop', '--type', 'development', '--ttl', '1s'],
      path: '/ttlSeconds',
      shown: '--ttl "1s"',
    },
    { args: ['users', 'create', 'Bob', '--service'], path: '/username', shown: '<name> "Bob"' },
    { args: ['tokens', 'create', 'ci!'], path: '/name', shown: '<name> "ci!"' },
    { args: ['tokens', 'create', 'ci', '--user', 'B_B'], path: '/user', shown: '--user "B_B"' },
    { args: ['env-types', 'create', 'Stage_1'], path: '/id', shown: '<id> "Stage_1"' },
    {
      args: ['env-types', 'create', 'stage', '--description', 'd'],
      path: '/description',
      shown: '--description "d"',
    },
  ];
  for (const { args, path, shown } of cases) {
    it(`pave ${args.join(' ')}: ${path} is shown as ${shown}`, async () => {
      const server = await fakeServer(() => refusing({ path, message: DNS_LABEL }));
      const io = fakeIo();
      expect(await runCli(cliArgs(server.url, ...args), io)).toBe(1);
      expect(io.stderr.text).toContain(`  - ${shown}: ${DNS_LABEL}\n`);
      expect(io.stderr.text).not.toContain(`${path}:`);
    });
  }

  it('names the password without showing it', async () => {
    const server = await fakeServer(() => refusing({ path: '/password', message: 'is too short' }));
    const io = fakeIo({ stdin: 'hunter2\n' });
    const args = cliArgs(server.url, 'users', 'create', 'bob', '--password-stdin');
    expect(await runCli(args, io)).toBe(1);
    expect(io.stderr.text).toContain('  - the password (--password-stdin): is too short\n');
    expect(io.stderr.text).not.toContain('hunter2');
  });

  it('keeps the pointer of a field no argument or flag made, and the rest of a pointer inside one', async () => {
    const server = await fakeServer(() =>
      refusing({ path: '/spec', message: 'is invalid' }, { path: '/id/0', message: 'is odd' }),
    );
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'apps', 'create', 'shop'), io)).toBe(1);
    expect(io.stderr.text).toContain('  - /spec: is invalid\n');
    expect(io.stderr.text).toContain('  - <app> "shop" at /0: is odd\n');
  });
});
