import { describe, expect, it } from 'vitest';
import { describeResourceDriverContract } from '@pave/plugin-api/testing';
import { DnsLocalhostDriver, RouteLocalhostDriver } from '../src/index.ts';
import { driverContext, inputsFor } from './support.ts';

const ctx = driverContext();

describe('dns-localhost driver', () => {
  describeResourceDriverContract('dns-localhost', {
    driver: () => DnsLocalhostDriver.fromConfig(),
    validInputs: () => inputsFor('dns'),
    invalidInputs: { inputs: inputsFor('dns', { params: { host: 'bad_host' } }), property: 'params.host' },
    exists: async () => true,
    stateless: 'the outputs are computed from the inputs; nothing exists outside Pave',
    failingCreateSkipReason: 'nothing is created: the host name is computed from the scope',
  });

  const driver = DnsLocalhostDriver.fromConfig();

  it('names the host <workload>.<env>.<app>.localhost', async () => {
    const inputs = inputsFor('dns', { scope: { app: 'shop', env: 'dev', address: 'api.dns' } });
    expect((await driver.create(inputs, ctx)).outputs).toEqual({
      values: { host: 'api.dev.shop.localhost' },
      secrets: {},
    });
  });

  it('uses the id of a shared resource, made a DNS label', async () => {
    const inputs = inputsFor('dns', { scope: { app: 'shop', env: 'pr-7', address: 'shared.Main_Site' } });
    expect((await driver.create(inputs, ctx)).outputs.values.host).toBe('main-site.pr-7.shop.localhost');
  });

  it('uses params.host when given, and refuses one that is not a host name', async () => {
    const given = inputsFor('dns', { params: { host: 'shop.example.com' } });
    expect((await driver.create(given, ctx)).outputs.values.host).toBe('shop.example.com');
    for (const host of ['-bad.example.com', 'a..b', 'under_score.com', '', 42, 'x'.repeat(64) + '.com']) {
      const failures = await driver.check(inputsFor('dns', { params: { host } }), ctx);
      expect(failures, String(host)).toEqual([{ property: 'params.host', reason: expect.any(String) }]);
    }
    await expect(driver.create(inputsFor('dns', { params: { host: 'a..b' } }), ctx)).rejects.toMatchObject({
      name: 'InputError',
    });
  });

  it('gives each scope its own stable id and reports a change only when the host changes', async () => {
    const inputs = inputsFor('dns');
    const first = await driver.create(inputs, ctx);
    expect((await driver.create(inputs, ctx)).id).toBe(first.id);
    const renamed = { ...inputs, params: { host: 'new.example.com' } };
    expect(await driver.diff(first.id, inputs, renamed, ctx)).toEqual({
      changes: true,
      replace: false,
      changedProperties: ['params.host'],
    });
    expect((await driver.update(first.id, inputs, renamed, ctx)).outputs.values.host).toBe('new.example.com');
  });
});

describe('route-localhost driver', () => {
  const route = (params: Record<string, unknown>) => inputsFor('route', { params });

  describeResourceDriverContract('route-localhost', {
    driver: () => RouteLocalhostDriver.fromConfig(),
    validInputs: () => route({ host: 'api.dev.shop.localhost', path: '/v1', port: 8080 }),
    invalidInputs: {
      inputs: route({ host: 'api.localhost', path: 'v1', port: 80 }),
      property: 'params.path',
    },
    exists: async () => true,
    stateless: 'the outputs are computed from the inputs; nothing exists outside Pave',
    failingCreateSkipReason: 'nothing is created: the outputs echo the params',
  });

  const driver = RouteLocalhostDriver.fromConfig();

  it('echoes host, path and port as strings, with path "/" by default', async () => {
    expect((await driver.create(route({ host: 'api.localhost', port: 8080 }), ctx)).outputs).toEqual({
      values: { host: 'api.localhost', path: '/', port: '8080' },
      secrets: {},
    });
    const expanded = route({ host: 'api.localhost', path: '/api/', port: '3000' });
    expect((await driver.create(expanded, ctx)).outputs.values).toEqual({
      host: 'api.localhost',
      path: '/api/',
      port: '3000',
    });
  });

  it('names every bad param at once', async () => {
    const failures = await driver.check(route({ path: 'api', port: 70000 }), ctx);
    expect(failures.map((f) => f.property)).toEqual(['params.host', 'params.path', 'params.port']);
    expect(failures.map((f) => f.reason).join('\n')).toMatch(/required[\s\S]*start[\s\S]*1-65535/);
    const more = await driver.check(route({ host: 'bad host', path: '/a b', port: 8.5 }), ctx);
    expect(more.map((f) => f.property)).toEqual(['params.host', 'params.path', 'params.port']);
    expect(await driver.check(route({ host: 'a.localhost' }), ctx)).toEqual([
      { property: 'params.port', reason: expect.stringMatching(/required/) },
    ]);
    await expect(driver.create(route({ host: 'a.localhost' }), ctx)).rejects.toMatchObject({
      name: 'InputError',
      errors: [expect.objectContaining({ path: 'params.port' })],
    });
  });

  it('reports a change when a param changes', async () => {
    const olds = route({ host: 'a.localhost', port: 80 });
    const news = route({ host: 'a.localhost', port: 80, path: '/v2' });
    expect(await driver.diff('id', olds, olds, ctx)).toMatchObject({ changes: false });
    expect(await driver.diff('id', olds, news, ctx)).toEqual({
      changes: true,
      replace: false,
      changedProperties: ['params.path'],
    });
  });
});
