export {
  openStore,
  redactUrl,
  isUniqueViolation,
  refuseConcurrentApply,
  isStoreUnavailable,
  type Store,
  type StoreOptions,
  type Executor,
} from './store.ts';
export type { Database } from './schema.ts';
export { migrations, type StoreMigration, type StoreEngine } from './migrations/index.ts';
