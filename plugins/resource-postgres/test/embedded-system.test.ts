import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResourceInputs } from '@pave/plugin-api';
import { describeResourceDriverContract, testDriverContext } from '@pave/plugin-api/testing';
import { EmbeddedPostgresDriver, stopEmbeddedPostgres } from '../src/index.ts';
import {
  canConnect,
  expectIndependentCopy,
  expectIsolated,
  inputsFor,
  scopes,
  temporaryDataDir,
  itemNames,
  writeSourceRows,
} from './support.ts';

// One data directory (one embedded server) for the whole file: initdb takes a few seconds.
const { dataDir, remove } = temporaryDataDir();
const scope = scopes();
let counter = 0;
const fresh = (): ResourceInputs => inputsFor(scope(`env${++counter}`));
const driver = EmbeddedPostgresDriver.fromConfig({ dataDir, engine: 'system' });

/** The pids of the processes whose command line names this file's cluster. */
function postmasters(): number[] {
  const clusterData = join(dataDir, 'resources/postgres/system/data');
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return argv.includes('-D') && argv.includes(clusterData);
      } catch {
        return false;
      }
    })
    .map(Number);
}

afterAll(async () => {
  await stopEmbeddedPostgres(dataDir);
  expect(postmasters()).toEqual([]);
  remove();
});

describe('EmbeddedPostgresDriver, system engine', () => {
  const ctx = testDriverContext(AbortSignal.timeout(600_000));
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

  it('starts one server for concurrent first creates, and not as root', async () => {
    const started = Date.now();
    const [a, b] = await Promise.all([create(fresh()), create(fresh())]);
    ctx.logger.info('first creates', { ms: Date.now() - started });
    expect(a.id).toMatch(/^system\/pave_/);
    expect(a.outputs.values.host).toBe('127.0.0.1');
    expect(a.outputs.values.port).toBe(b.outputs.values.port);
    expect(postmasters()).toHaveLength(1);
    const owner = statSync(`/proc/${postmasters()[0]}`).uid;
    expect(owner === 0 && process.getuid?.() === 0).toBe(false);
    expect(await canConnect(a.outputs.secrets.url!)).toBe(true);
  });

  it('authenticates with the password: a wrong one is refused', async () => {
    const { outputs } = await create(fresh());
    const wrong = outputs.secrets.url!.replace(outputs.secrets.password!, 'wrong-password');
    expect(await canConnect(wrong)).toBe(false);
  });

  it("isolates environments: A's role cannot reach B's database", async () => {
    const a = await create(inputsFor(scope('iso-a')));
    const b = await create(inputsFor(scope('iso-b')));
    await expectIsolated(a.outputs, b.outputs);
  });

  it('copies the source database into a clone', async () => {
    const source = await create(inputsFor(scope('clone-src')));
    await writeSourceRows(source.outputs);
    const clone = await create({ ...inputsFor(scope('clone-dst')), cloneFrom: source.outputs });
    await expectIndependentCopy(source.outputs, clone.outputs);
  });

  it('starts the server again when it has stopped, keeping port and data', async () => {
    const inputs = inputsFor(scope('restart'));
    const { id, outputs } = await create(inputs);
    await writeSourceRows(outputs);
    await stopEmbeddedPostgres(dataDir);
    expect(await canConnect(outputs.secrets.url!)).toBe(false);
    expect(await driver.read(id, inputs, ctx)).toEqual({ outputs });
    expect(await itemNames(outputs)).toEqual(['apple', 'pear']);
  });
});

describeResourceDriverContract('postgres-embedded (system engine)', {
  driver: () => driver,
  validInputs: fresh,
  exists: (_id, outputs) => canConnect(outputs.secrets.url!),
  failingCreateSkipReason:
    'the system engine provisions through postgres-server, whose partial failures server.test.ts covers',
});
