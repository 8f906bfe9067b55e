import { ConflictError, NotFoundError } from '@pave/core';

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
