import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MatchExplanation, RenderResult, RuntimeTargetView } from '@pave/core';
import { parseTargetsFile } from '@pave/core/declarations';
import {
  formatTargetConfig,
  renderTarget,
  renderTargetList,
  renderTargetMatch,
} from '../src/commands/targets.ts';
import { formatDeclarationProblem } from '../src/definitions-file.ts';
import { colorsFor } from '../src/output/colors.ts';
import { runCli } from '../src/program.ts';
import { capture, cliArgs, fakeIo, fakeServer, temporaryDir } from './helpers.ts';

const plain = colorsFor(capture(true), { NO_COLOR: '1' });
const colored = colorsFor(capture(true), {});
const ESCAPE = '\u001b[';

function problemsOf(text: string, file = 'targets.yaml'): string[] {
  return parseTargetsFile(text, file).problems.map(formatDeclarationProblem);
}

describe('the targets file', () => {
  it('reads a YAML list of targets, filling in the defaults', () => {
    const text = [
      '- id: staging-docker',
      '  type: docker',
      '  config: { socketPath: /var/run/docker.sock }',
      '  criteria:',
      '    - { envType: staging }',
      '- id: dev-processes',
      '  type: process',
    ].join('\n');
    expect(parseTargetsFile(text, 'targets.yaml')).toEqual({
      problems: [],
      targets: [
        {
          id: 'staging-docker',
          type: 'docker',
          config: { socketPath: '/var/run/docker.sock' },
          criteria: [{ envType: 'staging' }],
        },
        { id: 'dev-processes', type: 'process', config: {}, criteria: [] },
      ],
    });
  });

  it('reads one target per YAML document, skipping empty documents', () => {
    const text = [
      '# where workloads run',
      '---',
      'id: prod-cluster',
      'type: kubernetes',
      'config:',
      '  context: prod',
      '  namespacePattern: "shop-{env}"',
      'criteria: [{ envType: production }, { appId: shop, envId: prod }]',
      '---',
      'id: staging-docker',
      'type: docker',
      '---',
      '',
    ].join('\n');
    const { targets, problems } = parseTargetsFile(text, 'targets.yaml');
    expect(problems).toEqual([]);
    expect(targets.map((target) => [target.id, target.type, target.criteria])).toEqual([
      ['prod-cluster', 'kubernetes', [{ envType: 'production' }, { appId: 'shop', envId: 'prod' }]],
      ['staging-docker', 'docker', []],
    ]);
  });

  it('reports every problem of a bad file at once, each at its line and column', () => {
    const text = [
      '- id: Prod_Cluster', // 1
      '  type: kubernetes', // 2
      '  confg: {}', // 3
      '- id: staging', // 4
      '  type: podman', // 5
      '  criteria:', // 6
      '    - envType: staging', // 7
      '      class: large', // 8
      '- type: docker', // 9
      '  config: /var/run/docker.sock', // 10
      '---', // 11
      'id: staging', // 12
      'type: process', // 13
    ].join('\n');
    expect(problemsOf(text)).toEqual([
      expect.stringMatching(/^targets\.yaml:1:7: \[0\]\.id: must be a DNS label: .* \(got "Prod_Cluster"\)$/),
      'targets.yaml:3:3: [0].confg: unknown key; a target has id, type, config and criteria',
      'targets.yaml:5:9: [1].type: must be one of "process", "docker", "kubernetes", got "podman"',
      'targets.yaml:8:7: [1].criteria[0].class: unknown key; a criterion may set envType, envId and appId',
      'targets.yaml:9:3: [2]: missing required key "id": the target id, a DNS label such as staging-docker',
      'targets.yaml:10:11: [2].config: expected a map, got "/var/run/docker.sock"',
    ]);
    expect(parseTargetsFile(text, 'targets.yaml').targets).toEqual([]);
  });

  it('refuses an id defined twice across documents, naming the line of the first', () => {
    const text = 'id: a\ntype: docker\n---\n- { id: b, type: process }\n- { id: a, type: kubernetes }\n';
    expect(problemsOf(text)).toEqual([
      'targets.yaml:5:9: [1].id: id "a" is also defined on line 1; define each id once',
    ]);
  });

  it('reports YAML syntax errors with their position, and a file without targets', () => {
    expect(problemsOf('- id: a\n  type: [docker\n')).toEqual([
      expect.stringMatching(/^targets\.yaml:2:\d+: \[0\]\.type.*: YAML syntax error: /),
    ]);
    expect(problemsOf('# nothing here\n')).toEqual([
      'targets.yaml:1:1: (root): no targets: write a YAML list of targets, or one target ' +
        '(id, type, config, criteria) per YAML document',
    ]);
  });
});

const target = (fields: Partial<RuntimeTargetView> = {}): RuntimeTargetView => ({
  id: 'staging-docker',
  type: 'docker',
  config: { socketPath: '/var/run/docker.sock', port: 2376 },
  criteria: [{ envType: 'staging' }, { appId: 'shop', envId: 'qa' }],
  builtIn: false,
  updatedBy: 'alice',
  updatedAt: '2025-01-31T09:30:00.000Z',
  ...fields,
});

const local = target({
  id: 'local',
  type: 'process',
  config: {},
  criteria: [],
  builtIn: true,
  updatedBy: 'pave',
  updatedAt: '1970-01-01T00:00:00.000Z',
});

describe('targets output', () => {
  it('shows config compactly as key=value pairs in key order, values other than strings as JSON', () => {
    expect(formatTargetConfig({ socketPath: '/run/docker.sock', port: 2376, tls: { verify: true } })).toBe(
      'port=2376,socketPath=/run/docker.sock,tls={"verify":true}',
    );
    expect(formatTargetConfig({})).toBe('-');
  });

  it('lists targets as ID, TYPE, CRITERIA, CONFIG, BUILT-IN', () => {
    expect(renderTargetList([target(), local], plain)).toBe(
      [
        'ID              TYPE     CRITERIA                              CONFIG                                     BUILT-IN',
        'staging-docker  docker   envType=staging; envId=qa,appId=shop  port=2376,socketPath=/var/run/docker.sock  -',
        'local           process  -                                     -                                          yes',
      ].join('\n'),
    );
    expect(renderTargetList([], plain)).toMatch(/^No runtime targets\. Add some with `pave targets apply/);
    expect(renderTargetList([target()], plain)).not.toContain(ESCAPE);
  });

  it('shows one target with its config one key per line', () => {
    const text = renderTarget(target(), plain);
    expect(text).toContain('TYPE        docker\n');
    expect(text).toContain('CRITERIA    envType=staging; envId=qa,appId=shop\n');
    expect(text.endsWith('Config:\n  port        2376\n  socketPath  /var/run/docker.sock')).toBe(true);
    expect(renderTarget(local, plain)).toContain('BUILT-IN    yes: a default Pave ships');
    expect(renderTarget(local, plain).endsWith('Config: none')).toBe(true);
    // Not "updated at 1970".
    expect(renderTarget(local, plain)).toMatch(/^UPDATED AT +- \(ships with Pave\)$/mu);
  });
});

describe('target match output', () => {
  const query = {
    type: 'runtime',
    envType: 'staging',
    envId: 'qa',
    appId: 'shop',
    resId: '',
    class: 'default',
  };
  const explanation: MatchExplanation = {
    query,
    winner: { id: 'shop-qa-docker', criterion: { appId: 'shop', envId: 'qa' }, specificity: 6 },
    candidates: [
      {
        id: 'shop-qa-docker',
        builtIn: false,
        outcome: 'won',
        specificity: 6,
        criterion: { appId: 'shop', envId: 'qa' },
        reason: 'matched with envId=qa,appId=shop (specificity 6)',
      },
      {
        id: 'staging-docker',
        builtIn: false,
        outcome: 'lost',
        specificity: 1,
        criterion: { envType: 'staging' },
        reason: 'matched with envType=staging (specificity 1) but shop-qa-docker is more specific',
      },
      {
        id: 'local',
        builtIn: true,
        outcome: 'lost',
        specificity: -1,
        criterion: null,
        reason: 'built-in default, used only when no other target matches; target shop-qa-docker matched',
      },
      {
        id: 'prod-cluster',
        builtIn: false,
        outcome: 'no-match',
        specificity: null,
        criterion: null,
        reason: 'envType is staging, not production',
      },
    ],
  };

  it('names the winning target and its criterion, then a row per target', () => {
    expect(renderTargetMatch(explanation, plain)).toBe(
      [
        'shop-qa-docker runs shop/qa (environment type staging), with criterion envId=qa,appId=shop ' +
          '(specificity 6).',
        '',
        'ID              OUTCOME   SPECIFICITY  REASON',
        'shop-qa-docker  won       6            matched with envId=qa,appId=shop (specificity 6)',
        'staging-docker  lost      1            matched with envType=staging (specificity 1) but shop-qa-docker is more specific',
        'local           lost      built-in     built-in default, used only when no other target matches; target shop-qa-docker matched',
        'prod-cluster    no-match  -            envType is staging, not production',
      ].join('\n'),
    );
    expect(renderTargetMatch(explanation, plain)).not.toContain(ESCAPE);
    expect(renderTargetMatch(explanation, colored)).toContain('\u001b[32mshop-qa-docker\u001b[39m runs');
  });

  it('says when the built-in local target wins because no other target matches', () => {
    const text = renderTargetMatch(
      {
        query,
        winner: { id: 'local', criterion: null, specificity: -1 },
        candidates: [{ ...explanation.candidates[2]!, outcome: 'won', reason: 'built-in default' }],
      },
      plain,
    );
    expect(text.split('\n')[0]).toBe(
      'local runs shop/qa (environment type staging), as the built-in default (no other target matches).',
    );
  });
});

describe('pave targets apply', () => {
  const FILE = 'id: staging-docker\ntype: docker\ncriteria: [{ envType: staging }]\n';

  function targetsFile(text = FILE): string {
    const file = join(temporaryDir(), 'targets.yaml');
    writeFileSync(file, text);
    return file;
  }

  function planServer(action: 'create' | 'update' | 'unchanged') {
    return fakeServer((request) => {
      const dryRun = (request.body as { dryRun?: boolean }).dryRun === true;
      return {
        status: 200,
        body: { applied: !dryRun, changes: [{ id: 'staging-docker', action, fields: [] }] },
      };
    });
  }

  it('shows the plan, then applies the validated targets with --yes', async () => {
    const server = await planServer('create');
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'targets', 'apply', '-f', targetsFile(), '--yes'), io)).toBe(0);
    const sent = { id: 'staging-docker', type: 'docker', config: {}, criteria: [{ envType: 'staging' }] };
    expect(server.requests.map((request) => [request.method, request.url, request.body])).toEqual([
      ['POST', '/api/v1/runtime-targets/apply', { targets: [sent], dryRun: true }],
      ['POST', '/api/v1/runtime-targets/apply', { targets: [sent] }],
    ]);
    expect(io.stdout.text).toBe(
      'ID              ACTION  FIELDS\nstaging-docker  create  -\nApplied 1 change.\n',
    );
  });

  it('stops after the plan with --dry-run, and when nothing would change', async () => {
    const changing = await planServer('update');
    const dry = fakeIo();
    expect(
      await runCli(cliArgs(changing.url, 'targets', 'apply', '-f', targetsFile(), '--dry-run'), dry),
    ).toBe(0);
    expect(changing.requests).toHaveLength(1);
    expect(dry.stdout.text).toContain('Dry run: nothing was applied; 1 change would be made.\n');

    const same = await planServer('unchanged');
    const io = fakeIo();
    const file = targetsFile();
    expect(await runCli(cliArgs(same.url, 'targets', 'apply', '-f', file), io)).toBe(0);
    expect(same.requests).toHaveLength(1);
    expect(io.stdout.text).toBe(`No changes: the target in ${file} is applied already.\n`);
  });

  it('asks on a terminal and applies nothing unless the answer is yes; -o json prints the API JSON', async () => {
    const server = await planServer('create');
    const no = fakeIo({ stdinTTY: true, answers: ['n'] });
    expect(await runCli(cliArgs(server.url, 'targets', 'apply', '-f', targetsFile()), no)).toBe(1);
    expect(no.questions).toEqual(['Apply 1 change to the runtime targets? [y/N] ']);
    expect(no.stderr.text).toBe('pave: error: cancelled: did not apply runtime targets\n');
    expect(server.requests).toHaveLength(1);

    const json = fakeIo({ stdin: FILE });
    expect(await runCli(cliArgs(server.url, 'targets', 'apply', '-f', '-', '-o', 'json'), json)).toBe(0);
    expect(JSON.parse(json.stdout.text)).toEqual({
      applied: true,
      changes: [{ id: 'staging-docker', action: 'create', fields: [] }],
    });
  });

  it('prints the problems of a bad file and exits 1 without contacting the server', async () => {
    const server = await planServer('create');
    const file = targetsFile('- id: a\n  type: podman\n');
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'targets', 'apply', '-f', file, '--yes'), io)).toBe(1);
    expect(io.stderr.text).toBe(
      `${file}:2:9: [0].type: must be one of "process", "docker", "kubernetes", got "podman"\n` +
        `pave: error: 1 problem in ${file}; nothing was sent to the server\n`,
    );
    expect(server.requests).toEqual([]);
  });

  it('refuses a file that cannot be read, and a missing -f, as usage errors', async () => {
    const io = fakeIo();
    expect(
      await runCli(cliArgs('http://127.0.0.1:9', 'targets', 'apply', '-f', 'no/such.yaml', '--yes'), io),
    ).toBe(2);
    expect(io.stderr.text).toBe('pave: error: cannot read the targets file no/such.yaml: no such file\n');
    const missing = fakeIo();
    expect(await runCli(cliArgs('http://127.0.0.1:9', 'targets', 'apply'), missing)).toBe(2);
    expect(missing.stderr.text).toMatch(/required option '-f, --file <file>' not specified/);
  });
});

describe('pave targets list|get|delete|match', () => {
  it('lists, shows and deletes targets by id', async () => {
    const server = await fakeServer((request) =>
      request.method === 'DELETE'
        ? { status: 204 }
        : request.url.endsWith('/runtime-targets')
          ? { status: 200, body: { items: [target(), local] } }
          : { status: 200, body: target() },
    );
    const list = fakeIo({ env: { NO_COLOR: '1' }, tty: true });
    expect(await runCli(cliArgs(server.url, 'targets', 'list'), list)).toBe(0);
    expect(list.stdout.text).toMatch(/^ID +TYPE +CRITERIA +CONFIG +BUILT-IN\n/);
    expect(list.stdout.text).not.toContain(ESCAPE);
    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, 'targets', 'list', '-o', 'json'), json)).toBe(0);
    expect(JSON.parse(json.stdout.text)).toEqual({ items: [target(), local] });
    const get = fakeIo();
    expect(await runCli(cliArgs(server.url, 'targets', 'get', 'staging-docker'), get)).toBe(0);
    expect(get.stdout.text).toContain('  socketPath  /var/run/docker.sock\n');
    const del = fakeIo();
    expect(await runCli(cliArgs(server.url, 'targets', 'delete', 'staging-docker'), del)).toBe(0);
    expect(del.stdout.text).toBe('Deleted runtime target staging-docker\n');
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'GET /api/v1/runtime-targets',
      'GET /api/v1/runtime-targets',
      'GET /api/v1/runtime-targets/staging-docker',
      'DELETE /api/v1/runtime-targets/staging-docker',
    ]);
  });

  it('sends the match query and prints the explanation', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: {
        query: {
          type: 'runtime',
          envType: 'development',
          envId: 'dev',
          appId: 'shop',
          resId: '',
          class: 'default',
        },
        winner: { id: 'local', criterion: null, specificity: -1 },
        candidates: [
          { ...local, outcome: 'won', specificity: -1, criterion: null, reason: 'built-in default' },
        ],
      },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'targets', 'match', '--app', 'shop', '--env', 'dev'), io)).toBe(
      0,
    );
    expect(server.requests[0]?.url).toBe('/api/v1/runtime-targets/match?app=shop&env=dev');
    expect(io.stdout.text).toMatch(
      /^local runs shop\/dev \(environment type development\), as the built-in default .*\n\nID +OUTCOME/,
    );
  });

  it('refuses match without --env as a usage error', async () => {
    const io = fakeIo();
    expect(await runCli(cliArgs('http://127.0.0.1:9', 'targets', 'match', '--app', 'shop'), io)).toBe(2);
    expect(io.stderr.text).toMatch(/required option '--env <env>' not specified/);
  });
});

describe('pave render', () => {
  const MANIFESTS =
    'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: pave-shop-prod\n---\napiVersion: apps/v1\nkind: Deployment\n';
  const result: RenderResult = {
    format: 'kubernetes',
    target: 'prod-cluster',
    type: 'kubernetes',
    manifests: MANIFESTS,
  };

  it('prints the manifests as they are by default, for the target asked for', async () => {
    const server = await fakeServer(() => ({ status: 200, body: result }));
    const io = fakeIo({ tty: true });
    const args = ['render', '--app', 'shop', '--env', 'prod', '--target', 'prod-cluster'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(0);
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'GET /api/v1/apps/shop/envs/prod/render?target=prod-cluster',
    ]);
    expect(io.stdout.text).toBe(MANIFESTS);
    const yaml = fakeIo();
    expect(
      await runCli(cliArgs(server.url, 'render', '--app', 'shop', '--env', 'prod', '-o', 'yaml'), yaml),
    ).toBe(0);
    expect(server.requests[1]?.url).toBe('/api/v1/apps/shop/envs/prod/render');
    expect(yaml.stdout.text).toBe(MANIFESTS);
  });

  it('prints the API JSON with -o json', async () => {
    const server = await fakeServer(() => ({ status: 200, body: result }));
    const io = fakeIo();
    expect(
      await runCli(cliArgs(server.url, 'render', '--app', 'shop', '--env', 'prod', '-o', 'json'), io),
    ).toBe(0);
    expect(JSON.parse(io.stdout.text)).toEqual(result);
  });

  it('asks for a Compose file with --format compose and prints it as it came', async () => {
    const COMPOSE = '# Compose file of app shop, environment dev\nname: pave-shop-dev\nservices: {}\n';
    const server = await fakeServer(() => ({
      status: 200,
      body: { format: 'compose', manifests: COMPOSE } satisfies RenderResult,
    }));
    const io = fakeIo();
    const args = ['render', '--app', 'shop', '--env', 'dev', '--format', 'compose'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(0);
    expect(server.requests[0]?.url).toBe('/api/v1/apps/shop/envs/dev/render?format=compose');
    expect(io.stdout.text).toBe(COMPOSE);
    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, ...args, '-o', 'json'), json)).toBe(0);
    expect(JSON.parse(json.stdout.text)).toEqual({ format: 'compose', manifests: COMPOSE });
    const unknown = fakeIo();
    expect(
      await runCli(
        cliArgs(server.url, 'render', '--app', 'shop', '--env', 'dev', '--format', 'helm'),
        unknown,
      ),
    ).toBe(2);
    expect(unknown.stderr.text).toMatch(/Allowed choices are yaml, compose/);
  });

  it('refuses an output format it does not print, and a missing --env, as usage errors', async () => {
    const table = fakeIo();
    const args = ['render', '--app', 'shop', '--env', 'prod', '-o', 'table'];
    expect(await runCli(cliArgs('http://127.0.0.1:9', ...args), table)).toBe(2);
    expect(table.stderr.text).toMatch(
      /option '-o, --output <format>' argument 'table' is invalid\. Allowed choices are yaml, json/,
    );
    const missing = fakeIo();
    expect(await runCli(cliArgs('http://127.0.0.1:9', 'render', '--app', 'shop'), missing)).toBe(2);
  });

  it('shows what the server says when it cannot render', async () => {
    const server = await fakeServer(() => ({
      status: 404,
      body: {
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: 'runtime target "nope" not found',
        requestId: 'r1',
        errors: [{ path: 'target', message: '`pave targets list` shows the targets' }],
      },
    }));
    const io = fakeIo();
    const args = ['render', '--app', 'shop', '--env', 'prod', '--target', 'nope'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(1);
    expect(io.stderr.text).toBe(
      'pave: error: runtime target "nope" not found\n  - target: `pave targets list` shows the targets\n' +
        '  (request id r1)\n',
    );
    expect(io.stdout.text).toBe('');
  });
});
