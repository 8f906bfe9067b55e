import { describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

// What a mistyped --server pointing at another JSON API answers, to every path, with 200.
const OTHER_API = { status: 200, body: { foo: 1 } };

const notPave = (url: string, request: string) =>
  `pave: error: the server at ${url} answered 200 to ${request} with something other than what Pave ` +
  'answers there; is it a Pave server? Check --server or PAVE_SERVER\n';

describe('-o json and -o yaml with a server that answers JSON that is not Pave’s', () => {
  it('refuse it as the table does, printing nothing on stdout for a script to take as Pave’s', async () => {
    const server = await fakeServer(() => OTHER_API);
    for (const format of ['json', 'yaml']) {
      for (const [args, request] of [
        [['apps', 'list'], 'GET /api/v1/apps'],
        [['apps', 'get', 'shop'], 'GET /api/v1/apps/shop'],
        [
          ['deployments', 'list', '--app', 'shop', '--env', 'dev'],
          'GET /api/v1/apps/shop/envs/dev/deployments',
        ],
        [['whoami'], 'GET /api/v1/whoami'],
      ] as const) {
        const io = fakeIo();
        const what = `${args.join(' ')} -o ${format}`;
        expect(await runCli(cliArgs(server.url, ...args, '-o', format), io), what).toBe(1);
        expect(io.stderr.text, what).toBe(notPave(server.url, request));
        expect(io.stdout.text, what).toBe('');
      }
    }
  });

  it('still print a Pave answer as it came', async () => {
    const page = { items: [], nextCursor: null };
    const server = await fakeServer(() => ({ status: 200, body: page }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'apps', 'list', '-o', 'json'), io)).toBe(0);
    expect(JSON.parse(io.stdout.text)).toEqual(page);
  });
});
