import { rmSync } from 'node:fs';
import { escapeIdentifier } from 'pg';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResourceInputs } from '@pave/plugin-api';
import { describeResourceDriverContract, testDriverContext } from '@pave/plugin-api/testing';
import { PostgresServerDriver, resourceObjectName } from '../src/index.ts';
import { scramVerifier } from '../src/passwords.ts';
import {
  ADMIN_URL,
  canConnect,
  expectIndependentCopy,
  expectIsolated,
  inputsFor,
  scopes,
  withConnection,
  writeSourceRows,
} from './support.ts';

const scope = scopes();
let counter = 0;
const fresh = (): ResourceInputs => inputsFor(scope(`env${++counter}`), { adminUrl: ADMIN_URL });

/** Asked of the server's catalogues, not of the driver. */
async function catalogueHas(kind: 'database' | 'role', name: string): Promise<boolean> {
  const sql =
    kind === 'database'
      ? 'SELECT 1 FROM pg_database WHERE datname = $1'
      : 'SELECT 1 FROM pg_roles WHERE rolname = $1';
  return withConnection(ADMIN_URL, async (client) => ((await client.query(sql, [name])).rowCount ?? 0) > 0);
}

/** Whether the role's stored SCRAM verifier is the one of `password`. */
async function storedPasswordIs(role: string, password: string): Promise<boolean> {
  const stored = await withConnection(ADMIN_URL, async (client) => {
    const { rows } = await client.query<{ rolpassword: string }>(
      'SELECT rolpassword FROM pg_authid WHERE rolname = $1',
      [role],
    );
    return rows[0]?.rolpassword ?? '';
  });
  const salt = /^SCRAM-SHA-256\$4096:([^$]+)\$/.exec(stored)?.[1];
  return salt !== undefined && scramVerifier(password, Buffer.from(salt, 'base64')) === stored;
}

/** A database that takes the name create would give `failing`'s scope, so create fails after making the role. */
const failing = fresh();
const squatter = resourceObjectName(failing.scope);

describeResourceDriverContract('postgres-server', {
  driver: async () => {
    await withConnection(ADMIN_URL, (client) =>
      client.query(`CREATE DATABASE ${escapeIdentifier(squatter)}`),
    );
    return PostgresServerDriver.fromConfig({});
  },
  validInputs: fresh,
  invalidInputs: {
    inputs: inputsFor(scope('bad'), { adminUrl: 'mysql://root@localhost/db' }),
    property: 'adminUrl',
  },
  exists: (_id, outputs) => catalogueHas('database', outputs.values.database!),
  failingCreate: { inputs: failing, exists: () => catalogueHas('role', squatter) },
  cleanup: async () => {
    await withConnection(ADMIN_URL, (client) =>
      client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(squatter)} WITH (FORCE)`),
    );
  },
});

describe('PostgresServerDriver', () => {
  const ctx = testDriverContext(AbortSignal.timeout(600_000));
  const driver = PostgresServerDriver.fromConfig({});
  const created: Array<{ id: string; inputs: ResourceInputs }> = [];
  const create = async (inputs: ResourceInputs) => {
    const result = await driver.create(inputs, ctx);
    created.push({ id: result.id, inputs });
    return result;
  };

  afterAll(async () => {
    for (const { id, inputs } of created) await driver.delete(id, inputs, ctx);
    rmSync(ctx.scratchDir, { recursive: true, force: true });
  });

  it('names every resource with a valid, stable identifier of at most 63 characters', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (app, env, address) => {
        const name = resourceObjectName({ app, env, address });
        expect(name).toMatch(/^pave(_[a-z0-9]+)*_[0-9a-f]{8}$/);
        expect(name.length).toBeLessThanOrEqual(63);
        expect(resourceObjectName({ app, env, address })).toBe(name);
      }),
    );
    const long = 'a'.repeat(80);
    expect(resourceObjectName({ app: long, env: 'dev', address: 'x.db' })).not.toBe(
      resourceObjectName({ app: long, env: 'prod', address: 'x.db' }),
    );
  });

  it('reports every problem with the inputs at once', async () => {
    const failures = await driver.check(
      inputsFor(scope('bad'), {}, { host: 'not a host', port: 70_000, passwordKey: 'visible' }),
      ctx,
    );
    expect(failures.map((failure) => failure.property).sort()).toEqual([
      'adminUrl',
      'host',
      'passwordKey',
      'port',
    ]);
  });

  it('gives the owner a working database that other environments cannot connect to', async () => {
    const a = await create(inputsFor(scope('iso-a'), { adminUrl: ADMIN_URL }));
    const b = await create(inputsFor(scope('iso-b'), { adminUrl: ADMIN_URL }));
    expect(a.outputs.values).toMatchObject({ host: '127.0.0.1', port: '5432', name: a.id, database: a.id });
    expect(a.outputs.secrets.password!.length).toBeGreaterThanOrEqual(24);
    expect(a.outputs.secrets.password).toMatch(/^[A-Za-z0-9_-]+$/);
    await expectIsolated(a.outputs, b.outputs);
  });

  it('publishes the host and port workloads use when they differ from the admin URL', async () => {
    const inputs = inputsFor(scope('route'), { adminUrl: ADMIN_URL }, { host: 'db.internal', port: '6543' });
    const { outputs } = await create(inputs);
    expect(outputs.values).toMatchObject({ host: 'db.internal', port: '6543' });
    expect(outputs.secrets.url).toMatch(/@db\.internal:6543\//);
  });

  it('replaces the resource for another server and updates the password for a new passwordKey', async () => {
    const inputs = inputsFor(scope('rotate'), { adminUrl: ADMIN_URL });
    const { id, outputs } = await create(inputs);
    const otherServer = inputsFor(inputs.scope, { adminUrl: ADMIN_URL.replace(':5432', ':5433') });
    expect(await driver.diff(id, inputs, otherServer, ctx)).toMatchObject({ changes: true, replace: true });

    const rotated = inputsFor(inputs.scope, { adminUrl: ADMIN_URL, passwordKey: 'rotated-key' });
    expect(await driver.diff(id, inputs, rotated, ctx)).toEqual({
      changes: true,
      replace: false,
      changedProperties: ['passwordKey'],
    });
    const updated = await driver.update(id, inputs, rotated, ctx);
    created.find((entry) => entry.id === id)!.inputs = rotated;
    expect(updated.outputs.secrets.password).not.toBe(outputs.secrets.password);
    expect(await canConnect(updated.outputs.secrets.url!)).toBe(true);
    // The machine's server trusts loopback clients, so ask its catalogue which password the role now has.
    expect(await storedPasswordIs(id, updated.outputs.secrets.password!)).toBe(true);
    expect(await storedPasswordIs(id, outputs.secrets.password!)).toBe(false);
    expect(await driver.read(id, rotated, ctx)).toEqual(updated);
  });

  it('copies the source database into a clone owned by the new role', async () => {
    const source = await create(inputsFor(scope('clone-src'), { adminUrl: ADMIN_URL }));
    await writeSourceRows(source.outputs);
    const clone = await create({
      ...inputsFor(scope('clone-dst'), { adminUrl: ADMIN_URL }),
      cloneFrom: source.outputs,
    });
    await expectIndependentCopy(source.outputs, clone.outputs);
    const owner = await withConnection(clone.outputs.secrets.url!, async (client) => {
      const { rows } = await client.query<{ tableowner: string }>(
        "SELECT tableowner FROM pg_tables WHERE tablename = 'items'",
      );
      return rows[0]?.tableowner;
    });
    expect(owner).toBe(clone.outputs.values.username);
  });

  it('leaves nothing behind when the copy fails', async () => {
    const inputs = {
      ...inputsFor(scope('clone-bad'), { adminUrl: ADMIN_URL }),
      cloneFrom: {
        values: { host: '127.0.0.1', port: '5432', database: 'no_such_database_here', username: 'postgres' },
        secrets: { password: '' },
      },
    };
    await expect(driver.create(inputs, ctx)).rejects.toThrow(/pg_dump failed/);
    expect(await catalogueHas('role', resourceObjectName(inputs.scope))).toBe(false);
    expect(await catalogueHas('database', resourceObjectName(inputs.scope))).toBe(false);
  });

  it('names pg_dump and psql when cloning without them, and leaves nothing behind', async () => {
    const bare = PostgresServerDriver.fromConfig({}, { env: { PATH: '/nonexistent' } });
    const source = await create(inputsFor(scope('nobin-src'), { adminUrl: ADMIN_URL }));
    const inputs = { ...inputsFor(scope('nobin-dst'), { adminUrl: ADMIN_URL }), cloneFrom: source.outputs };
    await expect(bare.create(inputs, ctx)).rejects.toThrow(
      /pg_dump and psql on PATH; not found: pg_dump, psql/,
    );
    expect(await catalogueHas('role', resourceObjectName(inputs.scope))).toBe(false);
  });
});
