export { MysqlServerDriver, type MysqlServerConfig, type MysqlServerDeps } from './server-driver.ts';
export { EmbeddedMysqlDriver, type EmbeddedMysqlConfig, type EmbeddedMysqlDeps } from './embedded-driver.ts';
export { embeddedMysqlAdminUrl, stopEmbeddedMysql, type StoppedMysqlServer } from './embedded-server.ts';
export { derivePassword } from './passwords.ts';
export { isResourceObjectName, resourceObjectName } from './names.ts';
