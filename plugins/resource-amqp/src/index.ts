export { RabbitmqServerDriver, DEFAULT_AMQP_PORT, type RabbitmqServerDriverConfig } from './server-driver.ts';
export {
  EmbeddedRabbitmqDriver,
  type EmbeddedRabbitmqConfig,
  type EmbeddedRabbitmqDeps,
} from './embedded-driver.ts';
export {
  embeddedRabbitmqAdminUrl,
  stopEmbeddedRabbitmq,
  type StoppedRabbitmqNode,
} from './embedded-server.ts';
export { derivePassword, type PasswordSource } from './passwords.ts';
export { resourceNames, type AmqpResourceNames } from './names.ts';
