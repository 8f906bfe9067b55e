import { createServer } from 'node:net';
import { metricsPortInUseError, portInUseError } from '@pave/core/ports';

/** A port `pave up` is to listen on, and what for: the API (`--port`) or metrics (`--metrics-port`). */
export interface PortToCheck {
  host: string;
  port: number;
  serves: 'api' | 'metrics';
}

/**
 * Checks that `pave up` can listen on each of `ports` by listening there for a moment, so that a busy port is
 * refused before a new data directory is initialised (store, master key, audit key, admin user). Port 0 is
 * always free. Rejects with ConflictError when a port is in use, naming the process that holds it (when this
 * host shows it) and the flag to change, in the server's words; any other failure to listen (a host that is
 * not this machine's, say) is left to the server, which reports it in context.
 */
export async function checkPortsFree(ports: readonly PortToCheck[]): Promise<void> {
  for (const { host, port, serves } of ports) {
    if (port === 0) continue;
    const code = await listenBriefly(host, port);
    if (code !== 'EADDRINUSE') continue;
    throw serves === 'api' ? portInUseError(host, port) : metricsPortInUseError(host, port);
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
