import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RenderedTemplate, TemplateRecord } from '@pave/core';
import { runCli } from '../src/program.ts';
import {
  NO_APP,
  cliArgs,
  isInstantiateDryRun,
  plannedInstance,
  fakeIo,
  fakeServer,
  temporaryDir,
} from './helpers.ts';
import type { Recorded } from './helpers.ts';

// `pave init` makes the new project a git repository of its own, and never commits into one it did not create.

const SCORE =
  'apiVersion: score.dev/v1b1\nmetadata:\n  name: orders\ncontainers:\n  main:\n    image: nginx\n';

const TEMPLATE: TemplateRecord = {
  id: 'node-http',
  title: 'Node HTTP',
  tags: [],
  parameters: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  files: [{ path: 'score.yaml', content: SCORE }],
  setup: {
    app: 'orders',
    environments: [{ id: 'dev', type: 'development' }],
    values: [],
    prepare: [],
    deploy: 'dev',
  },
  version: 2,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'system',
};

const RENDERED: RenderedTemplate = {
  id: 'node-http',
  version: 2,
  answers: { name: 'orders' },
  files: [{ path: 'score.yaml', content: SCORE }],
  setup: {
    app: 'orders',
    environments: [{ id: 'dev', type: 'development' }],
    values: [],
    prepare: [],
    score: ['score.yaml'],
    deploy: 'dev',
  },
};

const INSTANCE = {
  template: { id: 'node-http', version: 2 },
  app: { id: 'orders', name: 'orders', createdBy: 'alice', createdAt: '2026-01-02T00:00:00.000Z' },
  environments: [
    {
      appId: 'orders',
      id: 'dev',
      type: 'development',
      createdBy: 'alice',
      createdAt: '2026-01-02T00:00:00.000Z',
      expiresAt: null,
    },
  ],
  pendingEnvironments: [],
  values: [],
  setup: RENDERED.setup,
  files: ['score.yaml'],
  archive: '',
};

function answerInit(request: Recorded): { status: number; body?: unknown } {
  if (request.url.includes('/render')) return { status: 200, body: RENDERED };
  if (isInstantiateDryRun(request)) return plannedInstance(RENDERED);
  if (request.url.includes('/instantiate')) return { status: 201, body: INSTANCE };
  if (request.url.startsWith('/api/v1/apps/')) return NO_APP;
  return { status: 200, body: TEMPLATE };
}

const GIT_ENV = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', PATH: process.env.PATH };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } }).trim();
}

/** A repository with one commit, and the user's work in progress: one change staged, one not. */
function parentRepository(): string {
  const repo = realpathSync(temporaryDir());
  git(repo, 'init', '-q');
  git(
    repo,
    '-c',
    'user.name=t',
    '-c',
    'user.email=t@example.com',
    'commit',
    '-q',
    '--allow-empty',
    '-m',
    'start',
  );
  writeFileSync(join(repo, 'staged.txt'), 'staged\n');
  git(repo, 'add', 'staged.txt');
  writeFileSync(join(repo, 'unstaged.txt'), 'unstaged\n');
  return repo;
}

describe('pave init inside an existing git work tree', () => {
  it('commits nothing there, creates no repository, and says so', async () => {
    const repo = parentRepository();
    const head = git(repo, 'rev-parse', 'HEAD');
    const server = await fakeServer(answerInit);
    const dir = join(repo, 'services', 'orders');
    const io = fakeIo({ env: GIT_ENV });
    expect(
      await runCli(cliArgs(server.url, 'init', 'node-http', dir, '--no-deploy'), io),
      io.stderr.text,
    ).toBe(0);

    expect(existsSync(join(dir, 'score.yaml'))).toBe(true);
    // The enclosing repository's branch did not move; the user's changes are as they were.
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(head);
    expect(git(repo, 'status', '--porcelain')).toBe('A  staged.txt\n?? services/\n?? unstaged.txt');
    expect(existsSync(join(dir, '.git'))).toBe(false);
    expect(io.stdout.text).toContain(
      `${dir} is inside the git repository at ${repo}: not creating one; commit it there yourself\n`,
    );
    expect(io.stdout.text).toContain(`Wrote 1 files to ${dir} (template node-http version 2)\n`);
    expect(io.stdout.text).not.toContain('committed');
  });

  it('says so in the dry run, which lists no git command', async () => {
    const repo = parentRepository();
    const server = await fakeServer(answerInit);
    const dir = join(repo, 'orders');
    const io = fakeIo({ env: GIT_ENV });
    expect(await runCli(cliArgs(server.url, 'init', 'node-http', dir, '--dry-run'), io), io.stderr.text).toBe(
      0,
    );

    expect(io.stdout.text).not.toMatch(/^ {2}git /mu);
    expect(io.stdout.text).toContain(
      `${dir} is inside the git repository at ${repo}: would not create one; commit it there yourself\n`,
    );
    expect(existsSync(dir)).toBe(false);
  });
});

describe('pave init into a directory the enclosing repository ignores', () => {
  it('makes it a repository of its own, as cargo new does, and leaves the enclosing one alone', async () => {
    const repo = parentRepository();
    writeFileSync(join(repo, '.gitignore'), 'generated/\n');
    const head = git(repo, 'rev-parse', 'HEAD');
    const server = await fakeServer(answerInit);
    const dir = join(repo, 'generated', 'orders');
    const io = fakeIo({ env: GIT_ENV });
    expect(
      await runCli(cliArgs(server.url, 'init', 'node-http', dir, '--no-deploy'), io),
      io.stderr.text,
    ).toBe(0);

    expect(git(dir, 'rev-parse', '--show-toplevel')).toBe(dir);
    expect(git(dir, 'log', '--format=%s')).toBe('Generated from template node-http version 2 by pave init');
    expect(git(repo, 'rev-parse', 'HEAD')).toBe(head);
  });
});

describe('pave init outside any git work tree', () => {
  it('makes the new directory a repository of its own with one commit', async () => {
    const dir = join(realpathSync(temporaryDir()), 'orders');
    const server = await fakeServer(answerInit);
    const io = fakeIo({ env: GIT_ENV });
    expect(
      await runCli(cliArgs(server.url, 'init', 'node-http', dir, '--no-deploy'), io),
      io.stderr.text,
    ).toBe(0);

    expect(git(dir, 'rev-parse', '--show-toplevel')).toBe(dir);
    expect(git(dir, 'log', '--format=%an <%ae>|%s').split('\n')).toEqual([
      'Pave <pave@localhost>|Generated from template node-http version 2 by pave init',
    ]);
    expect(git(dir, 'status', '--porcelain')).toBe('');
    expect(io.stdout.text).toContain(`Wrote 1 files to ${dir} and committed them`);
  });

  it('lists git init, add and commit in the dry run', async () => {
    const dir = join(temporaryDir(), 'orders');
    const server = await fakeServer(answerInit);
    const io = fakeIo({ env: GIT_ENV });
    expect(await runCli(cliArgs(server.url, 'init', 'node-http', dir, '--dry-run'), io), io.stderr.text).toBe(
      0,
    );

    expect(io.stdout.text).toContain(
      `Would run in ${dir}:\n  git init\n  git add -A\n` +
        '  git commit -m "Generated from template node-http version 2 by pave init"\n',
    );
  });
});
