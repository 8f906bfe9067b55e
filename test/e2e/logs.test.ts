import { spawn } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { LogEvent } from '@pave/core';
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

// Two workloads, alpha and beta, each printing `NAME n` every 100 ms: their lines interleave in time.
const FIXTURE = fileURLToPath(new URL('../fixtures/two-tickers', import.meta.url));
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

describe('pave logs on the process runtime: --tail across workloads, --timestamps, --since', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let appDir: string;
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));
  const logs = (...args: string[]) => pave('logs', '--app', 'shop', '--env', 'dev', ...args);
  const events = async (...args: string[]): Promise<LogEvent[]> => {
    const result = await logs(...args, '-o', 'json');
    expect(result.code, result.stderr).toBe(0);
    return result.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as LogEvent);
  };

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
    await shortenStabilityWindow(server.url, location.dataDir);
    appDir = makeAppDir('pave-logs-');
    cpSync(FIXTURE, appDir, { recursive: true });
    expect((await pave('apps', 'create', 'shop')).code).toBe(0);
    expect((await pave('envs', 'create', 'dev', '--app', 'shop', '--type', 'development')).code).toBe(0);
    const deploy = await pave(
      'deploy',
      ...['-f', join(appDir, 'alpha.score.yaml'), '-f', join(appDir, 'beta.score.yaml')],
      ...['--app', 'shop', '--env', 'dev', '--wait'],
    );
    expect(deploy.code, deploy.stderr + deploy.stdout).toBe(0);
    // Enough lines of each that the last five overall are a small part of either's log.
    await new Promise((resolve) => setTimeout(resolve, 1500));
  });
  afterAll(async () => {
    await pave('apps', 'delete', 'shop', '--force');
    await server?.stop();
    await location?.cleanup();
    rmSync(appDir, { recursive: true, force: true });
  });

  it('--tail 5 prints exactly five lines, the last of both workloads merged in time order', async () => {
    const text = await logs('--tail', '5');
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(line).toMatch(/^(alpha|beta)\/main +\| (alpha|beta) \d+$/);

    const last = await events('--tail', '5');
    expect(last).toHaveLength(5);
    const times = last.map((event) => Date.parse(event.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(last.map((event) => event.workload))).toEqual(new Set(['alpha', 'beta']));
    // Nothing either workload printed before the fifth-last line overall is missing from the five: each
    // workload's lines among them are its newest, one after the other.
    for (const workload of ['alpha', 'beta']) {
      const counts = last.filter((event) => event.workload === workload).map((event) => lineNumber(event));
      expect(counts).toEqual(counts.map((_, index) => (counts[0] ?? 0) + index));
    }
  });

  it('--tail counts one workload alone when WORKLOAD is given', async () => {
    const beta = await events('beta', '--tail', '3');
    expect(beta.map((event) => event.workload)).toEqual(['beta', 'beta', 'beta']);
  });

  it('says a workload the environment does not have has no logs, naming the ones it has, exit 1', async () => {
    const result = await logs('nosuch');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('workload "nosuch" of shop/dev not found: it has no logs');
    expect(result.stderr).toMatch(/the environment's workloads: \w+, \w+/);
  });

  it('-f goes on from the last lines without a gap or a repeat, until interrupted', async () => {
    const child = spawn(
      process.execPath,
      [PAVE_BIN, 'logs', '--app', 'shop', '--env', 'dev', '--tail', '4', '-f', '-o', 'json'],
      { env: { ...process.env, ...clientEnv(server.url, location.dataDir), NO_COLOR: '1' } },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Until enough lines of both have come (the tickers print ten a second each), however long the CLI takes
    // to start on a busy machine; then interrupted.
    const enough = () => {
      const lines = output.split('\n').filter((line) => line.endsWith('}'));
      return ['alpha', 'beta'].every(
        (workload) => lines.filter((line) => line.includes(`"workload":"${workload}"`)).length > 6,
      );
    };
    for (let waited = 0; waited < 15_000 && !enough(); waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGINT');
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
    const followed = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LogEvent);
    expect(followed.length).toBeGreaterThan(10);
    for (const workload of ['alpha', 'beta']) {
      const counts = followed
        .filter((event) => event.workload === workload)
        .map((event) => lineNumber(event));
      expect(counts.length, workload).toBeGreaterThan(3);
      expect(counts, `${workload}: every line once, in order`).toEqual(
        counts.map((_, index) => (counts[0] ?? 0) + index),
      );
    }
  });

  it('ends a followed stream once its token is revoked or its role taken away, sending nothing after', async () => {
    const admin = readFileSync(join(location.dataDir, 'admin.token'), 'utf8').trim();
    const api = async (method: string, path: string, body?: object, token = admin) => {
      const response = await fetch(`${server.url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      expect(response.ok, `${method} ${path}: ${response.status} ${await response.clone().text()}`).toBe(
        true,
      );
      return response.status === 204 ? undefined : ((await response.json()) as Record<string, string>);
    };
    await api('POST', '/users', { username: 'watcher', kind: 'service' });
    await api('POST', '/roles', { role: 'viewer', user: 'watcher', app: 'shop' });
    /** Follows the logs with `token` until `cutOff` has run and the stream ended (or 10 s passed). */
    const follow = async (token: string, cutOff: () => Promise<unknown>) => {
      const response = await fetch(`${server.url}/api/v1/apps/shop/envs/dev/logs?follow=true&tail=0`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(10_000),
      });
      expect(response.status).toBe(200);
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      const read = async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          text += value;
        }
      };
      const reading = read().catch((error: Error) => (text += `\n(stopped: ${error.name})`));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const before = text;
      await cutOff();
      await reading;
      return { before, after: text.slice(before.length) };
    };
    const events = (text: string) => [...text.matchAll(/^event: (\w+)$/gm)].map((match) => match[1]);

    const revoked = await api('POST', '/tokens', { name: 'watch', user: 'watcher' });
    // Its holder revokes it (an admin revokes only their own tokens).
    const byToken = await follow(revoked!.token!, () =>
      api('DELETE', `/tokens/${revoked!.id}`, undefined, revoked!.token),
    );
    expect(events(byToken.before)).toContain('log');
    const tokenEnd = events(byToken.after);
    expect(byToken.after, 'the stream ends, saying why').toMatch(/revoked/);
    expect(tokenEnd.slice(tokenEnd.indexOf('error'))).toEqual(['error']);
    expect(tokenEnd.filter((event) => event === 'log').length).toBeLessThan(30);

    const kept = await api('POST', '/tokens', { name: 'watch-2', user: 'watcher' });
    const byRole = await follow(kept!.token!, () =>
      api('POST', '/roles/revoke', { role: 'viewer', user: 'watcher', app: 'shop' }),
    );
    expect(events(byRole.before)).toContain('log');
    const roleEnd = events(byRole.after);
    expect(roleEnd.slice(roleEnd.indexOf('error'))).toEqual(['error']);
    expect(byRole.after).toMatch(/not found|may not/);
    await api('DELETE', '/users/watcher');
  }, 40_000);

  it("masks the environment's secrets in its logs for a caller who may not reveal them", async () => {
    const admin = readFileSync(join(location.dataDir, 'admin.token'), 'utf8').trim();
    const secret = `s3cr3t-${Math.random().toString(36).slice(2)}`;
    writeFileSync(
      join(appDir, 'gamma.score.yaml'),
      [
        'apiVersion: score.dev/v1b1',
        'metadata: { name: gamma }',
        'containers:',
        '  main:',
        '    image: node:20',
        "    command: ['node', 'ticker.js']",
        '    variables:',
        '      NAME: token=${resources.env.TOKEN}',
        'resources:',
        '  env: { type: environment }',
        '',
      ].join('\n'),
    );
    expect((await pave('envs', 'create', 'prod', '--app', 'shop', '--type', 'production')).code).toBe(0);
    const set = await pave('values', 'set', `TOKEN=${secret}`, '--secret', '--app', 'shop', '--env', 'prod');
    expect(set.code, set.stderr).toBe(0);
    const deploy = await pave(
      ...['deploy', '-f', join(appDir, 'gamma.score.yaml'), '--app', 'shop', '--env', 'prod', '--wait'],
    );
    expect(deploy.code, deploy.stderr + deploy.stdout).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const post = (path: string, body: object) =>
      fetch(`${server.url}/api/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (response) => {
        expect(response.ok, await response.clone().text()).toBe(true);
        return (await response.json()) as { token: string };
      });
    await post('/users', { username: 'prod-reader', kind: 'service' });
    await post('/roles', { role: 'developer', user: 'prod-reader', app: 'shop' });
    const developer = (await post('/tokens', { name: 'read', user: 'prod-reader' })).token;
    const lines = async (token: string) => {
      const response = await fetch(`${server.url}/api/v1/apps/shop/envs/prod/logs?tail=5`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
      return [...(await response.text()).matchAll(/^data: (.*)$/gm)]
        .map((match) => JSON.parse(match[1]!) as Partial<LogEvent>)
        .flatMap((event) => (event.line === undefined ? [] : [event.line]));
    };
    const masked = await lines(developer);
    expect(masked).toHaveLength(5);
    for (const line of masked) expect(line).toMatch(/^token=\*\*\* \d+$/);
    const shown = await lines(admin);
    for (const line of shown) expect(line).toMatch(new RegExp(`^token=${secret} \\d+$`));
    expect((await pave('envs', 'delete', 'prod', '--app', 'shop', '--force')).code).toBe(0);
  }, 60_000);

  it('--timestamps starts each line with the time it was printed', async () => {
    const text = await logs('--tail', '4', '--timestamps');
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      const [time, rest] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
      expect(time).toMatch(RFC3339);
      expect(Math.abs(Date.now() - Date.parse(time))).toBeLessThan(60_000);
      expect(rest).toMatch(/^(alpha|beta)\/main +\| (alpha|beta) \d+$/);
    }
  });

  it('--since an RFC 3339 time drops every line printed before it', async () => {
    const recent = await events('--tail', '20');
    const oldest = recent[0]!;
    const from = recent.slice(10).find((event) => Date.parse(event.at) > Date.parse(oldest.at))!;
    const since = await events('--since', from.at, '--tail', '1000');
    expect(since.length).toBeGreaterThanOrEqual(10);
    expect(since.every((event) => Date.parse(event.at) >= Date.parse(from.at))).toBe(true);
    expect(since).toContainEqual(from);
    expect(since).not.toContainEqual(oldest);
    // The first lines each workload printed are long gone from a window starting a moment ago.
    expect(since.some((event) => lineNumber(event) === 1)).toBe(false);
  });

  it('--since a duration keeps only the lines of that last stretch of time', async () => {
    const all = await events('--tail', '10000');
    const startedAt = Date.now();
    const lastSecond = await events('--since', '1s', '--tail', '10000');
    expect(all.some((event) => lineNumber(event) === 1)).toBe(true);
    expect(lastSecond.length).toBeGreaterThan(0);
    expect(lastSecond.length).toBeLessThan(all.length);
    for (const event of lastSecond) expect(Date.parse(event.at)).toBeGreaterThanOrEqual(startedAt - 2_000);
  });

  it('refuses a --since that is neither a duration nor a time, naming the flag and both forms', async () => {
    const result = await logs('--since', 'yesterday');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--since: "yesterday" is neither a duration nor a time');
    expect(result.stderr).toContain('RFC 3339');
  });

  it('the API answers a since that is not an RFC 3339 time with a 400 naming the parameter', async () => {
    const token = readFileSync(join(location.dataDir, 'admin.token'), 'utf8').trim();
    const response = await fetch(`${server.url}/api/v1/apps/shop/envs/dev/logs?since=10m`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: Array<{ path: string; message: string }> };
    expect(problem.errors).toEqual([expect.objectContaining({ path: expect.stringContaining('since') })]);
  });

  it('-o yaml prints one YAML document per line, the same events as -o json', async () => {
    const since = (await events('--tail', '6'))[0]!.at;
    const json = await events('--since', since, '--tail', '1000');
    const yaml = await logs('--since', since, '--tail', '1000', '-o', 'yaml');
    expect(yaml.code, yaml.stderr).toBe(0);
    expect(yaml.stdout.startsWith('---\n')).toBe(true);
    const documents = parseAllDocuments(yaml.stdout);
    if (!Array.isArray(documents)) throw new Error('-o yaml printed no YAML documents');
    // The tickers kept printing between the two reads: the YAML has the JSON's events and newer ones. Each
    // workload's lines reach the store on their own, so a newer one may fall between two the JSON had (seen
    // on a loaded machine): compared as events, not as a prefix.
    const printed = documents.map((document) => document.toJS() as LogEvent);
    expect(printed.length).toBeGreaterThanOrEqual(json.length);
    expect(printed).toEqual(expect.arrayContaining(json));
  });
});

function lineNumber(event: LogEvent): number {
  return Number(event.line.split(' ')[1]);
}
