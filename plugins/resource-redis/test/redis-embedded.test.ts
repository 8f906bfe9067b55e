import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeResourceDriverContract, testDriverContext } from '@pave/plugin-api/testing';
import type { ResourceInputs, ResourceOutputs } from '@pave/plugin-api';
import {
  EmbeddedRedisDriver,
  RedisServerDriver,
  embeddedRedisAdminUrl,
  resourceNames,
  stopEmbeddedRedis,
} from '../src/index.ts';
import {
  ADMIN_URL,
  UNREACHABLE_SOURCE,
  aclUserExists,
  embeddedInputs,
  keysUnder,
  rejection,
  serverInputs,
  uniqueScope,
  withClient,
} from './support.ts';

/** Whether the embedded server of `dataDir` has the ACL user `username`, asked of that server. */
async function embeddedUserExists(dataDir: string, username: string): Promise<boolean> {
  const adminUrl = await embeddedRedisAdminUrl(dataDir);
  return adminUrl !== null && (await aclUserExists(adminUrl, username));
}

function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'pave-redis-embedded-'));
}

const contractDir = tempDataDir();
const failingScope = uniqueScope();

describeResourceDriverContract('redis-embedded', {
  driver: () => EmbeddedRedisDriver.fromConfig({ dataDir: contractDir }),
  validInputs: () => embeddedInputs(uniqueScope()),
  invalidInputs: {
    inputs: { ...embeddedInputs(uniqueScope()), driverSecrets: { adminUrl: ADMIN_URL } },
    property: 'adminUrl',
  },
  exists: (id) => embeddedUserExists(contractDir, id),
  // The user is created first, then copying from the unreachable source fails: create must remove the user.
  failingCreate: {
    inputs: { ...embeddedInputs(failingScope), cloneFrom: UNREACHABLE_SOURCE },
    exists: () => embeddedUserExists(contractDir, resourceNames(failingScope).username),
  },
  cleanup: async () => {
    await stopEmbeddedRedis(contractDir);
    rmSync(contractDir, { recursive: true, force: true });
  },
});

describe('redis-embedded driver', () => {
  const ctx = testDriverContext();
  const dataDirs: string[] = [];
  const shared: Array<{ id: string; inputs: ResourceInputs }> = [];
  const serverDriver = RedisServerDriver.fromConfig();

  function dataDir(): string {
    const dir = tempDataDir();
    dataDirs.push(dir);
    return dir;
  }

  afterAll(async () => {
    for (const { id, inputs } of shared) await serverDriver.delete(id, inputs, ctx).catch(() => undefined);
    for (const dir of dataDirs) {
      await stopEmbeddedRedis(dir);
      rmSync(dir, { recursive: true, force: true });
    }
    rmSync(ctx.scratchDir, { recursive: true, force: true });
  });

  it('keeps users and data across a restart of its server, on the same port', async () => {
    const dir = dataDir();
    const driver = EmbeddedRedisDriver.fromConfig({ dataDir: dir });
    const inputs = embeddedInputs(uniqueScope());
    const { id, outputs } = await driver.create(inputs, ctx);
    const key = `${outputs.values.prefix}visits`;
    await withClient(outputs.secrets.url!, async (redis) => {
      await redis.set(key, '41');
      await redis.incr(key);
    });
    const state = JSON.parse(readFileSync(join(dir, 'resources/redis/state.json'), 'utf8')) as {
      pid: number;
    };
    // Its own process group: it does not stop with Pave's.
    expect(readFileSync(`/proc/${state.pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[2]).toBe(
      String(state.pid),
    );
    expect(statSync(join(dir, 'resources/redis/admin-password')).mode & 0o777).toBe(0o600);

    await stopEmbeddedRedis(dir);
    expect(await embeddedRedisAdminUrl(dir)).toBeNull();
    expect(await rejection(withClient(outputs.secrets.url!, (redis) => redis.ping()))).not.toBe('');

    expect(await driver.read(id, inputs, ctx)).toEqual({ outputs }); // starts it again
    await withClient(outputs.secrets.url!, async (redis) => expect(await redis.get(key)).toBe('42'));
  });

  it('starts one server when several calls need it at once', async () => {
    const dir = dataDir();
    const results = await Promise.all(
      [1, 2, 3].map(() =>
        EmbeddedRedisDriver.fromConfig({ dataDir: dir }).create(embeddedInputs(uniqueScope()), ctx),
      ),
    );
    expect(new Set(results.map((r) => r.outputs.values.port)).size).toBe(1);
    for (const { outputs } of results) {
      expect(await withClient(outputs.secrets.url!, (redis) => redis.ping())).toBe('PONG');
    }
  });

  it('isolates its users like the redis-server driver, and delete removes the user and its keys', async () => {
    const dir = dataDir();
    const driver = EmbeddedRedisDriver.fromConfig({ dataDir: dir });
    const app = uniqueScope().app;
    const a = await driver.create(embeddedInputs(uniqueScope({ app, env: 'dev' })), ctx);
    const b = await driver.create(embeddedInputs(uniqueScope({ app, env: 'prod' })), ctx);
    await withClient(b.outputs.secrets.url!, (redis) => redis.set(`${b.outputs.values.prefix}k`, 'b'));
    await withClient(a.outputs.secrets.url!, async (redis) => {
      await redis.set(`${a.outputs.values.prefix}k`, 'a');
      expect(await rejection(redis.get(`${b.outputs.values.prefix}k`))).toMatch(/NOPERM/);
      expect(await rejection(redis.flushall())).toMatch(/NOPERM/);
      expect(await rejection(redis.call('CONFIG', 'GET', '*'))).toMatch(/NOPERM/);
    });
    // Nobody gets in without a password.
    const port = a.outputs.values.port;
    expect(await rejection(withClient(`redis://127.0.0.1:${port}`, (redis) => redis.get('x')))).toMatch(
      /NOAUTH/,
    );

    await driver.delete(a.id, embeddedInputs(uniqueScope()), ctx);
    const adminUrl = (await embeddedRedisAdminUrl(dir))!;
    expect(await aclUserExists(adminUrl, a.id)).toBe(false);
    expect(await keysUnder(adminUrl, a.outputs.values.prefix!)).toEqual([]);
    expect(await keysUnder(adminUrl, b.outputs.values.prefix!)).toHaveLength(1);
  });

  it('copies a resource of another server (the shared Redis) into a new embedded one, where its URL may list keys', async () => {
    const app = uniqueScope().app;
    const sourceInputs = serverInputs(uniqueScope({ app, env: 'prod' }));
    const source = await serverDriver.create(sourceInputs, ctx);
    shared.push({ id: source.id, inputs: sourceInputs });
    await withClient(source.outputs.secrets.url!, async (redis) => {
      await redis.set(`${source.outputs.values.prefix}plan`, 'pro', 'EX', 300);
      await redis.sadd(`${source.outputs.values.prefix}tags`, 'a', 'b');
    });
    const dir = dataDir();
    const driver = EmbeddedRedisDriver.fromConfig({ dataDir: dir });
    // A source on a server whose URL may SCAN (one Pave does not manage users on) is copied.
    const scannable = { ...source.outputs, secrets: { ...source.outputs.secrets, url: ADMIN_URL } };
    const clone: { outputs: ResourceOutputs } = await driver.create(
      { ...embeddedInputs(uniqueScope({ app, env: 'dev' })), cloneFrom: scannable },
      ctx,
    );
    const to = clone.outputs.values.prefix!;
    await withClient(clone.outputs.secrets.url!, async (redis) => {
      expect(await redis.get(`${to}plan`)).toBe('pro');
      expect(await redis.ttl(`${to}plan`)).toBeGreaterThan(200);
      expect((await redis.smembers(`${to}tags`)).sort()).toEqual(['a', 'b']);
    });
    expect(await keysUnder(ADMIN_URL, to)).toEqual([]); // nothing written to the source server

    // Through the resource's own user, which may not list keys (it would name other tenants'), the clone
    // starts empty and says why.
    const warnings: string[] = [];
    const warned = { ...ctx, logger: { ...ctx.logger, warn: (message: string) => warnings.push(message) } };
    const empty: { outputs: ResourceOutputs } = await driver.create(
      { ...embeddedInputs(uniqueScope({ app, env: 'preview' })), cloneFrom: source.outputs },
      warned,
    );
    expect(await keysUnder((await embeddedRedisAdminUrl(dir))!, empty.outputs.values.prefix!)).toEqual([]);
    expect(warnings.join('\n')).toMatch(/may not list its keys \(SCAN\): starting empty/);
  });

  it('says how to fix a missing redis-server, in check and in create', async () => {
    for (const driver of [
      EmbeddedRedisDriver.fromConfig({ dataDir: dataDir() }, { pathEnv: '/nonexistent' }),
      EmbeddedRedisDriver.fromConfig({ dataDir: dataDir(), redisServerPath: '/nonexistent/redis-server' }),
    ]) {
      const inputs = embeddedInputs(uniqueScope());
      const failures = await driver.check(inputs, ctx);
      expect(failures.map((f) => f.property)).toEqual(['redisServerPath']);
      for (const text of [failures[0]?.reason ?? '', await rejection(driver.create(inputs, ctx))]) {
        expect(text).toMatch(/apt-get install redis-server/);
        expect(text).toMatch(/brew install redis/);
        expect(text).toMatch(/redis-server driver with driverInputs\.secrets\.adminUrl/);
      }
      // Nothing was ever set up: reading and deleting need no server.
      expect(await driver.read(resourceNames(inputs.scope).username, inputs, ctx)).toBeNull();
      await driver.delete(resourceNames(inputs.scope).username, inputs, ctx);
    }
  });
});
