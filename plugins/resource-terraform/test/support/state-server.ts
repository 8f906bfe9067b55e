import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  DriverContext,
  ResourceDriver,
  ResourceInputs,
  ResourceScope,
  ResourceStateBackend,
} from '@pave/plugin-api';

/** One stored state: the bytes Terraform posted and the lock held on it. */
interface StoredState {
  body?: Buffer;
  lock?: { id: string; info: string };
}

/** A request the server answered, for assertions. */
export interface StateRequest {
  key: string;
  method: string;
  status: number;
}

/**
 * A small Terraform `http` backend, faithful to the protocol the control plane serves: GET reads a state
 * (404 when there is none), POST writes it, DELETE removes it, LOCK takes the lock (423 with the holder's
 * lock info when it is held), UNLOCK releases it; every request needs the key's own basic credential. It
 * records every request, and every protocol violation (a write without the lock's id, a serial going back).
 */
export class TestStateServer {
  readonly requests: StateRequest[] = [];
  readonly violations: string[] = [];
  private readonly states = new Map<string, StoredState>();
  private readonly passwords = new Map<string, Set<string>>();

  private readonly server: Server;
  private address = '';

  private constructor() {
    this.server = createServer((request, response) => {
      void this.handle(request, response);
    });
  }

  /** Starts a server on a free port of 127.0.0.1. */
  static async start(): Promise<TestStateServer> {
    const instance = new TestStateServer();
    await new Promise<void>((resolve) => instance.server.listen(0, '127.0.0.1', resolve));
    const { port } = instance.server.address() as AddressInfo;
    instance.address = `http://127.0.0.1:${port}`;
    return instance;
  }

  /** The server's base URL. */
  get url(): string {
    return this.address;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The state store of `key` with a fresh credential (good for `key` only). */
  backendFor(key: string): ResourceStateBackend {
    const password = randomBytes(12).toString('hex');
    this.passwords.set(key, (this.passwords.get(key) ?? new Set()).add(password));
    const address = `${this.url}/state/${encodeURIComponent(key)}`;
    return {
      address,
      lockAddress: address,
      unlockAddress: address,
      username: `state-${key}`,
      password,
    };
  }

  /** The parsed state of `key`, or undefined when none is stored. */
  state(key: string): { serial: number; lineage: string; resources: unknown[] } | undefined {
    const body = this.states.get(key)?.body;
    return body ? JSON.parse(body.toString('utf8')) : undefined;
  }

  /** Whether `key`'s lock is held. */
  locked(key: string): boolean {
    return this.states.get(key)?.lock !== undefined;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    const key = decodeURIComponent(url.pathname.replace(/^\/state\//, ''));
    const method = request.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const reply = (status: number, content?: Buffer | string) => {
      this.requests.push({ key, method, status });
      response.writeHead(status, content ? { 'content-type': 'application/json' } : {});
      response.end(content);
    };

    const [user, password] = Buffer.from(
      (request.headers.authorization ?? '').replace(/^Basic /, ''),
      'base64',
    )
      .toString('utf8')
      .split(':');
    if (user !== `state-${key}` || !this.passwords.get(key)?.has(password ?? '')) return reply(401);

    const stored = this.states.get(key) ?? {};
    this.states.set(key, stored);
    switch (method) {
      case 'GET':
        return stored.body ? reply(200, stored.body) : reply(404);
      case 'POST': {
        const id = url.searchParams.get('ID');
        if (stored.lock && stored.lock.id !== id) {
          this.violations.push(`${key}: POST with ID ${id} while lock ${stored.lock.id} is held`);
          return reply(423, stored.lock.info);
        }
        const next = JSON.parse(body.toString('utf8')) as { serial: number; lineage: string };
        const previous = this.state(key);
        if (previous && (next.lineage !== previous.lineage || next.serial < previous.serial)) {
          this.violations.push(
            `${key}: state ${previous.lineage}/${previous.serial} overwritten by ${next.lineage}/${next.serial}`,
          );
        }
        stored.body = body;
        return reply(200);
      }
      case 'DELETE':
        if (stored.lock) return reply(423, stored.lock.info);
        delete stored.body;
        return reply(200);
      case 'LOCK': {
        if (stored.lock) return reply(423, stored.lock.info);
        const info = body.toString('utf8');
        stored.lock = { id: (JSON.parse(info) as { ID: string }).ID, info };
        return reply(200);
      }
      case 'UNLOCK': {
        const { ID } = JSON.parse(body.toString('utf8') || '{}') as { ID?: string };
        if (stored.lock && ID && stored.lock.id !== ID) return reply(423, stored.lock.info);
        delete stored.lock;
        return reply(200);
      }
      default:
        return reply(405);
    }
  }
}

/** The key under which the control plane would keep the state of the resource at `scope`. */
export function stateKey(scope: ResourceScope): string {
  return `${scope.app}.${scope.env}.${scope.address}`;
}

/**
 * `driver` as the control plane calls it: every call's context carries the state store of the resource it
 * is about (the shared contract suite's context has none).
 */
export function withStateBackend(driver: ResourceDriver, server: TestStateServer): ResourceDriver {
  const ctxFor = (inputs: ResourceInputs, ctx: DriverContext): DriverContext => ({
    ...ctx,
    stateBackend: server.backendFor(stateKey(inputs.scope)),
  });
  return {
    name: driver.name,
    check: (inputs, ctx) => driver.check(inputs, ctxFor(inputs, ctx)),
    diff: (id, olds, news, ctx) => driver.diff(id, olds, news, ctxFor(news, ctx)),
    create: (inputs, ctx) => driver.create(inputs, ctxFor(inputs, ctx)),
    update: (id, olds, news, ctx) => driver.update(id, olds, news, ctxFor(news, ctx)),
    read: (id, inputs, ctx) => driver.read(id, inputs, ctxFor(inputs, ctx)),
    delete: (id, inputs, ctx) => driver.delete(id, inputs, ctxFor(inputs, ctx)),
  };
}
