import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, describe, expect, it, type RunnerTask } from 'vitest';
import type { RenderedWorkload, ResourceInputs, RuntimeTarget } from '../src/index.ts';
import {
  FakeResourceDriver,
  FakeRuntime,
  RUNTIME_CONTRACT_TESTS,
  describeResourceDriverContract,
  describeRuntimeDriverContract,
  testDriverContext,
} from '../src/testing/index.ts';

/** `count` distinct ports that were free a moment ago: all bound to port 0 at once, then released. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

// Host ports the system handed out, so the fake's servers do not collide with other tests' sockets.
const ports = await freePorts(60);
const nextPort = (): number => {
  const port = ports.shift();
  if (port === undefined) throw new Error('fakes.test.ts ran out of host ports: allocate more');
  return port;
};
let environments = 0;
let scopes = 0;

/** A one-container workload on a new host port whose first container has `env`. */
function workload(
  name: string,
  env: Record<string, string>,
  image = 'registry.example/app:1',
): RenderedWorkload {
  const hostPort = nextPort();
  return {
    name,
    deploymentId: `dep-${name}`,
    hash: createHash('sha256')
      .update(JSON.stringify([name, env, image, hostPort]))
      .digest('hex'),
    ports: [{ name: 'web', port: 8080, targetPort: 8080, protocol: 'TCP', hostPort }],
    containers: [{ name: 'main', image, env, files: [], workingDir: '/' }],
  };
}

function inputs(overrides: Partial<ResourceInputs> = {}, address = `web.db-${++scopes}`): ResourceInputs {
  return {
    scope: {
      app: 'shop',
      env: 'dev',
      envType: 'development',
      type: 'fake',
      class: 'default',
      resId: address,
      address,
    },
    driverInputs: {},
    driverSecrets: {},
    params: {},
    ...overrides,
  };
}

async function answer(port: number): Promise<string> {
  try {
    return await (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) })).text();
  } catch {
    return 'no answer';
  }
}

describeRuntimeDriverContract('FakeRuntime', {
  driver: () => new FakeRuntime(),
  target: () => ({ app: 'fake', env: `env-${++environments}` }),
  workload: (name, greeting) => workload(name, { GREETING: greeting }),
  unstartable: (name) => workload(name, {}, ''),
  crashing: (name) => workload(name, { FAKE_EXIT_CODE: '3' }),
  neverReady: (name) => workload(name, { FAKE_NEVER_READY: '1' }),
});

// logs is optional: a runtime without it skips the two logs tests with the reason, rather than passing them.
describe('the runtime contract for a runtime without logs', () => {
  describeRuntimeDriverContract('FakeRuntime without logs', {
    driver: () => {
      const runtime = new FakeRuntime();
      return new Proxy(runtime, {
        get: (target, property) => (property === 'logs' ? undefined : Reflect.get(target, property, target)),
      });
    },
    target: () => ({ app: 'fake', env: `env-${++environments}` }),
    workload: (name, greeting) => workload(name, { GREETING: greeting }),
    unstartable: (name) => workload(name, {}, ''),
    crashing: (name) => workload(name, { FAKE_EXIT_CODE: '3' }),
    neverReady: (name) => workload(name, { FAKE_NEVER_READY: '1' }),
  });
  // eslint-disable-next-line no-empty-pattern -- vitest wants the fixtures destructured; the suite comes second
  afterAll(({}, suite) => {
    const outcomes = new Map<string, string | undefined>();
    const visit = (task: RunnerTask) => {
      if (task.type === 'suite') task.tasks.forEach(visit);
      else outcomes.set(task.name, task.result?.state);
    };
    suite.tasks.forEach(visit);
    expect(outcomes.get(RUNTIME_CONTRACT_TESTS.logs)).toBe('skip');
    expect(outcomes.get(RUNTIME_CONTRACT_TESTS.logsTailSince)).toBe('skip');
    expect(outcomes.get(RUNTIME_CONTRACT_TESTS.deploys)).toBe('pass');
  });
});

// Every create for the address web.refused fails: the suite's failing create.
const fake = new FakeResourceDriver();
fake.fail('create', { address: 'web.refused' });

describeResourceDriverContract('FakeResourceDriver', {
  driver: () => fake,
  validInputs: () => inputs(),
  invalidInputs: { inputs: inputs({ driverInputs: { required: ['size'] } }), property: 'params.size' },
  // The fake's map of resources is the infrastructure it stands in for.
  exists: async (id) => fake.resources.has(id),
  failingCreate: {
    inputs: inputs({}, 'web.refused'),
    exists: async () => [...fake.resources.keys()].some((id) => id.endsWith('/web.refused')),
  },
});

describe('FakeRuntime', () => {
  const ctx = testDriverContext();
  const target: RuntimeTarget = { app: 'shop', env: 'dev' };

  it('records every call in order, with its target and workload', async () => {
    const runtime = new FakeRuntime({ serveHttp: false });
    await runtime.deploy(target, workload('web', {}), ctx);
    await runtime.waitReady(target, 'web', ctx);
    await runtime.status(target, ctx);
    await runtime.remove(target, 'web', ctx);
    await runtime.destroy(target, ctx);
    expect(runtime.calls).toEqual([
      { method: 'deploy', app: 'shop', env: 'dev', workload: 'web' },
      { method: 'waitReady', app: 'shop', env: 'dev', workload: 'web' },
      { method: 'status', app: 'shop', env: 'dev' },
      { method: 'remove', app: 'shop', env: 'dev', workload: 'web' },
      { method: 'destroy', app: 'shop', env: 'dev' },
    ]);
  });

  it('fails the calls it is told to, as many times as told, for the workload named, until healed', async () => {
    const runtime = new FakeRuntime({ serveHttp: false });
    runtime.fail('deploy', { workload: 'api', message: 'image pull refused', times: 1 });
    runtime.fail('waitReady');
    await runtime.deploy(target, workload('web', {}), ctx);
    await expect(runtime.deploy(target, workload('api', {}), ctx)).rejects.toThrow('image pull refused');
    expect([...runtime.running(target).keys()]).toEqual(['web']);
    await runtime.deploy(target, workload('api', {}), ctx);
    expect([...runtime.running(target).keys()].sort()).toEqual(['api', 'web']);
    await expect(runtime.waitReady(target, 'web', ctx)).rejects.toThrow(
      'fake: waitReady of "web" failed (set by fail())',
    );
    runtime.heal();
    expect(await runtime.waitReady(target, 'web', ctx)).toEqual({ ready: true });
  });

  it('keeps a workload running when remove or destroy fails', async () => {
    const runtime = new FakeRuntime();
    const web = workload('web', { GREETING: 'still here' });
    await runtime.deploy(target, web, ctx);
    runtime.fail('remove', { times: 1 });
    runtime.fail('destroy', { times: 1 });
    await expect(runtime.remove(target, 'web', ctx)).rejects.toThrow();
    await expect(runtime.destroy(target, ctx)).rejects.toThrow();
    expect(await answer(web.ports[0]!.hostPort)).toBe('still here');
    await runtime.destroy(target, ctx);
    expect(await answer(web.ports[0]!.hostPort)).toBe('no answer');
    expect(runtime.running(target).size).toBe(0);
  });

  it('reports what runs: hash, deployment and the first container’s environment', async () => {
    const runtime = new FakeRuntime({ serveHttp: false });
    const web = workload('web', { DATABASE_URL: 'postgres://db/shop' });
    await runtime.deploy(target, web, ctx);
    await runtime.deploy({ app: 'shop', env: 'prod' }, workload('web', {}), ctx);
    expect(runtime.running(target)).toEqual(
      new Map([
        ['web', { hash: web.hash, deploymentId: 'dep-web', env: { DATABASE_URL: 'postgres://db/shop' } }],
      ]),
    );
  });

  it('crashes a workload with FAKE_EXIT_CODE: not ready with the code and its last line, no longer running', async () => {
    const runtime = new FakeRuntime({ serveHttp: false });
    await runtime.deploy(target, workload('web', { FAKE_EXIT_CODE: '7' }), ctx);
    expect(await runtime.waitReady(target, 'web', ctx)).toEqual({
      ready: false,
      reason: 'container "main" exited with code 7',
      lastLogs: [expect.stringContaining('started version'), 'something broke'],
    });
    expect(runtime.running(target).size).toBe(0);
    expect((await runtime.status(target, ctx))[0]?.state).toBe('stopped');
  });

  it('waits for a FAKE_NEVER_READY workload until the signal aborts', async () => {
    const runtime = new FakeRuntime({ serveHttp: false });
    await runtime.deploy(target, workload('web', { FAKE_NEVER_READY: '1' }), ctx);
    const controller = new AbortController();
    const waiting = runtime.waitReady(target, 'web', { ...ctx, signal: controller.signal });
    const early = await Promise.race([
      waiting,
      new Promise((resolve) => setTimeout(() => resolve('waiting'), 100)),
    ]);
    expect(early).toBe('waiting');
    controller.abort();
    expect(await waiting).toMatchObject({ ready: false, reason: expect.stringMatching(/^timed out/u) });
  });

  it('refuses a container with neither an image nor a command, in check and in deploy', async () => {
    const runtime = new FakeRuntime({ serveHttp: false });
    const empty = workload('web', {}, ' ');
    expect(runtime.check(empty)).toEqual([
      {
        property: 'containers.main.image',
        reason: 'container "main" has neither an image nor a command: nothing to run; give it one',
      },
    ]);
    expect(runtime.check({ containers: [{ name: 'main', image: '', command: ['run'] }] })).toEqual([]);
    await expect(runtime.deploy(target, empty, ctx)).rejects.toMatchObject({ name: 'InputError' });
    expect(await runtime.status(target, ctx)).toEqual([]);
  });

  it('serves nothing without serveHttp', async () => {
    const runtime = new FakeRuntime({ serveHttp: false });
    const web = workload('web', { GREETING: 'hi' });
    await runtime.deploy(target, web, ctx);
    expect(await answer(web.ports[0]!.hostPort)).toBe('no answer');
  });
});

describe('FakeResourceDriver', () => {
  const ctx = testDriverContext();

  it('leaves no resource when create fails, the old outputs when update fails, the resource when delete fails', async () => {
    const driver = new FakeResourceDriver();
    driver.fail('create', { address: 'web.db', times: 1, message: 'quota exceeded' });
    const db = inputs({}, 'web.db');
    await expect(driver.create(db, ctx)).rejects.toThrow('quota exceeded');
    expect(driver.resources.size).toBe(0);
    const { id, outputs } = await driver.create(db, ctx);
    expect(id).toBe('shop/dev/web.db');
    expect(outputs).toEqual({
      values: { name: 'shop-dev-web-db', host: '127.0.0.1' },
      secrets: { password: expect.stringMatching(/^[0-9a-f]{24}$/u) },
    });
    driver.fail('update');
    driver.fail('delete');
    const bigger = { ...db, params: { size: 'large' } };
    await expect(driver.update(id, db, bigger, ctx)).rejects.toThrow();
    expect(driver.resources.get(id)).toEqual({ inputs: db, outputs });
    await expect(driver.delete(id, db, ctx)).rejects.toThrow();
    expect(driver.resources.has(id)).toBe(true);
    driver.heal();
    expect(await driver.update(id, db, bigger, ctx)).toEqual({ outputs });
    expect(driver.resources.get(id)?.inputs).toEqual(bigger);
    expect(driver.calls.map((call) => call.method)).toEqual([
      'create',
      'create',
      'update',
      'delete',
      'update',
    ]);
  });

  it('reads null once a resource vanished behind its back', async () => {
    const driver = new FakeResourceDriver();
    const db = inputs();
    const { id } = await driver.create(db, ctx);
    driver.vanish(id);
    expect(await driver.read(id, db, ctx)).toBeNull();
  });

  it('diffs params and driver inputs, replacing on the properties driverInputs.replaceOn lists', async () => {
    const driver = new FakeResourceDriver();
    const old = inputs({
      driverInputs: { version: 15, replaceOn: ['driverInputs.version'] },
      params: { size: 's' },
    });
    expect(await driver.diff('x', old, { ...old, params: { size: 'm' } }, ctx)).toEqual({
      changes: true,
      changedProperties: ['params.size'],
    });
    expect(
      await driver.diff('x', old, { ...old, driverInputs: { ...old.driverInputs, version: 16 } }, ctx),
    ).toEqual({ changes: true, changedProperties: ['driverInputs.version'], replace: true });
  });

  it('checks replaceOn and the params driverInputs.required names', async () => {
    const driver = new FakeResourceDriver();
    const failures = await driver.check(
      inputs({ driverInputs: { replaceOn: 'size', required: ['size', 'tier'] }, params: { tier: 'gold' } }),
      ctx,
    );
    expect(failures.map((failure) => failure.property)).toEqual(['driverInputs.replaceOn', 'params.size']);
  });
});
