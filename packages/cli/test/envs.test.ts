import { describe, expect, it } from 'vitest';
import type { Environment } from '@pave/core';
import { runCli } from '../src/program.ts';
import { cliArgs, deployment, deploymentDetail, fakeIo, fakeServer } from './helpers.ts';

const environment = (fields: Partial<Environment> = {}): Environment => ({
  appId: 'shop',
  id: 'pr-42',
  type: 'development',
  createdBy: 'alice',
  createdAt: '2025-01-31T09:30:00.000Z',
  expiresAt: null,
  ...fields,
});

const QUESTION =
  'Delete environment pr-42 of shop, its workloads and its resources (databases are dropped)? [y/N] ';

describe('pave envs delete', () => {
  async function deleteServer() {
    return fakeServer(() => ({ status: 204 }));
  }

  it('refuses without --yes when stdin is not a terminal, before sending anything (exit 2)', async () => {
    const server = await deleteServer();
    const io = fakeIo({ stdinTTY: false });
    expect(await runCli(cliArgs(server.url, 'envs', 'delete', 'pr-42', '--app', 'shop'), io)).toBe(2);
    expect(io.stderr.text).toBe(
      'pave: error: refusing to delete environment pr-42 of app shop and its resources without ' +
        'confirmation: stdin is not a terminal, so pave cannot ask; pass --yes to go ahead\n',
    );
    expect(io.questions).toEqual([]);
    expect(server.requests).toEqual([]);
  });

  it('deletes without asking with --yes (or --force, as before)', async () => {
    const server = await deleteServer();
    const forced = fakeIo({ stdinTTY: false });
    expect(
      await runCli(cliArgs(server.url, 'envs', 'delete', 'pr-41', '--app', 'shop', '--force'), forced),
    ).toBe(0);
    server.requests.length = 0;
    const io = fakeIo({ stdinTTY: true });
    expect(await runCli(cliArgs(server.url, 'envs', 'delete', 'pr-42', '--app', 'shop', '--yes'), io)).toBe(
      0,
    );
    expect(io.questions).toEqual([]);
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'DELETE /api/v1/apps/shop/envs/pr-42',
    ]);
    expect(io.stdout.text).toBe('Deleted environment pr-42 of app shop, its workloads and its resources\n');
  });

  it('asks on a terminal and deletes only on yes', async () => {
    const server = await deleteServer();
    for (const answer of ['', 'n', 'no', 'whatever']) {
      const io = fakeIo({ stdinTTY: true, answers: [answer] });
      expect(await runCli(cliArgs(server.url, 'envs', 'delete', 'pr-42', '--app', 'shop'), io), answer).toBe(
        1,
      );
      expect(io.questions).toEqual([QUESTION]);
      expect(io.stderr.text).toBe(
        'pave: error: cancelled: did not delete environment pr-42 of app shop and its resources\n',
      );
    }
    expect(server.requests).toEqual([]);
    for (const answer of ['y', 'YES', ' yes ']) {
      const io = fakeIo({ stdinTTY: true, answers: [answer] });
      expect(await runCli(cliArgs(server.url, 'envs', 'delete', 'pr-42', '--app', 'shop'), io), answer).toBe(
        0,
      );
    }
    expect(server.requests).toHaveLength(3);
  });
});

describe('pave envs create|extend|list', () => {
  it('sends --with-data and --ttl (as seconds) and says when the environment expires', async () => {
    const server = await fakeServer((request) =>
      request.method === 'GET'
        ? { status: 200, body: { items: [], nextCursor: null } }
        : { status: 201, body: environment({ expiresAt: '2025-02-02T09:30:00.000Z' }) },
    );
    const io = fakeIo();
    const args = ['envs', 'create', 'pr-42', '--app', 'shop', '--type', 'development'];
    expect(
      await runCli(cliArgs(server.url, ...args, '--from', 'staging', '--with-data', '--ttl', '48h'), io),
    ).toBe(0);
    expect(server.requests[0]?.body).toEqual({
      id: 'pr-42',
      type: 'development',
      from: 'staging',
      withData: true,
      ttlSeconds: 172_800,
    });
    expect(io.stdout.text).toBe(
      'Created environment pr-42 (type development) in app shop, starting with the current set of staging ' +
        'and a copy of its data; it expires at 2025-02-02T09:30:00Z and is deleted then\n',
    );
  });

  it('says when a clone’s first deployment awaits approval, and how to approve it', async () => {
    const server = await fakeServer((request) =>
      request.method === 'GET'
        ? {
            status: 200,
            body: {
              items: [
                deployment({
                  id: '31',
                  envId: 'prod3',
                  kind: 'clone',
                  status: 'awaiting-approval',
                  source: { envId: 'staging' },
                }),
              ],
              nextCursor: null,
            },
          }
        : { status: 201, body: environment({ id: 'prod3', type: 'production' }) },
    );
    const io = fakeIo();
    const args = ['envs', 'create', 'prod3', '--app', 'shop', '--type', 'production', '--from', 'staging'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(0);
    expect(io.stdout.text).toBe(
      'Created environment prod3 (type production) in app shop, starting with the current set of staging\n' +
        'Deployment 31 of shop/prod3 awaits approval by someone else (`pave approvals approve 31`) ' +
        '(clone from staging)\n',
    );
  });

  it('refuses --with-data without --from and a bad --ttl as usage errors', async () => {
    const server = await fakeServer(() => ({ status: 500, body: {} }));
    const args = ['envs', 'create', 'pr-42', '--app', 'shop', '--type', 'development'];
    const withData = fakeIo();
    expect(await runCli(cliArgs(server.url, ...args, '--with-data'), withData)).toBe(2);
    expect(withData.stderr.text).toContain('--with-data copies the data of the --from environment');
    const ttl = fakeIo();
    expect(await runCli(cliArgs(server.url, ...args, '--ttl', '2 days'), ttl)).toBe(2);
    expect(ttl.stderr.text).toMatch(/^pave: error: --ttl: "2 days" is not a duration/);
    expect(server.requests).toEqual([]);
  });

  it('extends an environment by --ttl from now', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: environment({ expiresAt: '2025-02-01T09:30:00.000Z' }),
    }));
    const io = fakeIo();
    expect(
      await runCli(cliArgs(server.url, 'envs', 'extend', 'pr-42', '--app', 'shop', '--ttl', '24h'), io),
    ).toBe(0);
    expect(server.requests.map((request) => [request.method, request.url, request.body])).toEqual([
      ['GET', '/api/v1/apps/shop/envs/pr-42', undefined],
      ['POST', '/api/v1/apps/shop/envs/pr-42/extend', { ttlSeconds: 86_400 }],
    ]);
    expect(io.stdout.text).toBe(
      'Environment pr-42 of app shop now expires at 2025-02-01T09:30:00Z (24h from now); it and its resources are deleted then\n',
    );
  });

  // Found by review: `extend prod --ttl 1s` made a production environment ephemeral, deleted a second later.
  it('asks before giving a time to live to an environment that never expires, and needs --yes without a terminal', async () => {
    const server = await fakeServer((request) => ({
      status: 200,
      body: environment(request.method === 'GET' ? {} : { expiresAt: '2025-02-01T09:30:00.000Z' }),
    }));
    const args = cliArgs(server.url, 'envs', 'extend', 'pr-42', '--app', 'shop', '--ttl', '1s');
    const script = fakeIo({ stdinTTY: false });
    expect(await runCli(args, script)).toBe(2);
    expect(script.stderr.text).toBe(
      'pave: error: refusing to make environment pr-42 of app shop, which never expires, ephemeral without ' +
        'confirmation: stdin is not a terminal, so pave cannot ask; pass --yes to go ahead\n',
    );
    const declined = fakeIo({ stdinTTY: true, answers: ['n'] });
    expect(await runCli(args, declined)).toBe(1);
    expect(declined.questions).toEqual([
      'Environment pr-42 of shop never expires. Delete it and its resources in 1s (databases are dropped)? [y/N] ',
    ]);
    expect(server.requests.filter((request) => request.method === 'POST')).toEqual([]);
    const confirmed = fakeIo({ stdinTTY: false });
    expect(await runCli([...args, '--yes'], confirmed)).toBe(0);
    expect(server.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
    const forced = fakeIo({ stdinTTY: false });
    expect(await runCli([...args, '--force'], forced)).toBe(0);
  });

  it('lists environments with when each expires', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: { items: [environment({ id: 'dev' }), environment({ expiresAt: '2025-02-01T09:30:00.000Z' })] },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'envs', 'list', '--app', 'shop'), io)).toBe(0);
    expect(io.stdout.text).toBe(
      [
        'ID     TYPE         CREATED BY  CREATED AT            EXPIRES',
        'dev    development  alice       2025-01-31T09:30:00Z  never',
        'pr-42  development  alice       2025-01-31T09:30:00Z  2025-02-01T09:30:00Z',
        '',
      ].join('\n'),
    );
  });

  it('asks for the page it is given and prints how to get the next one', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: { items: [environment({ id: 'pr-1' }), environment({ id: 'pr-2' })], nextCursor: 'pr-2' },
    }));
    const io = fakeIo();
    expect(
      await runCli(
        cliArgs(server.url, 'envs', 'list', '--app', 'shop', '--limit', '2', '--cursor', 'dev'),
        io,
      ),
    ).toBe(0);
    expect(server.requests.map((request) => request.url)).toEqual([
      '/api/v1/apps/shop/envs?limit=2&cursor=dev',
    ]);
    expect(io.stdout.text).toContain('pr-1');
    expect(io.stdout.text).toMatch(
      /\n\nMore environments: pave envs list --app shop --limit 2 --cursor pr-2\n$/,
    );
  });

  it('prints no next-page hint on the last page, the page as it is with -o json, and refuses a bad --limit', async () => {
    const page = { items: [environment()], nextCursor: null };
    const server = await fakeServer(() => ({ status: 200, body: page }));
    const table = fakeIo();
    expect(await runCli(cliArgs(server.url, 'envs', 'list', '--app', 'shop'), table)).toBe(0);
    expect(table.stdout.text).not.toContain('More environments');
    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, 'envs', 'list', '--app', 'shop', '-o', 'json'), json)).toBe(0);
    expect(JSON.parse(json.stdout.text)).toEqual(page);
    const bad = fakeIo();
    expect(await runCli(cliArgs(server.url, 'envs', 'list', '--app', 'shop', '--limit', '0'), bad)).toBe(2);
    expect(bad.stderr.text).toContain('--limit: "0" is not a number of environments');
    expect(server.requests).toHaveLength(2);
  });
});

// Found by a review of the CLI: a clone into a type that needs approval waited forever, and --wait-timeout was
// an unknown option (deploy, rollback, promote and values --deploy have it).
describe('pave envs create --from --wait --wait-timeout', () => {
  it('stops waiting for a clone that awaits approval after that long, exit 4', async () => {
    const server = await fakeServer((request) => {
      if (request.method === 'POST')
        return { status: 201, body: environment({ id: 'prod-eu', type: 'production' }) };
      const clone = deploymentDetail({
        id: '3',
        envId: 'prod-eu',
        kind: 'clone',
        status: 'awaiting-approval',
        startedAt: null,
        setId: null,
        workloads: null,
      });
      if (request.url.includes('/deployments/')) return { status: 200, body: clone };
      return { status: 200, body: { items: [clone], nextCursor: null } };
    });
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    const args = ['envs', 'create', 'prod-eu', '--app', 'shop', '--type', 'production', '--from', 'prod'];
    expect(await runCli(cliArgs(server.url, ...args, '--wait', '--wait-timeout', '1s'), io)).toBe(4);
    expect(io.stderr.text).toMatch(/stopped waiting for deployment 3 after [\d.]+s \(--wait-timeout\)/u);
    // Without --wait it is a usage error, before anything is sent.
    const before = server.requests.length;
    const usage = fakeIo();
    expect(await runCli(cliArgs(server.url, ...args, '--wait-timeout', '1s'), usage)).toBe(2);
    expect(usage.stderr.text).toContain('--wait-timeout goes with --wait');
    expect(server.requests).toHaveLength(before);
  });
});
