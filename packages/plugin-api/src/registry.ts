import { ConflictError, NotFoundError } from '@pave/core';
import type { RuntimeDriver } from './drivers.ts';

/** Anything registered by name. */
export interface Named {
  readonly name: string;
}

/**
 * Drivers by name. Registering a second driver under a taken name is refused with ConflictError, so two
 * plugins cannot silently shadow each other; looking up a missing one is NotFoundError listing those known.
 */
export class DriverRegistry<T extends Named> {
  private readonly drivers = new Map<string, T>();

  constructor(private readonly kind: string) {}

  /** Adds `driver`; ConflictError if its name is taken. */
  register(driver: T): this {
    if (this.drivers.has(driver.name)) {
      throw new ConflictError(`a ${this.kind} driver named "${driver.name}" is already registered`, [
        {
          path: driver.name,
          message:
            'each driver needs a unique name: remove one of the two plugins from the configuration or rename it',
        },
      ]);
    }
    this.drivers.set(driver.name, driver);
    return this;
  }

  /** The driver named `name`; NotFoundError naming the registered ones if there is none. */
  get(name: string): T {
    const driver = this.drivers.get(name);
    if (!driver) {
      const known = [...this.drivers.keys()].sort();
      throw new NotFoundError(`no ${this.kind} driver named "${name}"`, [
        {
          path: name,
          message: known.length ? `known drivers: ${known.join(', ')}` : 'no drivers are registered',
        },
      ]);
    }
    return driver;
  }

  /** Names of the registered drivers, sorted. */
  names(): string[] {
    return [...this.drivers.keys()].sort();
  }
}

/**
 * Builds the runtime driver of a runtime target of one type from the target's configuration (checked when the
 * target was applied). Throws if the configuration cannot give a driver.
 */
export interface RuntimeFactory {
  /** The target type it serves: `process`, `docker`, `kubernetes`, ... */
  readonly type: string;
  fromConfig(config: Record<string, unknown>): RuntimeDriver;
}

/**
 * Runtime factories by target type. Registering a second factory for a taken type is refused with
 * ConflictError, so two plugins cannot silently shadow each other; looking up a missing one is NotFoundError
 * listing the types known.
 */
export class RuntimeRegistry {
  private readonly factories = new Map<string, RuntimeFactory>();

  /** Adds `factory`; ConflictError if a runtime for its target type is registered already. */
  register(factory: RuntimeFactory): this {
    if (this.factories.has(factory.type)) {
      throw new ConflictError(`a runtime for targets of type "${factory.type}" is already registered`, [
        {
          path: factory.type,
          message:
            'each target type has one runtime: remove one of the two runtime plugins from the configuration',
        },
      ]);
    }
    this.factories.set(factory.type, factory);
    return this;
  }

  /** The factory for targets of `type`; NotFoundError naming the registered types if there is none. */
  get(type: string): RuntimeFactory {
    const factory = this.factories.get(type);
    if (!factory) {
      const known = this.types();
      throw new NotFoundError(`no runtime for targets of type "${type}"`, [
        {
          path: type,
          message: known.length ? `known target types: ${known.join(', ')}` : 'no runtimes are registered',
        },
      ]);
    }
    return factory;
  }

  /** The target types with a registered runtime, sorted. */
  types(): string[] {
    return [...this.factories.keys()].sort();
  }
}
