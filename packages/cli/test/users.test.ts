import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Team, User } from '@pave/core';
import { readConfig } from '../src/config.ts';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer, temporaryDir } from './helpers.ts';

const user = (fields: Partial<User> = {}): User => ({
  id: 'usr_0123456789abcdef',
  username: 'alice',
  kind: 'user',
  hasPassword: true,
  createdAt: '2025-01-31T09:30:00.000Z',
  teams: [],
  ...fields,
});

/** A terminal whose person types `typed` (in order) at the password prompts, which are recorded. */
function terminalIo(typed: string[]) {
  const prompts: string[] = [];
  const io = fakeIo({ stdinTTY: true });
  return Object.assign(io, {
    prompts,
    askSecret: async (question: string) => {
      prompts.push(question);
      return typed.shift() ?? '';
    },
  });
}

const PASSWORD = 'correct horse battery staple';

describe('pave users create', () => {
  it('sends the password from stdin without its final newline', async () => {
    const server = await fakeServer(() => ({ status: 201, body: user() }));
    const io = fakeIo({ stdin: `${PASSWORD}\n` });
    expect(await runCli(cliArgs(server.url, 'users', 'create', 'alice', '--password-stdin'), io)).toBe(0);
    expect(server.requests).toEqual([
      { method: 'POST', url: '/api/v1/users', body: { username: 'alice', password: PASSWORD } },
    ]);
    expect(io.stdout.text).toBe('Created user alice; they log in with `pave login --username alice`\n');
  });

  it('asks for the password twice on a terminal, unseen, and refuses when the two differ', async () => {
    const server = await fakeServer(() => ({ status: 201, body: user() }));
    const differ = terminalIo([PASSWORD, 'something else entirely']);
    expect(await runCli(cliArgs(server.url, 'users', 'create', 'alice'), differ)).toBe(2);
    expect(differ.prompts).toEqual(['Password for alice: ', 'Repeat the password: ']);
    expect(differ.stderr.text).toBe('pave: error: the two passwords differ; nothing was changed\n');
    expect(server.requests).toEqual([]);

    const same = terminalIo([PASSWORD, PASSWORD]);
    expect(await runCli(cliArgs(server.url, 'users', 'create', 'alice'), same)).toBe(0);
    expect(server.requests.map((request) => request.body)).toEqual([
      { username: 'alice', password: PASSWORD },
    ]);
  });

  it('refuses to create a user without a password source when stdin is not a terminal (exit 2)', async () => {
    const server = await fakeServer(() => ({ status: 201, body: user() }));
    const io = fakeIo({ stdinTTY: false });
    expect(await runCli(cliArgs(server.url, 'users', 'create', 'alice'), io)).toBe(2);
    expect(io.stderr.text).toContain('pass --password-stdin');
    expect(server.requests).toEqual([]);
  });

  it('creates a service account without asking for a password, and refuses one with --password-stdin', async () => {
    const server = await fakeServer(() => ({
      status: 201,
      body: user({ username: 'deploy-bot', kind: 'service', hasPassword: false }),
    }));
    const io = terminalIo([]);
    expect(await runCli(cliArgs(server.url, 'users', 'create', 'deploy-bot', '--service'), io)).toBe(0);
    expect(io.prompts).toEqual([]);
    expect(server.requests.map((request) => request.body)).toEqual([
      { username: 'deploy-bot', kind: 'service' },
    ]);
    expect(io.stdout.text).toBe(
      'Created service account deploy-bot; it has no password and uses tokens only\n',
    );

    const both = fakeIo({ stdin: PASSWORD });
    const args = cliArgs(server.url, 'users', 'create', 'ci', '--service', '--password-stdin');
    expect(await runCli(args, both)).toBe(2);
    expect(both.stderr.text).toBe(
      'pave: error: --service and --password-stdin: a service account has no password\n',
    );
    expect(server.requests).toHaveLength(1);
  });
});

describe('pave users list|delete', () => {
  it('lists users with their kind, password and teams', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: {
        items: [
          user({ username: 'admin', hasPassword: false }),
          user({ teams: ['ops', 'web'] }),
          user({ username: 'deploy-bot', kind: 'service', hasPassword: false }),
        ],
      },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'users', 'list'), io)).toBe(0);
    expect(io.stdout.text).toBe(
      [
        'USERNAME    KIND     PASSWORD  TEAMS    CREATED AT',
        'admin       user     none      -        2025-01-31T09:30:00Z',
        'alice       user     set       ops,web  2025-01-31T09:30:00Z',
        'deploy-bot  service  none      -        2025-01-31T09:30:00Z',
        '',
      ].join('\n'),
    );
  });

  it('asks for the page it is given and prints how to get the next one; -o json prints the page', async () => {
    const page = { items: [user()], nextCursor: 'alice' };
    const server = await fakeServer(() => ({ status: 200, body: page }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'users', 'list', '--limit', '1', '--cursor', 'admin'), io)).toBe(
      0,
    );
    expect(server.requests.map((request) => request.url)).toEqual(['/api/v1/users?limit=1&cursor=admin']);
    expect(io.stdout.text).toMatch(/\n\nMore users: pave users list --limit 1 --cursor alice\n$/);
    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, 'users', 'list', '-o', 'json'), json)).toBe(0);
    expect(JSON.parse(json.stdout.text)).toEqual(page);
    const last = await fakeServer(() => ({ status: 200, body: { items: [user()], nextCursor: null } }));
    const table = fakeIo();
    expect(await runCli(cliArgs(last.url, 'users', 'list'), table)).toBe(0);
    expect(table.stdout.text).not.toContain('More users');
  });

  it('deletes only after confirmation, or with --yes (--force too)', async () => {
    const server = await fakeServer(() => ({ status: 204 }));
    const script = fakeIo({ stdinTTY: false });
    expect(await runCli(cliArgs(server.url, 'users', 'delete', 'alice'), script)).toBe(2);
    expect(script.stderr.text).toBe(
      'pave: error: refusing to delete user alice without confirmation: stdin is not a terminal, so pave ' +
        'cannot ask; pass --yes to go ahead\n',
    );
    const person = fakeIo({ stdinTTY: true, answers: ['n'] });
    expect(await runCli(cliArgs(server.url, 'users', 'delete', 'alice'), person)).toBe(1);
    expect(person.questions).toEqual(['Delete user alice, their tokens, team memberships and roles? [y/N] ']);
    expect(server.requests).toEqual([]);

    const forced = fakeIo();
    expect(await runCli(cliArgs(server.url, 'users', 'delete', 'alice', '--force'), forced)).toBe(0);
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'DELETE /api/v1/users/alice',
    ]);
    expect(forced.stdout.text).toBe('Deleted user alice; their tokens no longer work\n');
  });
});

describe('pave users set-password', () => {
  /** A server where the caller is `me`; set-password answers with `revoked` tokens revoked. */
  const passwordServer = (me: string, revoked = 2) =>
    fakeServer((request) =>
      request.url === '/api/v1/whoami'
        ? {
            status: 200,
            body: {
              username: me,
              token: { id: 'tok_1', name: 'x', expiresAt: null, scope: null },
              grants: [],
            },
          }
        : { status: 200, body: { username: request.url.split('/')[4], tokensRevoked: revoked } },
    );
  const NEW = 'a new passphrase of mine';

  it('changes your own password: asks the current one, then the new one twice, unseen', async () => {
    const server = await passwordServer('alice');
    const io = terminalIo([PASSWORD, NEW, NEW]);
    expect(await runCli(cliArgs(server.url, 'users', 'set-password'), io)).toBe(0);
    expect(io.prompts).toEqual([
      'Current password of alice (Enter if you have none): ',
      'New password for alice: ',
      'Repeat the new password: ',
    ]);
    expect(server.requests.map((request) => [request.method, request.url, request.body])).toEqual([
      ['GET', '/api/v1/whoami', undefined],
      ['PUT', '/api/v1/users/alice/password', { password: NEW, currentPassword: PASSWORD }],
    ]);
    expect(io.stdout.text).toBe('Changed your password; 2 other tokens of yours were revoked\n');
  });

  it('reads the current and the new password as two lines of stdin; an empty first line when you have none', async () => {
    const server = await passwordServer('admin', 0);
    const io = fakeIo({ stdin: `\n${NEW}\n` });
    expect(await runCli(cliArgs(server.url, 'users', 'set-password', 'admin', '--password-stdin'), io)).toBe(
      0,
    );
    expect(server.requests[1]?.body).toEqual({ password: NEW });
    expect(io.stdout.text).toBe('Changed your password\n');

    const oneLine = fakeIo({ stdin: `${NEW}\n` });
    expect(await runCli(cliArgs(server.url, 'users', 'set-password', '--password-stdin'), oneLine)).toBe(2);
    expect(oneLine.stderr.text).toBe(
      'pave: error: --password-stdin: to change your own password, pipe two lines: your current password ' +
        '(an empty line if you have none), then the new one\n',
    );
    expect(server.requests.filter((request) => request.method === 'PUT')).toHaveLength(1);

    // A third line made the new password one with a line break in it, which no prompt can take.
    const threeLines = fakeIo({ stdin: `${PASSWORD}\n${NEW}\nmore\n` });
    expect(await runCli(cliArgs(server.url, 'users', 'set-password', '--password-stdin'), threeLines)).toBe(
      2,
    );
    expect(threeLines.stderr.text).toBe(
      'pave: error: --password-stdin: to change your own password, pipe two lines: your current password ' +
        '(an empty line if you have none), then the new one; standard input has 3 lines\n',
    );
    expect(server.requests.filter((request) => request.method === 'PUT')).toHaveLength(1);
  });

  it("refuses a password of more than one line for another user's password too", async () => {
    const server = await passwordServer('admin', 3);
    const io = fakeIo({ stdin: `${NEW}\nsecond line\n` });
    expect(await runCli(cliArgs(server.url, 'users', 'set-password', 'bob', '--password-stdin'), io)).toBe(2);
    expect(io.stderr.text).toBe(
      'pave: error: --password-stdin: standard input has 2 lines; pipe the password alone, on one line\n',
    );
    expect(server.requests.filter((request) => request.method === 'PUT')).toEqual([]);
  });

  it("sets another user's password (admins) from stdin, without asking for a current one", async () => {
    const server = await passwordServer('admin', 3);
    const io = fakeIo({ stdin: `${NEW}\n` });
    expect(await runCli(cliArgs(server.url, 'users', 'set-password', 'bob', '--password-stdin'), io)).toBe(0);
    expect(server.requests[1]).toEqual({
      method: 'PUT',
      url: '/api/v1/users/bob/password',
      body: { password: NEW },
    });
    expect(io.stdout.text).toBe(
      'Set the password of bob; 3 tokens of theirs were revoked, so they log in again with the new password\n',
    );
  });

  it('refuses without a terminal or --password-stdin, and when the new passwords differ (exit 2)', async () => {
    const server = await passwordServer('alice');
    const script = fakeIo({ stdinTTY: false });
    expect(await runCli(cliArgs(server.url, 'users', 'set-password'), script)).toBe(2);
    expect(script.stderr.text).toContain('pass --password-stdin');
    const differ = terminalIo([PASSWORD, NEW, 'something else entirely']);
    expect(await runCli(cliArgs(server.url, 'users', 'set-password'), differ)).toBe(2);
    expect(differ.stderr.text).toBe('pave: error: the two passwords differ; nothing was changed\n');
    expect(server.requests.filter((request) => request.method === 'PUT')).toEqual([]);
  });
});

describe('pave users unlock', () => {
  it("clears the user's failed logins and says how many there were", async () => {
    const server = await fakeServer(() => ({ status: 200, body: { username: 'alice', failuresCleared: 5 } }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'users', 'unlock', 'alice'), io)).toBe(0);
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'DELETE /api/v1/users/alice/login-failures',
    ]);
    expect(io.stdout.text).toBe('Cleared 5 failed logins of alice; they can log in again now\n');

    const none = await fakeServer(() => ({ status: 200, body: { username: 'bob', failuresCleared: 0 } }));
    const quiet = fakeIo();
    expect(await runCli(cliArgs(none.url, 'users', 'unlock', 'bob'), quiet)).toBe(0);
    expect(quiet.stdout.text).toBe('bob had no failed logins to clear; nothing was changed\n');
  });
});

describe('pave teams', () => {
  const team = (fields: Partial<Team> = {}): Team => ({
    id: 'web',
    members: [],
    oidcGroup: null,
    createdBy: 'admin',
    createdAt: '2025-01-31T09:30:00.000Z',
    ...fields,
  });

  it('adds and removes members through the members resource', async () => {
    const server = await fakeServer((request) =>
      request.method === 'PUT' ? { status: 200, body: team({ members: ['alice', 'bob'] }) } : { status: 204 },
    );
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'teams', 'add', 'web', 'alice'), io)).toBe(0);
    expect(await runCli(cliArgs(server.url, 'teams', 'remove', 'web', 'bob'), io)).toBe(0);
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'PUT /api/v1/teams/web/members/alice',
      'DELETE /api/v1/teams/web/members/bob',
    ]);
    expect(io.stdout.text).toBe('Added alice to team web (members: alice, bob)\nRemoved bob from team web\n');
  });

  it('lists teams with their members, or says how to create one', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: { items: [team({ members: ['alice', 'bob'] }), team({ id: 'ops' })] },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'teams', 'list'), io)).toBe(0);
    expect(io.stdout.text).toBe(
      [
        'ID   MEMBERS    SSO GROUP  CREATED BY  CREATED AT',
        'web  alice,bob  -          admin       2025-01-31T09:30:00Z',
        'ops  -          -          admin       2025-01-31T09:30:00Z',
        '',
      ].join('\n'),
    );
    const empty = await fakeServer(() => ({ status: 200, body: { items: [] } }));
    const none = fakeIo();
    expect(await runCli(cliArgs(empty.url, 'teams', 'list'), none)).toBe(0);
    expect(none.stdout.text).toBe('No teams yet. Create one with `pave teams create TEAM`.\n');
  });

  it('lists teams a page at a time and prints how to get the next page', async () => {
    const server = await fakeServer(() => ({ status: 200, body: { items: [team()], nextCursor: 'web' } }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'teams', 'list', '--limit', '1', '--cursor', 'api'), io)).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual(['/api/v1/teams?limit=1&cursor=api']);
    expect(io.stdout.text).toMatch(/\n\nMore teams: pave teams list --limit 1 --cursor web\n$/);
  });
});

describe('pave login --username', () => {
  const loginServer = () =>
    fakeServer((request) =>
      request.url === '/api/v1/auth/login'
        ? {
            status: 200,
            body: { token: 'pave_session', expiresAt: '2025-01-31T21:30:00.000Z', username: 'alice' },
          }
        : {
            status: 200,
            body: {
              username: 'alice',
              token: { id: 'tok_1', name: 'login', expiresAt: '2025-01-31T21:30:00.000Z' },
            },
          },
    );

  it('exchanges the password from stdin for a token and saves it with the server', async () => {
    const server = await loginServer();
    const config = join(temporaryDir(), 'config.json');
    const io = fakeIo({ stdin: `${PASSWORD}\n`, env: { PAVE_CONFIG: config } });
    const args = ['node', 'pave', 'login', '--server', server.url, '--username', 'alice', '--password-stdin'];
    expect(await runCli(args, io)).toBe(0);
    expect(server.requests.map((request) => [request.url, request.body])).toEqual([
      ['/api/v1/auth/login', { username: 'alice', password: PASSWORD }],
      ['/api/v1/whoami', undefined],
    ]);
    expect(readConfig(config)).toEqual({ server: server.url, token: 'pave_session' });
    expect(io.stdout.text).toBe(`Logged in to ${server.url} as alice until 2025-01-31T21:30:00Z\n`);
  });

  it('asks for the password on a terminal', async () => {
    const server = await loginServer();
    const io = terminalIo([PASSWORD]);
    io.env = { PAVE_CONFIG: join(temporaryDir(), 'config.json') };
    expect(await runCli(['node', 'pave', 'login', '--server', server.url, '--username', 'alice'], io)).toBe(
      0,
    );
    expect(io.prompts).toEqual(['Password for alice: ']);
    expect(server.requests[0]?.body).toEqual({ username: 'alice', password: PASSWORD });
  });

  it('refuses a password login mixed with a token, and --password-stdin without --username (exit 2)', async () => {
    const server = await loginServer();
    const mixed = fakeIo({ stdin: PASSWORD });
    const args = [
      'node',
      'pave',
      'login',
      '--server',
      server.url,
      '--username',
      'alice',
      '--token',
      'pave_x',
    ];
    expect(await runCli(args, mixed)).toBe(2);
    expect(mixed.stderr.text).toBe(
      'pave: error: --username and --token/--token-stdin: log in with a password or with a token, not both\n',
    );
    const orphan = fakeIo({ stdin: PASSWORD });
    expect(await runCli(['node', 'pave', 'login', '--server', server.url, '--password-stdin'], orphan)).toBe(
      2,
    );
    expect(orphan.stderr.text).toContain('--password-stdin goes with --username NAME');
    const noTerminal = fakeIo({ stdinTTY: false });
    expect(
      await runCli(['node', 'pave', 'login', '--server', server.url, '--username', 'alice'], noTerminal),
    ).toBe(2);
    expect(noTerminal.stderr.text).toContain('pass --password-stdin');
    expect(server.requests).toEqual([]);
  });
});
