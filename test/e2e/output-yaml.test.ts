import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { makeAppDir } from '../support/app-dir.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/two-tickers', import.meta.url));

describe('-o yaml prints the same data as -o json, through the real CLI and server', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let appDir: string;
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));
  /** Runs `args` with -o json and with -o yaml; both must succeed and print the same data. */
  const sameData = async (...args: string[]): Promise<unknown> => {
    const json = await pave(...args, '-o', 'json');
    expect(json.code, `${args.join(' ')} -o json: ${json.stderr}`).toBe(0);
    const yaml = await pave(...args, '-o', 'yaml');
    expect(yaml.code, `${args.join(' ')} -o yaml: ${yaml.stderr}`).toBe(0);
    expect(yaml.stdout.trimStart().startsWith('{'), 'block YAML, not JSON').toBe(false);
    const data = JSON.parse(json.stdout) as unknown;
    expect(parse(yaml.stdout), args.join(' ')).toEqual(data);
    return data;
  };

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
    await shortenStabilityWindow(server.url, location.dataDir);
    appDir = makeAppDir('pave-yaml-');
    cpSync(FIXTURE, appDir, { recursive: true });
    expect((await pave('apps', 'create', 'shop')).code).toBe(0);
    expect((await pave('envs', 'create', 'dev', '--app', 'shop', '--type', 'development')).code).toBe(0);
  });
  afterAll(async () => {
    await pave('apps', 'delete', 'shop', '--force');
    await server?.stop();
    await location?.cleanup();
    rmSync(appDir, { recursive: true, force: true });
  });

  it('lists and gets: apps, environments, environment types, targets, whoami, audit verify', async () => {
    expect(await sameData('apps', 'list')).toMatchObject({
      items: [expect.objectContaining({ id: 'shop' })],
    });
    await sameData('envs', 'list', '--app', 'shop');
    await sameData('env-types', 'list');
    await sameData('targets', 'list');
    await sameData('whoami');
    expect(await sameData('audit', 'verify')).toMatchObject({ ok: true });
  });

  it('values: set prints the change, list and export print the values', async () => {
    const set = await pave('values', 'set', 'GREETING=hello: world', '--app', 'shop', '-o', 'yaml');
    expect(set.code, set.stderr).toBe(0);
    expect(parse(set.stdout)).toBeTypeOf('object');
    const list = (await sameData('values', 'list', '--app', 'shop')) as { items: Array<{ key: string }> };
    expect(list.items.map((item) => item.key)).toContain('GREETING');
    const exported = await pave('values', 'export', '--app', 'shop', '-o', 'yaml');
    expect(exported.code, exported.stderr).toBe(0);
    expect(parse(exported.stdout)).toEqual(list);
  });

  it('deploy --wait prints the finished deployment as YAML, as it does as JSON', async () => {
    const files = ['-f', join(appDir, 'alpha.score.yaml'), '-f', join(appDir, 'beta.score.yaml')];
    const deployed = await pave('deploy', ...files, '--app', 'shop', '--env', 'dev', '--wait', '-o', 'yaml');
    expect(deployed.code, deployed.stderr).toBe(0);
    const detail = parse(deployed.stdout) as { id: string; status: string };
    expect(detail.status).toBe('succeeded');
    const shown = (await sameData('deployments', 'get', detail.id, '--app', 'shop', '--env', 'dev')) as {
      id: string;
    };
    expect(shown.id).toBe(detail.id);
    await sameData('deployments', 'list', '--app', 'shop', '--env', 'dev');
  });
});
