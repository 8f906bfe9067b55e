import { describe, expect, it } from 'vitest';
import type { CanIResult, RoleGrant, TokenInfo, WhoAmI } from '@pave/core';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

const grant = (fields: Partial<RoleGrant> = {}): RoleGrant => ({
  role: 'developer',
  scope: { kind: 'app', id: 'shop' },
  subject: { kind: 'team', name: 'web' },
  createdBy: 'admin',
  createdAt: '2025-01-31T09:30:00.000Z',
  ...fields,
});

const OFFLINE = 'http://127.0.0.1:9';

describe('pave roles grant|revoke', () => {
  it('grants a role with the flags as the request body and says what was granted', async () => {
    const server = await fakeServer(() => ({ status: 201, body: grant() }));
    const io = fakeIo();
    expect(
      await runCli(cliArgs(server.url, 'roles', 'grant', 'developer', '--team', 'web', '--app', 'shop'), io),
    ).toBe(0);
    expect(server.requests).toEqual([
      { method: 'POST', url: '/api/v1/roles', body: { role: 'developer', team: 'web', app: 'shop' } },
    ]);
    expect(io.stdout.text).toBe('Granted developer on app shop to team web\n');
  });

  it('prints the grant as the API returned it with -o json', async () => {
    const deployer = grant({
      role: 'deployer',
      scope: { kind: 'env-type', id: 'production' },
      subject: { kind: 'user', name: 'alice' },
    });
    const server = await fakeServer(() => ({ status: 201, body: deployer }));
    const io = fakeIo();
    const args = ['roles', 'grant', 'deployer', '--user', 'alice', '--env-type', 'production', '-o', 'json'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(0);
    expect(server.requests[0]?.body).toEqual({ role: 'deployer', user: 'alice', envType: 'production' });
    expect(JSON.parse(io.stdout.text)).toEqual(deployer);
  });

  it('grants an organisation role with neither --app nor --env-type', async () => {
    const server = await fakeServer(() => ({
      status: 201,
      body: grant({ role: 'platform', scope: { kind: 'org' }, subject: { kind: 'team', name: 'infra' } }),
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'roles', 'grant', 'platform', '--team', 'infra'), io)).toBe(0);
    expect(server.requests[0]?.body).toEqual({ role: 'platform', team: 'infra' });
    expect(io.stdout.text).toBe('Granted platform on the organisation to team infra\n');
  });

  it('revokes with the same flags and confirms in one line (nothing with -o json)', async () => {
    const server = await fakeServer(() => ({ status: 204 }));
    const io = fakeIo();
    const args = ['roles', 'revoke', 'deployer', '--user', 'alice', '--env-type', 'production'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(0);
    expect(server.requests).toEqual([
      {
        method: 'POST',
        url: '/api/v1/roles/revoke',
        body: { role: 'deployer', user: 'alice', envType: 'production' },
      },
    ]);
    expect(io.stdout.text).toBe('Revoked deployer on environment type production from user alice\n');
    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, ...args, '-o', 'json'), json)).toBe(0);
    expect(json.stdout.text).toBe('');
  });

  it.each([
    [
      ['grant', 'dev', '--user', 'alice', '--app', 'shop'],
      '"dev" is not a role; use an organisation role (admin, platform, member), an app role with --app ' +
        '(owner, developer, viewer) or an environment-type role with --env-type (deployer, approver)',
    ],
    [['grant', 'viewer', '--app', 'shop'], 'say who gets the role: add --user USER or --team TEAM'],
    [['revoke', 'viewer', '--app', 'shop'], 'say who loses the role: add --user USER or --team TEAM'],
    [
      ['grant', 'viewer', '--user', 'alice', '--team', 'web', '--app', 'shop'],
      '--user and --team: grant a role to one of them at a time',
    ],
    [
      ['grant', 'admin', '--user', 'alice', '--app', 'shop'],
      '--app: admin is an organisation role, held everywhere; drop --app and --env-type',
    ],
    [
      ['revoke', 'member', '--team', 'web', '--env-type', 'production'],
      '--env-type: member is an organisation role, held everywhere; drop --app and --env-type',
    ],
    [['grant', 'owner', '--user', 'alice'], 'owner is an app role: name the app with --app APP'],
    [
      ['grant', 'viewer', '--user', 'alice', '--app', 'shop', '--env-type', 'production'],
      '--env-type: viewer is an app role, held on --app only; drop --env-type',
    ],
    [
      ['grant', 'deployer', '--user', 'alice'],
      'deployer is an environment-type role: name the type with --env-type TYPE',
    ],
    [
      ['grant', 'deployer', '--user', 'alice', '--app', 'shop', '--env-type', 'production'],
      '--app: deployer is an environment-type role, held on --env-type only; drop --app',
    ],
  ])('refuses `pave roles %j` as a usage error (exit 2) before any request', async (args, message) => {
    const io = fakeIo();
    expect(await runCli(cliArgs(OFFLINE, 'roles', ...args), io)).toBe(2);
    expect(io.stderr.text).toBe(`pave: error: ${message}\n`);
    expect(io.stdout.text).toBe('');
  });

  it.each([
    ['roles', 'grant', '--help'],
    ['roles', 'revoke', '--help'],
    ['roles', 'help', 'grant'],
  ])('lists the roles and where each is held in `pave %s %s %s`', async (...args) => {
    const io = fakeIo();
    expect(await runCli(['node', 'pave', ...args], io)).toBe(0);
    expect(io.stdout.text).toContain(
      [
        'Roles:',
        '  organisation (no --app, no --env-type)  admin, platform, member',
        '  app (--app APP)                         owner, developer, viewer',
        '  environment type (--env-type TYPE)      deployer',
      ].join('\n'),
    );
    expect(io.stdout.text).toMatch(/Examples:\n\s+\$ pave roles (grant|revoke) /);
  });
});

describe('pave roles list', () => {
  it('shows ROLE, SCOPE, SUBJECT, GRANTED BY, GRANTED AT', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: {
        items: [
          grant(),
          grant({ role: 'admin', scope: { kind: 'org' }, subject: { kind: 'user', name: 'alice' } }),
          grant({
            role: 'deployer',
            scope: { kind: 'env-type', id: 'production' },
            subject: { kind: 'user', name: 'bob' },
            createdBy: 'alice',
          }),
        ],
      },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'roles', 'list'), io)).toBe(0);
    expect(server.requests[0]?.url).toBe('/api/v1/roles');
    expect(io.stdout.text).toBe(
      [
        'ROLE       SCOPE                SUBJECT     GRANTED BY  GRANTED AT',
        'developer  app shop             team web    admin       2025-01-31T09:30:00Z',
        'admin      org                  user alice  admin       2025-01-31T09:30:00Z',
        'deployer   env-type production  user bob    alice       2025-01-31T09:30:00Z',
        '',
      ].join('\n'),
    );
  });

  it('filters by --app and --user, says so when there is nothing, and prints JSON unchanged', async () => {
    const server = await fakeServer(() => ({ status: 200, body: { items: [] } }));
    const app = fakeIo();
    expect(await runCli(cliArgs(server.url, 'roles', 'list', '--app', 'shop'), app)).toBe(0);
    expect(app.stdout.text).toBe(
      'No roles granted on app shop. Grant one with `pave roles grant developer --user USER --app shop`.\n',
    );
    const user = fakeIo();
    expect(await runCli(cliArgs(server.url, 'roles', 'list', '--user', 'alice', '-o', 'json'), user)).toBe(0);
    expect(JSON.parse(user.stdout.text)).toEqual({ items: [] });
    expect(server.requests.map((request) => request.url)).toEqual([
      '/api/v1/roles?app=shop',
      '/api/v1/roles?user=alice',
    ]);
  });

  it('asks for the page it is given and prints how to get the next one, with the same filters', async () => {
    const server = await fakeServer(() => ({ status: 200, body: { items: [grant()], nextCursor: '42' } }));
    const io = fakeIo();
    const args = ['roles', 'list', '--app', 'shop', '--limit', '1', '--cursor', '7'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual([
      '/api/v1/roles?app=shop&limit=1&cursor=7',
    ]);
    expect(io.stdout.text).toMatch(/\n\nMore grants: pave roles list --app shop --limit 1 --cursor 42\n$/);
    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, 'roles', 'list', '-o', 'json'), json)).toBe(0);
    expect(JSON.parse(json.stdout.text)).toEqual({ items: [grant()], nextCursor: '42' });
    const bad = fakeIo();
    expect(await runCli(cliArgs(server.url, 'roles', 'list', '--limit', '0'), bad)).toBe(2);
    expect(bad.stderr.text).toBe(
      'pave: error: --limit: "0" is not a number of grants; use a whole number from 1 to 500\n',
    );
  });
});

describe('pave auth can-i', () => {
  function canIServer(answer: Partial<CanIResult>) {
    return fakeServer(() => ({
      status: 200,
      body: { allowed: true, reason: 'allowed', action: 'app.read', as: 'alice', ...answer },
    }));
  }

  it('prints `yes — reason` and exits 0 when allowed, sending the action and flags', async () => {
    const server = await canIServer({ allowed: true, reason: 'allowed by developer on app shop' });
    const io = fakeIo();
    const args = ['auth', 'can-i', 'deployment.create', '--app', 'shop', '--env', 'dev', '--as', 'bob'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(0);
    expect(server.requests[0]?.url).toBe(
      '/api/v1/auth/can-i?action=deployment.create&app=shop&env=dev&as=bob',
    );
    expect(io.stdout.text).toBe('yes — allowed by developer on app shop\n');
    expect(io.stderr.text).toBe('');
  });

  it('prints `no — reason` and exits 1 with nothing on stderr when refused', async () => {
    const reason =
      'deployment.create on a production environment needs deployer on environment type production ' +
      'besides developer on app shop';
    const server = await canIServer({ allowed: false, reason });
    const io = fakeIo();
    const args = ['auth', 'can-i', 'deployment.create', '--app', 'shop', '--env', 'prod'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(1);
    expect(io.stdout.text).toBe(`no — ${reason}\n`);
    expect(io.stderr.text).toBe('');
  });

  it('prints the JSON answer with -o json, and still exits 0 or 1', async () => {
    const body: CanIResult = { allowed: false, reason: 'no role', action: 'app.read', as: 'alice' };
    const refused = await fakeServer(() => ({ status: 200, body }));
    const no = fakeIo();
    expect(
      await runCli(cliArgs(refused.url, 'auth', 'can-i', 'app.read', '--app', 'x', '-o', 'json'), no),
    ).toBe(1);
    expect(JSON.parse(no.stdout.text)).toEqual(body);
    expect(no.stderr.text).toBe('');
    const allowed = await fakeServer(() => ({ status: 200, body: { ...body, allowed: true } }));
    const yes = fakeIo();
    expect(await runCli(cliArgs(allowed.url, 'auth', 'can-i', 'app.list', '-o', 'json'), yes)).toBe(0);
    expect(JSON.parse(yes.stdout.text)).toEqual({ ...body, allowed: true });
  });

  it('colours the answer only when colour is on, and never with NO_COLOR', async () => {
    const server = await canIServer({ allowed: false, reason: 'no role' });
    const tty = fakeIo({ tty: true });
    await runCli(cliArgs(server.url, 'auth', 'can-i', 'app.read', '--app', 'shop'), tty);
    expect(tty.stdout.text).toBe('\u001b[31mno\u001b[39m — no role\n');
    const noColor = fakeIo({ tty: true, env: { NO_COLOR: '1' } });
    await runCli(cliArgs(server.url, 'auth', 'can-i', 'app.read', '--app', 'shop'), noColor);
    expect(noColor.stdout.text).toBe('no — no role\n');
  });

  it('refuses an unknown action and --env without --app as usage errors, before any request', async () => {
    const typo = fakeIo();
    expect(await runCli(cliArgs(OFFLINE, 'auth', 'can-i', 'deployment', '--app', 'shop'), typo)).toBe(2);
    expect(typo.stderr.text).toBe(
      'pave: error: "deployment" is not an action; did you mean deployment.read, deployment.create, ' +
        'deployment.rollback, deployment.approve? (`pave auth can-i --help` lists them all)\n',
    );
    const unknown = fakeIo();
    expect(await runCli(cliArgs(OFFLINE, 'auth', 'can-i', 'fly'), unknown)).toBe(2);
    expect(unknown.stderr.text).toBe(
      'pave: error: "fly" is not an action; `pave auth can-i --help` lists them all\n',
    );
    const env = fakeIo();
    expect(await runCli(cliArgs(OFFLINE, 'auth', 'can-i', 'env.read', '--env', 'dev'), env)).toBe(2);
    expect(env.stderr.text).toBe('pave: error: --env names an environment of an app; add --app APP\n');
  });

  it('lists every action with what it allows in `--help`', async () => {
    const io = fakeIo();
    expect(await runCli(['node', 'pave', 'auth', 'can-i', '--help'], io)).toBe(0);
    expect(io.stdout.text).toMatch(/\nActions:\n {2}app\.list +list the apps the caller has a role on/);
    expect(io.stdout.text).toMatch(/\n {2}deployment\.create +deploy, promote into an environment/);
    expect(io.stdout.text).toMatch(/\n {2}key\.rotate +rotate the master key\n/);
    expect(io.stdout.text).toMatch(/Examples:\n\s+\$ pave auth can-i /);
  });
});

describe('pave tokens with scopes', () => {
  const token = (fields: Partial<TokenInfo> = {}): TokenInfo => ({
    id: 'tok_1',
    name: 'ci',
    username: 'alice',
    scope: 'app:shop:viewer',
    prefix: 'pave_ab',
    createdAt: '2025-01-31T09:30:00.000Z',
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    ...fields,
  });

  it('sends --scope when creating a token and names it in the result', async () => {
    const server = await fakeServer(() => ({ status: 201, body: { ...token(), token: 'pave_secret' } }));
    const io = fakeIo();
    expect(
      await runCli(cliArgs(server.url, 'tokens', 'create', 'ci', '--scope', 'app:shop:viewer'), io),
    ).toBe(0);
    expect(server.requests[0]?.body).toEqual({ name: 'ci', scope: 'app:shop:viewer' });
    expect(io.stdout.text.split('\n')[0]).toBe(
      'Created token ci (id tok_1, scope app:shop:viewer, expires never):',
    );
  });

  it.each(['app:shop', 'app:shop:deployer', 'org:viewer', 'shop:viewer'])(
    'refuses --scope %s as a usage error naming the format, before any request',
    async (scope) => {
      const io = fakeIo();
      expect(await runCli(cliArgs(OFFLINE, 'tokens', 'create', 'ci', '--scope', scope), io)).toBe(2);
      expect(io.stderr.text).toBe(
        `pave: error: --scope: "${scope}" is not a token scope; write it as app:<app>:<owner|developer|viewer> ` +
          'or org:<role>, e.g. app:shop:viewer\n',
      );
    },
  );

  it('lists the scope of each token, - for an unscoped one', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: { items: [token(), token({ id: 'tok_2', name: 'laptop', scope: null })] },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'tokens', 'list'), io)).toBe(0);
    const lines = io.stdout.text.split('\n').map((line) => line.slice(0, 39));
    expect(lines.slice(0, 3)).toEqual([
      'ID     NAME    USER   SCOPE            ',
      'tok_1  ci      alice  app:shop:viewer  ',
      'tok_2  laptop  alice  -                ',
    ]);
  });

  it('lists tokens a page at a time and prints how to get the next page', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: { items: [token()], nextCursor: 'WyJ4Il0' },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'tokens', 'list', '--limit', '1', '--cursor', 'abc'), io)).toBe(
      0,
    );
    expect(server.requests.map((request) => request.url)).toEqual(['/api/v1/tokens?limit=1&cursor=abc']);
    expect(io.stdout.text).toMatch(/\n\nMore tokens: pave tokens list --limit 1 --cursor WyJ4Il0\n$/);
  });
});

describe('pave whoami', () => {
  const identity = (fields: Partial<WhoAmI> = {}): WhoAmI => ({
    username: 'alice',
    kind: 'user',
    hasPassword: true,
    token: {
      id: 'tok_1',
      name: 'ci',
      expiresAt: null,
      scope: { role: 'viewer', scope: { kind: 'app', id: 'shop' }, via: 'token scope app:shop:viewer' },
    },
    grants: [
      { role: 'member', scope: { kind: 'org' }, via: 'user' },
      { role: 'developer', scope: { kind: 'app', id: 'shop' }, via: 'team:web' },
      { role: 'deployer', scope: { kind: 'env-type', id: 'production' }, via: 'user' },
    ],
    ...fields,
  });

  it('shows the token scope and every role held, one a line', async () => {
    const server = await fakeServer(() => ({ status: 200, body: identity() }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'whoami'), io)).toBe(0);
    expect(io.stdout.text).toBe(
      [
        'USER         alice',
        'ACCOUNT      a person, signing in with a password',
        'TOKEN        ci',
        'TOKEN ID     tok_1',
        'TOKEN SCOPE  only viewer on app shop',
        'EXPIRES AT   never',
        `SERVER       ${server.url}`,
        '',
        'Roles:',
        '  member on the organisation',
        '  developer on app shop (via team:web)',
        '  deployer on environment type production',
        '',
      ].join('\n'),
    );
  });

  it('says when the token is unscoped and no role is held, and prints JSON with the server it asked', async () => {
    const body = identity({ token: { ...identity().token, scope: null }, grants: [] });
    const server = await fakeServer(() => ({ status: 200, body }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'whoami'), io)).toBe(0);
    expect(io.stdout.text).toContain('TOKEN SCOPE  none: all your roles apply\n');
    for (const [account, shown] of [
      [{ kind: 'service', hasPassword: false }, 'a service account: tokens only'],
      [{ kind: 'user', hasPassword: false }, 'a person without a password (SSO, or none set yet)'],
    ] as const) {
      const other = await fakeServer(() => ({ status: 200, body: identity(account) }));
      const out = fakeIo();
      expect(await runCli(cliArgs(other.url, 'whoami'), out)).toBe(0);
      expect(out.stdout.text).toContain(`ACCOUNT      ${shown}\n`);
    }
    expect(io.stdout.text).toMatch(/\n\nRoles: none \(an admin grants them with `pave roles grant`\)\n$/);
    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, 'whoami', '-o', 'json'), json)).toBe(0);
    expect(JSON.parse(json.stdout.text)).toEqual({ ...body, server: server.url });
  });
});
