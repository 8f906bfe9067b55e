import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ResourceStateBackend } from '@pave/plugin-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi, type Store } from '../src/index.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import {
  StateCredentials,
  lockState,
  releaseStateLocks,
  stateResourceId,
} from '../src/domain/resources/state.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const API = { app: 'shop', env: 'staging', address: 'shared.db' };
const OTHER = { app: 'shop', env: 'staging', address: 'api.cache' };

// A module of Terraform's built-in parts only (no provider to download): each apply with a new `run` replaces
// its one resource, which sleeps while Terraform holds the state lock.
const MODULE = `
terraform {
  backend "http" {}
}
variable "run" {
  type = string
}
resource "terraform_data" "slow" {
  input            = var.run
  triggers_replace = var.run
  provisioner "local-exec" {
    command = "sleep 2"
  }
}
output "run" {
  value = terraform_data.slow.output
}
`;

/** The Terraform http backend settings of a state backend, as environment variables. */
function backendEnv(backend: ResourceStateBackend): Record<string, string> {
  return {
    TF_HTTP_ADDRESS: backend.address,
    TF_HTTP_LOCK_ADDRESS: backend.lockAddress,
    TF_HTTP_UNLOCK_ADDRESS: backend.unlockAddress,
    TF_HTTP_LOCK_METHOD: 'LOCK',
    TF_HTTP_UNLOCK_METHOD: 'UNLOCK',
    TF_HTTP_USERNAME: backend.username,
    TF_HTTP_PASSWORD: backend.password,
  };
}

/** Runs terraform in `dir` against `backend`; resolves with its exit code and output. */
function terraform(
  dir: string,
  args: string[],
  backend: ResourceStateBackend,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('terraform', [...args, '-no-color', '-input=false'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        TF_IN_AUTOMATION: '1',
        TF_CLI_CONFIG_FILE: join(dir, 'empty.tfrc'),
        ...backendEnv(backend),
      },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

function moduleDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pave-tf-state-'));
  writeFileSync(join(dir, 'main.tf'), MODULE);
  writeFileSync(join(dir, 'empty.tfrc'), '');
  return dir;
}

function basic(backend: Pick<ResourceStateBackend, 'username' | 'password'>): string {
  return `Basic ${Buffer.from(`${backend.username}:${backend.password}`).toString('base64')}`;
}

describe.each(storeEngines)('the resource state backend (%s)', (engine) => {
  let store: Store;
  let box: SecretBox;
  let app: FastifyInstance;
  let credentials: StateCredentials;
  let cleanup: () => Promise<void>;
  const dirs: string[] = [];

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    box = new SecretBox(store.db, keyringSource(opened.location.dataDir, {}));
    await box.init();
    credentials = new StateCredentials(box);
    await credentials.init();
    app = await buildApi({
      store,
      secrets: { box },
      stateCredentials: credentials,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    credentials.setBaseUrl(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
  });

  afterAll(async () => {
    await app?.close();
    await cleanup?.();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** The state backend of a driver call that runs until the test ends. */
  function backend(key = API): ResourceStateBackend {
    const found = credentials.open(key);
    if (!found) throw new Error('no state backend');
    return found.backend;
  }

  it('refuses a missing credential, another resource’s, an expired one and a forged one', async () => {
    const own = backend();
    const missing = await fetch(own.address);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { detail: string }).detail).toMatch(/state credential/);

    const other = await fetch(own.address, { headers: { authorization: basic(backend(OTHER)) } });
    expect(other.status).toBe(403);
    expect(((await other.json()) as { detail: string }).detail).toBe(
      'the state credential is for another resource',
    );

    const shortLived = new StateCredentials(box, { ttlMs: 1 });
    await shortLived.init();
    shortLived.setBaseUrl('http://127.0.0.1');
    const expired = shortLived.open(API)!.backend;
    await new Promise((resolve) => setTimeout(resolve, 10));
    const late = await fetch(own.address, { headers: { authorization: basic(expired) } });
    expect(late.status).toBe(403);
    expect(((await late.json()) as { detail: string }).detail).toBe('the state credential has expired');

    const [prefix, payload] = own.password.split('.');
    const forged = `${prefix}.${payload}.${Buffer.alloc(32).toString('base64url')}`;
    const bad = await fetch(own.address, {
      headers: { authorization: basic({ username: 'pave', password: forged }) },
    });
    expect(bad.status).toBe(403);

    const fine = await fetch(own.address, { headers: { authorization: basic(own) } });
    expect(fine.status).toBe(204);
  });

  // A credential expired an hour after it was given, while a Terraform call may run for a day: an apply still
  // running then had its state writes and its unlock refused.
  it('takes a credential for as long as its driver call runs, a day if need be, and not once it has ended', async () => {
    const call = credentials.open(API)!;
    const [, payload] = call.backend.password.split('.');
    const { exp } = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as { exp: number };
    expect(exp - Date.now()).toBeGreaterThan(24 * 60 * 60 * 1000);
    const headers = { authorization: basic(call.backend) };
    expect((await fetch(call.backend.address, { headers })).status).toBe(204);
    call.end();
    const ended = await fetch(call.backend.address, { headers });
    expect(ended.status).toBe(403);
    expect(((await ended.json()) as { detail: string }).detail).toBe(
      'the driver call this state credential was given to has ended',
    );
  });

  it('keeps the state encrypted, and a held lock answers 423 with its holder', async () => {
    const own = backend(OTHER);
    const headers = { authorization: basic(own), 'content-type': 'application/json' };
    const lock = (id: string) =>
      fetch(own.lockAddress, {
        method: 'LOCK',
        headers,
        body: JSON.stringify({ ID: id, Who: `runner-${id}` }),
      });
    expect((await lock('a')).status).toBe(200);
    const second = await lock('b');
    expect(second.status).toBe(423);
    expect(await second.json()).toMatchObject({ ID: 'a', Who: 'runner-a' });

    const state = JSON.stringify({ version: 4, serial: 1, outputs: { marker: 'plain-marker-8c1f' } });
    const refused = await fetch(`${own.address}?ID=b`, { method: 'POST', headers, body: state });
    expect(refused.status).toBe(423);
    const written = await fetch(`${own.address}?ID=a`, { method: 'POST', headers, body: state });
    expect(written.status).toBe(200);
    expect(await (await fetch(own.address, { headers })).text()).toBe(state);
    const row = await store.db
      .selectFrom('resource_states')
      .selectAll()
      .where('address', '=', OTHER.address)
      .executeTakeFirstOrThrow();
    expect(row.state).not.toContain('plain-marker-8c1f');

    const unlockedByOther = await fetch(own.unlockAddress, {
      method: 'UNLOCK',
      headers,
      body: JSON.stringify({ ID: 'b' }),
    });
    expect(unlockedByOther.status).toBe(423);
    expect(
      (await fetch(own.unlockAddress, { method: 'UNLOCK', headers, body: JSON.stringify({ ID: 'a' }) }))
        .status,
    ).toBe(200);
    expect((await lock('b')).status).toBe(200);

    // A run that was killed keeps its lock until the environment's deployment is resumed or ends.
    expect(await releaseStateLocks(store.db, OTHER.app, OTHER.env)).toEqual([OTHER.address]);
    expect(await lockState(store.db, OTHER, 'c', '{"ID":"c"}')).toEqual({ locked: true });
    await releaseStateLocks(store.db, OTHER.app, OTHER.env);
  });

  it('serialises two concurrent terraform applies on one resource with its lock, and the state stays whole', async () => {
    const first = moduleDir();
    const second = moduleDir();
    dirs.push(first, second);
    for (const dir of [first, second]) {
      const init = await terraform(dir, ['init'], backend());
      expect(init.code, init.output).toBe(0);
    }
    const runs = await Promise.all([
      terraform(first, ['apply', '-auto-approve', '-lock-timeout=60s', '-var', 'run=first'], backend()),
      terraform(second, ['apply', '-auto-approve', '-lock-timeout=60s', '-var', 'run=second'], backend()),
    ]);
    for (const run of runs) expect(run.code, run.output).toBe(0);

    // A third run that will not wait fails on the lock while another run holds it, and changes nothing.
    const holder = terraform(
      first,
      ['apply', '-auto-approve', '-lock-timeout=60s', '-var', 'run=third'],
      backend(),
    );
    await expect
      .poll(
        async () =>
          (
            await store.db
              .selectFrom('resource_states')
              .select('lock_id')
              .where('address', '=', API.address)
              .executeTakeFirstOrThrow()
          ).lock_id,
        { timeout: 30_000, interval: 50 },
      )
      .not.toBeNull();
    const impatient = await terraform(
      second,
      ['apply', '-auto-approve', '-lock-timeout=0s', '-var', 'run=fourth'],
      backend(),
    );
    expect(impatient.code, impatient.output).toBe(1);
    expect(impatient.output).toMatch(/Error acquiring the state lock/);
    expect((await holder).code).toBe(0);

    const state = JSON.parse(
      await (await fetch(backend().address, { headers: { authorization: basic(backend()) } })).text(),
    ) as { serial: number; outputs: { run: { value: string } } };
    expect(state.outputs.run.value).toBe('third');
    expect(state.serial).toBeGreaterThanOrEqual(3);
    const row = await store.db
      .selectFrom('resource_states')
      .selectAll()
      .where('address', '=', API.address)
      .executeTakeFirstOrThrow();
    expect(row.lock_id).toBeNull();
    expect(stateResourceId(API)).toBe('shop:staging:shared.db');
  }, 120_000);
});

describe.each(storeEngines)('state locks left by a killed run (%s)', (engine) => {
  let api: DeployingApi;

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
    for (const [url, payload] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
    ] as const) {
      const response = await api.call('POST', url, payload);
      expect(response.statusCode, response.body).toBe(201);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('are released when the environment’s next deployment starts, and its journal says so before it ends', async () => {
    const key = { app: 'shop', env: 'dev', address: 'shared.db' };
    expect(await lockState(api.store.db, key, 'killed-run', '{"ID":"killed-run"}')).toEqual({ locked: true });
    const other = { app: 'shop', env: 'staging', address: 'shared.db' };
    await lockState(api.store.db, other, 'elsewhere', '{"ID":"elsewhere"}');

    const deployment = await api.deploy('shop', 'dev', {
      workloads: [
        {
          spec: {
            apiVersion: 'score.dev/v1b1',
            metadata: { name: 'api' },
            containers: { main: { image: 'node:20', command: ['node', 'server.js'] } },
          },
          dir: '/srv/app',
        },
      ],
    });
    expect(deployment.status).toBe('succeeded');
    expect(deployment.journal.map((entry) => entry.message)).toContain(
      'released the state lock of shared.db left by an interrupted run',
    );
    const locks = await api.store.db
      .selectFrom('resource_states')
      .select(['env_id', 'lock_id'])
      .orderBy('env_id')
      .execute();
    // Only the deployed environment's locks: another environment's run may still hold its own.
    expect(locks).toEqual([
      { env_id: 'dev', lock_id: null },
      { env_id: 'staging', lock_id: 'elsewhere' },
    ]);
  });
});
