export { StaticDriver, type StaticDriverConfig } from './static.ts';
export {
  DEFAULT_EXEC_TIMEOUT_SECONDS,
  DEFAULT_INHERITED_ENV,
  ExecCommandError,
  ExecDriver,
  type ExecAction,
  type ExecDriverConfig,
  type ExecDriverDeps,
  type ExecRequest,
} from './exec.ts';
export { VolumeDirDriver, type VolumeDirDriverConfig } from './volume-dir.ts';
export { DnsLocalhostDriver, localhostName, type DnsLocalhostDriverConfig } from './dns-localhost.ts';
export { RouteLocalhostDriver, type RouteLocalhostDriverConfig } from './route-localhost.ts';
export {
  MAX_STDOUT_BYTES,
  NOT_STARTED,
  runCommand,
  type CommandResult,
  type CommandRun,
  type CommandStream,
} from './command.ts';
