import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect as connectTcp, createServer as createTcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import amqp from 'amqplib';
import type { ResourceInputs, ResourceScope } from '@pave/plugin-api';

/** The shared RabbitMQ's management API the rabbitmq-server driver is tested against. */
export const ADMIN_URL = process.env.PAVE_TEST_RABBITMQ_ADMIN_URL ?? 'http://guest:guest@127.0.0.1:15672';

/** A scope no other test run uses: a random app id starting with `pavetest`, so leftovers are easy to find. */
export function uniqueScope(overrides: Partial<ResourceScope> = {}): ResourceScope {
  const app = `pavetest${randomBytes(4).toString('hex')}`;
  return {
    app,
    env: 'dev',
    envType: 'development',
    type: 'amqp',
    class: 'default',
    resId: 'web.queue',
    address: 'web.queue',
    ...overrides,
  };
}

/** Inputs of the rabbitmq-server driver for `scope`, against `adminUrl`. */
export function serverInputs(
  scope: ResourceScope,
  adminUrl = ADMIN_URL,
  values: Record<string, unknown> = {},
): ResourceInputs {
  return { scope, driverInputs: values, driverSecrets: { adminUrl }, params: {} };
}

/** Inputs of the rabbitmq-embedded driver for `scope`. */
export function embeddedInputs(scope: ResourceScope): ResourceInputs {
  return { scope, driverInputs: {}, driverSecrets: {}, params: {} };
}

/** `method path` on the management API at `adminUrl` (credentials in it): status and decoded body. */
export async function management(
  adminUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const url = new URL(adminUrl);
  const auth = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`);
  const response = await fetch(`${url.protocol}//${url.host}${path}`, {
    method,
    headers: { authorization: `Basic ${auth.toString('base64')}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
}

/** Whether the broker at `adminUrl` has the vhost `name`, asked of its management API. */
export async function vhostExists(adminUrl: string, name: string): Promise<boolean> {
  return (await management(adminUrl, 'GET', `/api/vhosts/${encodeURIComponent(name)}`)).status === 200;
}

/** Whether the broker at `adminUrl` has the user `name`, asked of its management API. */
export async function userExists(adminUrl: string, name: string): Promise<boolean> {
  return (await management(adminUrl, 'GET', `/api/users/${encodeURIComponent(name)}`)).status === 200;
}

/** Removes the vhosts and users whose name starts with `prefix` (what a failed run left behind). */
export async function removeLeftovers(adminUrl: string, prefix: string): Promise<void> {
  for (const kind of ['users', 'vhosts']) {
    const { body } = await management(adminUrl, 'GET', `/api/${kind}`);
    for (const { name } of body as Array<{ name: string }>) {
      if (name.startsWith(prefix))
        await management(adminUrl, 'DELETE', `/api/${kind}/${encodeURIComponent(name)}`);
    }
  }
}

/** Runs `fn` on a channel of a connection to `url` (as an app would open it), closing it afterwards. */
export async function withChannel<T>(url: string, fn: (channel: amqp.Channel) => Promise<T>): Promise<T> {
  const connection = await amqp.connect(url);
  try {
    return await fn(await connection.createChannel());
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/**
 * What the broker answers when `username` opens `vhost` over AMQP 0-9-1: `opened`, or the code and text of the
 * connection.close it sends instead. A raw handshake, because amqplib drops the reason of a refused
 * connection.open ("Expected ConnectionOpenOk; got <ConnectionClose>").
 */
export function openVhost(
  host: string,
  port: number,
  username: string,
  password: string,
  vhost: string,
): Promise<'opened' | { code: number; text: string }> {
  return new Promise((done, fail) => {
    const socket = connectTcp({ host, port });
    let buffer = Buffer.alloc(0);
    const send = (classId: number, methodId: number, args: Buffer) => {
      const payload = Buffer.concat([u16(classId), u16(methodId), args]);
      socket.write(
        Buffer.concat([Buffer.from([1]), u16(0), u32(payload.length), payload, Buffer.from([0xce])]),
      );
    };
    const finish = (result: 'opened' | { code: number; text: string }) => {
      socket.destroy();
      done(result);
    };
    socket.setTimeout(5_000, () => {
      socket.destroy();
      fail(new Error('no answer from the broker within 5 s'));
    });
    socket.once('error', fail);
    socket.once('connect', () => socket.write(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1')));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 7 && buffer.length >= 8 + buffer.readUInt32BE(3)) {
        const type = buffer.readUInt8(0);
        const size = buffer.readUInt32BE(3);
        const payload = buffer.subarray(7, 7 + size);
        buffer = buffer.subarray(8 + size);
        if (type !== 1) continue; // only method frames matter here
        const method = `${payload.readUInt16BE(0)}.${payload.readUInt16BE(2)}`;
        if (method === '10.10') {
          // connection.start -> start-ok: PLAIN, en_US, and the capability that makes the broker say why it
          // refuses a login (without it, it just drops the connection)
          const capability = Buffer.concat([
            shortstr('authentication_failure_close'),
            Buffer.from('t\x01', 'latin1'),
          ]);
          const properties = Buffer.concat([
            shortstr('capabilities'),
            Buffer.from('F'),
            u32(capability.length),
            capability,
          ]);
          const response = Buffer.from(`\0${username}\0${password}`);
          send(
            10,
            11,
            Buffer.concat([
              u32(properties.length),
              properties,
              shortstr('PLAIN'),
              u32(response.length),
              response,
              shortstr('en_US'),
            ]),
          );
        } else if (method === '10.30') {
          // connection.tune -> tune-ok with the broker's channel-max and frame-max, then open the vhost
          send(10, 31, Buffer.concat([payload.subarray(4, 10), u16(0)]));
          send(10, 40, Buffer.concat([shortstr(vhost), shortstr(''), Buffer.from([0])]));
        } else if (method === '10.41') {
          finish('opened');
        } else if (method === '10.50') {
          const code = payload.readUInt16BE(4);
          const text = payload.subarray(7, 7 + payload.readUInt8(6)).toString('utf8');
          finish({ code, text });
        }
      }
    });
  });
}

function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

function shortstr(value: string): Buffer {
  const bytes = Buffer.from(value);
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

/**
 * An HTTP proxy in front of the management API at `target` that answers 500 (instead of forwarding) the
 * requests `fails` picks: a broker that fails part way through a create. Its URL has the target's credentials.
 */
export async function faultyProxy(
  target: string,
  fails: (method: string, path: string) => boolean,
): Promise<{ adminUrl: string; close: () => Promise<void> }> {
  const upstream = new URL(target);
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const method = request.method ?? 'GET';
      const path = request.url ?? '/';
      if (fails(method, path)) {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: 'internal_error', reason: 'injected by the test' }));
        return;
      }
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type']) {
        const value = request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      fetch(`${upstream.protocol}//${upstream.host}${path}`, {
        method,
        headers,
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      })
        .then(async (answer) => {
          response.writeHead(answer.status, {
            'content-type': answer.headers.get('content-type') ?? 'text/plain',
          });
          response.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => {
          response.writeHead(502);
          response.end();
        });
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  const adminUrl = `http://${upstream.username}:${upstream.password}@127.0.0.1:${port}`;
  return { adminUrl, close: () => new Promise((closed) => server.close(() => closed())) };
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

/** A driver context's logger that keeps every warning. */
export function recordingLogger(): {
  warnings: string[];
  logger: { debug: () => void; info: () => void; warn: (message: string) => void; error: () => void };
} {
  const warnings: string[] = [];
  const noop = () => undefined;
  return {
    warnings,
    logger: { debug: noop, info: noop, warn: (message) => warnings.push(message), error: noop },
  };
}

/** A port on 127.0.0.1 nothing listens on (it was free a moment ago). */
export function closedPort(): Promise<number> {
  return new Promise((done) => {
    const server = createTcpServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => done(port));
    });
  });
}
