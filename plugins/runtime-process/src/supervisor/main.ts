// Entry point of the process runtime's supervisor host, bundled to packages/cli/dist/process-supervisor.js:
//
//   node process-supervisor.js --socket <path> [--idle-exit-ms <ms>]
//
// One runs per runtime directory (the runtime starts it detached, in its own session, on first need) and
// supervises every container of it (host.ts), taking requests on the Unix socket at <path>: a container's
// configuration, environment included, arrives there, never on its command line. It keeps running when the
// control plane stops, and exits by itself once it has supervised nothing for a moment. SIGTERM (or SIGINT)
// stops every container and then the host. Its own messages go to stdout (the runtime points it at a file).
// Keep it small: node: built-ins and this package's state/proc/log modules only.
import { SupervisorHost } from './host.ts';

/** How long the host stays once it supervises nothing, so that stopping a version and starting the next reuse it. */
const IDLE_EXIT_MS = 2_000;

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} ${message}\n`);
}

// Detached from any terminal; a hang-up of the control plane's terminal is not a reason to stop.
process.on('SIGHUP', () => undefined);

const socketPath = option('--socket');
if (!socketPath) {
  console.error('usage: process-supervisor.js --socket <path>');
  process.exit(2);
}
// What ps shows (it replaces the command line, which holds nothing secret either).
process.title = `pave-supervisor ${socketPath}`;
let host: SupervisorHost;
try {
  host = new SupervisorHost(socketPath, IDLE_EXIT_MS, log);
  if (!(await host.listen())) {
    log(`another supervisor host already listens on ${socketPath}: exiting`);
    process.exit(0);
  }
} catch (error) {
  console.error(`pave supervisor: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}
process.on('SIGTERM', () => void host.stopAll('SIGTERM'));
process.on('SIGINT', () => void host.stopAll('SIGINT'));
process.on('uncaughtException', (error) => host.abort(error));
