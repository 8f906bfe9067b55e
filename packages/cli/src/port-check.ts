import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { ConflictError } from '@pave/core';

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
    throw serves === 'api' ? portInUse(host, port) : metricsPortInUse(host, port);
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

// As the server words it (packages/server's listenError): client commands default to port 7300, so the fix
// says how to point them at the other port.
function portInUse(host: string, port: number): ConflictError {
  const holder = portHolder(port);
  const by = holder ? ` by pid ${holder.pid}${holder.command ? ` (${holder.command})` : ''}` : '';
  const fix =
    `stop that process, or start Pave on another port, e.g. --port ${port + 1}, and point client commands ` +
    `at it with PAVE_SERVER=${reachableUrl(host, port + 1)} (or --server)`;
  return new ConflictError(`port ${port} on ${host} is already in use${by}; ${fix}`, [
    { path: '--port', message: fix },
  ]);
}

function metricsPortInUse(host: string, port: number): ConflictError {
  const fix = `stop that process, or choose another port, e.g. --metrics-port ${port + 1}`;
  return new ConflictError(`metrics port ${port} on ${host} is already in use; ${fix}`, [
    { path: '--metrics-port', message: fix },
  ]);
}

// The URL a client on this host reaches host:port at: loopback for a wildcard address, IPv6 in brackets.
function reachableUrl(host: string, port: number): string {
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const reachable = wildcard ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${reachable}:${port}`;
}

/**
 * The process listening on TCP `port` (any address), found through Linux's /proc: the listening socket's
 * inode in /proc/net/tcp{,6}, then the process with that socket among its file descriptors. Null when the
 * holder cannot be seen (another OS, or a process of another user). The server has the same lookup
 * (packages/server/src/port-holder.ts), which the CLI cannot import: @pave/server exports only its entry point.
 */
function portHolder(port: number): { pid: number; command: string } | null {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      // State 0A is LISTEN; the local address ends with the port in hex.
      if (!local || fields[3] !== '0A') continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && fields[9]) {
        inodes.add(fields[9]);
      }
    }
  }
  if (inodes.size === 0) return null;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let descriptors: string[];
    try {
      descriptors = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of descriptors) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) {
        let command = '';
        try {
          command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
        } catch {
          // The process ended meanwhile: its pid is still worth naming.
        }
        return { pid: Number(entry), command: command.length > 80 ? `${command.slice(0, 77)}...` : command };
      }
    }
  }
  return null;
}
