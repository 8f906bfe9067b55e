import { describe, expect, it } from 'vitest';
import { describeResourceDriverContract } from '@pave/plugin-api/testing';
import { StaticDriver } from '../src/index.ts';
import { driverContext, inputsFor } from './support.ts';

const database = () =>
  inputsFor('postgres', {
    driverInputs: {
      host: 'db.internal',
      port: 5432,
      name: 'shop',
      database: 'shop',
      username: 'shop',
      tls: true,
    },
    driverSecrets: { password: 'pw', url: 'postgresql://shop:pw@db.internal:5432/shop' },
  });

describe('static driver', () => {
  describeResourceDriverContract('static', {
    driver: () => StaticDriver.fromConfig({}),
    validInputs: database,
    invalidInputs: {
      inputs: { ...database(), driverInputs: { ...database().driverInputs, port: { number: 5432 } } },
      property: 'driverInputs.port',
    },
    exists: async () => true,
    stateless: 'the outputs are computed from the inputs; nothing exists outside Pave',
    failingCreateSkipReason: 'nothing is created: the outputs are the inputs, so create cannot fail part way',
  });
});

describe('static driver outputs', () => {
  const ctx = driverContext();
  const driver = StaticDriver.fromConfig();

  it('returns the values and secrets it is given, stringified, under an id stable for the scope', async () => {
    const inputs = database();
    const { id, outputs } = await driver.create(inputs, ctx);
    expect(outputs).toEqual({
      values: {
        host: 'db.internal',
        port: '5432',
        name: 'shop',
        database: 'shop',
        username: 'shop',
        tls: 'true',
      },
      secrets: { password: 'pw', url: 'postgresql://shop:pw@db.internal:5432/shop' },
    });
    expect((await driver.create(inputs, ctx)).id).toBe(id);
    expect(id).toMatch(/^static-[0-9a-f]{16}$/);
  });

  it('still reads the outputs after delete, which does nothing', async () => {
    const inputs = database();
    const { id, outputs } = await driver.create(inputs, ctx);
    await driver.delete(id, inputs, ctx);
    expect(await driver.read(id, inputs, ctx)).toEqual({ outputs });
  });

  it('refuses non-scalar values and secrets, naming each property', async () => {
    const inputs = inputsFor('custom', {
      driverInputs: { ok: 'x', list: [1, 2], nothing: null },
      driverSecrets: { token: { nested: 'x' } },
    });
    const failures = await driver.check(inputs, ctx);
    expect(failures.map((f) => f.property).sort()).toEqual([
      'driverInputs.list',
      'driverInputs.nothing',
      'driverSecrets.token',
    ]);
    await expect(driver.create(inputs, ctx)).rejects.toMatchObject({
      name: 'InputError',
      errors: expect.arrayContaining([expect.objectContaining({ path: 'driverSecrets.token' })]),
    });
  });

  it('refuses a definition missing an output of its type or putting a secret output in values', async () => {
    const inputs = inputsFor('postgres', {
      driverInputs: { host: 'h', port: 1, name: 'n', database: 'd', username: 'u', password: 'in-the-open' },
      driverSecrets: {},
    });
    const failures = await driver.check(inputs, ctx);
    expect(failures.map((f) => f.property).sort()).toEqual(['driverInputs.password', 'driverSecrets.url']);
    expect(failures.find((f) => f.property === 'driverInputs.password')!.reason).toMatch(/secrets/);
  });

  it('accepts any outputs for a type Pave does not know', async () => {
    expect(await driver.check(inputsFor('s3', { driverInputs: { bucket: 'b' } }), ctx)).toEqual([]);
  });

  it('reports a change, without replacement and without secret values, when a secret differs', async () => {
    const olds = database();
    const news = { ...olds, driverSecrets: { ...olds.driverSecrets, password: 'rotated' } };
    const diff = await driver.diff('id', olds, news, ctx);
    expect(diff).toEqual({ changes: true, replace: false, changedProperties: ['driverSecrets.password'] });
    expect((await driver.update('id', olds, news, ctx)).outputs.secrets.password).toBe('rotated');
  });
});
