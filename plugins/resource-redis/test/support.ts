import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ResourceInputs, ResourceOutputs, ResourceScope } from '@pave/plugin-api';

/** The shared Redis the redis-server driver is tested against (the machine's has no password). */
export const ADMIN_URL = process.env.PAVE_TEST_REDIS_ADMIN_URL ?? 'redis://127.0.0.1:6379';

/** A scope no other test run uses: a random app id. */
export function uniqueScope(overrides: Partial<ResourceScope> = {}): ResourceScope {
  const app = `t${randomBytes(4).toString('hex')}`;
  return {
    app,
    env: 'dev',
    envType: 'development',
    type: 'redis',
    class: 'default',
    resId: 'web.cache',
    address: 'web.cache',
    ...overrides,
  };
}

/** Inputs of the redis-server driver for `scope`, against `adminUrl`. */
export function serverInputs(scope: ResourceScope, adminUrl = ADMIN_URL): ResourceInputs {
  return { scope, driverInputs: {}, driverSecrets: { adminUrl }, params: {} };
}

/** Inputs of the redis-embedded driver for `scope`. */
export function embeddedInputs(scope: ResourceScope): ResourceInputs {
  return { scope, driverInputs: {}, driverSecrets: {}, params: {} };
}

/** A clone source no create can reach: port 1 on loopback refuses connections. */
export const UNREACHABLE_SOURCE: ResourceOutputs = {
  values: { host: '127.0.0.1', port: '1', username: 'nobody', prefix: 'x:y:z:' },
  secrets: { password: 'secret', url: 'redis://nobody:secret@127.0.0.1:1' },
};

/** Runs `fn` on a connection to `url` (as an app would open it), closing it afterwards. */
export async function withClient<T>(url: string, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  let connectionError: unknown;
  redis.on('error', (error: unknown) => (connectionError = error));
  try {
    await redis.connect();
    return await fn(redis);
  } catch (error) {
    // A refused AUTH is reported as an 'error' event; the command itself only sees the closed connection.
    throw connectionError && /Connection is closed/.test(String(error)) ? connectionError : error;
  } finally {
    redis.disconnect();
  }
}

/** Whether the server at `adminUrl` has the ACL user `username`, asked of Redis itself. */
export function aclUserExists(adminUrl: string, username: string): Promise<boolean> {
  return withClient(adminUrl, async (redis) => (await redis.call('ACL', 'GETUSER', username)) !== null);
}

/** The keys under `prefix` on the server at `adminUrl`. */
export function keysUnder(adminUrl: string, prefix: string): Promise<string[]> {
  return withClient(adminUrl, async (redis) => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return [...new Set(keys)].sort();
  });
}

/** The message of what `promise` rejects with ('' if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return '';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
