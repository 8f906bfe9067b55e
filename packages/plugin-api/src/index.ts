export type { DriverContext, DriverLogger } from './context.ts';
export type {
  CheckFailure,
  ResourceDiff,
  LogLine,
  ReadyResult,
  RenderedContainer,
  RenderedFile,
  RenderedPort,
  RenderedProbe,
  RenderedVolume,
  RenderedWorkload,
  ResourceDriver,
  ResourceInputs,
  ResourceOutputs,
  ResourceScope,
  RuntimeDriver,
  RuntimeTarget,
  WorkloadStatus,
} from './drivers.ts';
export { DriverRegistry, type Named } from './registry.ts';
export { runtimeNameProblems } from './validation.ts';
