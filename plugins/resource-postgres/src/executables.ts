import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The path of executable `name` in one of `dirs`, or null. */
function findIn(name: string, dirs: readonly string[]): string | null {
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      if (statSync(candidate).isFile()) {
        accessSync(candidate, constants.X_OK);
        return candidate;
      }
    } catch {
      // not here
    }
  }
  return null;
}

/** The path of executable `name` on `PATH` (of `env`), or null. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  return findIn(name, (env.PATH ?? '').split(delimiter).filter(Boolean));
}

/** Where Debian and Ubuntu install each PostgreSQL major version's server programs. */
const DEBIAN_POSTGRES_ROOT = '/usr/lib/postgresql';

/** The PostgreSQL server programs the system engine runs. */
export interface ServerPrograms {
  initdb: string;
  postgres: string;
}

/**
 * `initdb` and `postgres` from one directory: the first directory on `PATH` holding both, else the newest
 * `/usr/lib/postgresql/<version>/bin`; null when PostgreSQL's server programs are not installed.
 */
export function findServerPrograms(env: NodeJS.ProcessEnv = process.env): ServerPrograms | null {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  try {
    const versions = readdirSync(DEBIAN_POSTGRES_ROOT)
      .filter((entry) => /^\d+(\.\d+)?$/.test(entry))
      .sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((version) => join(DEBIAN_POSTGRES_ROOT, version, 'bin')));
  } catch {
    // no Debian-style installation
  }
  for (const dir of dirs) {
    const initdb = findIn('initdb', [dir]);
    const postgres = findIn('postgres', [dir]);
    if (initdb && postgres) return { initdb, postgres };
  }
  return null;
}

/** Where `findServerPrograms` looks, for error messages. */
export const SERVER_PROGRAM_LOCATIONS = `PATH and ${DEBIAN_POSTGRES_ROOT}/<version>/bin`;
