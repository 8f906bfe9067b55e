// How the Docker runtime names and labels what it creates, and where it keeps files on the host:
//   network    pave-<app>-<env>
//   container  pave-<app>-<env>-<workload>-<container>, labelled with LABELS
//   files      <dataDir>/runtime/docker/<app>/<env>/<workload>/<container>/files/<target path>
import { join } from 'node:path';
import { joinedDnsLabel, type RuntimeTarget } from '@pave/plugin-api';

/** The labels on every container this runtime creates; `app`…`hash` are how it finds its containers. */
export const LABELS = {
  app: 'dev.pave.app',
  env: 'dev.pave.env',
  workload: 'dev.pave.workload',
  container: 'dev.pave.container',
  deployment: 'dev.pave.deployment',
  /** RenderedWorkload.hash of the version the container belongs to. */
  hash: 'dev.pave.hash',
  /** The workload's RenderedPort list as JSON, so status can name the ports it reads from the bindings. */
  ports: 'dev.pave.ports',
  /** The readiness checks that may be kept outside memory, as JSON (see persistableProbe). */
  readiness: 'dev.pave.readiness',
  /** "true" on a container that runs to completion (another waits for it to complete: Score's `before`). */
  completes: 'dev.pave.runs-to-completion',
  /** On a container that shares another's network namespace: that container's id (it is removed last). */
  joins: 'dev.pave.joins',
} as const;

/** The network every container of `target` joins: workloads reach each other by name on it. */
export function networkName(target: RuntimeTarget): string {
  return joinedDnsLabel(['pave', target.app, target.env]);
}

/** The name of one container of a workload. */
export function containerName(target: RuntimeTarget, workload: string, container: string): string {
  return joinedDnsLabel(['pave', target.app, target.env, workload, container]);
}

/** Label filters (`key=value`) selecting the containers of `target`, or of one of its workloads. */
export function labelFilters(target: RuntimeTarget, workload?: string): string[] {
  const filters = [`${LABELS.app}=${target.app}`, `${LABELS.env}=${target.env}`];
  if (workload !== undefined) filters.push(`${LABELS.workload}=${workload}`);
  return filters;
}

/** The runtime's root directory inside Pave's data directory. */
export function runtimeRoot(dataDir: string): string {
  return join(dataDir, 'runtime', 'docker');
}

/** The directory holding the files of every workload of `target`. */
export function environmentDir(dataDir: string, target: RuntimeTarget): string {
  return join(runtimeRoot(dataDir), target.app, target.env);
}

/** The directory of one workload (names must already be validated as DNS labels). */
export function workloadDir(dataDir: string, target: RuntimeTarget, workload: string): string {
  return join(environmentDir(dataDir, target), workload);
}
