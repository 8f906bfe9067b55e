import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { describeResourceDriverContract, testDriverContext } from '@pave/plugin-api/testing';
import type { ResourceInputs, ResourceOutputs } from '@pave/plugin-api';
import { RedisServerDriver, resourceNames } from '../src/index.ts';
import {
  ADMIN_URL,
  UNREACHABLE_SOURCE,
  aclUserExists,
  keysUnder,
  rejection,
  serverInputs,
  uniqueScope,
  withClient,
} from './support.ts';

const failingScope = uniqueScope();

describeResourceDriverContract('redis-server', {
  driver: () => RedisServerDriver.fromConfig(),
  validInputs: () => serverInputs(uniqueScope()),
  invalidInputs: { inputs: { ...serverInputs(uniqueScope()), driverSecrets: {} }, property: 'adminUrl' },
  exists: (id) => aclUserExists(ADMIN_URL, id),
  // The user is created first, then copying from the unreachable source fails: create must remove the user.
  failingCreate: {
    inputs: { ...serverInputs(failingScope), cloneFrom: UNREACHABLE_SOURCE },
    exists: () => aclUserExists(ADMIN_URL, resourceNames(failingScope).username),
  },
});

describe('redis-server driver', () => {
  const driver = RedisServerDriver.fromConfig({ batchSize: 2 }); // tiny batches: every loop runs more than once
  const ctx = testDriverContext();
  const created: Array<{ id: string; inputs: ResourceInputs }> = [];
  const adminUsers: string[] = [];

  async function create(inputs: ResourceInputs): Promise<{ id: string; outputs: ResourceOutputs }> {
    const result = await driver.create(inputs, ctx);
    created.push({ id: result.id, inputs });
    return result;
  }

  afterAll(async () => {
    // With the machine's admin URL: a test may have changed the admin credentials a resource was made with.
    for (const { id, inputs } of created) {
      await driver.delete(id, serverInputs(inputs.scope), ctx).catch(() => undefined);
    }
    await withClient(ADMIN_URL, async (redis) => {
      for (const user of adminUsers) await redis.call('ACL', 'DELUSER', user);
    });
    rmSync(ctx.scratchDir, { recursive: true, force: true });
  });

  it('reports every invalid input at once, naming each property', async () => {
    const scope = uniqueScope();
    const missing = await driver.check({ ...serverInputs(scope), driverSecrets: {} }, ctx);
    expect(missing.map((f) => f.property)).toEqual(['adminUrl']);
    const wrong = await driver.check(
      { ...serverInputs(scope, 'http://127.0.0.1:6379'), driverInputs: { port: 'many', host: '' } },
      ctx,
    );
    expect(wrong.map((f) => f.property).sort()).toEqual(['adminUrl', 'host', 'port']);
    expect(wrong.find((f) => f.property === 'adminUrl')?.reason).toMatch(/redis:\/\//);
    const plain = {
      ...serverInputs(scope),
      driverSecrets: {},
      driverInputs: { adminUrl: 'rediss://h:7000/2' },
    };
    expect(await driver.check(plain, ctx)).toEqual([]);
  });

  it('isolates two environments: each user reaches only its own prefix and no server-wide command', async () => {
    const app = uniqueScope().app;
    const a = await create(serverInputs(uniqueScope({ app, env: 'dev' })));
    const b = await create(serverInputs(uniqueScope({ app, env: 'prod' })));
    expect(a.outputs.values.prefix).toMatch(new RegExp(`^${app}:dev:web\\.cache_[0-9a-f]{8}:$`));
    expect(b.outputs.values.prefix).toMatch(new RegExp(`^${app}:prod:web\\.cache_[0-9a-f]{8}:$`));
    const aKey = `${a.outputs.values.prefix}greeting`;
    const bKey = `${b.outputs.values.prefix}greeting`;

    await withClient(b.outputs.secrets.url!, async (redis) => {
      await redis.set(bKey, 'from b');
      expect(await redis.get(bKey)).toBe('from b');
    });
    await withClient(a.outputs.secrets.url!, async (redis) => {
      await redis.set(aKey, 'from a');
      await redis.incr(`${a.outputs.values.prefix}counter`);
      await redis.expire(`${a.outputs.values.prefix}counter`, 60);
      await redis.hset(`${a.outputs.values.prefix}hash`, 'field', 'value');
      await redis.lpush(`${a.outputs.values.prefix}list`, 'item');
      expect(await redis.publish(`${a.outputs.values.prefix}events`, 'hello')).toBe(0);
      expect(await redis.get(aKey)).toBe('from a');
      await redis.del(`${a.outputs.values.prefix}list`);

      expect(await rejection(redis.get(bKey))).toMatch(/NOPERM/);
      expect(await rejection(redis.set(bKey, 'overwritten'))).toMatch(/NOPERM/);
      expect(await rejection(redis.set('unprefixed', 'x'))).toMatch(/NOPERM/);
      expect(await rejection(redis.publish(`${b.outputs.values.prefix}events`, 'x'))).toMatch(/NOPERM/);
      expect(await rejection(redis.keys('*'))).toMatch(/NOPERM/);
      // Key patterns do not filter what SCAN lists, nor PUBSUB CHANNELS: they would name b's keys and channels.
      expect(await rejection(redis.scan('0', 'COUNT', 1000))).toMatch(/NOPERM/);
      expect(await rejection(redis.call('PUBSUB', 'CHANNELS'))).toMatch(/NOPERM/);
      expect(await rejection(redis.call('PUBSUB', 'SHARDCHANNELS'))).toMatch(/NOPERM/);
      expect(await rejection(redis.flushall())).toMatch(/NOPERM/);
      expect(await rejection(redis.flushdb())).toMatch(/NOPERM/);
      expect(await rejection(redis.call('CONFIG', 'GET', 'maxmemory'))).toMatch(/NOPERM/);
      expect(await rejection(redis.call('CONFIG', 'SET', 'maxmemory', '1'))).toMatch(/NOPERM/);
      expect(await rejection(redis.call('ACL', 'SETUSER', 'intruder', 'on'))).toMatch(/NOPERM/);
    });
    await withClient(b.outputs.secrets.url!, async (redis) => expect(await redis.get(bKey)).toBe('from b'));
  });

  it('takes SCAN and PUBSUB CHANNELS away from a user made before, at the next create on the server', async () => {
    // A user as this driver made them before 2026-12-06: it could list every key name on the server.
    const earlier = `pave_${uniqueScope().app}_dev_web.cache`;
    const password = 'earlier-password-1';
    await withClient(ADMIN_URL, (redis) =>
      redis.call(
        'ACL',
        'SETUSER',
        earlier,
        'reset',
        'on',
        `>${password}`,
        '~x:*',
        '&x:*',
        ...['+@all', '-@admin', '-@dangerous', '+info', '-randomkey'],
      ),
    );
    const url = ADMIN_URL.replace(/\/\/([^@]*@)?/, `//${earlier}:${password}@`);
    await withClient(url, async (redis) => expect(await redis.scan('0')).toHaveLength(2));
    await create(serverInputs(uniqueScope()));
    await withClient(url, async (redis) => {
      expect(await rejection(redis.scan('0'))).toMatch(/NOPERM/);
      expect(await rejection(redis.call('PUBSUB', 'CHANNELS'))).toMatch(/NOPERM/);
      await redis.set('x:still', 'works');
    });
    await withClient(ADMIN_URL, (redis) => redis.call('ACL', 'DELUSER', earlier));
  });

  it('deletes the user and every key under its prefix, leaving other resources alone', async () => {
    const app = uniqueScope().app;
    const doomed = await create(serverInputs(uniqueScope({ app, env: 'dev' })));
    const kept = await create(serverInputs(uniqueScope({ app, env: 'prod' })));
    const prefix = doomed.outputs.values.prefix!;
    await withClient(doomed.outputs.secrets.url!, async (redis) => {
      for (let i = 0; i < 7; i += 1) await redis.set(`${prefix}key${i}`, String(i));
      await redis.set(`${prefix}expiring`, 'x', 'EX', 60);
    });
    await withClient(kept.outputs.secrets.url!, (redis) =>
      redis.set(`${kept.outputs.values.prefix}key`, 'kept'),
    );
    expect(await keysUnder(ADMIN_URL, prefix)).toHaveLength(8);

    await driver.delete(doomed.id, serverInputs(uniqueScope()), ctx);
    expect(await aclUserExists(ADMIN_URL, doomed.id)).toBe(false);
    expect(await keysUnder(ADMIN_URL, prefix)).toEqual([]);
    expect(await rejection(withClient(doomed.outputs.secrets.url!, (redis) => redis.ping()))).toMatch(
      /WRONGPASS/,
    );
    expect(await keysUnder(ADMIN_URL, kept.outputs.values.prefix!)).toHaveLength(1);
  });

  it('starts a clone with a copy of the source keys, their types and time to live', async () => {
    const app = uniqueScope().app;
    const source = await create(serverInputs(uniqueScope({ app, env: 'prod' })));
    const from = source.outputs.values.prefix!;
    await withClient(source.outputs.secrets.url!, async (redis) => {
      await redis.set(`${from}name`, 'shop');
      await redis.set(`${from}session`, 'abc', 'EX', 600);
      await redis.hset(`${from}user:1`, { name: 'Ada', role: 'admin' });
      await redis.rpush(`${from}queue`, 'a', 'b', 'c');
      await redis.set(`${from}binary`, Buffer.from([0, 255, 1, 254]));
    });

    const clone = await create({
      ...serverInputs(uniqueScope({ app, env: 'staging' })),
      cloneFrom: source.outputs,
    });
    const to = clone.outputs.values.prefix!;
    await withClient(clone.outputs.secrets.url!, async (redis) => {
      expect(await redis.get(`${to}name`)).toBe('shop');
      expect(await redis.get(`${to}session`)).toBe('abc');
      const ttl = await redis.ttl(`${to}session`);
      expect(ttl).toBeGreaterThan(500);
      expect(ttl).toBeLessThanOrEqual(600);
      expect(await redis.ttl(`${to}name`)).toBe(-1);
      expect(await redis.hgetall(`${to}user:1`)).toEqual({ name: 'Ada', role: 'admin' });
      expect(await redis.lrange(`${to}queue`, 0, -1)).toEqual(['a', 'b', 'c']);
      expect(await redis.getBuffer(`${to}binary`)).toEqual(Buffer.from([0, 255, 1, 254]));
      await redis.set(`${to}name`, 'changed in the clone');
    });
    await withClient(source.outputs.secrets.url!, async (redis) =>
      expect(await redis.get(`${from}name`)).toBe('shop'),
    );
  });

  it("gives a shared resource and a workload's own resource of the same resId users and prefixes of their own", async () => {
    // Score id `web.cache` (address shared.web.cache) and workload web's resource cache (address web.cache).
    const ownScope = uniqueScope({ resId: 'web.cache', address: 'web.cache' });
    const own = await create(serverInputs(ownScope));
    const sharedInputs = serverInputs({ ...ownScope, address: 'shared.web.cache' });
    const shared = await create(sharedInputs);
    expect(shared.id).not.toBe(own.id);
    const ownKey = `${own.outputs.values.prefix}secret`;
    await withClient(own.outputs.secrets.url!, (redis) => redis.set(ownKey, 'only for the own resource'));
    expect(await rejection(withClient(shared.outputs.secrets.url!, (redis) => redis.get(ownKey)))).toMatch(
      /NOPERM/,
    );
    // Neither prefix lies under the other, so deleting one resource leaves the other's keys.
    const [p1, p2] = [own.outputs.values.prefix!, shared.outputs.values.prefix!];
    expect(p1.startsWith(p2) || p2.startsWith(p1)).toBe(false);
    await driver.delete(shared.id, sharedInputs, ctx);
    expect(await keysUnder(ADMIN_URL, own.outputs.values.prefix!)).toEqual([ownKey]);
  });

  it('refuses to hand an existing prefix to a new user, and creates nothing', async () => {
    const scope = uniqueScope();
    const { username, prefix } = resourceNames(scope);
    await withClient(ADMIN_URL, (redis) => redis.set(`${prefix}stray`, 'someone else'));
    try {
      expect(await rejection(driver.create(serverInputs(scope), ctx))).toMatch(/no ACL user owns them/);
      expect(await aclUserExists(ADMIN_URL, username)).toBe(false);
      expect(await keysUnder(ADMIN_URL, prefix)).toEqual([`${prefix}stray`]);
    } finally {
      await withClient(ADMIN_URL, (redis) => redis.del(`${prefix}stray`));
    }
  });

  it('removes the user and copied keys when create fails part way', async () => {
    const app = uniqueScope().app;
    const source = await create(serverInputs(uniqueScope({ app, env: 'prod' })));
    await withClient(source.outputs.secrets.url!, (redis) =>
      redis.set(`${source.outputs.values.prefix}k`, 'v'),
    );
    // Another server's address, so the driver logs in with the source url, whose password is wrong.
    const badSource: ResourceOutputs = {
      values: { ...source.outputs.values, host: 'localhost' },
      secrets: { ...source.outputs.secrets, url: source.outputs.secrets.url!.replace(/:[^:@]+@/, ':wrong@') },
    };
    const scope = uniqueScope({ app, env: 'dev' });
    expect(await rejection(driver.create({ ...serverInputs(scope), cloneFrom: badSource }, ctx))).toMatch(
      /WRONGPASS|invalid username-password/i,
    );
    expect(await aclUserExists(ADMIN_URL, resourceNames(scope).username)).toBe(false);
    expect(await keysUnder(ADMIN_URL, resourceNames(scope).prefix)).toEqual([]);
  });

  it('derives passwords from the admin credentials, and update re-syncs them after those change', async () => {
    const admin = `pave-test-admin-${randomBytes(4).toString('hex')}`;
    adminUsers.push(admin);
    const host = new URL(ADMIN_URL).host;
    await withClient(ADMIN_URL, (redis) =>
      redis.call('ACL', 'SETUSER', admin, 'on', '>first', '~*', '&*', '+@all'),
    );
    const firstUrl = `redis://${admin}:first@${host}`;
    const secondUrl = `redis://${admin}:second@${host}`;
    const scope = uniqueScope();
    const before = await create(serverInputs(scope, firstUrl));
    expect((await driver.read(before.id, serverInputs(scope, firstUrl), ctx))?.outputs).toEqual(
      before.outputs,
    );

    await withClient(ADMIN_URL, (redis) => redis.call('ACL', 'SETUSER', admin, 'resetpass', '>second'));
    const olds = serverInputs(scope, firstUrl);
    const news = serverInputs(scope, secondUrl);
    expect(await driver.diff(before.id, olds, news, ctx)).toEqual({
      changes: true,
      replace: false,
      changedProperties: ['adminUrl'],
    });
    const unsynced = await driver.read(before.id, news, ctx);
    expect(unsynced?.outputs.secrets.password).not.toBe(before.outputs.secrets.password);
    expect(await rejection(withClient(unsynced!.outputs.secrets.url!, (redis) => redis.ping()))).toMatch(
      /WRONGPASS/,
    );

    const { outputs } = await driver.update(before.id, olds, news, ctx);
    expect(outputs).toEqual(unsynced?.outputs);
    expect(await withClient(outputs.secrets.url!, (redis) => redis.ping())).toBe('PONG');
    expect(await rejection(withClient(before.outputs.secrets.url!, (redis) => redis.ping()))).toMatch(
      /WRONGPASS/,
    );
  });

  it('replaces the resource when the admin URL names another server, and overrides host and port', async () => {
    const scope = uniqueScope();
    const here = serverInputs(scope, 'redis://127.0.0.1:6379');
    expect(
      await driver.diff('pave_x_y_z', here, serverInputs(scope, 'redis://127.0.0.1:6380'), ctx),
    ).toMatchObject({
      changes: true,
      replace: true,
    });
    const aliased = { ...here, driverInputs: { host: 'cache.internal', port: 7000 } };
    expect(await driver.diff('pave_x_y_z', here, aliased, ctx)).toEqual({
      changes: true,
      replace: false,
      changedProperties: ['host', 'port'],
    });
    const { outputs } = await create({
      ...serverInputs(scope),
      driverInputs: { host: 'cache.internal', port: '7000' },
    });
    expect(outputs.values).toMatchObject({ host: 'cache.internal', port: '7000' });
    expect(outputs.secrets.url).toBe(
      `redis://${outputs.values.username}:${encodeURIComponent(outputs.secrets.password!)}@cache.internal:7000`,
    );
  });

  it('reads null for a user the server does not have', async () => {
    expect(
      await driver.read(resourceNames(uniqueScope()).username, serverInputs(uniqueScope()), ctx),
    ).toBeNull();
  });

  it('turns any resource id into names without glob characters, keeping different ids apart', () => {
    const at = (resId: string) => ({ app: 'shop', env: 'dev', resId, address: resId });
    const odd = resourceNames(at('Web/Cache*[1]'));
    expect(odd.prefix).toMatch(/^shop:dev:web-cache-1-_[0-9a-f]{8}:$/);
    expect(odd.username).toMatch(/^pave_shop_dev_web-cache-1-_[0-9a-f]{8}$/);
    expect(resourceNames(at('web/cache*[1]')).prefix).not.toBe(odd.prefix);
    expect(resourceNames(at('shared_cache')).username).toMatch(/^pave_shop_dev_shared-cache_[0-9a-f]{8}$/);
  });
});
