import type { ScoreContainerProbe, ScoreWorkload } from '@pave/core';
import type { RenderedPort, RenderedProbe, RenderedWorkload } from '@pave/plugin-api';

/** What every placeholder expands to here: the tests check rendering, not resolution. */
export const EXPANDED = 'expanded';

/** Score's `${...}` placeholders replaced by {@link EXPANDED}, naively (no `$$` escapes, no nesting). */
export function expandNaively(text: string): string {
  return text.replace(/\$\{[^}]*\}/gu, EXPANDED);
}

/**
 * A Score workload as the control plane would hand it to a runtime, simplified: placeholders expanded
 * naively, host port = port + 20000, probe ports mapped to the host port of the service port they name
 * (kept as written when they name none), `source` files given a fixed content.
 */
export function renderedFromScore(spec: ScoreWorkload, deploymentId = 'dep-1'): RenderedWorkload {
  const ports: RenderedPort[] = Object.entries(spec.service?.ports ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, port]) => ({
      name,
      port: port.port,
      targetPort: port.targetPort ?? port.port,
      protocol: port.protocol ?? 'TCP',
      hostPort: port.port + 20_000,
    }));
  const probe = (score: ScoreContainerProbe | undefined): RenderedProbe | undefined => {
    if (!score) return undefined;
    const rendered: RenderedProbe = {};
    if (score.exec) rendered.exec = { command: score.exec.command };
    if (score.httpGet) {
      const { port, ...rest } = score.httpGet;
      const served = ports.find((p) => p.targetPort === port) ?? ports.find((p) => p.port === port);
      rendered.httpGet = { ...rest, port: served?.hostPort ?? port };
    }
    return rendered;
  };
  const containers = Object.entries(spec.containers).map(([name, container]) => {
    const files = Array.isArray(container.files)
      ? container.files.map((file) => [String(file.target ?? ''), file] as const)
      : Object.entries(container.files ?? {});
    const volumes = Array.isArray(container.volumes)
      ? container.volumes.map((volume) => [String(volume.target ?? ''), volume] as const)
      : Object.entries(container.volumes ?? {});
    const readinessProbe = probe(container.readinessProbe);
    const livenessProbe = probe(container.livenessProbe);
    return {
      name,
      image: container.image,
      ...(container.command ? { command: container.command } : {}),
      ...(container.args ? { args: container.args } : {}),
      env: Object.fromEntries(
        Object.entries(container.variables ?? {}).map(([key, value]) => [key, expandNaively(value)]),
      ),
      files: files.map(([target, file]) => {
        const mode = file.mode ? { mode: file.mode } : {};
        if (file.binaryContent !== undefined)
          return { target, content: file.binaryContent, binary: true, ...mode };
        if (file.content !== undefined) {
          return { target, content: file.noExpand ? file.content : expandNaively(file.content), ...mode };
        }
        return { target, content: `the content of ${file.source ?? 'a source file'}\n`, ...mode };
      }),
      workingDir: '/srv/app',
      ...(readinessProbe ? { readinessProbe } : {}),
      ...(livenessProbe ? { livenessProbe } : {}),
      ...(volumes.length > 0
        ? {
            volumes: volumes.map(([target, volume]) => ({
              source: expandNaively(volume.source),
              target,
              ...(volume.path ? { path: volume.path } : {}),
              ...(volume.readOnly ? { readOnly: true } : {}),
            })),
          }
        : {}),
      ...(container.resources ? { resources: container.resources } : {}),
    };
  });
  return { name: spec.metadata.name, containers, ports, hash: `hash-${spec.metadata.name}`, deploymentId };
}
