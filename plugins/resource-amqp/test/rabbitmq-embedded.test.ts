import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeResourceDriverContract, testDriverContext } from '@pave/plugin-api/testing';
import type { ResourceInputs } from '@pave/plugin-api';
import { findRabbitmqServer } from '../src/embedded-server.ts';
import {
  EmbeddedRabbitmqDriver,
  embeddedRabbitmqAdminUrl,
  resourceNames,
  stopEmbeddedRabbitmq,
} from '../src/index.ts';
import {
  ADMIN_URL,
  embeddedInputs,
  management,
  openVhost,
  rejection,
  uniqueScope,
  userExists,
  vhostExists,
  withChannel,
} from './support.ts';

// One node for the whole file: RabbitMQ takes seconds to boot.
const dataDir = mkdtempSync(join(tmpdir(), 'pave-rabbitmq-embedded-'));
const driver = EmbeddedRabbitmqDriver.fromConfig({ dataDir });
const ctx = testDriverContext(AbortSignal.timeout(300_000));
const failingScope = uniqueScope();

async function adminUrl(): Promise<string> {
  const url = await embeddedRabbitmqAdminUrl(dataDir);
  if (!url) throw new Error('the embedded node is not running');
  return url;
}

beforeAll(async () => {
  // Start the node with a first resource, and give the failing create's user name to someone else.
  const inputs = embeddedInputs(uniqueScope());
  const { id } = await driver.create(inputs, ctx);
  await driver.delete(id, inputs, ctx);
  const taken = resourceNames(failingScope).username;
  await management(await adminUrl(), 'PUT', `/api/users/${taken}`, { password: 'theirs', tags: '' });
}, 90_000);

afterAll(async () => {
  await stopEmbeddedRabbitmq(dataDir);
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(ctx.scratchDir, { recursive: true, force: true });
}, 60_000);

describeResourceDriverContract('rabbitmq-embedded', {
  driver: () => driver,
  validInputs: () => embeddedInputs(uniqueScope()),
  invalidInputs: {
    inputs: { ...embeddedInputs(uniqueScope()), driverSecrets: { adminUrl: ADMIN_URL } },
    property: 'adminUrl',
  },
  exists: async (id) => (await vhostExists(await adminUrl(), id)) && (await userExists(await adminUrl(), id)),
  // A user of the resource's name exists that Pave did not create: create refuses and must leave no vhost.
  failingCreate: {
    inputs: embeddedInputs(failingScope),
    exists: async () => vhostExists(await adminUrl(), resourceNames(failingScope).vhost),
  },
});

describe('rabbitmq-embedded driver', () => {
  it('runs a private node whose resources publish and consume, kept apart from the shared server', async () => {
    const scope = uniqueScope();
    const inputs = embeddedInputs(scope);
    const { id, outputs } = await driver.create(inputs, ctx);
    expect(outputs.values.host).toBe('127.0.0.1');
    expect(outputs.values.port).not.toBe('5672');
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
    expect(await vhostExists(ADMIN_URL, id)).toBe(false); // on the embedded node only
    const other = await driver.create(embeddedInputs({ ...scope, env: 'prod' }), ctx);
    const port = Number(outputs.values.port);
    expect(
      await openVhost('127.0.0.1', port, other.id, other.outputs.secrets.password ?? '', id),
    ).toMatchObject({ code: 530, text: expect.stringContaining('NOT_ALLOWED - access to vhost') as unknown });
    await driver.delete(other.id, embeddedInputs({ ...scope, env: 'prod' }), ctx);
    await driver.delete(id, inputs, ctx);
  });

  it('keeps its files private, its admin password in a 0600 file', () => {
    const root = join(dataDir, 'resources', 'rabbitmq');
    expect(statSync(join(root, 'admin-password')).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'rabbitmq.conf')).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'home')).mode & 0o777).toBe(0o700);
    const state = JSON.parse(readFileSync(join(root, 'state.json'), 'utf8')) as { nodeName: string };
    expect(state.nodeName).toMatch(/^pave-[0-9a-f]{12}@localhost$/);
  });

  it('starts the node again when it finds it down, once for concurrent calls, on the same port, with its resources', async () => {
    const inputs = embeddedInputs(uniqueScope());
    const { id, outputs } = await driver.create(inputs, ctx);
    await stopEmbeddedRabbitmq(dataDir);
    expect(await embeddedRabbitmqAdminUrl(dataDir)).toBeNull();
    const scopes = [uniqueScope(), uniqueScope()];
    const [read, ...others] = await Promise.all([
      driver.read(id, inputs, ctx),
      ...scopes.map((scope) => driver.create(embeddedInputs(scope), ctx)),
    ]);
    expect(read).toEqual({ outputs });
    expect(others.map((other) => other.outputs.values.port)).toEqual([
      outputs.values.port,
      outputs.values.port,
    ]);
    expect(
      await openVhost('127.0.0.1', Number(outputs.values.port), id, outputs.secrets.password ?? '', id),
    ).toBe('opened');
    await driver.delete(id, inputs, ctx);
    for (const [index, scope] of scopes.entries()) {
      await driver.delete(others[index]?.id ?? '', embeddedInputs(scope), ctx);
    }
  }, 90_000);
});

describe('rabbitmq-embedded driver without the rabbitmq-server program', () => {
  const missing = mkdtempSync(join(tmpdir(), 'pave-rabbitmq-missing-'));
  const without = EmbeddedRabbitmqDriver.fromConfig({ dataDir: missing }, { searchPath: [] });
  afterAll(() => rmSync(missing, { recursive: true, force: true }));

  it('fails check and create, naming the rabbitmq-server driver and the package', async () => {
    const inputs: ResourceInputs = embeddedInputs(uniqueScope());
    const failures = await without.check(inputs, ctx);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.property).toBe('driver');
    for (const text of [failures[0]?.reason ?? '', await rejection(without.create(inputs, ctx))]) {
      expect(text).toMatch(/^rabbitmq-server was not found/);
      expect(text).toContain('uses the rabbitmq-server driver with driverInputs.secrets.adminUrl');
      expect(text).toContain('install the Debian package rabbitmq-server');
    }
    expect(await without.read('a-b-c', inputs, ctx)).toBeNull();
    await without.delete('a-b-c', inputs, ctx);
  });

  it('never runs a rabbitmq-server that is not RabbitMQ’s start script (a distribution wrapper, say)', () => {
    // Debian's /usr/sbin/rabbitmq-server links to a wrapper that, run under another name, calls itself again
    // and again (it once left 28 000 processes behind). A wrapper without its start script is "not found".
    const sbin = join(missing, 'sbin');
    const bin = join(missing, 'lib', 'bin');
    mkdirSync(sbin, { recursive: true });
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'wrapper'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, 'wrapper'), 0o755);
    symlinkSync(join(bin, 'wrapper'), join(sbin, 'rabbitmq-server'));
    expect(findRabbitmqServer([sbin])).toBeNull();
    // Beside its rabbitmq-env, the real start script is found through the wrapper's directory.
    writeFileSync(join(bin, 'rabbitmq-server'), '#!/bin/sh\nexit 0\n');
    writeFileSync(join(bin, 'rabbitmq-env'), '');
    chmodSync(join(bin, 'rabbitmq-server'), 0o755);
    expect(findRabbitmqServer([sbin])).toBe(join(bin, 'rabbitmq-server'));
  });
});
