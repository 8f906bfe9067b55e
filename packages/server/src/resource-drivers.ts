import { DriverRegistry, type Isolation, type ResourceDriver } from '@pave/plugin-api';
import { EmbeddedPostgresDriver, PostgresServerDriver } from '@pave/resource-postgres';
import { EmbeddedRedisDriver, RedisServerDriver } from '@pave/resource-redis';
import { EmbeddedMysqlDriver, MysqlServerDriver } from '@pave/resource-mysql';
import { EmbeddedRabbitmqDriver, RabbitmqServerDriver } from '@pave/resource-amqp';
import {
  DEFAULT_INHERITED_ENV,
  DnsLocalhostDriver,
  ExecDriver,
  RouteLocalhostDriver,
  StaticDriver,
  VolumeDirDriver,
} from '@pave/resource-basic';
import { TerraformDriver } from '@pave/resource-terraform';

/** Where the resource drivers keep their state and find their helpers. */
export interface ResourceDriverConfig {
  /** Pave's data directory: embedded servers and volumes live under `<dataDir>/resources` and `/volumes`. */
  dataDir: string;
  /** The bundled PGlite server (packages/cli/dist/pglite-server.js), for machines without PostgreSQL. */
  pgliteScript: string;
  /** How exec commands are isolated (as workloads are); default none. */
  isolation?: Isolation;
  /**
   * Variables of the control plane's environment the exec and terraform drivers pass on to their commands
   * besides DEFAULT_INHERITED_ENV (`pave up --driver-env`), e.g. a cloud provider's credentials; default none.
   */
  driverEnv?: readonly string[] | undefined;
}

/**
 * The resource drivers Pave ships, registered by name: the embedded defaults (postgres-embedded,
 * redis-embedded, mysql-embedded, rabbitmq-embedded, volume-dir, dns-localhost, route-localhost) and the
 * production ones (postgres-server, redis-server, mysql-server, rabbitmq-server, static, exec, terraform). This is the one place the server touches the resource plugins.
 */
export function resourceDriverRegistry(config: ResourceDriverConfig): DriverRegistry<ResourceDriver> {
  const inheritEnv = [...new Set([...DEFAULT_INHERITED_ENV, ...(config.driverEnv ?? [])])];
  return new DriverRegistry<ResourceDriver>('resource')
    .register(
      EmbeddedPostgresDriver.fromConfig({ dataDir: config.dataDir, pgliteScript: config.pgliteScript }),
    )
    .register(PostgresServerDriver.fromConfig({}))
    .register(EmbeddedRedisDriver.fromConfig({ dataDir: config.dataDir }))
    .register(RedisServerDriver.fromConfig({}))
    .register(EmbeddedMysqlDriver.fromConfig({ dataDir: config.dataDir }))
    .register(MysqlServerDriver.fromConfig({}))
    .register(EmbeddedRabbitmqDriver.fromConfig({ dataDir: config.dataDir }))
    .register(RabbitmqServerDriver.fromConfig({}))
    .register(StaticDriver.fromConfig({}))
    .register(
      ExecDriver.fromConfig({ inheritEnv, ...(config.isolation ? { isolation: config.isolation } : {}) }),
    )
    .register(VolumeDirDriver.fromConfig({ dataDir: config.dataDir }))
    .register(DnsLocalhostDriver.fromConfig({}))
    .register(RouteLocalhostDriver.fromConfig({}))
    .register(TerraformDriver.fromConfig({ inheritEnv }));
}
