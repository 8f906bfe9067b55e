import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { describeResourceDriverContract, testDriverContext } from '@pave/plugin-api/testing';
import type { DriverContext, ResourceInputs, ResourceOutputs } from '@pave/plugin-api';
import { RabbitmqServerDriver, resourceNames } from '../src/index.ts';
import {
  ADMIN_URL,
  closedPort,
  faultyProxy,
  management,
  openVhost,
  recordingLogger,
  rejection,
  removeLeftovers,
  serverInputs,
  uniqueScope,
  userExists,
  vhostExists,
  withChannel,
} from './support.ts';

// Create makes the vhost and the user, then the proxy fails setting the permissions: create must remove both.
const failingScope = uniqueScope();
const proxy = await faultyProxy(
  ADMIN_URL,
  (method, path) => method === 'PUT' && path.startsWith('/api/permissions/'),
);

describeResourceDriverContract('rabbitmq-server', {
  driver: () => RabbitmqServerDriver.fromConfig(),
  validInputs: () => serverInputs(uniqueScope()),
  invalidInputs: { inputs: { ...serverInputs(uniqueScope()), driverSecrets: {} }, property: 'adminUrl' },
  exists: async (id) => (await vhostExists(ADMIN_URL, id)) && (await userExists(ADMIN_URL, id)),
  failingCreate: {
    inputs: serverInputs(failingScope, proxy.adminUrl),
    exists: async () => {
      const { vhost, username } = resourceNames(failingScope);
      return (await vhostExists(ADMIN_URL, vhost)) || (await userExists(ADMIN_URL, username));
    },
  },
  cleanup: () => proxy.close(),
});

describe('rabbitmq-server driver', () => {
  const driver = RabbitmqServerDriver.fromConfig();
  const ctx = testDriverContext();
  const created: Array<{ id: string; inputs: ResourceInputs }> = [];
  const prefixes: string[] = [];

  async function create(
    inputs: ResourceInputs,
    context: DriverContext = ctx,
  ): Promise<{ id: string; outputs: ResourceOutputs }> {
    prefixes.push(inputs.scope.app);
    const result = await driver.create(inputs, context);
    created.push({ id: result.id, inputs });
    return result;
  }

  afterAll(async () => {
    for (const { id, inputs } of created) await driver.delete(id, inputs, ctx).catch(() => undefined);
    for (const prefix of prefixes) await removeLeftovers(ADMIN_URL, prefix);
    rmSync(ctx.scratchDir, { recursive: true, force: true });
  });

  it('gives credentials that publish to and consume from a queue on the resource vhost', async () => {
    const { outputs } = await create(serverInputs(uniqueScope()));
    expect(outputs.values).toMatchObject({ host: '127.0.0.1', port: '5672' });
    expect(outputs.secrets.url).toBe(
      `amqp://${outputs.values.username}:${outputs.secrets.password}@127.0.0.1:5672/${encodeURIComponent(outputs.values.vhost ?? '')}`,
    );
    const received = await withChannel(outputs.secrets.url ?? '', async (channel) => {
      await channel.assertQueue('jobs');
      channel.sendToQueue('jobs', Buffer.from('hello'));
      for (let attempt = 0; attempt < 50; attempt += 1) {
        const message = await channel.get('jobs', { noAck: true });
        if (message) return message.content.toString();
        await new Promise((wait) => setTimeout(wait, 20));
      }
      return null;
    });
    expect(received).toBe('hello');
  });

  it("refuses one environment's user on another environment's vhost", async () => {
    const scope = uniqueScope();
    const a = await create(serverInputs(scope));
    const b = await create(serverInputs({ ...scope, env: 'prod' }));
    const refused = await openVhost(
      '127.0.0.1',
      5672,
      b.outputs.values.username ?? '',
      b.outputs.secrets.password ?? '',
      a.outputs.values.vhost ?? '',
    );
    // RabbitMQ refuses a vhost the user has no permissions on with 530 NOT_ALLOWED (403 is for bad credentials).
    expect(refused).toEqual({
      code: 530,
      text: `NOT_ALLOWED - access to vhost '${a.outputs.values.vhost}' refused for user '${b.outputs.values.username}'`,
    });
    // B's password does not open A's user either.
    expect(
      await openVhost(
        '127.0.0.1',
        5672,
        a.outputs.values.username ?? '',
        b.outputs.secrets.password ?? '',
        a.outputs.values.vhost ?? '',
      ),
    ).toMatchObject({ code: 403, text: expect.stringContaining('ACCESS_REFUSED') as unknown });
    expect(
      await openVhost(
        '127.0.0.1',
        5672,
        a.outputs.values.username ?? '',
        a.outputs.secrets.password ?? '',
        a.outputs.values.vhost ?? '',
      ),
    ).toBe('opened');
  });

  it('gives app a-b env c and app a env b-c (same resource id) vhosts of their own', async () => {
    const base = uniqueScope().app;
    const first = await create(serverInputs(uniqueScope({ app: `${base}-a`, env: 'b' })));
    // The second environment is not refused because the first one's name looks like its own.
    const second = await create(serverInputs(uniqueScope({ app: base, env: 'a-b' })));
    expect(second.outputs.values.vhost).not.toBe(first.outputs.values.vhost);
    expect(second.outputs.values.username).not.toBe(first.outputs.values.username);
    await withChannel(first.outputs.secrets.url ?? '', async (channel) => {
      await channel.assertQueue('orders');
      channel.sendToQueue('orders', Buffer.from("the first environment's order"));
    });
    const queues = await management(ADMIN_URL, 'GET', `/api/queues/${encodeURIComponent(second.id)}`);
    expect(queues).toEqual({ status: 200, body: [] });
  });

  it("gives a shared resource and a workload's own resource of the same resId vhosts of their own", async () => {
    // Score id `web.queue` (address shared.web.queue) and workload web's resource queue (address web.queue).
    const own = uniqueScope({ resId: 'web.queue', address: 'web.queue' });
    const shared = { ...own, address: 'shared.web.queue' };
    const a = await create(serverInputs(own));
    const b = await create(serverInputs(shared));
    expect(b.id).not.toBe(a.id);
    await withChannel(a.outputs.secrets.url ?? '', (channel) => channel.assertQueue('orders'));
    const queues = await management(ADMIN_URL, 'GET', `/api/queues/${encodeURIComponent(b.id)}`);
    expect(queues).toEqual({ status: 200, body: [] });
    // Deleting one leaves the other's vhost.
    await driver.delete(b.id, serverInputs(shared), ctx);
    expect(await vhostExists(ADMIN_URL, a.id)).toBe(true);
  });

  it('keeps serving a resource whose id was made by the old <app>-<env>-<resId> naming', async () => {
    const scope = uniqueScope();
    const legacy = `${scope.app}-${scope.env}-${scope.resId}`;
    prefixes.push(scope.app);
    const inputs = serverInputs(scope);
    // A legacy vhost as create used to make it (update makes the user and its permissions).
    await management(ADMIN_URL, 'PUT', `/api/vhosts/${legacy}`, {
      description: `Pave resource: app ${scope.app}, environment ${scope.env}, resource ${scope.resId}`,
    });
    const { outputs } = await driver.update(legacy, inputs, inputs, ctx);
    expect(outputs.values).toMatchObject({ vhost: legacy, username: legacy });
    expect(await driver.read(legacy, inputs, ctx)).toEqual({ outputs });
    expect(await openVhost('127.0.0.1', 5672, legacy, outputs.secrets.password ?? '', legacy)).toBe('opened');
    await driver.delete(legacy, inputs, ctx);
    expect(await vhostExists(ADMIN_URL, legacy)).toBe(false);
    expect(await userExists(ADMIN_URL, legacy)).toBe(false);
  });

  it('deletes the vhost with its queues and the user', async () => {
    const inputs = serverInputs(uniqueScope());
    const { id, outputs } = await create(inputs);
    await withChannel(outputs.secrets.url ?? '', (channel) => channel.assertQueue('orders'));
    await driver.delete(id, inputs, ctx);
    expect(await vhostExists(ADMIN_URL, id)).toBe(false);
    expect(await userExists(ADMIN_URL, id)).toBe(false);
    expect(await driver.read(id, inputs, ctx)).toBeNull();
  });

  it('reports every invalid input with its property', async () => {
    const inputs = serverInputs(uniqueScope(), 'ftp://guest:guest@127.0.0.1:15672', {
      amqpHost: 'rabbit mq',
      amqpPort: 70000,
    });
    const failures = await driver.check(inputs, ctx);
    expect(failures.map((failure) => failure.property).sort()).toEqual(['adminUrl', 'amqpHost', 'amqpPort']);
    expect(failures.find((failure) => failure.property === 'adminUrl')?.reason).toMatch(
      /http:\/\/ or https:\/\//,
    );
    const noCredentials = await driver.check(serverInputs(uniqueScope(), 'http://127.0.0.1:15672'), ctx);
    expect(noCredentials).toEqual([
      { property: 'adminUrl', reason: expect.stringMatching(/credentials/) as unknown },
    ]);
  });

  it('accepts an admin URL without password in values, and warns when values hold one', async () => {
    const scope = uniqueScope();
    const inValues = (adminUrl: string): ResourceInputs => ({
      scope,
      driverInputs: { adminUrl },
      driverSecrets: {},
      params: {},
    });
    const quiet = recordingLogger();
    expect(
      await driver.check(inValues('http://monitor@127.0.0.1:15672'), { ...ctx, logger: quiet.logger }),
    ).toEqual([]);
    expect(quiet.warnings).toEqual([]);
    const loud = recordingLogger();
    expect(await driver.check(inValues(ADMIN_URL), { ...ctx, logger: loud.logger })).toEqual([]);
    expect(loud.warnings.join('\n')).toMatch(/move it to secrets/);
  });

  it('publishes amqpHost and amqpPort as what workloads connect to', async () => {
    const { outputs } = await create(
      serverInputs(uniqueScope(), ADMIN_URL, { amqpHost: 'rabbitmq.internal', amqpPort: '5671' }),
    );
    expect(outputs.values).toMatchObject({ host: 'rabbitmq.internal', port: '5671' });
    expect(outputs.secrets.url).toMatch(/^amqp:\/\/[^@]+@rabbitmq\.internal:5671\//);
  });

  it('warns that data is not cloned and creates an empty vhost', async () => {
    const source = await create(serverInputs(uniqueScope()));
    await withChannel(source.outputs.secrets.url ?? '', async (channel) => {
      await channel.assertQueue('orders');
      channel.sendToQueue('orders', Buffer.from('kept in the source only'));
    });
    const { warnings, logger } = recordingLogger();
    const scope = uniqueScope({ address: 'shared.events' });
    const clone = await create({ ...serverInputs(scope), cloneFrom: source.outputs }, { ...ctx, logger });
    expect(warnings).toEqual([
      expect.stringMatching(/^amqp resources are not cloned with data: shared\.events starts/),
    ]);
    const queues = await management(ADMIN_URL, 'GET', `/api/queues/${encodeURIComponent(clone.id)}`);
    expect(queues).toEqual({ status: 200, body: [] });
    expect(await driver.read(clone.id, serverInputs(scope), ctx)).toEqual({ outputs: clone.outputs });
  });

  it('refuses a vhost of the same name that is not the resource', async () => {
    const scope = uniqueScope();
    const { vhost } = resourceNames(scope);
    prefixes.push(scope.app);
    await management(ADMIN_URL, 'PUT', `/api/vhosts/${vhost}`, { description: 'someone else' });
    const message = await rejection(driver.create(serverInputs(scope), ctx));
    expect(message).toMatch(new RegExp(`has a vhost "${vhost}" that is not this resource's`));
    expect(await userExists(ADMIN_URL, vhost)).toBe(false);
    expect(await vhostExists(ADMIN_URL, vhost)).toBe(true); // not ours to remove
  });

  it('takes over what an interrupted create left, reports a changed password as drift, and update restores it', async () => {
    const inputs = serverInputs(uniqueScope());
    const { id, outputs } = await create(inputs);
    await management(ADMIN_URL, 'PUT', `/api/users/${id}`, { password: 'changed', tags: '' });
    expect(await openVhost('127.0.0.1', 5672, id, outputs.secrets.password ?? '', id)).toMatchObject({
      code: 403,
    });
    expect(await driver.read(id, inputs, ctx)).toEqual({
      outputs,
      drift: [`the password of user ${id} was changed outside Pave (an update sets it again)`],
    });
    expect(await driver.update(id, inputs, inputs, ctx)).toEqual({ outputs });
    expect(await driver.read(id, inputs, ctx)).toEqual({ outputs });
    expect(await openVhost('127.0.0.1', 5672, id, outputs.secrets.password ?? '', id)).toBe('opened');
    await management(ADMIN_URL, 'DELETE', `/api/users/${id}`); // as if create stopped after the vhost
    expect(await driver.read(id, inputs, ctx)).toBeNull();
    expect(await driver.create(inputs, ctx)).toEqual({ id, outputs });
  });

  it('reports drift when the user gets tags or other permissions', async () => {
    const inputs = serverInputs(uniqueScope());
    const { id, outputs } = await create(inputs);
    await management(ADMIN_URL, 'PUT', `/api/permissions/${id}/${id}`, {
      configure: '',
      write: '.*',
      read: '.*',
    });
    expect(await driver.read(id, inputs, ctx)).toEqual({
      outputs,
      drift: [`the permissions of user ${id} on vhost ${id} are not ".* .* .*"`],
    });
  });

  it('says what the management API refused, without the credentials', async () => {
    const inputs = serverInputs(uniqueScope(), 'http://guest:not-the-password@127.0.0.1:15672');
    const message = await rejection(driver.create(inputs, ctx));
    expect(message).toMatch(
      /^RabbitMQ's management API at http:\/\/127\.0\.0\.1:15672 answered GET \/api\/vhosts\/\S+ with 401 Unauthorized/,
    );
    expect(message).toMatch(/adminUrl's user or password is wrong/);
    expect(message).not.toContain('not-the-password');
    const unreachable = await rejection(
      driver.create(serverInputs(uniqueScope(), `http://guest:secret@127.0.0.1:${await closedPort()}`), ctx),
    );
    expect(unreachable).toMatch(
      /could not reach RabbitMQ's management API at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/,
    );
    expect(unreachable).not.toContain('secret');
  });

  it('replaces the resource when the admin URL names another broker', async () => {
    const scope = uniqueScope();
    const before = serverInputs(scope);
    const sameBroker = serverInputs(scope, ADMIN_URL.replace(/@.*$/, '@127.0.0.1:15672'), { amqpPort: 5673 });
    const elsewhere = serverInputs(scope, 'http://admin:pw@rabbitmq.internal:15672');
    const id = resourceNames(scope).vhost;
    expect(await driver.diff(id, before, sameBroker, ctx)).toMatchObject({ changes: true, replace: false });
    expect(await driver.diff(id, before, elsewhere, ctx)).toEqual({
      changes: true,
      replace: true,
      changedProperties: ['adminUrl', 'amqpHost'],
    });
  });
});
