import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvType } from '../../packages/core/src/index.ts';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';

describe('the stability window of an environment type through `pave env-types` against a real `pave up`', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));
  const ok = async (...args: string[]) => {
    const done = await pave(...args);
    expect(done.code, done.stderr + done.stdout).toBe(0);
    return done;
  };
  const stored = async (id: string) =>
    JSON.parse((await ok('env-types', 'get', id, '-o', 'json')).stdout) as EnvType;

  beforeAll(async () => {
    location = await createTestStoreLocation('postgres');
    server = await startPave(['--data-dir', location.dataDir, '--store', location.url!]);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await location?.cleanup();
  });

  it('sets, turns off and resets the window, showing the default where none is set', async () => {
    await ok('env-types', 'create', 'soak', '--min-ready', '2m');
    expect((await stored('soak')).minReadySeconds).toBe(120);

    expect((await ok('env-types', 'update', 'production', '--min-ready', '30s')).stdout).toBe(
      'Updated environment type production: min ready 30s\n',
    );
    await ok('env-types', 'update', 'development', '--min-ready', '0');
    expect((await stored('development')).minReadySeconds).toBe(0);
    const list = (await ok('env-types', 'list')).stdout;
    expect(list).toMatch(/^production .* yes +- +30s +pave /m);
    expect(list).toMatch(/^development .* - +- +0s +pave /m);
    expect(list).toMatch(/^staging .* - +- +5s \(default\) +pave /m);

    await ok('env-types', 'update', 'production', '--min-ready', 'default');
    expect((await stored('production')).minReadySeconds).toBeNull();
    const audit = JSON.parse((await ok('audit', '-o', 'json')).stdout) as {
      items: Array<{ action: string; actor: string; summary: unknown }>;
    };
    expect(audit.items.find((entry) => entry.action === 'env-type.update')).toMatchObject({
      actor: 'admin',
      summary: { id: 'production', changes: { minReadySeconds: { from: 30, to: null } } },
    });
  });

  it('refuses a window over 1h naming the flag, and a type that does not exist, changing nothing', async () => {
    const tooLong = await pave('env-types', 'update', 'production', '--min-ready', '61m');
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toContain('--min-ready: "61m" is too long; use at most 1h');
    const missing = await pave('env-types', 'update', 'nope', '--min-ready', '10s');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('environment type "nope" not found');
    expect((await stored('production')).minReadySeconds).toBeNull();
  });
});
