export { DockerRuntime, type DockerRuntimeConfig, type DockerRuntimeDeps } from './runtime.ts';
