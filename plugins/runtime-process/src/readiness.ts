// Which readiness checks a workload gets (see ProcessRuntime.waitReady) and which may be kept on disk.
import type { IsolatedCommand, RenderedContainer, RenderedPort, RenderedWorkload } from '@pave/plugin-api';
import type { ReadinessCheck } from './probes.ts';

/** A readiness check and the container it belongs to (null: the workload as a whole). */
export interface ContainerCheck {
  container: string | null;
  check: ReadinessCheck;
}

/** The readiness checks of `workload` (see waitReady), with everything they need to run. */
export function readinessChecks(
  workload: RenderedWorkload,
  environmentOf: (container: RenderedContainer) => Record<string, string>,
  isolate: (container: RenderedContainer, argv: string[]) => IsolatedCommand = (container, argv) => ({
    file: argv[0] ?? '',
    args: argv.slice(1),
    cwd: container.workingDir,
  }),
): ContainerCheck[] {
  const checks: ContainerCheck[] = [];
  for (const container of workload.containers) {
    const probe = container.readinessProbe;
    if (probe?.httpGet) {
      const { port, path, host, scheme, httpHeaders } = probe.httpGet;
      checks.push({
        container: container.name,
        check: {
          kind: 'httpGet',
          port,
          path,
          ...(host ? { host } : {}),
          scheme: scheme ?? 'HTTP',
          headers: httpHeaders ?? [],
        },
      });
    } else if (probe?.exec) {
      const command = isolate(container, probe.exec.command);
      checks.push({
        container: container.name,
        check: {
          kind: 'exec',
          command: [command.file, ...command.args],
          cwd: command.cwd,
          env: environmentOf(container),
          ...(command.uid !== undefined ? { uid: command.uid } : {}),
          ...(command.gid !== undefined ? { gid: command.gid } : {}),
        },
      });
    }
  }
  if (checks.length > 0) return checks;
  return [{ container: null, check: defaultCheck(workload.ports) }];
}

/**
 * The check of a workload without readiness probes: that its first TCP port accepts connections; with no TCP
 * port (none, or only UDP ones, which no connection can test), only that it runs.
 */
function defaultCheck(ports: RenderedPort[]): ReadinessCheck {
  const tcp = ports.find((port) => port.protocol === 'TCP');
  return tcp ? { kind: 'tcp', port: tcp.hostPort } : { kind: 'running' };
}

/**
 * The form of a check kept in workload.json for a control plane that restarts: header values and exec
 * probes (command and environment) may hold secrets, so an httpGet with headers becomes a TCP check of its
 * port and an exec probe becomes the default check.
 */
export function persistableCheck(entry: ContainerCheck, ports: RenderedPort[]): ContainerCheck {
  const { check } = entry;
  if (check.kind === 'httpGet' && check.headers.length > 0) {
    return { container: entry.container, check: { kind: 'tcp', port: check.port } };
  }
  if (check.kind === 'httpGet') return entry;
  if (check.kind === 'exec') return { container: entry.container, check: defaultCheck(ports) };
  return entry;
}
