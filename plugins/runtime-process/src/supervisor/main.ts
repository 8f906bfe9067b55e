// Entry point of the process runtime's supervisor, bundled to packages/cli/dist/process-supervisor.js.
// The runtime starts one per container (detached, in its own session) and writes its SupervisorConfig as
// JSON to stdin, so the container's environment never touches a file or a command line. It keeps running
// when the control plane stops. SIGTERM (or SIGINT) stops the container and then the supervisor.
// Keep it small: node: built-ins and this package's state/proc/log modules only.
import type { SupervisorConfig } from '../state.ts';
import { ContainerSupervisor } from './supervisor.ts';

const STDIN_TIMEOUT_MS = 10_000;

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error('no configuration on stdin')), STDIN_TIMEOUT_MS);
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on('error', reject);
    process.stdin.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** Checks the shape of the configuration; the message never repeats its content (it holds secrets). */
function parseConfig(text: string): SupervisorConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('the configuration on stdin is not JSON');
  }
  const config = value as Record<string, unknown>;
  const strings = ['app', 'env', 'workload', 'container', 'hash', 'deploymentId', 'cwd'] as const;
  const paths = ['logFile', 'eventLogFile', 'stateFile'] as const;
  const problems: string[] = [...strings, ...paths].filter((key) => typeof config[key] !== 'string');
  if (!Array.isArray(config.argv) || config.argv.length === 0 || !config.argv.every(isString)) {
    problems.push('argv');
  }
  const environment = config.environment;
  if (
    typeof environment !== 'object' ||
    environment === null ||
    !Object.values(environment).every(isString)
  ) {
    problems.push('environment');
  }
  if (problems.length > 0) throw new Error(`invalid configuration fields: ${problems.join(', ')}`);
  return value as SupervisorConfig;
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

// Detached from any terminal; a hang-up of the control plane's terminal is not a reason to stop.
process.on('SIGHUP', () => undefined);

let supervisor: ContainerSupervisor;
try {
  const config = parseConfig(await readStdin());
  process.title = `pave-supervisor ${config.app}/${config.env}/${config.workload}/${config.container}`;
  supervisor = new ContainerSupervisor(config, (code) => process.exit(code));
} catch (error) {
  console.error(`pave supervisor: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}
process.stdin.destroy();
process.on('SIGTERM', () => supervisor.stop('SIGTERM'));
process.on('SIGINT', () => supervisor.stop('SIGINT'));
process.on('uncaughtException', (error) => supervisor.abort(error));
supervisor.start();
