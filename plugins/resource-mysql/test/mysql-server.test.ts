import { rmSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResourceInputs } from '@pave/plugin-api';
import { describeResourceDriverContract, lookAlikeScopes, testDriverContext } from '@pave/plugin-api/testing';
import { MysqlServerDriver, isResourceObjectName, resourceObjectName } from '../src/index.ts';
import { isAccessDenied } from '../src/connection.ts';
import {
  ADMIN_URL,
  catalogueHas,
  dropEverythingOf,
  expectIndependentCopy,
  expectIsolated,
  inputsFor,
  rejection,
  rows,
  scopes,
  withConnection,
  writeSourceRows,
} from './support.ts';

const { app, scope } = scopes();
let counter = 0;
const fresh = (): ResourceInputs => inputsFor(scope(`env${++counter}`), { adminUrl: ADMIN_URL });

/** A source database that does not exist: mysqldump fails after create made the database and user. */
const MISSING_SOURCE = {
  values: { host: '127.0.0.1', port: '3306', database: 'no_such_database_here', username: 'root' },
  secrets: { password: '' },
};
const failing: ResourceInputs = { ...fresh(), cloneFrom: MISSING_SOURCE };
const failingName = resourceObjectName(failing.scope);

describeResourceDriverContract('mysql-server', {
  driver: () => MysqlServerDriver.fromConfig({}),
  validInputs: fresh,
  invalidInputs: {
    inputs: inputsFor(scope('bad'), { adminUrl: 'postgres://root@localhost/db' }),
    property: 'adminUrl',
  },
  exists: (_id, outputs) => catalogueHas(ADMIN_URL, 'database', outputs.values.database!),
  failingCreate: {
    inputs: failing,
    exists: async () =>
      (await catalogueHas(ADMIN_URL, 'database', failingName)) ||
      (await catalogueHas(ADMIN_URL, 'user', failingName)),
  },
  cleanup: () => dropEverythingOf(ADMIN_URL, app),
});

describe('MysqlServerDriver', () => {
  const ctx = testDriverContext(AbortSignal.timeout(600_000));
  const driver = MysqlServerDriver.fromConfig({});
  const created: Array<{ id: string; inputs: ResourceInputs }> = [];
  const create = async (inputs: ResourceInputs) => {
    const result = await driver.create(inputs, ctx);
    created.push({ id: result.id, inputs });
    return result;
  };

  afterAll(async () => {
    for (const { id, inputs } of created) await driver.delete(id, inputs, ctx).catch(() => undefined);
    await dropEverythingOf(ADMIN_URL, app);
    rmSync(ctx.scratchDir, { recursive: true, force: true });
  });

  it('names every resource with a valid, stable name of at most 32 characters', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (app, env, resId, address) => {
        const name = resourceObjectName({ app, env, resId, address });
        expect(isResourceObjectName(name)).toBe(true);
        expect(name.length).toBeLessThanOrEqual(32);
        expect(resourceObjectName({ app, env, resId, address })).toBe(name);
      }),
    );
    expect(resourceObjectName({ app: 'shop', env: 'dev', resId: 'api.db', address: 'api.db' })).toMatch(
      /^shop_dev_api_db_[0-9a-f]{8}$/,
    );
    const long = 'a'.repeat(80);
    expect(resourceObjectName({ app: long, env: 'dev', resId: 'db', address: 'shared.db' })).not.toBe(
      resourceObjectName({ app: long, env: 'prod', resId: 'db', address: 'shared.db' }),
    );
  });

  it('gives different (app, env, address) different names', () => {
    // Few characters, so that the readable parts often agree (or are cut alike) and only the hash differs.
    const label = fc.stringMatching(/^[ab]([ab_-]{0,12}[ab])?$/);
    const { scopePairs } = lookAlikeScopes(label);
    fc.assert(
      fc.property(scopePairs, ([a, b]) => {
        fc.pre(a.app !== b.app || a.env !== b.env || a.address !== b.address);
        expect(resourceObjectName(a)).not.toBe(resourceObjectName(b));
      }),
      { numRuns: 2000 },
    );
    const own = { app: 'shop', env: 'dev', resId: 'web.db', address: 'web.db' };
    expect(resourceObjectName(own)).not.toBe(resourceObjectName({ ...own, address: 'shared.web.db' }));
    expect(resourceObjectName({ ...own, app: 'a-b', env: 'c' })).not.toBe(
      resourceObjectName({ ...own, app: 'a', env: 'b-c' }),
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
    for (const failure of failures) expect(failure.reason).not.toBe('');
    await expect(driver.create(inputsFor(scope('bad')), ctx)).rejects.toMatchObject({
      name: 'InputError',
    });
  });

  it('accepts an admin URL without password among the plain values, and warns when it holds one', async () => {
    const warnings: string[] = [];
    const spied = { ...ctx, logger: { ...ctx.logger, warn: (message: string) => warnings.push(message) } };
    expect(await driver.check(inputsFor(scope('plain'), {}, { adminUrl: ADMIN_URL }), spied)).toEqual([]);
    expect(warnings).toEqual([]);
    const withPassword = 'mysql://root:hunter2@127.0.0.1:3306/';
    expect(await driver.check(inputsFor(scope('plain'), {}, { adminUrl: withPassword }), spied)).toEqual([]);
    expect(warnings).toEqual([expect.stringMatching(/move it to driverInputs\.secrets/)]);
  });

  it('gives each environment a database its own user writes and reads, which other environments cannot reach', async () => {
    const a = await create(inputsFor(scope('iso-a'), { adminUrl: ADMIN_URL }));
    const b = await create(inputsFor(scope('iso-b'), { adminUrl: ADMIN_URL }));
    expect(a.outputs.values).toMatchObject({
      host: '127.0.0.1',
      port: '3306',
      name: a.id,
      database: a.id,
      username: a.id,
    });
    expect(a.outputs.secrets.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.outputs.secrets.url).toBe(
      `mysql://${a.id}:${a.outputs.secrets.password}@127.0.0.1:3306/${a.id}`,
    );
    await expectIsolated(a.outputs, b.outputs);
    // Only its own database, on the server's catalogue.
    const grants = await withConnection(ADMIN_URL, (c) =>
      rows<Record<string, string>>(c, "SHOW GRANTS FOR ?@'%'", [a.id]),
    );
    const text = grants.map((row) => Object.values(row)[0]).join('\n');
    expect(text).toMatch(new RegExp(`GRANT ALL PRIVILEGES ON \`${a.id}\`\\.\\* TO`));
    expect(text).not.toMatch(/ON \*\.\*.*(ALL|CREATE)/);
  });

  it("gives a shared resource and a workload's own resource of the same resId databases of their own", async () => {
    // Score id `web.db` (address shared.web.db) and workload web's resource db (address web.db), one env.
    const ownScope = scope('same-res', 'web.db');
    const own = await create(inputsFor(ownScope, { adminUrl: ADMIN_URL }));
    const shared = await create(
      inputsFor({ ...ownScope, address: 'shared.web.db' }, { adminUrl: ADMIN_URL }),
    );
    expect(shared.id).not.toBe(own.id);
    await expectIsolated(own.outputs, shared.outputs);
  });

  it('is idempotent: a second create of the same resource takes it over with its data', async () => {
    const inputs = inputsFor(scope('again'), { adminUrl: ADMIN_URL });
    const first = await create(inputs);
    await writeSourceRows(first.outputs);
    const second = await driver.create(inputs, ctx);
    expect(second).toEqual(first);
    expect(
      await withConnection(second.outputs.secrets.url!, (c) => rows(c, 'SELECT COUNT(*) AS n FROM items')),
    ).toEqual([{ n: 2 }]);
  });

  it('publishes the host and port workloads use when they differ from the admin URL', async () => {
    const inputs = inputsFor(scope('route'), { adminUrl: ADMIN_URL }, { host: 'db.internal', port: '6033' });
    const { outputs } = await create(inputs);
    expect(outputs.values).toMatchObject({ host: 'db.internal', port: '6033' });
    expect(outputs.secrets.url).toMatch(/@db\.internal:6033\//);
  });

  it('replaces the resource for another server and sets a new password for a new passwordKey', async () => {
    const inputs = inputsFor(scope('rotate'), { adminUrl: ADMIN_URL });
    const { id, outputs } = await create(inputs);
    const otherServer = inputsFor(inputs.scope, { adminUrl: ADMIN_URL.replace(':3306', ':3307') });
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
    await withConnection(updated.outputs.secrets.url!, (c) => c.query('SELECT 1'));
    expect(
      isAccessDenied(await rejection(withConnection(outputs.secrets.url!, (c) => c.query('SELECT 1')))),
    ).toBe(true);
    expect(await driver.read(id, rotated, ctx)).toEqual(updated);
  });

  it('delete drops the database and the user, ends their sessions, and read then returns null', async () => {
    const inputs = inputsFor(scope('gone'), { adminUrl: ADMIN_URL });
    const { id, outputs } = await create(inputs);
    await withConnection(outputs.secrets.url!, async (session) => {
      await session.query('CREATE TABLE t (x INT)');
      await driver.delete(id, inputs, ctx);
      await expect(session.query('SELECT 1')).rejects.toThrow();
    });
    expect(await catalogueHas(ADMIN_URL, 'database', id)).toBe(false);
    expect(await catalogueHas(ADMIN_URL, 'user', id)).toBe(false);
    expect(await driver.read(id, inputs, ctx)).toBeNull();
    expect(
      isAccessDenied(await rejection(withConnection(outputs.secrets.url!, (c) => c.query('SELECT 1')))),
    ).toBe(true);
    await driver.delete(id, inputs, ctx);
  });

  it('read returns null when only the user is gone', async () => {
    const inputs = inputsFor(scope('half'), { adminUrl: ADMIN_URL });
    const { id } = await create(inputs);
    await withConnection(ADMIN_URL, (c) => c.query("DROP USER ?@'%'", [id]));
    expect(await driver.read(id, inputs, ctx)).toBeNull();
  });

  it('copies the source database into the clone, which then changes on its own', async () => {
    const source = await create(inputsFor(scope('clone-src'), { adminUrl: ADMIN_URL }));
    await writeSourceRows(source.outputs);
    const clone = await create({
      ...inputsFor(scope('clone-dst'), { adminUrl: ADMIN_URL }),
      cloneFrom: source.outputs,
    });
    await expectIndependentCopy(source.outputs, clone.outputs);
  });

  it('leaves nothing behind when the copy fails, quoting mysqldump', async () => {
    const inputs = { ...inputsFor(scope('clone-bad'), { adminUrl: ADMIN_URL }), cloneFrom: MISSING_SOURCE };
    await expect(driver.create(inputs, ctx)).rejects.toThrow(/mysqldump failed.*no_such_database_here/s);
    const name = resourceObjectName(inputs.scope);
    expect(await catalogueHas(ADMIN_URL, 'database', name)).toBe(false);
    expect(await catalogueHas(ADMIN_URL, 'user', name)).toBe(false);
  });

  it('names mysqldump, mysql and mariadb-client when cloning without them, and leaves nothing behind', async () => {
    const bare = MysqlServerDriver.fromConfig({}, { env: { PATH: '/nonexistent' } });
    const source = await create(inputsFor(scope('nobin-src'), { adminUrl: ADMIN_URL }));
    const inputs = { ...inputsFor(scope('nobin-dst'), { adminUrl: ADMIN_URL }), cloneFrom: source.outputs };
    await expect(bare.create(inputs, ctx)).rejects.toThrow(
      /mysqldump and mysql on PATH; not found: mysqldump, mysql \(.*mariadb-client\)/,
    );
    expect(await catalogueHas(ADMIN_URL, 'database', resourceObjectName(inputs.scope))).toBe(false);
    expect(await catalogueHas(ADMIN_URL, 'user', resourceObjectName(inputs.scope))).toBe(false);
  });
});
