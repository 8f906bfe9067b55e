export type { DriverContext, DriverLogger, ResourceStateBackend } from './context.ts';
export type {
  CheckFailure,
  ExtraManifest,
  JsonPatchOperation,
  ManifestPatch,
  WorkloadProfileEffects,
  ResourceDiff,
  LogLine,
  LogsOptions,
  ReadyResult,
  RenderedContainer,
  RenderedFile,
  RenderedPort,
  RenderedRoute,
  RenderableEnvironment,
  RenderedProbe,
  RenderedVolume,
  RenderedWorkload,
  ResourceDriver,
  ResourceInputs,
  ResourceOutputs,
  ResourceScope,
  RuntimeDriver,
  RuntimeTarget,
  WaitReadyOptions,
  WorkloadShape,
  WorkloadStatus,
} from './drivers.ts';
export { byLogTime, logTimeKey, sinceFilter } from './log-times.ts';
export { beforeProblems, runsToCompletion, startOrder, waitsFor, type BeforeReady } from './before.ts';
export { DriverRegistry, RuntimeRegistry, type Named, type RuntimeFactory } from './registry.ts';
export { runtimeNameProblems } from './validation.ts';
export {
  DEFAULT_WORKLOAD_USER,
  ISOLATION_LEVELS,
  describeIsolation,
  detectIsolationHost,
  directoryAccessProblem,
  grantToWorkload,
  isolatedCommand,
  isolationFor,
  restrictToOwner,
  searchablePath,
  strongestIsolation,
  type Isolation,
  type IsolatedCommand,
  type IsolatedRun,
  type IsolationHost,
  type IsolationLevel,
  type WorkloadIdentity,
} from './isolation.ts';
export {
  DEFAULT_STABLE_MS,
  sleep,
  untilAborted,
  waitForReady,
  type ReadinessCheck,
  type ReadinessOutcome,
  type UnprobedContainer,
} from './readiness.ts';
export { WorkloadLocks, workloadKey } from './workload-locks.ts';
export {
  freePort,
  logTail,
  portIsFree,
  procStat,
  signalIfRunning,
  waitUntil,
  withStartLock,
  type StartLock,
} from './local-servers.ts';
export { MAX_DNS_LABEL_LENGTH, dnsLabel, joinedDnsLabel, shortHash } from './dns-names.ts';
export { portVariableName } from './ports.ts';
