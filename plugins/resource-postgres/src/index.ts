export { PostgresServerDriver, type PostgresServerConfig, type PostgresServerDeps } from './server-driver.ts';
export {
  EmbeddedPostgresDriver,
  EMBEDDED_POSTGRES_ENGINE_VARIABLE,
  stopEmbeddedPostgres,
  type StoppedPostgresServer,
  type EmbeddedPostgresConfig,
  type EmbeddedPostgresDeps,
  type EmbeddedPostgresEngine,
} from './embedded/driver.ts';
export { resourceObjectName } from './names.ts';
