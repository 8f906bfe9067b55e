export {
  openStore,
  redactUrl,
  isUniqueViolation,
  isForeignKeyViolation,
  applyAgainOnConflict,
  isStoreUnavailable,
  type Store,
  type StoreOptions,
  type Executor,
} from './store.ts';
export type { Database } from './schema.ts';
export { lockRow, type ParentTable } from './locks.ts';
export { migrations, type StoreMigration, type StoreEngine } from './migrations/index.ts';
