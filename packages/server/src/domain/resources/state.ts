/*
 * The state resource drivers keep in the control plane: Terraform's `http` backend, served under
 * /api/v1/terraform/state/{resource}. Each driver call gets a credential for its own resource's state only,
 * good while the call runs (and for STATE_CREDENTIAL_TTL_MS at most); states are sealed with the environment's
 * data key; a lock keeps two runs on one resource from overlapping, and locks a crashed run left behind are
 * released when a deployment of its environment starts or ends (releaseStateLocks).
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { DriverContext, ResourceDriver, ResourceScope, ResourceStateBackend } from '@pave/plugin-api';
import { DriverRegistry } from '@pave/plugin-api';
import { SYSTEM_ACTORS } from '@pave/core';
import type { Executor, Store } from '../../store/index.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import { now } from '../context.ts';
import { envScope, type ResourceDriverRegistry } from './provision.ts';

/**
 * The longest a state credential is good for, its call still running: longer than a driver call may take
 * (Terraform's `timeout` is at most a day). A credential is refused as soon as its call has ended.
 */
export const STATE_CREDENTIAL_TTL_MS = 25 * 60 * 60 * 1000;

/** The HTTP basic user name of state credentials (the password is what counts). */
export const STATE_USERNAME = SYSTEM_ACTORS.pave;

/** The MAC key scope state credentials are signed with (see SecretBox.macKey). */
const CREDENTIAL_KEY_SCOPE = 'pave:resource-state-credentials';

const CREDENTIAL_PREFIX = 'pst1';

/** The resource a state belongs to. */
export interface StateKey {
  app: string;
  env: string;
  address: string;
}

/**
 * The `{resource}` path segment of a resource's state: `<app>:<env>:<address>`. Apps and environments are
 * DNS labels and addresses are `<workload>.<name>` or `shared.<id>`, so the colons are unambiguous.
 */
export function stateResourceId(key: StateKey): string {
  return `${key.app}:${key.env}:${key.address}`;
}

/** The resource a `{resource}` path segment names; null when it is not one. */
export function parseStateResourceId(id: string): StateKey | null {
  const parts = id.split(':');
  if (parts.length !== 3 || parts.some((part) => part.length === 0 || part.length > 253)) return null;
  const [app, env, address] = parts as [string, string, string];
  return { app, env, address };
}

/**
 * Issues and checks the credentials of resource states, and builds the backend a driver call gets. The base
 * URL is known once the API listens (setBaseUrl); before that, and before init, driver calls get none.
 */
export class StateCredentials {
  private key: Buffer | undefined;
  private baseUrl: string | undefined;

  private readonly ttlMs: number;
  /** The driver calls running on this replica that hold a credential (the state's address is this replica's). */
  private readonly running = new Set<string>();

  constructor(
    private readonly box: SecretBox,
    options: { ttlMs?: number } = {},
  ) {
    this.ttlMs = options.ttlMs ?? STATE_CREDENTIAL_TTL_MS;
  }

  /** Loads (or creates) the signing key; call once the secret box is initialised. */
  async init(): Promise<void> {
    this.key = await this.box.macKey(CREDENTIAL_KEY_SCOPE);
  }

  /** Where drivers reach the API, e.g. `http://127.0.0.1:7300`. */
  setBaseUrl(url: string): void {
    this.baseUrl = url.replace(/\/+$/, '');
  }

  /**
   * The state backend of `scope`'s resource for one driver call, with a fresh credential good until `end` is
   * called (once the call has settled); undefined before init and setBaseUrl.
   */
  open(
    scope: Pick<ResourceScope, 'app' | 'env' | 'address'>,
  ): { backend: ResourceStateBackend; end: () => void } | undefined {
    if (!this.key || !this.baseUrl) return undefined;
    const id = stateResourceId(scope);
    const expires = Date.now() + this.ttlMs;
    const address = `${this.baseUrl}/api/v1/terraform/state/${encodeURIComponent(id)}`;
    const call = randomUUID();
    this.running.add(call);
    const backend = {
      address,
      lockAddress: address,
      unlockAddress: address,
      username: STATE_USERNAME,
      password: this.sign(id, expires, call),
    };
    return { backend, end: () => this.running.delete(call) };
  }

  /**
   * Why `authorization` (an HTTP basic header) does not open the state of `id`: missing, malformed, for
   * another resource, expired or forged; null when it does.
   */
  refusal(id: string, authorization: string | undefined, at = Date.now()): string | null {
    if (!this.key) return 'the control plane is starting; try again';
    const basic = typeof authorization === 'string' ? /^Basic\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!basic?.[1]) return 'this request needs the state credential of its resource (HTTP basic auth)';
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const password = decoded.slice(decoded.indexOf(':') + 1);
    const [prefix, payload, mac] = password.split('.');
    if (prefix !== CREDENTIAL_PREFIX || !payload || !mac) return 'the state credential is malformed';
    const expected = this.mac(payload);
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return 'the state credential is not valid';
    }
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      r: string;
      exp: number;
      c: string;
    };
    if (claims.r !== id) return 'the state credential is for another resource';
    if (claims.exp <= at) return 'the state credential has expired';
    if (!this.running.has(claims.c)) return 'the driver call this state credential was given to has ended';
    return null;
  }

  private sign(id: string, expires: number, call: string): string {
    const payload = Buffer.from(JSON.stringify({ r: id, exp: expires, c: call })).toString('base64url');
    return `${CREDENTIAL_PREFIX}.${payload}.${this.mac(payload).toString('base64url')}`;
  }

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.key!).update(payload).digest();
  }
}

/**
 * The same drivers, each call's context carrying the state backend of the resource it is about (as
 * DriverContext.stateBackend documents). A call made before the API listens gets none.
 */
export function withStateBackends(
  drivers: ResourceDriverRegistry,
  credentials: StateCredentials,
): ResourceDriverRegistry {
  const wrapped = new DriverRegistry<ResourceDriver>('resource');
  for (const name of drivers.names()) {
    const driver = drivers.get(name);
    // The call's credential is good until the call settles.
    const withBackend = async <T>(
      scope: ResourceScope,
      ctx: DriverContext,
      call: (ctx: DriverContext) => Promise<T>,
    ): Promise<T> => {
      const opened = credentials.open(scope);
      if (!opened) return call(ctx);
      try {
        return await call({ ...ctx, stateBackend: opened.backend });
      } finally {
        opened.end();
      }
    };
    wrapped.register({
      name,
      check: (inputs, ctx) => withBackend(inputs.scope, ctx, (c) => driver.check(inputs, c)),
      diff: (id, olds, news, ctx) => withBackend(news.scope, ctx, (c) => driver.diff(id, olds, news, c)),
      create: (inputs, ctx) => withBackend(inputs.scope, ctx, (c) => driver.create(inputs, c)),
      update: (id, olds, news, ctx) => withBackend(news.scope, ctx, (c) => driver.update(id, olds, news, c)),
      read: (id, inputs, ctx) => withBackend(inputs.scope, ctx, (c) => driver.read(id, inputs, c)),
      delete: (id, inputs, ctx) => withBackend(inputs.scope, ctx, (c) => driver.delete(id, inputs, c)),
    });
  }
  return wrapped;
}

/** The state of `key`'s resource, decrypted; null when none was written. */
export async function readState(store: Store, box: SecretBox, key: StateKey): Promise<string | null> {
  const row = await store.db
    .selectFrom('resource_states')
    .select('state')
    .where('app_id', '=', key.app)
    .where('env_id', '=', key.env)
    .where('address', '=', key.address)
    .executeTakeFirst();
  return row?.state ? box.decrypt(row.state) : null;
}

/** Who holds a state's lock (as its holder described it), when a change is refused for it. */
export interface HeldLock {
  id: string;
  info: string;
}

/**
 * Writes the state of `key`'s resource (null deletes it). Refused with the holder when the state is locked
 * and `lockId` is not the lock's id.
 */
export async function writeState(
  store: Store,
  box: SecretBox,
  key: StateKey,
  state: string | null,
  lockId: string | undefined,
): Promise<{ written: true } | { held: HeldLock }> {
  const sealed = state === null ? null : await box.encrypt(envScope(key.app, key.env), state);
  await ensureRow(store.db, key);
  const written = await store.db
    .updateTable('resource_states')
    .set({ state: sealed, updated_at: now() })
    .where('app_id', '=', key.app)
    .where('env_id', '=', key.env)
    .where('address', '=', key.address)
    .where((eb) =>
      lockId === undefined
        ? eb('lock_id', 'is', null)
        : eb.or([eb('lock_id', 'is', null), eb('lock_id', '=', lockId)]),
    )
    .executeTakeFirst();
  if (Number(written.numUpdatedRows) === 1) return { written: true };
  const holder = await heldLock(store.db, key);
  // Released in between: try again.
  return holder ? { held: holder } : writeState(store, box, key, state, lockId);
}

/** Takes the lock of `key`'s state for `lockId`; the holder when another run has it. */
export async function lockState(
  db: Executor,
  key: StateKey,
  lockId: string,
  info: string,
): Promise<{ locked: true } | { held: HeldLock }> {
  await ensureRow(db, key);
  const taken = await db
    .updateTable('resource_states')
    .set({ lock_id: lockId, lock_info: info, locked_at: now() })
    .where('app_id', '=', key.app)
    .where('env_id', '=', key.env)
    .where('address', '=', key.address)
    .where('lock_id', 'is', null)
    .executeTakeFirst();
  if (Number(taken.numUpdatedRows) === 1) return { locked: true };
  const holder = await heldLock(db, key);
  // Released in between: try again.
  if (!holder) return lockState(db, key, lockId, info);
  return holder.id === lockId ? { locked: true } : { held: holder };
}

/** Releases the lock of `key`'s state if `lockId` holds it; the holder when another run does. */
export async function unlockState(
  db: Executor,
  key: StateKey,
  lockId: string,
): Promise<{ unlocked: true } | { held: HeldLock }> {
  const holder = await heldLock(db, key);
  if (!holder) return { unlocked: true };
  if (holder.id !== lockId) return { held: holder };
  await db
    .updateTable('resource_states')
    .set({ lock_id: null, lock_info: null, locked_at: null })
    .where('app_id', '=', key.app)
    .where('env_id', '=', key.env)
    .where('address', '=', key.address)
    .where('lock_id', '=', lockId)
    .execute();
  return { unlocked: true };
}

/**
 * Releases every state lock of an environment's resources, returning the addresses whose lock was held.
 * Called when a deployment of the environment starts (or resumes) and when it has ended: one deployment runs per
 * environment at a time, so a lock still held then was left by a run that was killed.
 */
export async function releaseStateLocks(db: Executor, app: string, env: string): Promise<string[]> {
  const held = await db
    .updateTable('resource_states')
    .set({ lock_id: null, lock_info: null, locked_at: null })
    .where('app_id', '=', app)
    .where('env_id', '=', env)
    .where('lock_id', 'is not', null)
    .returning('address')
    .execute();
  return held.map((row) => row.address).sort();
}

/** Deletes the state of a resource that no longer exists, or of every resource of an environment. */
export async function deleteStates(db: Executor, app: string, env: string, address?: string): Promise<void> {
  let query = db.deleteFrom('resource_states').where('app_id', '=', app).where('env_id', '=', env);
  if (address !== undefined) query = query.where('address', '=', address);
  await query.execute();
}

async function ensureRow(db: Executor, key: StateKey): Promise<void> {
  await db
    .insertInto('resource_states')
    .values({
      app_id: key.app,
      env_id: key.env,
      address: key.address,
      state: null,
      lock_id: null,
      lock_info: null,
      locked_at: null,
      updated_at: now(),
    })
    .onConflict((oc) => oc.columns(['app_id', 'env_id', 'address']).doNothing())
    .execute();
}

/** Who holds the lock of `key`'s state; null when nobody does. */
async function heldLock(db: Executor, key: StateKey): Promise<HeldLock | null> {
  const row = await db
    .selectFrom('resource_states')
    .select(['lock_id', 'lock_info'])
    .where('app_id', '=', key.app)
    .where('env_id', '=', key.env)
    .where('address', '=', key.address)
    .executeTakeFirst();
  return row?.lock_id ? { id: row.lock_id, info: row.lock_info ?? '{}' } : null;
}
