export { startServer, runServer, type ServerOptions, type RunningServer } from './server.ts';
export { buildApi, BODY_LIMIT_BYTES, type BuildApiOptions } from './http/app.ts';
export { openStore, migrations, type Store, type StoreMigration } from './store/index.ts';
export { bootstrapAdmin, ADMIN_TOKEN_FILE } from './domain/bootstrap.ts';
export { PAVE_VERSION } from './version.ts';
