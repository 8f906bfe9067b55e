import { describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
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
