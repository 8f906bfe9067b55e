export type { DriverContext, DriverLogger } from './context.ts';
export type {
  CheckFailure,
  ResourceDiff,
  ResourceDriver,
  RuntimeDriver,
  RuntimeRef,
  WorkloadStatus,
} from './drivers.ts';
export { DriverRegistry, type Named } from './registry.ts';
