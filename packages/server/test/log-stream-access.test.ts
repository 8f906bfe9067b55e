import type { AddressInfo } from 'node:net';
import type { LogLine, RuntimeDriver } from '@pave/plugin-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/*
 * A followed log stream outlives the checks its request passed. Whether its caller may see the environment's
 * secrets depends on the environment's type, which may change while the stream is open: the environment
 * deleted and made again, under the same name, of a restricted type. From then on, a caller without
 * `deployer` on that type gets its secrets masked, as a new stream would.
 */

const SECRET = 'tok-3f9a1c77e2b04d5a';
const PRODUCTION_SECRET = 'tok-prod-8d2e6b4f0a1c';
const LIVE_SECRET = 'tok-live-51c09e7d3b2a';

/** A runtime whose followed logs of an environment are the lines the test says to it, as it says them. */
function talkingRuntime() {
  const waiting = new Map<string, (line: string) => void>();
  const said = new Map<string, string[]>();
  const runtime: RuntimeDriver = {
    ...idleRuntime,
    name: 'talking',
    async *logs(target, options, ctx): AsyncIterable<LogLine> {
      // No backlog: only what is said while the stream follows.
      while (options.follow && !ctx.signal.aborted) {
        const line =
          said.get(target.env)?.shift() ??
          (await new Promise<string>((resolve) => {
            const hear = (text: string) => {
              ctx.signal.removeEventListener('abort', aborted);
              resolve(text);
            };
            // A stream that ends hears nothing more: what is said next goes to the next one.
            const aborted = () => {
              if (waiting.get(target.env) === hear) waiting.delete(target.env);
              resolve('');
            };
            waiting.set(target.env, hear);
            ctx.signal.addEventListener('abort', aborted, { once: true });
          }));
        if (ctx.signal.aborted) return;
        yield { workload: 'api', container: 'main', stream: 'stdout', at: new Date().toISOString(), line };
      }
    },
  };
  const say = (env: string, line: string) => {
    const next = waiting.get(env);
    waiting.delete(env);
    if (next) next(line);
    else said.set(env, [...(said.get(env) ?? []), line]);
  };
  return { runtime, say };
}

/** Follows an environment's logs as `token`: the next line it sends (`error: …` for its error), and how to stop it. */
async function followLogs(port: number, path: string, token: string) {
  const stream = new AbortController();
  const response = await fetch(`http://127.0.0.1:${port}/api/v1${path}/logs?follow=true`, {
    headers: { authorization: `Bearer ${token}` },
    signal: stream.signal,
  });
  expect(response.status).toBe(200);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const nextLine = async (): Promise<string> => {
    for (;;) {
      const event = /event: (log|error)\ndata: (.*)\n\n/u.exec(text);
      if (event) {
        text = text.slice(event.index + event[0].length);
        const data = JSON.parse(event[2]!) as LogLine | { message: string };
        return 'line' in data ? data.line : `error: ${data.message}`;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended: ${text}`);
      text += value;
    }
  };
  return { nextLine, stop: () => stream.abort() };
}

describe.each(storeEngines)('a followed log stream on %s', (engine) => {
  let api: DeployingApi;
  let dev: string;
  const talking = talkingRuntime();

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: talking.runtime });
    const ok = async (method: 'POST' | 'PATCH', url: string, body: object) => {
      const response = await api.call(method, url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    };
    await ok('POST', '/apps', { id: 'shop' });
    await ok('POST', '/apps/shop/envs', { id: 'stage', type: 'staging' });
    await ok('PATCH', '/apps/shop/envs/stage/values', {
      set: { API_TOKEN: { value: SECRET, secret: true } },
    });
    dev = await api.createUser('dev');
    await ok('POST', '/roles', { role: 'developer', user: 'dev', app: 'shop' });
    // The token's actor is cached for up to a second: the role reaches it after that.
    for (let tries = 0; (await api.callAs(dev, 'GET', '/apps/shop')).statusCode !== 200; tries++) {
      if (tries > 40) throw new Error('the developer role did not reach the token');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await api.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('masks the secrets for a developer once the environment is made again of a restricted type', async () => {
    const { port } = api.app.server.address() as AddressInfo;
    // The answer's headers go out with its first line.
    talking.say('stage', `token=${SECRET}`);
    const { nextLine, stop } = await followLogs(port, '/apps/shop/envs/stage', dev);
    try {
      // A developer may see the secrets of a staging environment.
      expect(await nextLine()).toBe(`token=${SECRET}`);

      const deleted = await api.call('DELETE', '/apps/shop/envs/stage');
      expect(deleted.statusCode, deleted.body).toBe(204);
      const again = await api.call('POST', '/apps/shop/envs', { id: 'stage', type: 'production' });
      expect(again.statusCode, again.body).toBe(201);
      const secret = await api.call('PATCH', '/apps/shop/envs/stage/values', {
        set: { API_TOKEN: { value: PRODUCTION_SECRET, secret: true } },
      });
      expect(secret.statusCode, secret.body).toBe(200);
      // A production environment's secrets a developer may not see: masked from the first line said after
      // the value was set (a workload can only print a secret Pave recorded before it gave it to the workload).
      talking.say('stage', `token=${PRODUCTION_SECRET}`);
      const line = await nextLine();
      expect(line).not.toContain(PRODUCTION_SECRET);
      expect(line).toMatch(/^token=\*+/u);
      // Others may still read the logs: the stream goes on.
      talking.say('stage', 'still here');
      expect(await nextLine()).toBe('still here');
    } finally {
      stop();
    }
  });

  it('masks a secret set while the stream follows from the first line that prints it', async () => {
    const { port } = api.app.server.address() as AddressInfo;
    const created = await api.call('POST', '/apps/shop/envs', { id: 'live', type: 'production' });
    expect(created.statusCode, created.body).toBe(201);
    talking.say('live', 'starting');
    const { nextLine, stop } = await followLogs(port, '/apps/shop/envs/live', dev);
    try {
      expect(await nextLine()).toBe('starting');
      const set = await api.call('PATCH', '/apps/shop/envs/live/values', {
        set: { LIVE_TOKEN: { value: LIVE_SECRET, secret: true } },
      });
      expect(set.statusCode, set.body).toBe(200);
      talking.say('live', `live=${LIVE_SECRET}`);
      expect(await nextLine()).toMatch(/^live=\*+$/u);
    } finally {
      stop();
    }
  });

  it('ends with an error once its token is revoked, before the next line', async () => {
    const { port } = api.app.server.address() as AddressInfo;
    const created = await api.callAs(dev, 'POST', '/tokens', { name: 'follow' });
    expect(created.statusCode, created.body).toBe(201);
    const { id, token } = created.json() as { id: string; token: string };
    talking.say('stage', 'before');
    const { nextLine, stop } = await followLogs(port, '/apps/shop/envs/stage', token);
    try {
      expect(await nextLine()).toBe('before');
      expect((await api.callAs(dev, 'DELETE', `/tokens/${id}`)).statusCode).toBe(204);
      talking.say('stage', 'after');
      expect(await nextLine()).toMatch(/^error: .*revoked.*; reconnect once you may read these logs$/u);
    } finally {
      stop();
    }
  });
});
