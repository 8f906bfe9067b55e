import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../packages/server/src/index.ts';
import { createTestDatabase } from './postgres.ts';

/** Every engine the store supports; store and API tests run once per engine. */
export const storeEngines = ['sqlite', 'postgres'] as const;
export type TestEngine = (typeof storeEngines)[number];

/** Where a test store lives: a temp data dir, and for PostgreSQL a fresh database. */
export interface TestStoreLocation {
  dataDir: string;
  /** The --store URL (undefined for SQLite, which lives in the data dir). */
  url: string | undefined;
  cleanup(): Promise<void>;
}

export async function createTestStoreLocation(engine: TestEngine): Promise<TestStoreLocation> {
  const dataDir = mkdtempSync(join(tmpdir(), `pave-test-${engine}-`));
  const database = engine === 'postgres' ? await createTestDatabase() : undefined;
  return {
    dataDir,
    url: database?.url,
    async cleanup() {
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Opens a migrated store on a fresh location of `engine`; `cleanup()` closes and removes it. */
export async function openTestStore(
  engine: TestEngine,
): Promise<{ store: Store; location: TestStoreLocation; cleanup(): Promise<void> }> {
  const location = await createTestStoreLocation(engine);
  const store = await openStore({ url: location.url, dataDir: location.dataDir });
  return {
    store,
    location,
    async cleanup() {
      await store.close();
      await location.cleanup();
    },
  };
}
