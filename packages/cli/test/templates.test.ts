import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TemplateParameters } from '@pave/core';
import { runCli } from '../src/program.ts';
import { coerceAnswer, initPlan, parseSetFlags } from '../src/commands/init.ts';
import { templateTimeLimit } from '../src/commands/up.ts';
import {
  cliArgs,
  fakeIo,
  fakeServer,
  isInstantiateDryRun,
  plannedInstance,
  temporaryDir,
} from './helpers.ts';

const PARAMETERS: TemplateParameters = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    port: { type: 'integer', default: 8080 },
    debug: { type: 'boolean' },
    tags: { type: 'array' },
  },
  required: ['name'],
};

const TEMPLATE = {
  id: 'node-http',
  title: 'Node HTTP',
  tags: [],
  parameters: PARAMETERS,
  files: [{ path: 'score.yaml', content: 'port: {{ port }}\n' }],
  setup: {
    app: '{{ name }}',
    environments: [{ id: 'dev', type: 'development' }],
    values: [{ key: 'API_KEY', secret: true }],
    prepare: ['npm install'],
    deploy: 'dev',
  },
  version: 2,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'system',
};

const RENDERED = {
  id: 'node-http',
  version: 2,
  answers: { name: 'orders', port: 8080 },
  files: [{ path: 'score.yaml', content: 'port: 8080\n' }],
  setup: {
    app: 'orders',
    environments: [{ id: 'dev', type: 'development' }],
    values: [{ key: 'API_KEY', secret: true }],
    prepare: ['npm install'],
    score: ['score.yaml'],
    deploy: 'dev',
  },
};

describe('--set answers', () => {
  it("are coerced to the parameter's type, and left as text when they do not convert", () => {
    expect(coerceAnswer('8080', { type: 'integer' })).toBe(8080);
    expect(coerceAnswer('abc', { type: 'integer' })).toBe('abc');
    expect(coerceAnswer('true', { type: 'boolean' })).toBe(true);
    expect(coerceAnswer('["a"]', { type: 'array' })).toEqual(['a']);
    expect(coerceAnswer('0123', { type: 'string' })).toBe('0123');
  });

  it('go to parameters or secret values by key; anything else is a usage error naming both', () => {
    expect(parseSetFlags(['port=9090', 'name=a=b', 'API_KEY=s3cret'], PARAMETERS, ['API_KEY'])).toEqual({
      answers: { port: 9090, name: 'a=b' },
      secrets: { API_KEY: 's3cret' },
    });
    expect(() => parseSetFlags(['colour=blue'], PARAMETERS, ['API_KEY'])).toThrow(
      /--set colour: the template has no such parameter or secret value; it has name, port, debug, tags, API_KEY/,
    );
    expect(() => parseSetFlags(['port'], PARAMETERS, [])).toThrow(/write --set key=value/);
  });
});

describe('pave init --dry-run', () => {
  it('lists the files, commands and API calls', () => {
    const plan = initPlan(RENDERED, './orders', 'dev');
    expect(plan.files).toEqual(['score.yaml']);
    expect(plan.commands).toEqual([
      'git init',
      'git add -A',
      'git commit -m "Generated from template node-http version 2 by pave init"',
      'npm install',
    ]);
    expect(plan.calls).toEqual([
      'POST /api/v1/templates/node-http/instantiate?version=2: create app orders, environments dev, values API_KEY (secret)',
      'POST /api/v1/apps/orders/envs/dev/deployments: deploy score.yaml, then wait',
    ]);
    expect(initPlan(RENDERED, './orders', null).commands).not.toContain('npm install');
  });

  it('asks the server to check the answers and a dry run of the instantiation, then writes nothing', async () => {
    const server = await fakeServer((request) => {
      if (isInstantiateDryRun(request)) return plannedInstance(RENDERED);
      return request.url.includes('/render')
        ? { status: 200, body: RENDERED }
        : { status: 200, body: TEMPLATE };
    });
    const dir = join(temporaryDir(), 'orders');
    const io = fakeIo();
    const code = await runCli(
      cliArgs(server.url, 'init', 'node-http', dir, '--set', 'port=8080', '--set', 'API_KEY=x', '--dry-run'),
      io,
    );
    expect(code, io.stderr.text).toBe(0);
    expect(server.requests.map((r) => [r.method, r.url, r.body])).toEqual([
      ['GET', '/api/v1/templates/node-http', undefined],
      ['POST', '/api/v1/templates/node-http/render?version=2', { answers: { port: 8080, name: 'orders' } }],
      [
        'POST',
        '/api/v1/templates/node-http/instantiate?version=2&dryRun=true',
        { answers: { port: 8080, name: 'orders' }, secrets: { API_KEY: 'x' } },
      ],
    ]);
    expect(io.stdout.text).toContain('Would write 1 files to');
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a missing secret value and a non-empty directory before writing anything', async () => {
    const server = await fakeServer((request) => {
      if (isInstantiateDryRun(request)) return plannedInstance(RENDERED);
      return request.url.includes('/render')
        ? { status: 200, body: RENDERED }
        : { status: 200, body: TEMPLATE };
    });
    const dir = join(temporaryDir(), 'orders');
    const noSecret = fakeIo();
    expect(await runCli(cliArgs(server.url, 'init', 'node-http', dir), noSecret)).toBe(2);
    expect(noSecret.stderr.text).toContain('API_KEY: is required (a secret value of the template)');
    mkdirSync(dir);
    writeFileSync(join(dir, 'keep.txt'), 'mine');
    const notEmpty = fakeIo();
    expect(await runCli(cliArgs(server.url, 'init', 'node-http', dir, '--set', 'API_KEY=x'), notEmpty)).toBe(
      2,
    );
    expect(notEmpty.stderr.text).toContain('is not empty; choose another directory, or pass --force');
    expect(server.requests.some((r) => r.url.includes('/instantiate'))).toBe(false);
  });

  it('says what exists and how to finish or undo it when creating the app fails after the files were written', async () => {
    const server = await fakeServer((request) => {
      if (request.url.includes('/render')) return { status: 200, body: RENDERED };
      // Someone else creates the app between the dry run and the real instantiation.
      if (isInstantiateDryRun(request)) return plannedInstance(RENDERED);
      if (request.url.includes('/instantiate')) {
        return {
          status: 409,
          body: {
            type: 'about:blank',
            title: 'Conflict',
            status: 409,
            detail: 'app "orders" already exists',
            requestId: 'r',
            errors: [],
          },
        };
      }
      return { status: 200, body: TEMPLATE };
    });
    const dir = join(temporaryDir(), 'orders');
    const io = fakeIo({
      env: { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', PATH: process.env.PATH },
    });
    expect(await runCli(cliArgs(server.url, 'init', 'node-http', dir, '--set', 'API_KEY=x'), io)).toBe(1);
    expect(existsSync(join(dir, 'score.yaml'))).toBe(true);
    expect(io.stderr.text).toContain(
      `files written to ${dir}; committed; creating the app orders failed: app "orders" already exists`,
    );
    expect(io.stderr.text).toContain(
      `finish with \`pave init node-http ${dir} --version 2 --force --set API_KEY=…\``,
    );
    expect(io.stderr.text).toContain(`or undo with \`rm -rf ${dir}\``);
    expect(io.stderr.text).not.toContain('API_KEY=x');
  });

  it('refuses an app id that is taken before writing anything, as the dry run of instantiating says', async () => {
    const server = await fakeServer((request) => {
      if (isInstantiateDryRun(request)) {
        return {
          status: 409,
          body: {
            type: 'about:blank',
            title: 'Conflict',
            status: 409,
            detail: 'app "orders" already exists',
            requestId: 'r',
            errors: [{ path: '/answers', message: 'the template names its app after the answers' }],
          },
        };
      }
      return request.url.includes('/render')
        ? { status: 200, body: RENDERED }
        : { status: 200, body: TEMPLATE };
    });
    const dir = join(temporaryDir(), 'orders');
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'init', 'node-http', dir, '--set', 'API_KEY=x'), io)).toBe(2);
    expect(io.stderr.text).toContain('app orders already exists; choose another name (--set name=…)');
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a --version that is not a version, asking nothing', async () => {
    const server = await fakeServer(() => ({ status: 500 }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'init', 'node-http', 'x', '--version', 'latest'), io)).toBe(2);
    expect(io.stderr.text).toContain('--version: "latest" is not a version');
    expect(server.requests).toEqual([]);
  });
});

describe('pave templates apply', () => {
  it('reads a directory (template.yaml and files/) and sends the files inline', async () => {
    const dir = temporaryDir();
    writeFileSync(join(dir, 'template.yaml'), 'id: hello\ntitle: Hello\nfiles: []\n');
    mkdirSync(join(dir, 'files', 'src'), { recursive: true });
    writeFileSync(join(dir, 'files', 'src', 'index.js'), 'console.log("{{ name }}");\n');
    writeFileSync(join(dir, 'files', 'logo.png'), Buffer.from([0x89, 0xff, 0x00]));
    const server = await fakeServer(() => ({
      status: 200,
      body: { id: 'hello', version: 1, action: 'create', applied: true },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'templates', 'apply', '-f', dir), io)).toBe(0);
    const sent = server.requests[0]!;
    expect([sent.method, sent.url]).toEqual(['PUT', '/api/v1/templates/hello']);
    expect((sent.body as { files: unknown[] }).files).toEqual([
      { path: 'logo.png', binaryContent: Buffer.from([0x89, 0xff, 0x00]).toString('base64') },
      { path: 'src/index.js', content: 'console.log("{{ name }}");\n' },
    ]);
    expect(io.stdout.text).toContain('Template hello created: version 1.');
  });

  it('needs no `files:` key in template.yaml: the files are those under files/', async () => {
    const dir = temporaryDir();
    writeFileSync(join(dir, 'template.yaml'), 'id: hello\ntitle: Hello\n');
    mkdirSync(join(dir, 'files'));
    writeFileSync(join(dir, 'files', 'README.md'), '# {{ name }}\n');
    const server = await fakeServer(() => ({
      status: 200,
      body: { id: 'hello', version: 1, action: 'create', applied: true },
    }));
    const io = fakeIo();
    expect(
      await runCli(cliArgs(server.url, 'templates', 'apply', '-f', join(dir, '.')), io),
      io.stderr.text,
    ).toBe(0);
    expect((server.requests[0]!.body as { files: unknown[] }).files).toEqual([
      { path: 'README.md', content: '# {{ name }}\n' },
    ]);
  });

  it('needs `files:` in a single-file template, which has no files/ to take them from', async () => {
    const path = join(temporaryDir(), 'hello.yaml');
    writeFileSync(path, 'id: hello\ntitle: Hello\n');
    const server = await fakeServer(() => ({ status: 500 }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'templates', 'apply', '-f', path), io)).toBe(1);
    expect(io.stderr.text).toContain(
      `${path}:1:1: (root): missing required key "files": the files it generates (a list of path and ` +
        'content; may be empty)',
    );
    expect(server.requests).toEqual([]);
  });

  it("reports the YAML's own problems at file:line:column, sending nothing", async () => {
    const path = join(temporaryDir(), 'template.yaml');
    writeFileSync(path, 'id: hello\ntitle: Hello\nfiles: []\nsetup:\n  deploy: dev\n  colour: blue\n');
    const server = await fakeServer(() => ({ status: 500 }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'templates', 'apply', '-f', path), io)).toBe(1);
    expect(io.stderr.text).toMatch(new RegExp(`${path}:6:3: .*colour`));
    expect(server.requests).toEqual([]);
  });

  it("points the server's problems with a file at the local file, line and column", async () => {
    const dir = temporaryDir();
    writeFileSync(join(dir, 'template.yaml'), 'id: hello\ntitle: Hello\nfiles: []\n');
    mkdirSync(join(dir, 'files'));
    writeFileSync(join(dir, 'files', 'server.js'), 'x\n{{ prot }}\n');
    const server = await fakeServer(() => ({
      status: 400,
      body: {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'template "hello" cannot be applied: 1 problem(s)',
        requestId: 'r',
        errors: [
          { path: '/files/0/content', message: 'server.js:2:1: {{ prot }} is undefined; use a parameter' },
        ],
      },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'templates', 'apply', '-f', dir), io)).toBe(1);
    expect(io.stderr.text).toContain(`${join(dir, 'files', 'server.js')}:2:1: {{ prot }} is undefined`);
  });
});

describe('pave templates list and delete', () => {
  const SUMMARIES = [
    {
      id: 'node-http',
      title: 'Node HTTP',
      tags: ['node', 'http'],
      version: 2,
      parameters: PARAMETERS,
      createdAt: '2026-01-01T00:00:00.000Z',
      createdBy: 'system',
    },
    {
      id: 'static-site',
      title: 'Static site',
      tags: [],
      version: 1,
      parameters: { type: 'object', properties: {} },
      createdAt: '2026-01-01T00:00:00.000Z',
      createdBy: 'alice',
    },
  ];

  it('list prints id, version, title, tags and parameters; -o json prints the API response', async () => {
    const server = await fakeServer(() => ({ status: 200, body: { items: SUMMARIES } }));
    const table = fakeIo();
    expect(await runCli(cliArgs(server.url, 'templates', 'list'), table)).toBe(0);
    expect(table.stderr.text).toBe('');
    const lines = table.stdout.text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+VERSION\s+TITLE\s+TAGS\s+PARAMETERS$/);
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/))).toEqual([
      ['node-http', '2', 'Node HTTP', 'node,http', 'name, port, debug, tags'],
      ['static-site', '1', 'Static site', '-', '-'],
    ]);
    const json = fakeIo();
    expect(await runCli(cliArgs(server.url, 'templates', 'list', '-o', 'json'), json)).toBe(0);
    expect(JSON.parse(json.stdout.text)).toEqual({ items: SUMMARIES });
    expect(server.requests.map((r) => [r.method, r.url, r.body])).toEqual([
      ['GET', '/api/v1/templates', undefined],
      ['GET', '/api/v1/templates', undefined],
    ]);
  });

  it('list says how to add one when there is none', async () => {
    const server = await fakeServer(() => ({ status: 200, body: { items: [] } }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'templates', 'list'), io)).toBe(0);
    expect(io.stdout.text).toContain('No templates yet. Apply one with `pave templates apply -f DIR`.');
  });

  it('delete ID deletes the template with every version and says so', async () => {
    const server = await fakeServer(() => ({ status: 204 }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'templates', 'delete', 'node-http'), io)).toBe(0);
    expect(server.requests.map((r) => [r.method, r.url, r.body])).toEqual([
      ['DELETE', '/api/v1/templates/node-http', undefined],
    ]);
    expect(io.stdout.text).toBe('Deleted template node-http.\n');
    expect(io.stderr.text).toBe('');
  });
});

describe('pave templates apply -f FILE.yaml', () => {
  it('sends a single template with its files inline and says it was applied', async () => {
    const path = join(temporaryDir(), 'hello.yaml');
    writeFileSync(
      path,
      [
        'id: hello',
        'title: Hello',
        'parameters:',
        '  type: object',
        '  properties:',
        '    name: { type: string }',
        '  required: [name]',
        'files:',
        '  - path: score.yaml',
        '    content: |',
        '      apiVersion: score.dev/v1b1',
        '      metadata:',
        '        name: "{{ name }}"',
        '  - path: bin/start.sh',
        '    content: "#!/bin/sh\\necho {{ name }}\\n"',
        '    executable: true',
        'setup:',
        '  app: "{{ name }}"',
        '  environments: [{ id: dev, type: development }]',
        '  deploy: dev',
        '',
      ].join('\n'),
    );
    const server = await fakeServer(() => ({
      status: 200,
      body: { id: 'hello', version: 3, action: 'update', applied: true },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'templates', 'apply', '-f', path), io)).toBe(0);
    expect(server.requests).toHaveLength(1);
    const sent = server.requests[0]!;
    expect([sent.method, sent.url]).toEqual(['PUT', '/api/v1/templates/hello']);
    expect(sent.body).toMatchObject({
      id: 'hello',
      title: 'Hello',
      parameters: { properties: { name: { type: 'string' } }, required: ['name'] },
      setup: { app: '{{ name }}', environments: [{ id: 'dev', type: 'development' }], deploy: 'dev' },
    });
    expect((sent.body as { files: unknown[] }).files).toEqual([
      {
        path: 'score.yaml',
        content: 'apiVersion: score.dev/v1b1\nmetadata:\n  name: "{{ name }}"\n',
      },
      { path: 'bin/start.sh', content: '#!/bin/sh\necho {{ name }}\n', executable: true },
    ]);
    expect(io.stdout.text).toBe('Template hello updated: version 3.\n');
    expect(io.stderr.text).toBe('');
  });
});

describe('pave up --template-time-limit', () => {
  it('takes a duration from 1s to 10m, from the flag before PAVE_TEMPLATE_TIME_LIMIT, and names the source of a bad one', () => {
    expect(templateTimeLimit(undefined, undefined)).toBeUndefined();
    expect(templateTimeLimit(undefined, '')).toBeUndefined();
    expect(templateTimeLimit('30s', undefined)).toBe(30);
    expect(templateTimeLimit('2m', '5s')).toBe(120);
    expect(templateTimeLimit(undefined, '10m')).toBe(600);
    expect(() => templateTimeLimit('11m', undefined)).toThrow(
      '--template-time-limit: "11m" is too long; use at most 10m',
    );
    expect(() => templateTimeLimit(undefined, '0s')).toThrow(
      /^PAVE_TEMPLATE_TIME_LIMIT: "0s" is not a duration; use a whole number followed by s/u,
    );
    expect(() => templateTimeLimit('5', '5s')).toThrow(/^--template-time-limit: "5" is not a duration/u);
  });
});
