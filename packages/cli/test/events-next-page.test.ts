import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { EventPage } from '@pave/core';
import { runCli } from '../src/program.ts';
import { openFullApi } from '../../server/test/support/full-api.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

/* The next-page hint of `pave events` dropped the filters, so it listed every app's events. */
describe('pave events, a page that is not the last', () => {
  it('prints the command for the next page with the same filters and limit', async () => {
    const event = (id: number) => ({
      id: String(id),
      type: 'environment.created',
      time: '2026-12-07T10:00:00.000Z',
      app: 'shop',
      env: 'dev',
      actor: 'admin',
      data: { type: 'development', ttlSeconds: null },
    });
    const server = await fakeServer(() => ({
      status: 200,
      body: { items: [event(93), event(94)], nextAfter: '94' },
    }));
    const io = fakeIo();
    const args = ['events', '--app', 'shop', '--env', 'dev', '--type', 'environment.created', '--limit', '2'];
    expect(await runCli(cliArgs(server.url, ...args), io), io.stderr.text).toBe(0);
    expect(io.stdout.text).toContain(
      'More events: pave events --app shop --env dev --type environment.created --limit 2 --after 94',
    );
  });
});

/* `pave events --newest`: newest first, the next page before the page's oldest event, against a real API. */
describe('pave events --newest', () => {
  it('lists the newest first and names the command for older ones; --before and --after are checked', async () => {
    const api = await openFullApi('sqlite');
    try {
      expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
      for (const id of ['e1', 'e2', 'e3']) {
        const created = await api.call('POST', '/apps/shop/envs', { id, type: 'development' });
        expect(created.statusCode).toBe(201);
      }
      await api.app.listen({ port: 0, host: '127.0.0.1' });
      const server = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
      const pave = async (...args: string[]) => {
        const io = fakeIo();
        const code = await runCli(['node', 'pave', ...args, '--server', server, '--token', api.token], io);
        return { code, stdout: io.stdout.text, stderr: io.stderr.text };
      };
      const all = JSON.parse(
        (await pave('events', '--type', 'environment.created', '-o', 'json')).stdout,
      ) as EventPage;
      const ids = all.items.map((event) => event.id);
      expect(ids).toHaveLength(3);

      const first = await pave('events', '--newest', '--type', 'environment.created', '--limit', '2');
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toContain(
        `More events: pave events --type environment.created --limit 2 --newest --before ${ids[1]}`,
      );
      const page = JSON.parse(
        (await pave('events', '--newest', '--type', 'environment.created', '--limit', '2', '-o', 'json'))
          .stdout,
      ) as EventPage;
      expect(page.items.map((event) => event.id)).toEqual([ids[2], ids[1]]);
      const older = JSON.parse(
        (await pave('events', '--newest', '--before', ids[1]!, '--type', 'environment.created', '-o', 'json'))
          .stdout,
      ) as EventPage;
      expect(older).toMatchObject({ items: [{ id: ids[0] }], nextBefore: null });

      expect(await pave('events', '--before', '5')).toMatchObject({
        code: 2,
        stderr: 'pave: error: --before goes with --newest (newest first); add --newest\n',
      });
      expect(await pave('events', '--newest', '--after', '5')).toMatchObject({
        code: 2,
        stderr: 'pave: error: --after lists oldest first; with --newest continue with --before ID\n',
      });
    } finally {
      await api.cleanup();
    }
  });
});
