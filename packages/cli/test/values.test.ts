import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDotenv, VALUE_KEY_PATTERN } from '@pave/core';
import type { ValueList, ValuesChanged } from '@pave/core';
import {
  changedKeysMessage,
  checkDotenv,
  exportDotenv,
  formatValueChange,
  omittedSecretsNote,
  parseAssignments,
  parseKeys,
  renderValueList,
  renderValuesChanged,
  renderValuesHistory,
  summarizeChanges,
} from '../src/commands/values.ts';
import { renderRotation } from '../src/commands/admin.ts';
import { colorsFor } from '../src/output/colors.ts';
import { runCli } from '../src/program.ts';
import { capture, cliArgs, fakeIo, fakeServer, temporaryDir } from './helpers.ts';

const plain = colorsFor(capture(true), { NO_COLOR: '1' });
const colored = colorsFor(capture(true), {});
const SECRET = 'hunter2-do-not-print';

const keyArbitrary = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,30}$/);

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect((error as Error).name).toBe('CliUsageError');
    return (error as Error).message;
  }
  throw new Error('expected a CliUsageError');
}

describe('pave values set: KEY=VALUE arguments', () => {
  it('round-trips any valid key and any value, split at the first "="', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(keyArbitrary, fc.string({ unit: 'binary' })), {
          selector: ([key]) => key,
          minLength: 1,
          maxLength: 5,
        }),
        fc.boolean(),
        (pairs, secret) => {
          const args = pairs.map(([key, value]) => `${key}=${value}`);
          const parsed = parseAssignments(args, { keyPattern: VALUE_KEY_PATTERN, secret });
          expect(parsed).toEqual(pairs.map(([key, value]) => ({ key, value })));
        },
      ),
    );
  });

  it('keeps "=" inside values and accepts an empty value', () => {
    const parsed = parseAssignments(['URL=postgres://h/db?sslmode=require', 'EMPTY=', 'EQ=='], {
      keyPattern: VALUE_KEY_PATTERN,
      secret: false,
    });
    expect(parsed).toEqual([
      { key: 'URL', value: 'postgres://h/db?sslmode=require' },
      { key: 'EMPTY', value: '' },
      { key: 'EQ', value: '=' },
    ]);
  });

  it('names every bad argument at once, by position and key, never by value', () => {
    fc.assert(
      fc.property(
        fc.string().map((text) => `VALUE-${text}`),
        fc.boolean(),
        (value, secret) => {
          const message = usageMessage(() =>
            parseAssignments(['GOOD=1', `1BAD=${value}`, `-X=${value}`, `=${value}`, `GOOD=${value}`], {
              keyPattern: VALUE_KEY_PATTERN,
              secret,
            }),
          );
          expect(message).not.toContain('VALUE-');
        },
      ),
    );
    const message = usageMessage(() =>
      parseAssignments(['GOOD=1', `1BAD=${SECRET}`, '=x', 'GOOD=2'], {
        keyPattern: VALUE_KEY_PATTERN,
        secret: true,
      }),
    );
    expect(message).toBe(
      [
        '3 bad KEY=VALUE arguments:',
        '  - argument 2 ("1BAD=…"): the key is not valid; use letters, digits and "_", not starting with a digit',
        '  - argument 3 has no key before "="; write KEY=VALUE',
        '  - argument 4: GOOD is already given by argument 1; give each key once',
      ].join('\n'),
    );
  });

  it('does not show an argument without "=" when it may be a secret', () => {
    const options = { keyPattern: VALUE_KEY_PATTERN, secret: true };
    const message = usageMessage(() => parseAssignments([SECRET], options));
    expect(message).toBe('bad KEY=VALUE argument 1 has no "="; write KEY=VALUE (KEY= for an empty value)');
    expect(usageMessage(() => parseAssignments(['GREETING'], { ...options, secret: false }))).toContain(
      '("GREETING")',
    );
  });

  it('unset takes keys alone and names a KEY=VALUE by its key only', () => {
    expect(parseKeys(['A', 'B', 'A'], VALUE_KEY_PATTERN)).toEqual(['A', 'B']);
    const message = usageMessage(() => parseKeys([`TOKEN=${SECRET}`], VALUE_KEY_PATTERN));
    expect(message).toBe('bad KEY argument 1 ("TOKEN=…"): give the key alone, without "="');
  });
});

describe('printing changes of values', () => {
  // A server bug that sent a secret's old and new values must still not get them printed.
  const changed: ValuesChanged = {
    changes: [
      { key: 'GREETING', action: 'changed', secret: false, from: 'hello', to: 'hi there' },
      { key: 'NEW_KEY', action: 'added', secret: false, to: 'x' },
      { key: 'OLD', action: 'removed', secret: false, from: '' },
      { key: 'API_TOKEN', action: 'changed', secret: true, from: `${SECRET}-old`, to: SECRET },
      { key: 'DB_PASSWORD', action: 'added', secret: true, to: SECRET },
      { key: 'LEGACY_KEY', action: 'removed', secret: true, from: SECRET },
    ],
    versions: [{ envId: 'dev', version: 4 }],
  };

  it('shows plain values and, for secrets, only the key', () => {
    expect(renderValuesChanged(changed, { app: 'shop', env: 'dev' }, plain, { hintDeploy: true })).toBe(
      [
        'Changed shop/dev:',
        '  ~ GREETING: hello → hi there',
        '  + NEW_KEY: x',
        '  - OLD: ""',
        '  ~ API_TOKEN (secret, changed)',
        '  + DB_PASSWORD (secret)',
        '  - LEGACY_KEY (secret)',
        'New values version: shop/dev 4',
        'They take effect on the next deployment; add --deploy to redeploy now.',
      ].join('\n'),
    );
  });

  it('never prints a secret value, whatever the change carries', () => {
    fc.assert(
      fc.property(
        keyArbitrary,
        fc.constantFrom('added', 'removed', 'changed', 'not-compared'),
        // Secret values carry a marker that nothing else in the output has.
        fc.string().map((text) => `VALUE-${text}`),
        fc.string().map((text) => `VALUE-${text}`),
        (key, action, from, to) => {
          for (const colors of [plain, colored]) {
            const text = formatValueChange({ key, action, secret: true, from, to }, colors);
            expect(text).not.toContain('VALUE-');
          }
        },
      ),
    );
    for (const colors of [plain, colored]) {
      expect(renderValuesChanged(changed, { app: 'shop' }, colors)).not.toContain(SECRET);
    }
    expect(summarizeChanges(changed.changes)).toBe(
      '~GREETING +NEW_KEY -OLD ~API_TOKEN +DB_PASSWORD -LEGACY_KEY',
    );
  });

  it('says a secret of two environments was not compared, and why', () => {
    const change = { key: 'DB_PASSWORD', action: 'not-compared', secret: true } as const;
    expect(formatValueChange(change, plain)).toBe(
      "? DB_PASSWORD (secret, not compared: comparing two environments' secrets needs values.reveal on both)",
    );
    expect(summarizeChanges([change])).toBe('?DB_PASSWORD');
  });

  it('lists the new version of each environment an app-level change reached', () => {
    const text = renderValuesChanged(
      {
        changes: [{ key: 'A', action: 'added', secret: false, to: '1' }],
        versions: [
          { envId: 'dev', version: 4 },
          { envId: 'prod', version: 9 },
        ],
      },
      { app: 'shop' },
      plain,
    );
    expect(text).toBe(
      'Changed the app-level values of shop:\n  + A: 1\nNew values versions: shop/dev 4, shop/prod 9',
    );
    expect(renderValuesChanged({ changes: [], versions: [] }, { app: 'shop', env: 'dev' }, plain)).toBe(
      'No changes: shop/dev already had these values.',
    );
  });

  it('names the keys in the message of the redeploy, within what the server accepts', () => {
    expect(changedKeysMessage(['KEY1', 'KEY2'])).toBe('values changed: KEY1, KEY2');
    const many = Array.from({ length: 200 }, (_, index) => `SOME_RATHER_LONG_KEY_${index}`);
    const message = changedKeysMessage(many);
    expect(message.length).toBeLessThanOrEqual(1000);
    expect(message).toMatch(/^values changed: SOME_RATHER_LONG_KEY_0, .* and \d+ more$/);
  });
});

const list: ValueList = {
  version: 4,
  revealed: false,
  items: [
    {
      key: 'API_TOKEN',
      value: null,
      secret: true,
      source: 'env',
      updatedBy: 'alice',
      updatedAt: '2025-01-31T09:30:00.000Z',
    },
    {
      key: 'GREETING',
      value: 'hello world',
      secret: false,
      source: 'app',
      updatedBy: 'bob',
      updatedAt: '2025-01-30T08:00:00.000Z',
    },
    {
      key: 'MULTI',
      value: 'a "quoted"\nline=2',
      secret: false,
      source: 'env',
      updatedBy: 'bob',
      updatedAt: '2025-01-30T08:00:00.000Z',
    },
  ],
};

describe('pave values list and history', () => {
  it('shows the version and masks secrets', () => {
    expect(renderValueList(list, { app: 'shop', env: 'dev' }, plain)).toBe(
      [
        'shop/dev: effective values, version 4 (secrets masked; --reveal shows them)',
        '',
        'KEY        VALUE               SECRET  SOURCE  UPDATED BY  UPDATED AT',
        'API_TOKEN  ********            yes     env     alice       2025-01-31T09:30:00Z',
        'GREETING   hello world         -       app     bob         2025-01-30T08:00:00Z',
        'MULTI      a "quoted"\\nline=2  -       env     bob         2025-01-30T08:00:00Z',
      ].join('\n'),
    );
  });

  it('lists versions with their changes as signed keys', () => {
    const text = renderValuesHistory(
      [
        {
          version: 5,
          actor: 'alice',
          createdAt: '2025-01-31T09:30:00.000Z',
          reason: 'rollback to 3',
          changes: [
            { key: 'NEW', action: 'added', secret: false, to: 'x' },
            { key: 'GREETING', action: 'changed', secret: false, from: 'a', to: 'b' },
            { key: 'OLD', action: 'removed', secret: true },
          ],
        },
      ],
      'shop',
      'dev',
      plain,
    );
    expect(text).toBe(
      [
        'VERSION  ACTOR  CREATED               REASON         CHANGES',
        '5        alice  2025-01-31T09:30:00Z  rollback to 3  +NEW ~GREETING -OLD',
      ].join('\n'),
    );
  });

  it('says what a master-key rotation did', () => {
    expect(renderRotation({ masterKeyVersion: 3, rewrappedDataKeys: 12 })).toBe(
      'Rotated the master key: now version 3; re-wrapped 12 data keys.',
    );
  });
});

describe('pave values export', () => {
  it('leaves masked secrets out, names them, and writes dotenv that reads back to the same values', async () => {
    const { text, omittedSecrets } = await exportDotenv(list);
    expect(omittedSecrets).toEqual(['API_TOKEN']);
    expect(text).not.toContain('API_TOKEN');
    expect(parseDotenv(text)).toEqual({
      entries: [
        { key: 'GREETING', value: 'hello world' },
        { key: 'MULTI', value: 'a "quoted"\nline=2' },
      ],
      problems: [],
    });
    expect(omittedSecretsNote(omittedSecrets)).toBe(
      'pave: note: left out 1 secret (API_TOKEN); add --reveal to export their values (the read is recorded in the audit log)',
    );
  });

  it('includes revealed secrets', async () => {
    const revealed: ValueList = {
      ...list,
      revealed: true,
      items: list.items.map((item) => (item.secret ? { ...item, value: SECRET } : item)),
    };
    const { text, omittedSecrets } = await exportDotenv(revealed);
    expect(omittedSecrets).toEqual([]);
    expect(text.split('\n')[0]).toBe(`API_TOKEN=${SECRET}`);
  });
});

describe('pave values import: the local check', () => {
  const bad = 'GOOD=1\nnot a pair\n1BAD=x\nQ="open\n';

  it('reports each problem as FILE:LINE: message', async () => {
    const { problems } = await checkDotenv('prod.env', bad);
    expect(problems).toEqual([
      'prod.env:2: expected KEY=VALUE, found "not a pair"',
      'prod.env:3: "1BAD" is not a valid key: use letters, digits and "_", not starting with a digit',
      'prod.env:4: unterminated double quote',
    ]);
    expect(await checkDotenv('ok.env', 'A=1\n# c\nB=2\n')).toEqual({ keys: ['A', 'B'], problems: [] });
  });

  it('does not quote the bad line of a file of secrets', async () => {
    const { problems } = await checkDotenv('secrets.env', `TOKEN ${SECRET}\n`, { secret: true });
    expect(problems).toEqual([
      'secrets.env:1: expected KEY=VALUE, found (text not shown: the file holds secrets)',
    ]);
  });

  it('prints the problems and exits 1 without contacting the server', async () => {
    const server = await fakeServer(() => ({ status: 500, body: {} }));
    const file = join(temporaryDir(), 'prod.env');
    writeFileSync(file, bad);
    const io = fakeIo();
    const code = await runCli(
      cliArgs(server.url, 'values', 'import', file, '--app', 'shop', '--env', 'prod'),
      io,
    );
    expect(code).toBe(1);
    expect(io.stderr.text).toContain(`${file}:2: expected KEY=VALUE, found "not a pair"\n`);
    expect(io.stderr.text).toContain(`${file}:4: unterminated double quote\n`);
    expect(io.stderr.text).toContain(`pave: error: 3 problems in ${file}; nothing was sent to the server\n`);
    expect(server.requests).toEqual([]);
  });
});

// ---- The commands against a stand-in server (the real server's end-to-end tests are elsewhere) ----

describe('pave values commands', () => {
  it('set sends the values as secrets and prints only their keys', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: {
        changes: [{ key: 'API_TOKEN', action: 'added', secret: true }],
        versions: [{ envId: 'prod', version: 2 }],
      },
    }));
    const io = fakeIo();
    const code = await runCli(
      cliArgs(
        server.url,
        'values',
        'set',
        `API_TOKEN=${SECRET}`,
        '--secret',
        '--app',
        'shop',
        '--env',
        'prod',
      ),
      io,
    );
    expect(code).toBe(0);
    expect(server.requests).toEqual([
      {
        method: 'PATCH',
        url: '/api/v1/apps/shop/envs/prod/values',
        body: { set: { API_TOKEN: { value: SECRET, secret: true } } },
      },
    ]);
    expect(io.stdout.text).toContain('+ API_TOKEN (secret)\nNew values version: shop/prod 2\n');
    expect(io.stdout.text + io.stderr.text).not.toContain(SECRET);
  });

  it('unset of a key that is not set says so, and how to see the keys that are (exit 0, as Heroku config:unset)', async () => {
    const server = await fakeServer((request) => ({
      status: 200,
      body: { changes: [], versions: [], notSet: (request.body as { unset: string[] }).unset },
    }));
    const app = fakeIo();
    expect(await runCli(cliArgs(server.url, 'values', 'unset', 'NOPE', '--app', 'shop'), app)).toBe(0);
    expect(app.stdout.text).toBe(
      'NOPE is not set in the app-level values of shop: nothing was removed ' +
        '(`pave values list --app shop` lists them).\n',
    );
    const env = fakeIo();
    const args = ['values', 'unset', 'NOPE', 'SHARED', '--app', 'shop', '--env', 'dev'];
    expect(await runCli(cliArgs(server.url, ...args), env)).toBe(0);
    expect(env.stdout.text).toBe(
      "NOPE, SHARED are not set in shop/dev's own values: nothing was removed " +
        '(`pave values list --app shop --env dev` lists them with their source; an app-level value is unset ' +
        'without --env).\n',
    );
  });

  it('unset of set and unset keys shows the change, then names the keys that were not set', () => {
    const text = renderValuesChanged(
      {
        changes: [{ key: 'OLD', action: 'removed', secret: false, from: '1' }],
        versions: [{ envId: 'dev', version: 3 }],
        notSet: ['NOPE'],
      },
      { app: 'shop', env: 'dev' },
      plain,
    );
    expect(text).toBe(
      'Changed shop/dev:\n  - OLD: 1\nNew values version: shop/dev 3\n' +
        "NOPE is not set in shop/dev's own values: nothing was removed " +
        '(`pave values list --app shop --env dev` lists them with their source; an app-level value is unset ' +
        'without --env).',
    );
  });

  it('set --deploy redeploys the current set with a message naming the keys', async () => {
    const server = await fakeServer((request) =>
      request.method === 'PATCH'
        ? {
            status: 200,
            body: {
              changes: [{ key: 'GREETING', action: 'changed', secret: false, from: 'a', to: 'b' }],
              versions: [{ envId: 'dev', version: 5 }],
            },
          }
        : request.method === 'GET'
          ? // Something runs there: there is a set to redeploy.
            {
              status: 200,
              body: {
                appId: 'shop',
                envId: 'dev',
                currentDeployment: { ...queuedDeployment, id: '17', status: 'succeeded' },
                pendingDeployment: null,
                workloads: [],
              },
            }
          : { status: 202, body: queuedDeployment },
    );
    const io = fakeIo();
    const code = await runCli(
      cliArgs(
        server.url,
        'values',
        'set',
        'GREETING=b',
        '--app',
        'shop',
        '--env',
        'dev',
        '--deploy',
        '-o',
        'json',
      ),
      io,
    );
    expect(code).toBe(0);
    expect(server.requests[2]).toEqual({
      method: 'POST',
      url: '/api/v1/apps/shop/envs/dev/deployments',
      body: { workloads: [], message: 'values changed: GREETING' },
    });
    const printed = JSON.parse(io.stdout.text) as { values: ValuesChanged; deployment: { id: string } };
    expect(printed.values.versions).toEqual([{ envId: 'dev', version: 5 }]);
    expect(printed.deployment.id).toBe('18');
  });

  it('refuses --deploy without --env, and --wait without --deploy, before contacting the server', async () => {
    const server = await fakeServer(() => ({ status: 500, body: {} }));
    for (const args of [
      ['values', 'set', 'A=1', '--app', 'shop', '--deploy'],
      ['values', 'unset', 'A', '--app', 'shop', '--env', 'dev', '--wait'],
      ['values', 'rollback', 'three', '--app', 'shop', '--env', 'dev'],
    ]) {
      const io = fakeIo();
      expect(await runCli(cliArgs(server.url, ...args), io), args.join(' ')).toBe(2);
      expect(io.stderr.text).toMatch(/^pave: error: /);
    }
    expect(server.requests).toEqual([]);
  });

  it('export writes a file holding secrets with mode 0600, and notes masked secrets left out', async () => {
    const server = await fakeServer((request) => ({
      status: 200,
      body: request.url.includes('reveal=true')
        ? {
            ...list,
            revealed: true,
            items: list.items.map((item) => (item.secret ? { ...item, value: SECRET } : item)),
          }
        : list,
    }));
    const dir = temporaryDir();
    const revealedFile = join(dir, 'prod.env');
    writeFileSync(revealedFile, 'old', { mode: 0o644 });
    const io = fakeIo();
    const args = ['values', 'export', '--app', 'shop', '--env', 'prod', '--reveal', '-f', revealedFile];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(0);
    expect(statSync(revealedFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(revealedFile, 'utf8')).toContain(`API_TOKEN=${SECRET}\n`);

    const masked = fakeIo();
    expect(
      await runCli(cliArgs(server.url, 'values', 'export', '--app', 'shop', '--env', 'prod'), masked),
    ).toBe(0);
    expect(masked.stdout.text).toBe('GREETING="hello world"\nMULTI="a \\"quoted\\"\\nline=2"\n');
    expect(masked.stderr.text).toContain('left out 1 secret (API_TOKEN)');
  });

  it('export to a file it cannot write says which file, why and what to do, exit 2, not Node’s ENOENT', async () => {
    const server = await fakeServer(() => ({ status: 200, body: list }));
    const dir = temporaryDir();
    const notADirectory = join(dir, 'plain-file');
    writeFileSync(notADirectory, '');
    for (const [file, why] of [
      [join(dir, 'missing', 'x.env'), `the directory ${join(dir, 'missing')} does not exist`],
      [dir, 'it is a directory, not a file'],
      [join(notADirectory, 'x.env'), 'a part of the path is a file, not a directory'],
    ] as const) {
      const io = fakeIo();
      const args = ['values', 'export', '--app', 'shop', '--env', 'prod', '-f', file];
      expect(await runCli(cliArgs(server.url, ...args), io), file).toBe(2);
      expect(io.stderr.text).toContain(
        `pave: error: cannot write ${file} (-f): ${why}; give -f a file in an existing directory you may write to\n`,
      );
      expect(io.stderr.text).not.toMatch(/ENOENT|EISDIR|ENOTDIR/);
    }
  });
});

const queuedDeployment = {
  id: '18',
  appId: 'shop',
  envId: 'dev',
  kind: 'deploy',
  setId: null,
  source: {},
  actor: 'alice',
  message: 'values changed: GREETING',
  status: 'queued',
  reason: null,
  rolledBack: false,
  valuesVersion: null,
  createdAt: '2025-01-31T09:30:00.000Z',
  startedAt: null,
  finishedAt: null,
};
