import { describe, expect, it } from 'vitest';
import { DriverRegistry } from '../src/index.ts';

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
