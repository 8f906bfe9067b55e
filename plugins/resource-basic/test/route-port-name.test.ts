import { describe, expect, it } from 'vitest';
import { RouteLocalhostDriver } from '../src/index.ts';
import { driverContext, inputsFor } from './support.ts';

/*
 * Found by a Score-conformance review: score-compose's route example names the workload's port (`port: web`).
 * The server gives the driver the port of a service port named so; a name that reaches the driver names none,
 * and the driver's refusal says what the port may be.
 */
describe('route-localhost params.port', () => {
  const driver = RouteLocalhostDriver.fromConfig();
  const ctx = driverContext();
  const route = (port: unknown) => inputsFor('route', { params: { host: 'api.localhost', port } });

  it('takes the number the server resolved a port name to', async () => {
    expect(await driver.check(route(80), ctx)).toEqual([]);
    expect((await driver.create(route(80), ctx)).outputs.values.port).toBe('80');
  });

  it('refuses a name that names no service port, saying what it may be', async () => {
    expect(await driver.check(route('wbe'), ctx)).toEqual([
      {
        property: 'params.port',
        reason:
          'must be a port number 1-65535, or the name of a port of the workload\'s service.ports, not "wbe"',
      },
    ]);
  });
});
