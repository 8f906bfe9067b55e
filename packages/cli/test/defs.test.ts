import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DefinitionsPlan, MatchExplanation, ResourceDefinition } from '@pave/core';
import { parseDefinitionsFile } from '@pave/core/declarations';
import {
  formatCriteria,
  renderDefinition,
  renderDefinitionList,
  renderDefinitionsPlan,
  renderMatchExplanation,
} from '../src/commands/defs.ts';
import { formatDefinitionProblem } from '../src/definitions-file.ts';
import { colorsFor } from '../src/output/colors.ts';
import { runCli } from '../src/program.ts';
import { capture, cliArgs, fakeIo, fakeServer, temporaryDir } from './helpers.ts';

const plain = colorsFor(capture(true), { NO_COLOR: '1' });
const colored = colorsFor(capture(true), {});
const ESCAPE = '\u001b[';
const SECRET = 'hunter2-do-not-print';

function problemsOf(text: string, file = 'defs.yaml'): string[] {
  return parseDefinitionsFile(text, file).problems.map(formatDefinitionProblem);
}

describe('the definitions file', () => {
  it('reads a YAML list of definitions, filling in the defaults', () => {
    const text = [
      '- id: shop-postgres',
      '  type: postgres',
      '  driver: postgres',
      '  driverInputs:',
      '    values: { host: db.internal, port: 5432 }',
      '    secrets: { password: s3cr3t }',
      '  criteria:',
      '    - { envType: staging, appId: shop }',
      '- id: dev-redis',
      '  type: redis',
      '  driver: redis',
    ].join('\n');
    expect(parseDefinitionsFile(text, 'defs.yaml')).toEqual({
      problems: [],
      definitions: [
        {
          id: 'shop-postgres',
          type: 'postgres',
          driver: 'postgres',
          driverInputs: { values: { host: 'db.internal', port: 5432 }, secrets: { password: 's3cr3t' } },
          criteria: [{ envType: 'staging', appId: 'shop' }],
        },
        {
          id: 'dev-redis',
          type: 'redis',
          driver: 'redis',
          driverInputs: { values: {}, secrets: {} },
          criteria: [],
        },
      ],
    });
  });

  it('reads one definition per YAML document, skipping empty documents', () => {
    const text = [
      '# platform defaults',
      '---',
      'id: shop-postgres',
      'type: postgres',
      'driver: postgres',
      '---',
      'id: dev-dns',
      'type: dns',
      'driver: static',
      'criteria: [{ envType: development }]',
      '---',
      '',
    ].join('\n');
    const { definitions, problems } = parseDefinitionsFile(text, 'defs.yaml');
    expect(problems).toEqual([]);
    expect(definitions.map((def) => [def.id, def.type, def.criteria])).toEqual([
      ['shop-postgres', 'postgres', []],
      ['dev-dns', 'dns', [{ envType: 'development' }]],
    ]);
  });

  it('reports every problem of a bad file at once, each at its line and column', () => {
    const text = [
      '- id: Shop_DB', // 1
      '  type: postgres', // 2
      '  driver: postgres', // 3
      '  drivrInputs: {}', // 4
      '- id: cache', // 5
      '  type: redis', // 6
      '  criteria:', // 7
      '    - envType: staging', // 8
      '      app: shop', // 9
      '- type: dns', // 10
      '  driver: 5', // 11
      '  criteria:', // 12
    ].join('\n');
    expect(problemsOf(text)).toEqual([
      expect.stringMatching(/^defs\.yaml:1:7: \[0\]\.id: must be a DNS label: .* \(got "Shop_DB"\)$/),
      'defs.yaml:4:3: [0].drivrInputs: unknown key; a definition has id, type, driver, driverInputs and criteria',
      'defs.yaml:5:3: [1]: missing required key "driver": the resource driver that provisions it, e.g. postgres',
      'defs.yaml:9:7: [1].criteria[0].app: unknown key; a criterion may set envType, envId, appId, resId and class',
      'defs.yaml:10:3: [2]: missing required key "id": the definition id, a DNS label such as shop-postgres',
      'defs.yaml:11:11: [2].driver: expected a string, got the number 5; put it in quotes: "5"',
      'defs.yaml:12:3: [2].criteria: expected a list, got an empty value',
    ]);
    expect(parseDefinitionsFile(text, 'defs.yaml').definitions).toEqual([]);
  });

  it('points at problems in later documents by their line in the whole file', () => {
    const text = 'id: a\ntype: postgres\ndriver: postgres\n---\nid: b\ntype: redis\n';
    expect(problemsOf(text)).toEqual([
      'defs.yaml:5:1: (root): missing required key "driver": the resource driver that provisions it, e.g. postgres',
    ]);
  });

  it('refuses an id defined twice, naming the line of the first', () => {
    const text = '- { id: a, type: postgres, driver: postgres }\n- { id: a, type: redis, driver: redis }\n';
    expect(problemsOf(text)).toEqual([
      'defs.yaml:2:9: [1].id: id "a" is also defined on line 1; define each id once',
    ]);
  });

  it('reports YAML syntax errors with their position, and an empty file', () => {
    expect(problemsOf('- id: a\n  type: [postgres\n')).toEqual([
      expect.stringMatching(/^defs\.yaml:2:\d+: \[0\]\.type.*: YAML syntax error: /),
    ]);
    expect(problemsOf('# nothing here\n')).toEqual([
      expect.stringMatching(/^defs\.yaml:1:1: \(root\): no definitions: write a YAML list of definitions/),
    ]);
  });

  it('never quotes the value of a secret input in a problem', () => {
    const text = `id: a\ntype: postgres\ndriver: postgres\ndriverInputs:\n  secrets: ${SECRET}\n`;
    const problems = problemsOf(text);
    expect(problems).toEqual([
      'defs.yaml:5:12: driverInputs.secrets: expected a map, got a secret value (not shown)',
    ]);
    expect(problems.join('\n')).not.toContain(SECRET);
  });
});

const definition = (fields: Partial<ResourceDefinition> = {}): ResourceDefinition => ({
  id: 'shop-postgres',
  type: 'postgres',
  driver: 'postgres',
  driverInputs: {
    values: { host: 'db.internal', port: 5432, options: { ssl: true } },
    secrets: ['password'],
  },
  criteria: [{ envType: 'staging' }, { appId: 'shop', class: 'large' }],
  builtIn: false,
  updatedBy: 'alice',
  updatedAt: '2025-01-31T09:30:00.000Z',
  ...fields,
});

describe('definitions output', () => {
  it('shows criteria compactly: fields joined by ",", criteria by "; "', () => {
    expect(formatCriteria([{ envType: 'staging' }, { appId: 'shop', class: 'large' }])).toBe(
      'envType=staging; appId=shop,class=large',
    );
    expect(formatCriteria([])).toBe('-');
    expect(formatCriteria([{}])).toBe('(any)');
  });

  it('lists definitions as ID, TYPE, DRIVER, CRITERIA, BUILT-IN', () => {
    const text = renderDefinitionList(
      [
        definition(),
        definition({ id: 'default-redis', type: 'redis', driver: 'redis', criteria: [], builtIn: true }),
      ],
      plain,
    );
    expect(text).toBe(
      [
        'ID             TYPE      DRIVER    CRITERIA                                 BUILT-IN',
        'shop-postgres  postgres  postgres  envType=staging; appId=shop,class=large  -',
        'default-redis  redis     redis     -                                        yes',
      ].join('\n'),
    );
    expect(renderDefinitionList([], plain)).toMatch(
      /^No resource definitions yet\. Add some with `pave defs apply/,
    );
  });

  it('shows a built-in definition as shipped with Pave, not as updated in 1970', () => {
    const text = renderDefinition(
      definition({ builtIn: true, updatedBy: 'pave', updatedAt: '1970-01-01T00:00:00.000Z' }),
      plain,
    );
    expect(text).toMatch(/^UPDATED AT +- \(ships with Pave\)$/mu);
    expect(text).not.toContain('1970');
  });

  it('shows one definition with its inputs, a secret input by name only', () => {
    const text = renderDefinition(definition(), plain);
    expect(text).toContain('CRITERIA    envType=staging; appId=shop,class=large\n');
    expect(
      text.endsWith(
        [
          'Driver inputs:',
          '  host      db.internal',
          '  options   {"ssl":true}',
          '  password  (secret)',
          '  port      5432',
        ].join('\n'),
      ),
    ).toBe(true);
  });

  it('shows a plan as ID, ACTION, FIELDS, the action coloured only when colour is on', () => {
    const plan: DefinitionsPlan = {
      applied: false,
      changes: [
        { id: 'shop-postgres', action: 'update', fields: ['driverInputs', 'criteria'] },
        { id: 'dev-dns', action: 'create', fields: [] },
        { id: 'dev-redis', action: 'unchanged', fields: [] },
      ],
    };
    expect(renderDefinitionsPlan(plan, plain)).toBe(
      [
        'ID             ACTION     FIELDS',
        'shop-postgres  update     driverInputs, criteria',
        'dev-dns        create     -',
        'dev-redis      unchanged  -',
      ].join('\n'),
    );
    expect(renderDefinitionsPlan(plan, colored).split('\n')[2]).toContain('\u001b[32mcreate\u001b[39m');
  });
});

describe('match explanation output', () => {
  const query = {
    type: 'postgres',
    envType: 'staging',
    envId: 'stage',
    appId: 'shop',
    resId: 'api.db',
    class: 'default',
  };
  const explanation: MatchExplanation = {
    query,
    winner: { id: 'shop-postgres', criterion: { appId: 'shop' }, specificity: 2 },
    candidates: [
      {
        id: 'shop-postgres',
        builtIn: false,
        outcome: 'won',
        specificity: 2,
        criterion: { appId: 'shop' },
        reason: 'appId=shop matches',
      },
      {
        id: 'staging-postgres',
        builtIn: false,
        outcome: 'lost',
        specificity: 1,
        criterion: { envType: 'staging' },
        reason: 'matches, less specific than shop-postgres',
      },
      {
        id: 'default-postgres',
        builtIn: true,
        outcome: 'lost',
        specificity: -1,
        criterion: null,
        reason: 'built-in default: used only when nothing else matches',
      },
      {
        id: 'prod-postgres',
        builtIn: false,
        outcome: 'no-match',
        specificity: null,
        criterion: { envType: 'production' },
        reason: 'envType is staging, not production',
      },
      {
        id: 'dev-redis',
        builtIn: false,
        outcome: 'other-type',
        specificity: null,
        criterion: null,
        reason: 'provisions redis',
      },
    ],
  };

  it('names the winner and its criterion, then a row per candidate', () => {
    expect(renderMatchExplanation(explanation, plain)).toBe(
      [
        'shop-postgres provisions the postgres resource api.db (class default) in shop/stage ' +
          '(environment type staging), with criterion appId=shop (specificity 2).',
        '',
        'ID                OUTCOME     SPECIFICITY  REASON',
        'shop-postgres     won         2            appId=shop matches',
        'staging-postgres  lost        1            matches, less specific than shop-postgres',
        'default-postgres  lost        built-in     built-in default: used only when nothing else matches',
        'prod-postgres     no-match    -            envType is staging, not production',
        'dev-redis         other-type  -            provisions redis',
      ].join('\n'),
    );
    expect(renderMatchExplanation(explanation, plain)).not.toContain(ESCAPE);
    expect(renderMatchExplanation(explanation, colored)).toContain(
      '\u001b[32mshop-postgres\u001b[39m provisions',
    );
  });

  it('says when the built-in default wins, and when nothing matches and what that means', () => {
    const builtIn = renderMatchExplanation(
      {
        query,
        winner: { id: 'default-postgres', criterion: null, specificity: -1 },
        candidates: [{ ...explanation.candidates[2]!, outcome: 'won' }],
      },
      plain,
    );
    expect(builtIn.split('\n')[0]).toMatch(
      /^default-postgres provisions .*, as the built-in default \(no other definition matches\)\.$/,
    );
    const none = renderMatchExplanation(
      { query, winner: null, candidates: [explanation.candidates[3]!] },
      plain,
    );
    expect(none.split('\n')[0]).toBe(
      'No definition provisions the postgres resource api.db (class default) in shop/stage (environment type ' +
        'staging): a deployment that uses it is refused. Add one with `pave defs apply -f defs.yaml`.',
    );
  });

  it('names no resource id when the query has none (pave defs match without --id)', () => {
    const headline = renderMatchExplanation(
      {
        query: { ...query, resId: '' },
        winner: { id: 'default-postgres', criterion: null, specificity: -1 },
        candidates: [{ ...explanation.candidates[2]!, outcome: 'won' }],
      },
      plain,
    ).split('\n')[0];
    expect(headline).toBe(
      'default-postgres provisions the postgres resource (class default) in shop/stage (environment type ' +
        'staging), as the built-in default (no other definition matches).',
    );
  });
});

describe('pave defs apply', () => {
  const FILE = 'id: shop-postgres\ntype: postgres\ndriver: postgres\n';

  function defsFile(text = FILE): string {
    const file = join(temporaryDir(), 'defs.yaml');
    writeFileSync(file, text);
    return file;
  }

  function planServer(changes: DefinitionsPlan['changes']) {
    return fakeServer((request) => {
      const dryRun = (request.body as { dryRun?: boolean }).dryRun === true;
      return { status: 200, body: { applied: !dryRun, changes } };
    });
  }

  it('shows the plan, then applies it for real with --yes', async () => {
    const server = await planServer([{ id: 'shop-postgres', action: 'create', fields: [] }]);
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'defs', 'apply', '-f', defsFile(), '--yes'), io)).toBe(0);
    expect(server.requests.map((request) => [request.method, request.url, request.body])).toEqual([
      [
        'POST',
        '/api/v1/resource-definitions/apply',
        {
          definitions: [
            {
              id: 'shop-postgres',
              type: 'postgres',
              driver: 'postgres',
              driverInputs: { values: {}, secrets: {} },
              criteria: [],
            },
          ],
          dryRun: true,
        },
      ],
      ['POST', '/api/v1/resource-definitions/apply', expect.not.objectContaining({ dryRun: true })],
    ]);
    expect(io.stdout.text).toBe(
      'ID             ACTION  FIELDS\nshop-postgres  create  -\nApplied 1 change.\n',
    );
    expect(io.questions).toEqual([]);
  });

  it('stops after the plan with --dry-run, and when nothing would change', async () => {
    const changing = await planServer([{ id: 'shop-postgres', action: 'update', fields: ['driver'] }]);
    const dry = fakeIo();
    expect(await runCli(cliArgs(changing.url, 'defs', 'apply', '-f', defsFile(), '--dry-run'), dry)).toBe(0);
    expect(changing.requests).toHaveLength(1);
    expect(dry.stdout.text).toContain('Dry run: nothing was applied; 1 change would be made.\n');

    const same = await planServer([{ id: 'shop-postgres', action: 'unchanged', fields: [] }]);
    const io = fakeIo();
    const file = defsFile();
    expect(await runCli(cliArgs(same.url, 'defs', 'apply', '-f', file, '--yes'), io)).toBe(0);
    expect(same.requests).toHaveLength(1);
    expect(io.stdout.text).toBe(`No changes: the definition in ${file} is applied already.\n`);
  });

  it('prints the API JSON of the real apply with -o json', async () => {
    const server = await planServer([{ id: 'shop-postgres', action: 'create', fields: [] }]);
    const io = fakeIo();
    expect(
      await runCli(cliArgs(server.url, 'defs', 'apply', '-f', defsFile(), '--yes', '-o', 'json'), io),
    ).toBe(0);
    expect(JSON.parse(io.stdout.text)).toEqual({
      applied: true,
      changes: [{ id: 'shop-postgres', action: 'create', fields: [] }],
    });
  });

  it('asks on a terminal, and applies nothing unless the answer is yes', async () => {
    const server = await planServer([{ id: 'shop-postgres', action: 'create', fields: [] }]);
    const no = fakeIo({ stdinTTY: true, answers: ['n'] });
    expect(await runCli(cliArgs(server.url, 'defs', 'apply', '-f', defsFile()), no)).toBe(1);
    expect(no.questions).toEqual(['Apply 1 change to the resource definitions? [y/N] ']);
    expect(no.stderr.text).toBe('pave: error: cancelled: did not apply resource definitions\n');
    expect(server.requests).toHaveLength(1);

    const yes = fakeIo({ stdinTTY: true, answers: ['y'] });
    expect(await runCli(cliArgs(server.url, 'defs', 'apply', '-f', defsFile()), yes)).toBe(0);
    expect(server.requests).toHaveLength(3);
  });

  it('applies without asking when no person can answer: stdin is not a terminal, or is the file', async () => {
    const server = await planServer([{ id: 'shop-postgres', action: 'create', fields: [] }]);
    const script = fakeIo({ stdinTTY: false });
    expect(await runCli(cliArgs(server.url, 'defs', 'apply', '-f', defsFile()), script)).toBe(0);
    expect(script.questions).toEqual([]);
    expect(script.stdout.text).toMatch(/shop-postgres\s+create\s+-\nApplied 1 change\.\n$/);
    const piped = fakeIo({ stdinTTY: true, stdin: FILE });
    expect(await runCli(cliArgs(server.url, 'defs', 'apply', '-f', '-'), piped)).toBe(0);
    expect(piped.questions).toEqual([]);
    expect(server.requests).toHaveLength(4);
  });

  it('does not ask with --yes', async () => {
    const server = await planServer([{ id: 'shop-postgres', action: 'create', fields: [] }]);
    const io = fakeIo({ stdinTTY: true });
    expect(await runCli(cliArgs(server.url, 'defs', 'apply', '-f', defsFile(), '--yes'), io)).toBe(0);
    expect(io.questions).toEqual([]);
    expect(server.requests).toHaveLength(2);
  });

  it('reads the file from stdin with -f -', async () => {
    const server = await planServer([{ id: 'shop-postgres', action: 'create', fields: [] }]);
    const io = fakeIo({ stdin: FILE });
    expect(await runCli(cliArgs(server.url, 'defs', 'apply', '-f', '-', '--yes'), io)).toBe(0);
    expect(server.requests).toHaveLength(2);
  });

  it('prints the problems of a bad file and exits 1 without contacting the server', async () => {
    const server = await planServer([]);
    const file = defsFile('- id: a\n  type: postgres\n');
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'defs', 'apply', '-f', file, '--yes'), io)).toBe(1);
    expect(io.stderr.text).toBe(
      `${file}:1:3: [0]: missing required key "driver": the resource driver that provisions it, e.g. postgres\n` +
        `pave: error: 1 problem in ${file}; nothing was sent to the server\n`,
    );
    expect(server.requests).toEqual([]);
  });

  it('refuses a file that cannot be read as a usage error', async () => {
    const io = fakeIo();
    expect(
      await runCli(cliArgs('http://127.0.0.1:9', 'defs', 'apply', '-f', 'no/such.yaml', '--yes'), io),
    ).toBe(2);
    expect(io.stderr.text).toBe('pave: error: cannot read the definitions file no/such.yaml: no such file\n');
  });
});

// Found by a review of bad input: what only the server can check was printed as a JSON pointer.
describe('pave defs apply, refused by the server', () => {
  it('prints each refused field at its line in the file, naming the definition', async () => {
    const server = await fakeServer(() => ({
      status: 400,
      body: {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'the definitions cannot be applied',
        errors: [
          {
            path: '/definitions/1/driver',
            message: 'no resource driver "postgress"; Pave has: postgres-embedded',
          },
        ],
      },
    }));
    const file = join(temporaryDir(), 'defs.yaml');
    writeFileSync(
      file,
      [
        '- id: dns-shop',
        '  type: dns',
        '  driver: dns-localhost',
        '- id: pg-shop',
        '  type: postgres',
        '  driver: postgress',
        '',
      ].join('\n'),
    );
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'defs', 'apply', '-f', file, '--dry-run'), io)).toBe(1);
    expect(io.stderr.text).toBe(
      `${file}:6:11: pg-shop.driver: no resource driver "postgress"; Pave has: postgres-embedded\n` +
        `pave: error: 1 problem in ${file}, found by the server; nothing was applied\n`,
    );
  });
});

describe('pave defs list|get|delete|match', () => {
  it('sends the match query and prints the explanation', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: {
        query: {
          type: 'postgres',
          envType: 'development',
          envId: 'dev',
          appId: 'shop',
          resId: 'api.db',
          class: 'large',
        },
        winner: null,
        candidates: [],
      },
    }));
    const io = fakeIo();
    const args = [
      'defs',
      'match',
      '--app',
      'shop',
      '--env',
      'dev',
      '--type',
      'postgres',
      '--class',
      'large',
      '--id',
      'api.db',
    ];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(0);
    expect(server.requests[0]?.url).toBe(
      '/api/v1/resource-definitions/match?app=shop&env=dev&type=postgres&class=large&id=api.db',
    );
    expect(io.stdout.text).toMatch(/^No definition provisions the postgres resource api\.db \(class large\)/);
  });

  it('lists, shows and deletes definitions by id', async () => {
    const server = await fakeServer((request) =>
      request.method === 'DELETE'
        ? { status: 204 }
        : request.url.endsWith('/resource-definitions')
          ? { status: 200, body: { items: [definition()] } }
          : { status: 200, body: definition() },
    );
    const list = fakeIo();
    expect(await runCli(cliArgs(server.url, 'defs', 'list', '-o', 'json'), list)).toBe(0);
    expect(JSON.parse(list.stdout.text)).toEqual({ items: [definition()] });
    const get = fakeIo();
    expect(await runCli(cliArgs(server.url, 'defs', 'get', 'shop-postgres'), get)).toBe(0);
    expect(get.stdout.text).toContain('  password  (secret)\n');
    const del = fakeIo();
    expect(await runCli(cliArgs(server.url, 'defs', 'delete', 'shop-postgres'), del)).toBe(0);
    expect(del.stdout.text).toBe('Deleted resource definition shop-postgres\n');
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'GET /api/v1/resource-definitions',
      'GET /api/v1/resource-definitions/shop-postgres',
      'DELETE /api/v1/resource-definitions/shop-postgres',
    ]);
  });

  it('deletes a definition resources still use only with --force', async () => {
    const server = await fakeServer((request) =>
      request.url.endsWith('?force=true')
        ? { status: 204 }
        : {
            status: 409,
            body: {
              type: 'about:blank',
              title: 'resource definition "shop-postgres" still provisions 1 resource(s)',
              status: 409,
              errors: [{ path: 'id', message: 'used by shop/dev api.db; … or delete it with --force' }],
            },
          },
    );
    const refused = fakeIo();
    expect(await runCli(cliArgs(server.url, 'defs', 'delete', 'shop-postgres'), refused)).not.toBe(0);
    expect(refused.stderr.text).toContain('shop/dev api.db');
    const forced = fakeIo();
    expect(await runCli(cliArgs(server.url, 'defs', 'delete', 'shop-postgres', '--force'), forced)).toBe(0);
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'DELETE /api/v1/resource-definitions/shop-postgres',
      'DELETE /api/v1/resource-definitions/shop-postgres?force=true',
    ]);
  });
});
