import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Where the embedded engines keep their files, all under `<dataDir>/resources/postgres/`. */
export interface EmbeddedLayout {
  /** `<dataDir>/resources/postgres` */
  base: string;
  system: {
    /** The directory the server's own user owns: PGDATA and the socket directory. */
    clusterDir: string;
    /** PGDATA. */
    dataDir: string;
    /** The Unix socket directory (`-k`). */
    socketDir: string;
    /** `{ port, pid }` of the server (see SystemServerState). */
    stateFile: string;
    /** The superuser's password, mode 0600. */
    passwordFile: string;
    /** initdb's and the server's output. */
    logFile: string;
  };
  /** One directory per PGlite instance, named after the resource. */
  pgliteDir: string;
}

/** The layout below `dataDir` (nothing is created). */
export function embeddedLayout(dataDir: string): EmbeddedLayout {
  const base = join(dataDir, 'resources', 'postgres');
  const clusterDir = join(base, 'system');
  return {
    base,
    system: {
      clusterDir,
      dataDir: join(clusterDir, 'data'),
      socketDir: join(clusterDir, 'run'),
      stateFile: join(base, 'system-server.json'),
      passwordFile: join(base, 'system-superuser-password'),
      logFile: join(base, 'system-server.log'),
    },
    pgliteDir: join(base, 'pglite'),
  };
}

/** Reads a JSON file; null if it is missing or unreadable. */
export function readJsonFile<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** Writes a JSON file atomically (temporary file + rename), readable by its owner only. */
export function writeJsonFile(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}
