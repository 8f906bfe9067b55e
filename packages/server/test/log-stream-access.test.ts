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

/** A runtime whose followed logs are the lines the test says, as it says them; nothing before. */
function talkingRuntime() {
  const waiting: Array<(line: string) => void> = [];
  const said: string[] = [];
  const runtime: RuntimeDriver = {
    ...idleRuntime,
    name: 'talking',
    async *logs(_target, options, ctx): AsyncIterable<LogLine> {
      // No backlog: only what is said while the stream follows.
      while (options.follow && !ctx.signal.aborted) {
        const line =
          said.shift() ??
          (await new Promise<string>((resolve) => {
            const aborted = () => resolve('');
            waiting.push((text) => {
              ctx.signal.removeEventListener('abort', aborted);
              resolve(text);
            });
            ctx.signal.addEventListener('abort', aborted, { once: true });
          }));
        if (ctx.signal.aborted) return;
        yield { workload: 'api', container: 'main', stream: 'stdout', at: new Date().toISOString(), line };
      }
    },
  };
  const say = (line: string) => {
    const next = waiting.shift();
    if (next) next(line);
    else said.push(line);
  };
  return { runtime, say };
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
    const stream = new AbortController();
    // The answer's headers go out with its first line.
    talking.say(`token=${SECRET}`);
    const response = await fetch(`http://127.0.0.1:${port}/api/v1/apps/shop/envs/stage/logs?follow=true`, {
      headers: { authorization: `Bearer ${dev}` },
      signal: stream.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    /** The next log line the stream sends. */
    const nextLine = async (): Promise<string> => {
      for (;;) {
        const event = /event: log\ndata: (.*)\n\n/u.exec(text);
        if (event) {
          text = text.slice(event.index + event[0].length);
          return (JSON.parse(event[1]!) as LogLine).line;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended: ${text}`);
        text += value;
      }
    };
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
      // A production environment's secrets a developer may not see: the stream masks them within a second.
      let line = '';
      for (let said = 0; said < 100 && !line.includes('***'); said++) {
        talking.say(`token=${PRODUCTION_SECRET}`);
        line = await nextLine();
        if (!line.includes('***')) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(line).not.toContain(PRODUCTION_SECRET);
      expect(line).toMatch(/^token=\*+/u);
      // Others may still read the logs: the stream goes on.
      talking.say('still here');
      expect(await nextLine()).toBe('still here');
    } finally {
      stream.abort();
    }
  });
});
