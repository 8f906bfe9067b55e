import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceInputs } from '@pave/plugin-api';
import { describeResourceDriverContract, testDriverContext } from '@pave/plugin-api/testing';
import { EmbeddedPostgresDriver, resourceObjectName, stopEmbeddedPostgres } from '../src/index.ts';
import {
  buildPgliteDaemon,
  canConnect,
  expectIndependentCopy,
  inputsFor,
  itemNames,
  scopes,
  temporaryDataDir,
  withConnection,
  writeSourceRows,
} from './support.ts';

const { dataDir, remove } = temporaryDataDir();
const scope = scopes();
let counter = 0;
const fresh = (): ResourceInputs => inputsFor(scope(`env${++counter}`));
let daemon: Awaited<ReturnType<typeof buildPgliteDaemon>>;
const driver = async () =>
  EmbeddedPostgresDriver.fromConfig({
    dataDir,
    engine: 'pglite',
    pgliteScript: (daemon ??= await buildPgliteDaemon()).script,
  });

beforeAll(async () => {
  daemon ??= await buildPgliteDaemon();
});

afterAll(async () => {
  await stopEmbeddedPostgres(dataDir);
  remove();
  daemon?.remove();
});

describe('EmbeddedPostgresDriver, pglite engine', () => {
  const ctx = testDriverContext(AbortSignal.timeout(600_000));
  const created: Array<{ id: string; inputs: ResourceInputs }> = [];
  const create = async (inputs: ResourceInputs) => {
    const result = await (await driver()).create(inputs, ctx);
    created.push({ id: result.id, inputs });
    return result;
  };

  afterAll(async () => {
    const d = await driver();
    for (const { id, inputs } of created) await d.delete(id, inputs, ctx);
    rmSync(ctx.scratchDir, { recursive: true, force: true });
  });

  it('is chosen by PAVE_EMBEDDED_POSTGRES=pglite, and an unknown engine there is refused', () => {
    const fromEnv = (value: string) =>
      EmbeddedPostgresDriver.fromConfig(
        { dataDir, pgliteScript: daemon.script },
        { env: { PAVE_EMBEDDED_POSTGRES: value } },
      );
    expect(fromEnv('pglite').engine().engine).toBe('pglite');
    expect(() => fromEnv('sqlite').engine()).toThrow(
      /PAVE_EMBEDDED_POSTGRES="sqlite" is not an embedded PostgreSQL engine/,
    );
  });

  it('serves a database of its own to each resource', async () => {
    const a = await create(inputsFor(scope('iso-a')));
    const b = await create(inputsFor(scope('iso-b')));
    expect(a.id).toMatch(/^pglite\/pave_/);
    expect(a.outputs.values).toMatchObject({ host: '127.0.0.1', username: 'postgres', database: 'postgres' });
    expect(a.outputs.values.port).not.toBe(b.outputs.values.port);
    await writeSourceRows(a.outputs);
    await withConnection(b.outputs.secrets.url!, async (client) => {
      const { rows } = await client.query("SELECT 1 FROM pg_tables WHERE tablename = 'items'");
      expect(rows).toEqual([]);
    });
  });

  it('copies a PGlite source into a clone', async () => {
    const source = await create(inputsFor(scope('clone-src')));
    await writeSourceRows(source.outputs);
    const clone = await create({ ...inputsFor(scope('clone-dst')), cloneFrom: source.outputs });
    await expectIndependentCopy(source.outputs, clone.outputs);
  });

  it('starts a stopped daemon again, keeping port and data', async () => {
    const inputs = inputsFor(scope('restart'));
    const { id, outputs } = await create(inputs);
    await writeSourceRows(outputs);
    await stopEmbeddedPostgres(dataDir);
    expect(await canConnect(outputs.secrets.url!)).toBe(false);
    expect(await (await driver()).read(id, inputs, ctx)).toEqual({ outputs });
    expect(await itemNames(outputs)).toEqual(['apple', 'pear']);
  });

  it('leaves nothing behind when the daemon cannot start', async () => {
    const broken = join(dataDir, 'broken-daemon.mjs');
    writeFileSync(broken, "console.error('cannot start'); process.exit(3);\n");
    const failing = EmbeddedPostgresDriver.fromConfig({ dataDir, engine: 'pglite', pgliteScript: broken });
    const inputs = inputsFor(scope('broken'));
    await expect(failing.create(inputs, ctx)).rejects.toThrow(/cannot start/);
    const instances = join(dataDir, 'resources/postgres/pglite');
    expect(readdirSync(instances)).not.toContain(resourceObjectName(inputs.scope));
    expect(await (await driver()).read(`pglite/${resourceObjectName(inputs.scope)}`, inputs, ctx)).toBeNull();
  });
});

describeResourceDriverContract('postgres-embedded (pglite engine)', {
  driver,
  validInputs: fresh,
  exists: (_id, outputs) => canConnect(outputs.secrets.url!),
  failingCreateSkipReason:
    'a PGlite instance is made in one step (its daemon starts or not); the pglite tests above check that a ' +
    'daemon that cannot start leaves nothing behind',
});
