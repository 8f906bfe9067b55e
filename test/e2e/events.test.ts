import { spawn } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventPage, PaveEvent } from '@pave/core';
import { makeAppDir } from '../support/app-dir.ts';
import {
  clientEnv,
  PAVE_BIN,
  runPave,
  shortenStabilityWindow,
  startPave,
  type PaveProcess,
} from '../support/pave.ts';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';

// Two workloads printing a line every 100 ms; the test deploys one of them.
const FIXTURE = fileURLToPath(new URL('../fixtures/two-tickers', import.meta.url));

describe('pave events through the real CLI and server', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let appDir: string;
  const canary = `canary-${Math.random().toString(36).slice(2)}`;
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir, '--event-retention', '7d']);
    await shortenStabilityWindow(server.url, location.dataDir);
    appDir = makeAppDir('pave-events-');
    cpSync(FIXTURE, appDir, { recursive: true });
    expect((await pave('apps', 'create', 'shop')).code).toBe(0);
    expect((await pave('envs', 'create', 'dev', '--app', 'shop', '--type', 'development')).code).toBe(0);
    const set = await pave(
      'values',
      'set',
      `API_TOKEN=${canary}`,
      '--secret',
      '--app',
      'shop',
      '--env',
      'dev',
    );
    expect(set.code, set.stderr).toBe(0);
    const deploy = await pave(
      ...['deploy', '-f', join(appDir, 'alpha.score.yaml'), '--app', 'shop', '--env', 'dev', '--wait'],
    );
    expect(deploy.code, deploy.stderr + deploy.stdout).toBe(0);
  });
  afterAll(async () => {
    await pave('apps', 'delete', 'shop', '--force');
    await server?.stop();
    await location?.cleanup();
    rmSync(appDir, { recursive: true, force: true });
  });

  it('-o json lists what happened, in order, with key names and never a secret value', async () => {
    const result = await pave('events', '--app', 'shop', '-o', 'json');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain(canary);
    const page = JSON.parse(result.stdout) as EventPage;
    expect(page.items.map((event) => event.type)).toEqual([
      'environment.created',
      'values.changed',
      'deployment.queued',
      'deployment.started',
      'deployment.succeeded',
    ]);
    expect(page.items[1]).toMatchObject({ env: 'dev', data: { set: ['API_TOKEN'], version: 1 } });
    expect(page.nextAfter).toBe(page.items.at(-1)!.id);

    const table = await pave('events', '--app', 'shop', '--type', 'deployment.succeeded');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^ID +TIME +TYPE +APP\/ENV +ACTOR +SUMMARY$/m);
    expect(table.stdout).toMatch(/deployment\.succeeded +shop\/dev +admin +deployment \d+ \(deploy\)/);
  });

  it('refuses a malformed option before asking the server, naming it', async () => {
    const result = await pave('events', '--type', 'deployment.exploded');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('--type');
  });

  it('-f prints an event that happens while it follows, as JSON lines', async () => {
    const last = (JSON.parse((await pave('events', '-o', 'json', '--limit', '1000')).stdout) as EventPage)
      .nextAfter!;
    const child = spawn(
      process.execPath,
      [PAVE_BIN, 'events', '--app', 'shop', '--after', last, '-f', '-o', 'json'],
      { env: { ...process.env, ...clientEnv(server.url, location.dataDir), NO_COLOR: '1' } },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(output).toBe('');
    const created = await pave('envs', 'create', 'pr-7', '--app', 'shop', '--type', 'development');
    expect(created.code, created.stderr).toBe(0);
    for (let waited = 0; !output.includes('\n') && waited < 10_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const followed = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as PaveEvent);
    expect(followed).toHaveLength(1);
    expect(followed[0]).toMatchObject({ type: 'environment.created', app: 'shop', env: 'pr-7' });
  });

  it('-f keeps following across a restart of pave up, missing nothing', async () => {
    const last = (JSON.parse((await pave('events', '-o', 'json', '--limit', '1000')).stdout) as EventPage)
      .nextAfter!;
    const child = spawn(
      process.execPath,
      [PAVE_BIN, 'events', '--app', 'shop', '--after', last, '-f', '-o', 'json'],
      { env: { ...process.env, ...clientEnv(server.url, location.dataDir), NO_COLOR: '1' } },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const lines = () => output.split('\n').length - 1;
    const waitForLines = async (count: number) => {
      for (let waited = 0; lines() < count && waited < 15_000; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    // An event the stream delivers shows it is connected (a slow start of the CLI would otherwise still be
    // connecting when the server stops, which -f reports at once as a server it cannot reach).
    const before = await pave('envs', 'create', 'before-restart', '--app', 'shop', '--type', 'development');
    expect(before.code, before.stderr).toBe(0);
    await waitForLines(1);
    expect(lines(), output).toBe(1);
    const port = new URL(server.url).port;
    await server.stop();
    server = await startPave(['--data-dir', location.dataDir, '--port', port]);
    expect(new URL(server.url).port).toBe(port);
    const created = await pave('envs', 'create', 'after-restart', '--app', 'shop', '--type', 'development');
    expect(created.code, created.stderr).toBe(0);
    await waitForLines(2);
    expect(child.exitCode, output).toBe(null);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const followed = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as PaveEvent);
    expect(followed.map((event) => `${event.type} ${event.env}`)).toEqual([
      'environment.created before-restart',
      'environment.created after-restart',
    ]);
  }, 60_000);
});
