import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeResourceDriverContract } from '@pave/plugin-api/testing';
import { VolumeDirDriver } from '../src/index.ts';
import { driverContext, inputsFor } from './support.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'pave-volumes-'));
const volumes = join(dataDir, 'volumes');
const driver = VolumeDirDriver.fromConfig({ dataDir });

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const failing = inputsFor('volume', {
  cloneFrom: { values: { source: join(dataDir, 'no-such-volume') }, secrets: {} },
});
describeResourceDriverContract('volume-dir', {
  driver: () => driver,
  validInputs: () => inputsFor('volume'),
  invalidInputs: {
    inputs: inputsFor('volume', { cloneFrom: { values: { source: 'relative/path' }, secrets: {} } }),
    property: 'cloneFrom.values.source',
  },
  exists: async (_id, outputs) => existsSync(outputs.values.source!),
  failingCreate: {
    // The directory is made, then copying from a missing volume fails.
    inputs: failing,
    exists: async () =>
      existsSync(join(volumes, failing.scope.app, failing.scope.env, failing.scope.address)),
  },
});

describe('volume-dir driver', () => {
  const ctx = driverContext();

  it('creates <dataDir>/volumes/<app>/<env>/<address> with mode 0700', async () => {
    const inputs = inputsFor('volume', { scope: { address: 'api.data' } });
    const { id, outputs } = await driver.create(inputs, ctx);
    const dir = join(volumes, inputs.scope.app, 'dev', 'api.data');
    expect(outputs).toEqual({ values: { source: dir }, secrets: {} });
    expect(id).toBe(`${inputs.scope.app}/dev/api.data`);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('copies the files of cloneFrom into the new volume', async () => {
    const source = await driver.create(inputsFor('volume'), ctx);
    const from = source.outputs.values.source!;
    mkdirSync(join(from, 'sub'));
    writeFileSync(join(from, 'top.txt'), 'top');
    writeFileSync(join(from, 'sub', 'nested.txt'), 'nested');
    symlinkSync('top.txt', join(from, 'link'));

    const inputs = inputsFor('volume', { cloneFrom: source.outputs });
    const { outputs } = await driver.create(inputs, ctx);
    const to = outputs.values.source!;
    expect(to).not.toBe(from);
    expect(readFileSync(join(to, 'top.txt'), 'utf8')).toBe('top');
    expect(readFileSync(join(to, 'sub', 'nested.txt'), 'utf8')).toBe('nested');
    expect(readlinkSync(join(to, 'link'))).toBe('top.txt');
    expect(statSync(to).mode & 0o777).toBe(0o700);
    // The copy is independent of its source.
    writeFileSync(join(to, 'top.txt'), 'changed');
    expect(readFileSync(join(from, 'top.txt'), 'utf8')).toBe('top');
  });

  it('keeps every volume inside <dataDir>/volumes whatever the app, env and address', async () => {
    const hostile = [
      { app: '..', env: '..', address: '..' },
      { app: '../../escape', env: 'dev', address: 'api.data' },
      { app: 'shop', env: '/etc', address: '../../../../tmp/pwned' },
      { app: 'shop', env: 'dev', address: '.hidden/..' },
    ];
    const sources = new Set<string>();
    for (const scope of hostile) {
      const inputs = inputsFor('volume', { scope });
      const { id, outputs } = await driver.create(inputs, ctx);
      const source = outputs.values.source!;
      expect(source.startsWith(volumes + sep)).toBe(true);
      expect(source.slice(volumes.length + 1).split(sep)).toHaveLength(3);
      expect(id.split('/')).toHaveLength(3);
      sources.add(source);
      await driver.delete(id, inputs, ctx);
    }
    expect(sources.size).toBe(hostile.length);
    expect(readdirSync(dataDir)).toEqual(['volumes']);
    expect(existsSync(join(tmpdir(), 'pwned'))).toBe(false);
  });

  it('gives names that sanitise alike their own directories', async () => {
    const a = await driver.create(inputsFor('volume', { scope: { app: 'a/b' } }), ctx);
    const b = await driver.create(inputsFor('volume', { scope: { app: 'a_b' } }), ctx);
    expect(a.outputs.values.source).not.toBe(b.outputs.values.source);
  });

  it('refuses ids that are not its own, so read and delete cannot reach outside its directory', async () => {
    const inputs = inputsFor('volume');
    for (const id of ['../../etc', 'a/b/../../..', 'a/b', '/etc/passwd/x', 'a/b/c/d', 'a/../b']) {
      await expect(driver.read(id, inputs, ctx)).rejects.toMatchObject({ name: 'InputError' });
      await expect(driver.delete(id, inputs, ctx)).rejects.toMatchObject({ name: 'InputError' });
    }
  });

  it('deletes the volume with its contents and the directories it leaves empty', async () => {
    const inputs = inputsFor('volume');
    const { id, outputs } = await driver.create(inputs, ctx);
    mkdirSync(join(outputs.values.source!, 'deep', 'er'), { recursive: true });
    writeFileSync(join(outputs.values.source!, 'deep', 'er', 'file'), 'x');
    await driver.delete(id, inputs, ctx);
    expect(existsSync(join(volumes, inputs.scope.app))).toBe(false);
  });

  it('keeps an existing directory when create is retried', async () => {
    const inputs = inputsFor('volume');
    const { outputs } = await driver.create(inputs, ctx);
    writeFileSync(join(outputs.values.source!, 'data'), 'kept');
    const again = await driver.create(inputs, ctx);
    expect(readFileSync(join(again.outputs.values.source!, 'data'), 'utf8')).toBe('kept');
  });

  it('needs a data directory', () => {
    expect(() => VolumeDirDriver.fromConfig({ dataDir: '' })).toThrow(/data directory/);
  });
});
