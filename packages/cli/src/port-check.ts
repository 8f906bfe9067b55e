import { createServer } from 'node:net';
import { listenProblem, listenerPortInUseError, type Listener } from '@pave/core/ports';
import { CliUsageError } from './errors.ts';

/** A port `pave up` is to listen on, and what for: the API (`--port`) or metrics (`--metrics-port`). */
export interface PortToCheck {
  host: string;
  port: number;
  serves: Listener;
}

/**
 * Checks that `pave up` can listen on each of `ports` by listening there for a moment, so that an address it
 * cannot serve is refused before a new data directory is initialised (store, master key, audit key, admin
 * user). Rejects with ConflictError when a port is in use, naming the process that holds it (when this host
 * shows it) and the flag to change, in the server's words; with CliUsageError naming the flag when the host is
 * not this machine's or the port needs privileges (see listenProblem). Port 0 checks the host alone. Any other
 * failure to listen is left to the server, which reports it in context.
 */
export async function checkPortsFree(ports: readonly PortToCheck[]): Promise<void> {
  for (const { host, port, serves } of ports) {
    const code = await listenBriefly(host, port);
    if (code === undefined) continue;
    if (code === 'EADDRINUSE') throw listenerPortInUseError(serves, host, port);
    const problem = listenProblem(code, host, port, serves);
    if (problem) throw new CliUsageError(`${problem.path}: ${problem.message}`);
  }
}

// Listens on host:port and closes at once; resolves with the error code when it could not listen.
function listenBriefly(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'unknown'));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}
