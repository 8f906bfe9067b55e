import { gunzipSync } from 'node:zlib';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extract } from 'tar-stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readTemplateDirectory, seedBuiltInTemplates, templateProblems } from '../src/domain/templates.ts';
import { Template } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const PASSWORD = 'a long enough password';
const BUILT_INS = fileURLToPath(new URL('../templates', import.meta.url));

/** A small template with a templated file name, a binary file, environments and values. */
const SHOP = {
  id: 'shop-api',
  title: 'Shop API',
  tags: ['node'],
  parameters: {
    type: 'object',
    properties: {
      name: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' },
      port: { type: 'integer', default: 8080 },
      flavour: { type: 'string', enum: ['plain', 'fancy'] },
    },
    required: ['name'],
  },
  files: [
    { path: 'README.md', content: '# {{ name }}\n\nListens on {{ port }}.\n' },
    { path: 'src/{{ name }}.js', content: 'module.exports = \'{{ flavour or "plain" }}\';\n' },
    { path: 'logo.png', binaryContent: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff]).toString('base64') },
  ],
  setup: {
    environments: [
      { id: 'dev', type: 'development' },
      { id: 'preview', type: 'development', ttl: '7d' },
      { id: 'staging', type: 'staging', from: 'dev' },
    ],
    values: [
      { key: 'GREETING', value: 'hello from {{ name }}' },
      { key: 'API_KEY', secret: true },
    ],
    prepare: ['npm install'],
    deploy: 'dev',
  },
};

/** The entries of a gzipped tarball, by name, with their bytes. */
async function untar(archive: Buffer): Promise<Map<string, Buffer>> {
  const entries = new Map<string, Buffer>();
  const reader = extract();
  const done = new Promise<void>((resolve, reject) => {
    reader.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        entries.set(header.name, Buffer.concat(chunks));
        next();
      });
    });
    reader.on('finish', resolve);
    reader.on('error', reject);
  });
  reader.end(gunzipSync(archive));
  await done;
  return entries;
}

describe.each(storeEngines)('templates on %s', (engine) => {
  let api: DeployingApi;
  let dora: string;
  const as = (token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    api.app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime });
    for (const [method, url, payload] of [
      ['POST', '/users', { username: 'dora', password: PASSWORD }],
      ['POST', '/roles', { role: 'member', user: 'dora' }],
    ] as const) {
      const response = await api.call(method, url, payload);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    const login = await api.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'dora', password: PASSWORD },
    });
    dora = login.json().token;
  });
  afterEach(async () => {
    await api.store.db.deleteFrom('templates').execute();
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('applies a template idempotently: the same content keeps its version, a change adds one, old ones stay', async () => {
    const first = await api.call('PUT', '/templates/shop-api', SHOP);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ id: 'shop-api', version: 1, action: 'create', applied: true });
    const again = await api.call('POST', '/templates', SHOP);
    expect(again.json()).toMatchObject({ version: 1, action: 'unchanged' });
    const changed = await api.call('PUT', '/templates/shop-api', { ...SHOP, title: 'Shop API v2' });
    expect(changed.json()).toMatchObject({ version: 2, action: 'update' });

    expect((await api.call('GET', '/templates/shop-api')).json()).toMatchObject({
      version: 2,
      title: 'Shop API v2',
      createdBy: 'admin',
    });
    expect((await api.call('GET', '/templates/shop-api?version=1')).json()).toMatchObject({
      version: 1,
      title: 'Shop API',
    });
    expect((await api.call('GET', '/templates/shop-api?version=3')).statusCode).toBe(404);
    const list = (await api.call('GET', '/templates')).json();
    expect(list.items).toEqual([
      expect.objectContaining({ id: 'shop-api', version: 2, title: 'Shop API v2' }),
    ]);
    // Everyone signed in reads templates; only platform users and admins apply them.
    expect((await as(dora, 'GET', '/templates/shop-api')).statusCode).toBe(200);
    expect((await as(dora, 'PUT', '/templates/shop-api', SHOP)).statusCode).toBe(403);

    expect((await api.call('DELETE', '/templates/shop-api')).statusCode).toBe(204);
    expect((await api.call('GET', '/templates/shop-api')).statusCode).toBe(404);
  });

  it('refuses a file that names an undefined variable, naming the file, line and column', async () => {
    const response = await api.call('PUT', '/templates/shop-api', {
      ...SHOP,
      files: [{ path: 'server.js', content: 'const a = 1;\nconst port = {{ prot }};\n' }],
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([
      {
        path: '/files/0/content',
        message: expect.stringMatching(/^server\.js:2:14: \{\{ prot \}\} is undefined/),
      },
    ]);
    const syntax = await api.call('PUT', '/templates/shop-api', {
      ...SHOP,
      files: [{ path: 'a.txt', content: 'one\n{% if name %}\nno end\n' }],
    });
    expect(syntax.statusCode).toBe(400);
    expect(syntax.json().errors[0]).toMatchObject({
      path: '/files/0/content',
      message: 'a.txt:4:1: parseIf: expected elif, else, or endif, got end of file',
    });
    // A macro that calls itself without end: not V8's "RangeError: Maximum call stack size exceeded".
    const recursion = await api.call('PUT', '/templates/shop-api', {
      ...SHOP,
      files: [
        {
          path: 'loop.txt',
          content: 'start\n{% macro again(n) %}{{ again(n + 1) }}{% endmacro %}{{ again(0) }}\n',
        },
      ],
    });
    expect(recursion.statusCode, recursion.body).toBe(400);
    expect(recursion.json().errors[0]).toEqual({
      path: '/files/0/content',
      message: expect.stringMatching(/^loop\.txt:2:\d+: calls itself without end/),
    });
    expect(recursion.body).not.toMatch(/RangeError|call stack/);
    // Nunjucks names an unknown filter without its place: the first use of it in the file is it.
    const filter = await api.call('PUT', '/templates/shop-api', {
      ...SHOP,
      files: [{ path: 'name.txt', content: 'name:\n  {{ name | upper }} {{ name |  shout(2) }}\n' }],
    });
    expect(filter.statusCode, filter.body).toBe(400);
    expect(filter.json().errors).toEqual([
      {
        path: '/files/0/content',
        message:
          "name.txt:2:33: filter not found: shout; use one of Nunjucks' built-in filters " +
          '(https://mozilla.github.io/nunjucks/templating.html#builtin-filters)',
      },
    ]);
    expect((await api.call('GET', '/templates/shop-api')).statusCode).toBe(404);
  });

  // A template whose setup deploys a score.yaml it does not make was stored, and `pave init` then failed.
  it('refuses a setup that deploys a Score file the template does not make', async () => {
    const response = await api.call('PUT', '/templates/shop-api', {
      ...SHOP,
      setup: { ...SHOP.setup, score: ['score.yaml', './api.score.yaml'] },
      files: [{ path: 'api.score.yaml', content: 'apiVersion: score.dev/v1b1\n' }],
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().errors).toEqual([
      {
        path: '/setup/score/0',
        message:
          '"score.yaml" is not a file the template makes, so nothing could deploy it; add it to the ' +
          "template's files (api.score.yaml), or name one it makes",
      },
    ]);
    expect((await api.call('GET', '/templates/shop-api')).statusCode).toBe(404);
  });

  it('gives templates only their data: no way out to JavaScript, and the server keeps running nothing', async () => {
    const escapes = [
      '{{ range.constructor("return process.pid")() }}',
      '{{ name.constructor.constructor("return process.pid")() }}',
      '{{ cycler.constructor("return process.pid")() }}',
      '{{ constructor.getOwnPropertyNames(name) }}',
      '{{ name["__proto__"] }}',
      '{% set f = range %}{{ f["constr" ~ "uctor"]("return 1")() }}',
    ];
    const response = await api.call('PUT', '/templates/shop-api', {
      ...SHOP,
      files: escapes.map((content, index) => ({ path: `f${index}.txt`, content })),
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.body).not.toContain(String(process.pid));
    expect(response.json().errors).toEqual(
      escapes.map((_, index) => ({
        path: `/files/${index}/content`,
        // A member computed at render time has no place in the text to point at.
        message: expect.stringMatching(
          new RegExp(`^f${index}\\.txt${index < 5 ? ':1:\\d+' : ''}: .*only their answers`, 'u'),
        ),
      })),
    );
    // What templates do with their data still works: members, methods of strings and lists, filters.
    const fine = await api.call('PUT', '/templates/shop-api', {
      ...SHOP,
      files: [
        {
          path: 'a.txt',
          content:
            '{{ name.toUpperCase() }} {{ name | length }} {{ [1, 2].length }} {% for i in range(2) %}{{ i }}{% endfor %}',
        },
      ],
    });
    expect(fine.statusCode, fine.body).toBe(200);
    const rendered = await api.call('POST', '/templates/shop-api/render', { answers: { name: 'shop' } });
    expect(rendered.json().files[0].content).toBe('SHOP 4 2 01');
  });

  it('reads no file of the server: include, import and extends are refused', async () => {
    // Nunjucks reads templates from `views/` under the working directory unless told otherwise.
    const dir = mkdtempSync(join(tmpdir(), 'pave-template-cwd-'));
    mkdirSync(join(dir, 'views'));
    mkdirSync(join(dir, 'views-private'));
    writeFileSync(join(dir, 'views/readme.txt'), 'FILE-IN-VIEWS');
    writeFileSync(join(dir, 'views-private/db.txt'), 'PRIVATE-FILE');
    const before = process.cwd();
    process.chdir(dir);
    try {
      const reads = [
        '{% include "readme.txt" %}',
        'B={% include "x/../../views-private/db.txt" %}',
        '{% import "readme.txt" as r %}',
        '{% extends "readme.txt" %}',
        '{% from "readme.txt" import x %}',
      ];
      const response = await api.call('PUT', '/templates/shop-api', {
        ...SHOP,
        files: reads.map((content, index) => ({ path: `f${index}.txt`, content })),
      });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.body).not.toMatch(/FILE-IN-VIEWS|PRIVATE-FILE/u);
      expect(response.json().errors).toEqual(
        reads.map((_, index) => ({
          path: `/files/${index}/content`,
          message: expect.stringMatching(
            new RegExp(`^f${index}\\.txt.*: .*cannot include, import or extend other files`, 'u'),
          ),
        })),
      );
    } finally {
      process.chdir(before);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses file paths that reach into .git, or that clash as file and directory', async () => {
    const response = await api.call('PUT', '/templates/shop-api', {
      ...SHOP,
      files: [
        { path: '.git/hooks/post-commit', content: '#!/bin/sh\ntouch pwned\n', executable: true },
        { path: 'src/.GIT/config', content: '[core]\n' },
        { path: 'lib', content: 'a file' },
        { path: 'lib/index.js', content: 'and a directory' },
        { path: 'a/./b.txt', content: 'b' },
        { path: 'a/b.txt', content: 'the same file' },
      ],
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().errors).toEqual([
      { path: '/files/0/path', message: expect.stringContaining('.git') },
      { path: '/files/1/path', message: expect.stringContaining('.git') },
      {
        path: '/files/5/path',
        message: 'a/b.txt is also generated by /files/4; each path may be generated once',
      },
      { path: '/files/3/path', message: expect.stringContaining('/files/2 generates the file lib') },
    ]);
    // An answer cannot lead there either.
    await api.call('PUT', '/templates/shop-api', {
      ...SHOP,
      parameters: { type: 'object', properties: { name: { type: 'string' } } },
      setup: { ...SHOP.setup, app: 'shop' },
      files: [{ path: '{{ name }}/config', content: 'x' }],
    });
    const rendered = await api.call('POST', '/templates/shop-api/render', { answers: { name: '.git' } });
    expect(rendered.statusCode).toBe(400);
    expect(rendered.json().errors).toEqual([
      { path: '/files/0/path', message: expect.stringContaining('.git') },
    ]);
  });

  it('writes a path with "." segments as the path without them, as templates written before could', async () => {
    const response = await api.call('PUT', '/templates/shop-api', {
      ...SHOP,
      files: [
        { path: './README.md', content: 'read me' },
        { path: 'src/./index.js', content: 'code' },
      ],
    });
    expect(response.statusCode, response.body).toBe(200);
    const rendered = await api.call('POST', '/templates/shop-api/render', { answers: { name: 'shop' } });
    expect(rendered.statusCode, rendered.body).toBe(200);
    expect(rendered.json().files.map((file: { path: string }) => file.path)).toEqual([
      'README.md',
      'src/index.js',
    ]);
  });

  it('refuses parameters that are not a valid JSON Schema', async () => {
    const response = await api.call('PUT', '/templates/shop-api', {
      ...SHOP,
      parameters: { type: 'object', properties: { port: { type: 'integr' } } },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toContainEqual({
      path: expect.stringMatching(/^\/parameters\/properties\/port\/type/),
      message: expect.stringContaining('(enum)'),
    });
    const setup = await api.call('PUT', '/templates/shop-api', {
      ...SHOP,
      setup: { ...SHOP.setup, deploy: 'prod' },
    });
    expect(setup.json().errors).toContainEqual({
      path: '/setup/deploy',
      message: expect.stringContaining('dev, preview, staging'),
    });
  });

  it('renders with defaults, and refuses bad answers naming the parameter and the rule', async () => {
    await api.call('PUT', '/templates/shop-api', SHOP);
    const rendered = await api.call('POST', '/templates/shop-api/render', { answers: { name: 'orders' } });
    expect(rendered.statusCode, rendered.body).toBe(200);
    const body = rendered.json();
    expect(body.answers).toEqual({ name: 'orders', port: 8080 });
    expect(body.files.map((file: { path: string }) => file.path)).toEqual([
      'README.md',
      'src/orders.js',
      'logo.png',
    ]);
    expect(body.files[0].content).toBe('# orders\n\nListens on 8080.\n');
    expect(body.setup).toMatchObject({
      app: 'orders',
      deploy: 'dev',
      prepare: ['npm install'],
      values: [
        { key: 'GREETING', secret: false, value: 'hello from orders' },
        { key: 'API_KEY', secret: true },
      ],
    });

    const bad = await api.call('POST', '/templates/shop-api/render', {
      answers: { port: 'abc', flavour: 'spicy' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual(
      expect.arrayContaining([
        { path: '/answers/name', message: expect.stringMatching(/^name: is required \(required\)/) },
        { path: '/answers/port', message: 'port: must be integer (type)' },
        {
          path: '/answers/flavour',
          message: expect.stringMatching(
            /^flavour: must be equal to one of the allowed values: plain, fancy \(enum\)/,
          ),
        },
      ]),
    );
    // An answer to no question is a typo, as the CLI's --set says (found by a review of bad input: ignored).
    const typo = await api.call('POST', '/templates/shop-api/render', {
      answers: { name: 'orders', prot: 9090 },
    });
    expect(typo.statusCode).toBe(400);
    expect(typo.json().errors).toEqual([
      {
        path: '/answers/prot',
        message: 'prot: is not a parameter of this template; its parameters: flavour, name, port',
      },
    ]);
    // No app was created by rendering.
    expect((await api.call('GET', '/apps/orders')).statusCode).toBe(404);
  });

  it('instantiates: the caller owns the new app, its environments and values exist, the tarball holds the files', async () => {
    await api.call('PUT', '/templates/shop-api', SHOP);
    const missingSecret = await as(dora, 'POST', '/templates/shop-api/instantiate', {
      answers: { name: 'orders' },
    });
    expect(missingSecret.statusCode).toBe(400);
    expect(missingSecret.json().errors).toEqual([
      { path: '/secrets/API_KEY', message: expect.stringContaining('API_KEY: is required') },
    ]);
    expect((await api.call('GET', '/apps/orders')).statusCode).toBe(404);

    const response = await as(dora, 'POST', '/templates/shop-api/instantiate', {
      answers: { name: 'orders', port: 9090 },
      secrets: { API_KEY: 's3cret' },
    });
    expect(response.statusCode, response.body).toBe(201);
    const instance = response.json();
    expect(instance.app).toMatchObject({ id: 'orders', createdBy: 'dora' });
    expect(instance.environments.map((env: { id: string }) => env.id)).toEqual(['dev', 'preview']);
    expect(instance.environments[1].expiresAt).not.toBeNull();
    expect(instance.pendingEnvironments).toEqual([{ id: 'staging', type: 'staging', from: 'dev' }]);
    expect(instance.template).toEqual({ id: 'shop-api', version: 1 });

    const entries = await untar(Buffer.from(instance.archive, 'base64'));
    expect([...entries.keys()]).toEqual(['orders/README.md', 'orders/src/orders.js', 'orders/logo.png']);
    expect(entries.get('orders/README.md')!.toString()).toContain('Listens on 9090.');
    expect([...entries.get('orders/logo.png')!]).toEqual([0x89, 0x50, 0x4e, 0x47, 0xff]);

    // Dora owns it: she reads its environments and its values (the secret masked).
    const envs = await as(dora, 'GET', '/apps/orders/envs');
    expect(envs.json().items.map((env: { id: string }) => env.id)).toEqual(['dev', 'preview']);
    const values = (await as(dora, 'GET', '/apps/orders/values?reveal=true')).json();
    expect(values.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'GREETING', value: 'hello from orders', secret: false }),
        expect.objectContaining({ key: 'API_KEY', value: 's3cret', secret: true }),
      ]),
    );
    const audit = (await api.call('GET', '/audit?app=orders')).json();
    expect(audit.items.map((entry: { action: string }) => entry.action)).toEqual(
      expect.arrayContaining(['app.create', 'environment.create', 'values.set', 'template.instantiate']),
    );

    const taken = await as(dora, 'POST', '/templates/shop-api/instantiate', {
      answers: { name: 'orders' },
      secrets: { API_KEY: 'xxxx' },
    });
    expect(taken.statusCode).toBe(409);
    await api.call('DELETE', '/apps/orders?force=true');
  });

  it('leaves nothing behind when an environment type does not exist', async () => {
    await api.call('PUT', '/templates/shop-api', {
      ...SHOP,
      setup: { ...SHOP.setup, environments: [{ id: 'dev', type: 'no-such-type' }], values: [] },
    });
    const response = await api.call('POST', '/templates/shop-api/instantiate', { answers: { name: 'lost' } });
    expect(response.statusCode).toBe(400);
    expect(response.json().detail).toContain('no-such-type');
    expect((await api.call('GET', '/apps/lost')).statusCode).toBe(404);
  });

  it('finds no problem in any built-in template (seeding trusts this check and skips it)', async () => {
    const dirs = readdirSync(BUILT_INS, { withFileTypes: true }).filter((entry) => entry.isDirectory());
    expect(dirs.map((entry) => entry.name).sort()).toEqual(['node-http', 'static-site', 'worker']);
    for (const entry of dirs) {
      const template = Template.parse(await readTemplateDirectory(join(BUILT_INS, entry.name)));
      expect(await templateProblems(template), entry.name).toEqual([]);
    }
  });

  it('seeds the built-in templates once, and each renders with only a name', async () => {
    expect(await seedBuiltInTemplates(api.store, BUILT_INS)).toEqual(['node-http', 'static-site', 'worker']);
    expect(await seedBuiltInTemplates(api.store, BUILT_INS)).toEqual([]);
    const list = (await api.call('GET', '/templates')).json().items;
    expect(
      list.map((t: { id: string; version: number; createdBy: string }) => [t.id, t.version, t.createdBy]),
    ).toEqual([
      ['node-http', 1, 'system'],
      ['static-site', 1, 'system'],
      ['worker', 1, 'system'],
    ]);
    for (const id of ['node-http', 'static-site', 'worker']) {
      const rendered = await api.call('POST', `/templates/${id}/render`, { answers: { name: 'demo' } });
      expect(rendered.statusCode, rendered.body).toBe(200);
      const paths = rendered.json().files.map((file: { path: string }) => file.path);
      expect(paths).toEqual(
        expect.arrayContaining(['.gitignore', 'README.md', 'score.yaml', 'package.json']),
      );
      expect(rendered.json().setup).toMatchObject({ app: 'demo', deploy: 'dev', score: ['score.yaml'] });
    }
    const score = (await api.call('POST', '/templates/node-http/render', { answers: { name: 'orders' } }))
      .json()
      .files.find((file: { path: string }) => file.path === 'score.yaml').content;
    expect(score).toContain('port: 8080');
    expect(score).toContain('host: ${resources.dns.host}');
  });
});
