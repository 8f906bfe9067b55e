export { ProcessRuntime, type ProcessRuntimeConfig, type ProcessRuntimeDeps } from './runtime.ts';
export type { RestartBackoff } from './state.ts';
export { INHERITED_VARIABLES } from './environment.ts';
export { stopProcessWorkloads, type StoppedProcess } from './stop-all.ts';
