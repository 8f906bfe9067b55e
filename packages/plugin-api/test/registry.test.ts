import { describe, expect, it } from 'vitest';
import { DriverRegistry, RuntimeRegistry } from '../src/index.ts';

describe('DriverRegistry', () => {
  it('returns registered drivers by name and lists them sorted', () => {
    const registry = new DriverRegistry<{ name: string }>('runtime');
    registry.register({ name: 'process' }).register({ name: 'docker' });
    expect(registry.get('docker')).toEqual({ name: 'docker' });
    expect(registry.names()).toEqual(['docker', 'process']);
  });

  it('refuses a duplicate name with a message that says how to fix the configuration', () => {
    const registry = new DriverRegistry<{ name: string }>('resource');
    registry.register({ name: 'postgres-server' });
    expect(() => registry.register({ name: 'postgres-server' })).toThrow(
      expect.objectContaining({
        name: 'ConflictError',
        message: 'a resource driver named "postgres-server" is already registered',
        errors: [expect.objectContaining({ message: expect.stringContaining('unique name') })],
      }),
    );
  });

  it('names the known drivers when asked for a missing one', () => {
    const registry = new DriverRegistry<{ name: string }>('runtime').register({ name: 'process' });
    expect(() => registry.get('kubernetes')).toThrow(
      expect.objectContaining({
        name: 'NotFoundError',
        errors: [expect.objectContaining({ message: 'known drivers: process' })],
      }),
    );
  });
});

describe('RuntimeRegistry', () => {
  const factory = (type: string) => ({
    type,
    fromConfig: () => {
      throw new Error('not built in these tests');
    },
  });

  it('returns the runtime of each target type and lists the types sorted', () => {
    const registry = new RuntimeRegistry().register(factory('process')).register(factory('docker'));
    expect(registry.get('docker').type).toBe('docker');
    expect(registry.types()).toEqual(['docker', 'process']);
  });

  it('refuses a second runtime for a target type with a message that says how to fix the configuration', () => {
    const registry = new RuntimeRegistry().register(factory('docker'));
    expect(() => registry.register(factory('docker'))).toThrow(
      expect.objectContaining({
        name: 'ConflictError',
        message: 'a runtime for targets of type "docker" is already registered',
        errors: [expect.objectContaining({ message: expect.stringContaining('remove one of the two') })],
      }),
    );
  });

  it('names the known target types when asked for a missing one', () => {
    const registry = new RuntimeRegistry().register(factory('process'));
    expect(() => registry.get('nomad')).toThrow(
      expect.objectContaining({
        name: 'NotFoundError',
        errors: [expect.objectContaining({ message: 'known target types: process' })],
      }),
    );
  });
});
