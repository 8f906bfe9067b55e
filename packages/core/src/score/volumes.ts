import type { ScoreWorkload } from './schema.ts';

/*
 * Volume sources. A container's volume mounts a `volume` resource of its workload: its `source` is
 * `${resources.NAME}` (as Score writes it) or `${resources.NAME.source}`. Anything else (a host path, a bare
 * name, another type's output) would hand the workload whatever the runtime's host can read, so the server's
 * render refuses it on every runtime. The Score schema allows any string; the rule is Pave's, checked offline
 * by `parseScore` with `renderable` (`pave validate` and `pave deploy`, at the source's line), in the render's
 * words.
 */

/** The sources a Score volume may have: `${resources.NAME}`, as Score writes it, or its `source` output. */
export const VOLUME_SOURCE = /^\$\{resources\.([^.}]+)(?:\.source)?\}$/u;

/** A volume source that is not a volume resource of the workload: where it is and what to do about it. */
export interface VolumeSourceProblem {
  /** Path of the source in the spec: containers, NAME, volumes, its target (or list index), source. */
  path: Array<string | number>;
  /** What is wrong and how to fix it, naming the volume resources the workload declares. */
  message: string;
}

/**
 * Why `source` is not a volume resource of `workload`, naming those it declares; undefined when it is one (its
 * resource is declared with type `volume`).
 */
export function volumeSourceMistake(source: string, workload: ScoreWorkload): string | undefined {
  const name = VOLUME_SOURCE.exec(source.trim())?.[1];
  if (name !== undefined && workload.resources?.[name]?.type === 'volume') return undefined;
  const volumes = Object.entries(workload.resources ?? {})
    .filter(([, resource]) => resource.type === 'volume')
    .map(([resource]) => `\${resources.${resource}}`);
  return (
    `"${source}" is not a volume resource of the workload: a volume's source must be ` +
    `\${resources.NAME} of a resource of type volume under its resources ` +
    `(${volumes.length ? `here: ${volumes.join(', ')}` : 'it declares none'}); ` +
    'a workload mounts only volumes Pave provisions for its environment, never a host path'
  );
}

/**
 * One problem for each volume of `workload` whose `source` is not a volume resource of it (see
 * {@link volumeSourceMistake}), at the source. A placeholder of a resource the workload does not declare is
 * left out: the placeholder check reports it.
 */
export function checkScoreVolumeSources(workload: ScoreWorkload): VolumeSourceProblem[] {
  const problems: VolumeSourceProblem[] = [];
  for (const [name, container] of Object.entries(workload.containers)) {
    const volumes: Array<[string | number, { source: string }]> = Array.isArray(container.volumes)
      ? container.volumes.map((volume, index) => [index, volume])
      : Object.entries(container.volumes ?? {});
    for (const [key, volume] of volumes) {
      const resource = VOLUME_SOURCE.exec(volume.source.trim())?.[1];
      if (resource !== undefined && !Object.hasOwn(workload.resources ?? {}, resource)) continue;
      const message = volumeSourceMistake(volume.source, workload);
      if (message !== undefined)
        problems.push({ path: ['containers', name, 'volumes', key, 'source'], message });
    }
  }
  return problems;
}
