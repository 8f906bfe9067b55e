// The environment a container's process gets. Not the control plane's own environment (it may hold
// Pave's credentials): only a few host variables most programs need, then Pave's, then the workload's own.
import { portVariableName, type RenderedPort } from '@pave/plugin-api';

/** Host variables every process inherits (plus LC_*), so commands resolve on PATH and find HOME. */
export const INHERITED_VARIABLES = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TMPDIR',
];

/** The inherited subset of `hostEnv`. */
export function inheritedEnvironment(hostEnv: NodeJS.ProcessEnv): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(hostEnv)) {
    if (value !== undefined && (INHERITED_VARIABLES.includes(key) || key.startsWith('LC_'))) {
      result[key] = value;
    }
  }
  return result;
}

/** `PORT` (the first port's host port) and `PORT_<NAME>` for every port. */
function portEnvironment(ports: RenderedPort[]): Record<string, string> {
  const result: Record<string, string> = {};
  if (ports[0]) result.PORT = String(ports[0].hostPort);
  for (const port of ports) result[portVariableName(port.name)] = String(port.hostPort);
  return result;
}

/**
 * A container's complete environment: inherited host variables, then `PORT`, `PORT_<NAME>` and
 * `PAVE_FILES_DIR`, then the container's own variables, which win over everything before them.
 */
export function containerEnvironment(options: {
  hostEnv: NodeJS.ProcessEnv;
  ports: RenderedPort[];
  filesDir: string;
  env: Record<string, string>;
}): Record<string, string> {
  return {
    ...inheritedEnvironment(options.hostEnv),
    ...portEnvironment(options.ports),
    PAVE_FILES_DIR: options.filesDir,
    ...options.env,
  };
}
