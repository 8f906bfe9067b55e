import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The directories of a PATH value, in order. */
export function pathDirectories(pathEnv: string | undefined): string[] {
  return (pathEnv ?? '').split(delimiter).filter(Boolean);
}

/** The path of the first of `names` found as an executable file in one of `dirs` (names first), or null. */
export function findExecutable(names: readonly string[], dirs: readonly string[]): string | null {
  for (const name of names) {
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
  }
  return null;
}
