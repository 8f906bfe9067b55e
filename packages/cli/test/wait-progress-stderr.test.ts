import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeploymentDetail, Environment, JournalEntry } from '@pave/core';
import { runCli } from '../src/program.ts';
import { cliArgs, deploymentDetail, fakeIo, fakeServer, temporaryDir } from './helpers.ts';

const ESC = '\u001b[';

const journal: JournalEntry[] = [
  {
    id: 1,
    at: '2025-01-31T09:30:01.000Z',
    step: 'wait ready',
    workload: 'web',
    status: 'succeeded',
    message: 'web is ready',
  },
];
const queued = deploymentDetail({ status: 'queued', finishedAt: null });
const succeeded: DeploymentDetail = deploymentDetail({
  status: 'succeeded',
  finishedAt: '2025-01-31T09:30:02.000Z',
  journal,
});

// A server that queues deployment 17 and answers it finished when asked about it.
function deployingServer() {
  return fakeServer(({ method }) =>
    method === 'POST' ? { status: 202, body: queued } : { status: 200, body: succeeded },
  );
}

function scoreFile(): string {
  const file = join(temporaryDir(), 'score.yaml');
  writeFileSync(
    file,
    'apiVersion: score.dev/v1b1\nmetadata:\n  name: web\ncontainers:\n  main:\n    image: nginx\n',
  );
  return file;
}

// fakeIo with stderr a terminal or not; stdout is never one here (a script's pipe, or a file).
function io(options: { stderrTTY: boolean; env?: Record<string, string> }) {
  const made = fakeIo({ env: options.env ?? {} });
  made.stderr.isTTY = options.stderrTTY;
  return made;
}

describe('the progress of --wait is written to stderr', () => {
  const deploy = (url: string, file: string, ...extra: string[]) =>
    cliArgs(url, 'deploy', '-f', file, '--app', 'shop', '--env', 'dev', '--wait', ...extra);

  it('for people: the queued line and the journal on stderr, how it ended on stdout', async () => {
    const server = await deployingServer();
    const run = io({ stderrTTY: false });
    expect(await runCli(deploy(server.url, scoreFile()), run)).toBe(0);
    expect(run.stderr.text).toContain('Deployment 17 queued for shop/dev\n');
    expect(run.stderr.text).toMatch(/wait ready +web +succeeded +web is ready\n/);
    expect(run.stdout.text).toBe('Deployment 17 succeeded in 1.0s: shop/dev is up to date\n');
  });

  it('with -o json: stdout is the JSON alone; progress on stderr only when stderr is a terminal', async () => {
    const server = await deployingServer();
    const file = scoreFile();
    const piped = io({ stderrTTY: false });
    expect(await runCli(deploy(server.url, file, '-o', 'json'), piped)).toBe(0);
    expect(JSON.parse(piped.stdout.text)).toEqual(succeeded);
    expect(piped.stderr.text).toBe('');

    const watched = io({ stderrTTY: true, env: { NO_COLOR: '1' } });
    expect(await runCli(deploy(server.url, file, '-o', 'json'), watched)).toBe(0);
    expect(JSON.parse(watched.stdout.text)).toEqual(succeeded);
    expect(watched.stderr.text).toContain('Deployment 17 queued for shop/dev\n');
    expect(watched.stderr.text).toMatch(/wait ready +web +succeeded +web is ready\n/);
  });

  it('coloured when stderr is a terminal, plain with NO_COLOR', async () => {
    const server = await deployingServer();
    const file = scoreFile();
    const coloured = io({ stderrTTY: true });
    expect(await runCli(deploy(server.url, file), coloured)).toBe(0);
    expect(coloured.stderr.text).toContain(ESC);
    expect(coloured.stdout.text).not.toContain(ESC);

    const plain = io({ stderrTTY: true, env: { NO_COLOR: '1' } });
    expect(await runCli(deploy(server.url, file), plain)).toBe(0);
    expect(plain.stderr.text).not.toContain(ESC);
    expect(plain.stderr.text).toMatch(/wait ready +web +succeeded +web is ready\n/);
  });

  it('pave rollback --wait, pave promote --wait and pave envs create --wait too', async () => {
    const environment: Environment = {
      appId: 'shop',
      id: 'pr-1',
      type: 'development',
      createdBy: 'alice',
      createdAt: '2025-01-31T09:30:00.000Z',
      expiresAt: null,
    };
    const server = await fakeServer(({ method, url }) => {
      if (method === 'POST' && url.endsWith('/envs')) return { status: 201, body: environment };
      if (method === 'POST') return { status: 202, body: queued };
      if (url.includes('/deployments?') || url.endsWith('/deployments')) {
        return { status: 200, body: { items: [queued], nextCursor: null } };
      }
      return { status: 200, body: succeeded };
    });
    for (const args of [
      ['rollback', '--app', 'shop', '--env', 'dev', '--wait'],
      ['promote', '--app', 'shop', '--from', 'dev', '--to', 'prod', '--wait'],
      ['envs', 'create', 'pr-1', '--app', 'shop', '--type', 'development', '--from', 'dev', '--wait'],
    ]) {
      const run = io({ stderrTTY: false });
      expect(await runCli(cliArgs(server.url, ...args), run), run.stderr.text).toBe(0);
      expect(run.stderr.text).toMatch(/wait ready +web +succeeded +web is ready\n/);
      expect(run.stdout.text).not.toContain('web is ready');
      expect(run.stdout.text).toContain('Deployment 17 succeeded');
    }
  });
});
