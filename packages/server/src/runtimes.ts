import { ISOLATION_LEVELS, RuntimeRegistry, type IsolationLevel, type RuntimeDriver } from '@pave/plugin-api';
import {
  composeServiceAddress,
  DockerRuntime,
  renderCompose,
  type DockerRuntimeConfig,
} from '@pave/runtime-docker';
import { KubernetesRuntime, type KubernetesRuntimeConfig } from '@pave/runtime-kubernetes';
import type { ComposeRenderer } from './runtime-router.ts';

/** What the runtimes Pave ships need to be built. */
export interface RuntimeRegistryConfig {
  /**
   * The one process runtime every `process` target shares (the built-in `local` target included), seen
   * through what the registry needs of it: its driver at a target's isolation level (ProcessRuntime).
   */
  local: { isolated(level: IsolationLevel | undefined): RuntimeDriver };
  /** Pave's data directory: the docker runtime keeps environment files under it. */
  dataDir: string;
}

/**
 * The runtimes Pave ships, registered by target type: `process` (local processes, at the target's
 * `isolation`, default the strongest), `docker` and `kubernetes`. This and composeRenderer are the one place
 * the server touches the runtime plugins.
 */
export function runtimeRegistry(config: RuntimeRegistryConfig): RuntimeRegistry {
  return new RuntimeRegistry()
    .register({
      type: 'process',
      fromConfig: (settings) => config.local.isolated(processIsolation(settings)),
    })
    .register({
      type: 'docker',
      fromConfig: (settings) =>
        DockerRuntime.fromConfig({ ...(settings as Partial<DockerRuntimeConfig>), dataDir: config.dataDir }),
    })
    .register({
      type: 'kubernetes',
      fromConfig: (settings) => KubernetesRuntime.fromConfig(settings as KubernetesRuntimeConfig),
    });
}

/** `pave render --format compose`: Compose is the Docker/Podman world, so the docker plugin renders it. */
export const composeRenderer: ComposeRenderer = {
  serviceAddress: composeServiceAddress,
  render: renderCompose,
};

/** A process target's `isolation` setting (checked when the target was applied), or undefined: the strongest. */
function processIsolation(settings: Record<string, unknown>): IsolationLevel | undefined {
  const level = settings.isolation;
  return (ISOLATION_LEVELS as readonly unknown[]).includes(level) ? (level as IsolationLevel) : undefined;
}
