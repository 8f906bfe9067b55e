import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvironmentStatus, ValuesDiff } from '@pave/core';
import { createTestStoreLocation, storeEngines, type TestStoreLocation } from '../support/stores.ts';
import {
  clientEnv,
  runPave,
  shortenStabilityWindow,
  startPave,
  type CliResult,
  type PaveProcess,
} from '../support/pave.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/config-app/api.score.yaml', import.meta.url));

async function answer(url: string): Promise<string> {
  try {
    return (await (await fetch(url, { signal: AbortSignal.timeout(3000) })).text()).trim();
  } catch (error) {
    return `no answer (${(error as Error).message})`;
  }
}

/** Every regular file under `dir`, recursively (a socket, such as the process runtime's, holds no data). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

describe.each(storeEngines)('values and secrets on %s', (engine) => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  /** Everything the CLI printed, i.e. every API response it showed, except the one explicit reveal. */
  const transcript: string[] = [];
  const env = () => clientEnv(server.url, location.dataDir);
  const pave = async (...args: string[]): Promise<CliResult> => {
    const result = await runPave(args, env());
    // What Pave printed back (not the command line, which holds what the test typed).
    transcript.push(`${result.stdout}\n${result.stderr}`);
    return result;
  };
  const ok = async (...args: string[]) => {
    const result = await pave(...args);
    expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
    return result;
  };
  const url = async (envId: string, path = '/') => {
    const status = JSON.parse(
      (await ok('status', '--app', 'shop', '--env', envId, '-o', 'json')).stdout,
    ) as EnvironmentStatus;
    return `${status.workloads[0]?.urls[0] ?? 'http://127.0.0.1:1'}${path}`;
  };
  const marker = `canary-${randomUUID()}`;

  beforeAll(async () => {
    location = await createTestStoreLocation(engine);
    server = await startPave([
      '--data-dir',
      location.dataDir,
      ...(location.url ? ['--store', location.url] : []),
    ]);
    await shortenStabilityWindow(server.url, location.dataDir);
    await ok('apps', 'create', 'shop');
    await ok('envs', 'create', 'dev', '--app', 'shop', '--type', 'development');
    await ok('envs', 'create', 'prod', '--app', 'shop', '--type', 'production');
  });
  afterAll(async () => {
    await runPave(['apps', 'delete', 'shop', '--force'], env());
    await server?.stop();
    await location?.cleanup();
  });

  it('gives each environment its own value: app-level default, environment override', async () => {
    await ok('values', 'set', 'GREETING=hello', '--app', 'shop');
    await ok('values', 'set', `API_TOKEN=${marker}`, '--app', 'shop', '--secret');
    await ok('values', 'set', 'GREETING=hi', '--app', 'shop', '--env', 'prod');
    for (const envId of ['dev', 'prod']) {
      await ok('deploy', '-f', FIXTURE, '--app', 'shop', '--env', envId, '--wait');
    }
    expect(await answer(await url('dev'))).toBe('hello');
    expect(await answer(await url('prod'))).toBe('hi');
    const list = JSON.parse(
      (await ok('values', 'list', '--app', 'shop', '--env', 'prod', '-o', 'json')).stdout,
    );
    expect(list.items).toEqual([
      expect.objectContaining({ key: 'API_TOKEN', value: null, secret: true, source: 'app' }),
      expect.objectContaining({ key: 'GREETING', value: 'hi', secret: false, source: 'env' }),
    ]);
  });

  it('delivers the secret to the workload (checked by the hash it reports)', async () => {
    const expected = createHash('sha256').update(marker).digest('hex');
    expect(await answer(await url('prod', '/secret-hash'))).toBe(expected);
  });

  it('changes a value with --deploy and brings the old one back with pave rollback', async () => {
    await ok('values', 'set', 'GREETING=hey', '--app', 'shop', '--env', 'prod', '--deploy', '--wait');
    expect(await answer(await url('prod'))).toBe('hey');
    const diff = await ok('diff', '--app', 'shop', '--env', 'prod', '-o', 'json');
    expect(JSON.parse(diff.stdout).values).toEqual([
      { key: 'GREETING', action: 'changed', secret: false, from: 'hi', to: 'hey' },
    ]);
    await ok('rollback', '--app', 'shop', '--env', 'prod', '--wait');
    expect(await answer(await url('prod'))).toBe('hi');
    const list = JSON.parse(
      (await ok('values', 'list', '--app', 'shop', '--env', 'prod', '-o', 'json')).stdout,
    );
    expect(list.items.find((item: { key: string }) => item.key === 'GREETING').value).toBe('hi');
  });

  it('shows that a secret changed, never its value, in history and diff', async () => {
    await ok(
      'values',
      'set',
      `API_TOKEN=${marker}-rotated`,
      '--app',
      'shop',
      '--env',
      'dev',
      '--secret',
      '--deploy',
      '--wait',
    );
    const diff = JSON.parse((await ok('diff', '--app', 'shop', '--env', 'dev', '-o', 'json')).stdout);
    expect(diff.values).toEqual([{ key: 'API_TOKEN', action: 'changed', secret: true }]);
    await ok('diff', '--app', 'shop', '--env', 'dev');
    const history = JSON.parse(
      (await ok('values', 'history', '--app', 'shop', '--env', 'dev', '-o', 'json')).stdout,
    );
    expect(history.items[0].changes).toEqual([{ key: 'API_TOKEN', action: 'changed', secret: true }]);
    await ok('values', 'history', '--app', 'shop', '--env', 'dev');
    const compared = JSON.parse(
      (await ok('values', 'diff', '--app', 'shop', '--env', 'dev', '-o', 'json')).stdout,
    ) as ValuesDiff;
    expect(compared.to).toBe(history.items[0].version);
    expect(compared.keys.filter((key) => key.change !== 'unchanged')).toEqual([
      { key: 'API_TOKEN', change: 'changed', secret: true, from: null, to: null },
    ]);
    expect((await ok('values', 'diff', '--app', 'shop', '--env', 'dev')).stdout).toMatch(
      /API_TOKEN +changed +\(secret\) +\(secret\)/,
    );
    await ok('deployments', 'list', '--app', 'shop', '--env', 'dev', '-o', 'json');
    await ok('audit', '-o', 'json', '--limit', '200');
    await ok('values', 'list', '--app', 'shop');
  });

  it('fails the plan for a placeholder naming a missing value, at the file:line that uses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pave-missing-'));
    const file = join(dir, 'api.score.yaml');
    writeFileSync(
      file,
      readFileSync(FIXTURE, 'utf8').replace('${resources.env.GREETING}', '${resources.env.NO_SUCH_KEY}'),
    );
    const result = await pave('deploy', '-f', file, '--app', 'shop', '--env', 'dev', '--wait');
    rmSync(dir, { recursive: true, force: true });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /api\.score\.yaml:13:\d+: containers\.main\.variables\.GREETING: the environment has no value NO_SUCH_KEY/,
    );
  });

  it('refuses bad input without echoing it', async () => {
    expect((await pave('values', 'set', `1BAD=${marker}`, '--app', 'shop', '--secret')).code).not.toBe(0);
    expect((await pave('values', 'set', `API_TOKEN=${marker}`, '--app', 'nope', '--secret')).code).not.toBe(
      0,
    );
    expect((await pave('values', 'rollback', '99', '--app', 'shop', '--env', 'dev')).code).not.toBe(0);
    const word = await pave('values', 'diff', '--app', 'shop', '--env', 'dev', '--from', 'latest');
    expect(word.code).not.toBe(0);
    expect(word.stderr).toMatch(/--from: "latest" is not a values version/);
    const missing = await pave('values', 'diff', '--app', 'shop', '--env', 'dev', '--to', '99');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/shop\/dev has no values version 99/);
  });

  it('keeps every secret readable after rotate-master-key, and deployments still work', async () => {
    await ok('admin', 'rotate-master-key');
    // A restart drops every key cached in memory: the secrets must read with the rotated keys alone.
    await server.stop();
    server = await startPave([
      '--data-dir',
      location.dataDir,
      ...(location.url ? ['--store', location.url] : []),
    ]);
    await ok('deploy', '-f', FIXTURE, '--app', 'shop', '--env', 'prod', '--wait', '-m', 'after rotation');
    expect(await answer(await url('prod', '/secret-hash'))).toBe(
      createHash('sha256').update(marker).digest('hex'),
    );
    const reveal = await runPave(
      ['values', 'list', '--app', 'shop', '--env', 'prod', '--reveal', '-o', 'json'],
      env(),
    );
    expect(reveal.code).toBe(0);
    expect(reveal.stdout).toContain(marker);
  });

  it('leaks the secret nowhere: CLI output, API responses, logs, files, the store', async () => {
    const hits: string[] = [];
    for (const entry of transcript)
      if (entry.includes(marker)) hits.push(`transcript: ${entry.slice(0, 200)}`);
    if (server.output().includes(marker)) hits.push('pave up log output');
    for (const file of filesUnder(location.dataDir)) {
      if (readFileSync(file).includes(marker)) hits.push(`file ${file}`);
    }
    if (location.url) {
      const client = new pg.Client({ connectionString: location.url });
      await client.connect();
      try {
        const tables = await client.query(
          "select table_name from information_schema.tables where table_schema = 'public' order by table_name",
        );
        for (const { table_name: table } of tables.rows as Array<{ table_name: string }>) {
          const rows = await client.query(`select row_to_json(t)::text as row from "${table}" t`);
          for (const { row } of rows.rows as Array<{ row: string }>)
            if (row.includes(marker)) hits.push(`table ${table}`);
        }
      } finally {
        await client.end();
      }
    }
    const audit = await runPave(['audit', '-o', 'json', '--limit', '500'], env());
    if (audit.stdout.includes(marker)) hits.push('audit log');
    expect(hits).toEqual([]);
    expect(JSON.parse(audit.stdout).items.map((e: { action: string }) => e.action)).toContain(
      'values.reveal',
    );
  });
});
