import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { runCli } from '../../cli/src/program.ts';
import { fakeIo, temporaryDir } from '../../cli/test/helpers.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Found by a review of bad input: criteria that would tie when matching were refused at
 * `/definitions/<id>/criteria/<n>`, a path that is not in the request (a definition's id where its position
 * belongs), so the CLI could not show the file's line; runtime targets were called "definition" there too.
 */

const definition = (id: string, criteria: object[]) => ({
  id,
  type: 'tiedb',
  driver: 'static',
  driverInputs: { values: {} },
  criteria,
});
const target = (id: string, criteria: object[]) => ({ id, type: 'process', criteria });

describe.each(storeEngines)('criteria that would tie, on %s', (engine) => {
  let api: FullApi;
  beforeAll(async () => {
    api = await openFullApi(engine);
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it("points at the later definition's criterion by its position in the request", async () => {
    const response = await api.call('POST', '/resource-definitions/apply', {
      dryRun: true,
      definitions: [
        definition('fzd1', [{ envType: 'production' }]),
        definition('fzd2', [{ envType: 'production' }]),
      ],
    });
    expect(response.statusCode, response.body).toBe(409);
    expect(response.json().errors).toEqual([
      {
        path: '/definitions/1/criteria/0',
        message:
          'criterion 0 of definition fzd2 is the same as criterion 0 of definition fzd1 (type tiedb), so ' +
          'neither would be more specific and the match would be ambiguous; add a field such as envId or ' +
          'class to one of them, or delete one',
      },
    ]);
  });

  it('points into the request, naming by id a stored definition it ties with', async () => {
    const stored = await api.call('POST', '/resource-definitions/apply', {
      definitions: [definition('stored-db', [{ envType: 'development' }])],
    });
    expect(stored.statusCode, stored.body).toBe(200);
    const response = await api.call('POST', '/resource-definitions/apply', {
      dryRun: true,
      definitions: [
        definition('other-db', [{ envId: 'dev' }]),
        definition('new-db', [{ envType: 'development' }]),
      ],
    });
    expect(response.statusCode, response.body).toBe(409);
    expect(response.json().errors).toEqual([
      {
        path: '/definitions/1/criteria/0',
        message: expect.stringMatching(
          /^criterion 0 of definition new-db is the same as criterion 0 of the stored definition stored-db /u,
        ),
      },
    ]);
  });

  it('points at a definition of the request that replaces a stored one, by its position', async () => {
    const stored = await api.call('POST', '/resource-definitions/apply', {
      definitions: [
        definition('first-db', [{ appId: 'shop' }]),
        definition('second-db', [{ appId: 'blog' }]),
      ],
    });
    expect(stored.statusCode, stored.body).toBe(200);
    // Both are stored; the request changes the first to tie with the second, which it does not send.
    const response = await api.call('POST', '/resource-definitions/apply', {
      dryRun: true,
      definitions: [
        definition('unrelated-db', [{ envId: 'x' }]),
        definition('first-db', [{ appId: 'blog' }]),
      ],
    });
    expect(response.statusCode, response.body).toBe(409);
    expect(response.json().errors).toEqual([
      {
        path: '/definitions/1/criteria/0',
        message: expect.stringMatching(
          /^criterion 0 of definition first-db is the same as criterion 0 of the stored definition second-db /u,
        ),
      },
    ]);
  });

  it('points at the later runtime target by its position, calling it a runtime target', async () => {
    const response = await api.call('POST', '/runtime-targets/apply', {
      dryRun: true,
      targets: [target('fzk1', [{ envType: 'production' }]), target('fzk2', [{ envType: 'production' }])],
    });
    expect(response.statusCode, response.body).toBe(409);
    expect(response.json().errors).toEqual([
      {
        path: '/targets/1/criteria/0',
        message:
          'criterion 0 of runtime target fzk2 is the same as criterion 0 of runtime target fzk1, so neither ' +
          'would be more specific and the match would be ambiguous; add a field such as envId or appId to ' +
          'one of them, or delete one',
      },
    ]);
  });

  it('points into the request, naming by id a stored runtime target it ties with', async () => {
    const stored = await api.call('POST', '/runtime-targets/apply', {
      targets: [target('stored-k', [{ envType: 'development' }])],
    });
    expect(stored.statusCode, stored.body).toBe(200);
    const response = await api.call('POST', '/runtime-targets/apply', {
      targets: [target('new-k', [])],
    });
    expect(response.statusCode, response.body).toBe(200);
    const tied = await api.call('POST', '/runtime-targets/apply', {
      targets: [target('new-k', []), target('newer-k', [{ envType: 'development' }])],
    });
    expect(tied.statusCode, tied.body).toBe(409);
    expect(tied.json().errors).toEqual([
      {
        path: '/targets/1/criteria/0',
        message: expect.stringMatching(
          /^criterion 0 of runtime target newer-k is the same as criterion 0 of the stored runtime target stored-k, /u,
        ),
      },
    ]);
  });
});

describe('pave defs|targets apply of a file whose criteria tie', () => {
  let api: FullApi;
  let server: string;
  beforeAll(async () => {
    api = await openFullApi('sqlite');
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  const apply = async (command: string, text: string) => {
    const file = join(temporaryDir(), `${command}-tie.yaml`);
    writeFileSync(file, text);
    const io = fakeIo();
    const code = await runCli(
      ['node', 'pave', command, 'apply', '-f', file, '--dry-run', '--server', server, '--token', api.token],
      io,
    );
    return { code, file, stderr: io.stderr.text };
  };

  it('prints a tie of two definitions at the line of the later one in the file', async () => {
    const { code, file, stderr } = await apply(
      'defs',
      [
        '- id: fzd1',
        '  type: tiedb',
        '  driver: static',
        '  criteria:',
        '    - envType: production',
        '- id: fzd2',
        '  type: tiedb',
        '  driver: static',
        '  criteria:',
        '    - envType: production',
        '',
      ].join('\n'),
    );
    expect(code).toBe(1);
    expect(stderr).toBe(
      `${file}:10:7: fzd2.criteria[0]: criterion 0 of definition fzd2 is the same as criterion 0 of ` +
        'definition fzd1 (type tiedb), so neither would be more specific and the match would be ambiguous; ' +
        'add a field such as envId or class to one of them, or delete one\n' +
        `pave: error: 1 problem in ${file}, found by the server; nothing was applied\n`,
    );
  });

  it('prints a tie of two runtime targets at the line of the later one in the file', async () => {
    const { code, file, stderr } = await apply(
      'targets',
      [
        '- id: fzk1',
        '  type: process',
        '  criteria: [{ envType: production }]',
        '- id: fzk2',
        '  type: process',
        '  criteria: [{ envType: production }]',
        '',
      ].join('\n'),
    );
    expect(code).toBe(1);
    expect(stderr).toBe(
      `${file}:6:14: fzk2.criteria[0]: criterion 0 of runtime target fzk2 is the same as criterion 0 of ` +
        'runtime target fzk1, so neither would be more specific and the match would be ambiguous; add a ' +
        'field such as envId or appId to one of them, or delete one\n' +
        `pave: error: 1 problem in ${file}, found by the server; nothing was applied\n`,
    );
  });
});
