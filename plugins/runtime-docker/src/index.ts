export { DockerRuntime, type DockerRuntimeConfig, type DockerRuntimeDeps } from './runtime.ts';
export {
  COMPOSE_HOST_GATEWAY,
  composeServiceAddress,
  renderCompose,
  rewriteLoopback,
  type ComposeEnvironment,
} from './compose.ts';
