export { RedisServerDriver, type RedisServerDriverConfig } from './server-driver.ts';
export { EmbeddedRedisDriver, type EmbeddedRedisConfig, type EmbeddedRedisDeps } from './embedded-driver.ts';
export { embeddedRedisAdminUrl, stopEmbeddedRedis, type StoppedRedisServer } from './embedded-server.ts';
export { RESOURCE_USER_COMMANDS, derivePassword } from './acl-users.ts';
export { resourceNames, type RedisResourceNames } from './names.ts';
