import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { openFullApi, type FullApi } from '../../server/test/support/full-api.ts';
import { fakeIo } from './helpers.ts';

/*
 * Found by review: `pave users create bot2 --service; pave tokens create bt --user bot2` made a token that
 * `pave tokens list` did not show and `pave tokens revoke` refused ("no such token of yours"): a leaked CI token
 * could be stopped only by deleting its account. Admins now list it with `--user` and revoke it by id.
 */
describe("pave tokens list --user and revoke of another user's token, against a real server", () => {
  let api: FullApi;
  let server: string;
  let alice: string;

  beforeAll(async () => {
    api = await openFullApi('sqlite');
    for (const username of ['bot2', 'bot3']) {
      const created = await api.call('POST', '/users', { username, kind: 'service' });
      expect(created.statusCode, created.body).toBe(201);
    }
    alice = await api.createUser('alice');
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  async function pave(token: string, ...args: string[]) {
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    const code = await runCli(['node', 'pave', ...args, '--server', server, '--token', token], io);
    return { code, stdout: io.stdout.text, stderr: io.stderr.text };
  }

  it('lists, as an admin, the tokens made for a service account, and revokes one: it stops working', async () => {
    const created = await pave(api.token, 'tokens', 'create', 'bt', '--user', 'bot2', '-o', 'json');
    expect(created.code, created.stderr).toBe(0);
    const { id, token, prefix } = JSON.parse(created.stdout) as { id: string; token: string; prefix: string };

    const listed = await pave(api.token, 'tokens', 'list', '--user', 'bot2', '-o', 'json');
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({
      items: [{ id, name: 'bt', username: 'bot2', prefix, revokedAt: null }],
    });
    expect(listed.stdout).not.toContain(token);
    const table = await pave(api.token, 'tokens', 'list', '--user', 'bot2');
    expect(table.stdout).toMatch(new RegExp(`^${id} +bt +bot2 +- +${prefix} +active `, 'm'));

    // The default stays the caller's own tokens.
    const own = await pave(api.token, 'tokens', 'list', '-o', 'json');
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout).not.toContain(id);

    const revoked = await pave(api.token, 'tokens', 'revoke', id);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toBe(`Revoked token ${id}\n`);
    expect((await api.callAs(token, 'GET', '/whoami')).statusCode).toBe(401);
    const after = await pave(api.token, 'tokens', 'list', '--user', 'bot2');
    expect(after.stdout).toMatch(new RegExp(`^${id} +bt +bot2 +- +${prefix} +revoked `, 'm'));
  });

  it('keeps --user in the command for the next page, and says so when the user has no tokens', async () => {
    for (const name of ['one', 'two']) {
      expect((await pave(api.token, 'tokens', 'create', name, '--user', 'bot3')).code).toBe(0);
    }
    const page = await pave(api.token, 'tokens', 'list', '--user', 'bot3', '--limit', '1');
    expect(page.code, page.stderr).toBe(0);
    expect(page.stdout).toMatch(/\n\nMore tokens: pave tokens list --user bot3 --limit 1 --cursor \S+\n$/);

    const created = await api.call('POST', '/users', { username: 'bot4', kind: 'service' });
    expect(created.statusCode, created.body).toBe(201);
    const empty = await pave(api.token, 'tokens', 'list', '--user', 'bot4');
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toBe(
      'No tokens of bot4 yet. Create one with `pave tokens create NAME --user bot4`.\n',
    );
  });

  it('refuses a non-admin asking for another user, naming user.write', async () => {
    const refused = await pave(alice, 'tokens', 'list', '--user', 'bot2');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('user.write');
    expect(refused.stdout).toBe('');
  });

  it('names --user for a user that does not exist', async () => {
    const missing = await pave(api.token, 'tokens', 'list', '--user', 'nobody');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('user "nobody" not found');
    expect(missing.stderr).toContain('\n  - --user "nobody": ');
  });
});
