// What `pave up` says about a port it cannot listen on, for the server (when it listens) and the CLI (which
// checks the ports before it makes a new data directory): which process holds it, and the flag that fixes it.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { ConflictError } from './errors.ts';

/** A process that listens on a TCP port, as far as this host lets Pave see it. */
export interface PortHolder {
  pid: number;
  /** Its command line, shortened for a message. */
  command: string;
}

/**
 * The process listening on TCP `port` (any address), found through Linux's /proc: the listening socket's
 * inode in /proc/net/tcp{,6}, then the process with that socket among its file descriptors. Null when the
 * holder cannot be seen (another OS, or a process of another user when Pave is not root).
 */
export function portHolder(port: number): PortHolder | null {
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

/**
 * The error for an API port in use on `host`: which process holds it (when this host shows it) and the `--port`
 * fix. Client commands default to port 7300: without PAVE_SERVER they would reach the other process, and its
 * answer (an unknown token) would not say why, so the fix says how to point them at the new port.
 */
export function portInUseError(host: string, port: number): ConflictError {
  const holder = portHolder(port);
  const by = holder ? ` by pid ${holder.pid}${holder.command ? ` (${holder.command})` : ''}` : '';
  const fix =
    `stop that process, or start Pave on another port, e.g. --port ${port + 1}, and point client commands ` +
    `at it with PAVE_SERVER=${reachableUrl(host, port + 1)} (or --server)`;
  return new ConflictError(`port ${port} on ${host} is already in use${by}; ${fix}`, [
    { path: '--port', message: fix },
  ]);
}

/** The error for a metrics port in use on `host`, with the `--metrics-port` fix. */
export function metricsPortInUseError(host: string, port: number): ConflictError {
  const fix = `stop that process, or choose another port, e.g. --metrics-port ${port + 1}`;
  return new ConflictError(`metrics port ${port} on ${host} is already in use; ${fix}`, [
    { path: '--metrics-port', message: fix },
  ]);
}

/** What `pave up` listens for: the API (`--host`, `--port`) or the metrics endpoint (`--metrics-*`). */
export type Listener = 'api' | 'metrics';

const LISTEN_FLAGS = {
  api: { host: '--host', port: '--port', examplePort: 7300 },
  metrics: { host: '--metrics-host', port: '--metrics-port', examplePort: 9464 },
} as const;

/** The error for a port of `listener` in use on `host`: portInUseError or metricsPortInUseError. */
export function listenerPortInUseError(listener: Listener, host: string, port: number): ConflictError {
  return listener === 'api' ? portInUseError(host, port) : metricsPortInUseError(host, port);
}

/**
 * What is wrong with a host and port Pave could not listen on, by the error's code, for the reasons other than
 * a port in use (see portInUseError): a host name that does not resolve, an address that is not this
 * machine's, a port that needs privileges. The flag of `listener` that fixes it is the problem's path.
 * Undefined for other codes, whose error says more as it came.
 */
export function listenProblem(
  code: string | undefined,
  host: string,
  port: number,
  listener: Listener,
): { path: string; message: string } | undefined {
  const flags = LISTEN_FLAGS[listener];
  const addresses = `e.g. ${flags.host} 127.0.0.1 (this machine only) or ${flags.host} 0.0.0.0 (every address)`;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return {
        path: flags.host,
        message: `"${host}" is not a host name this machine resolves; give one of its addresses, ${addresses}`,
      };
    case 'EADDRNOTAVAIL':
      return {
        path: flags.host,
        message: `${host} is not an address of this machine, so Pave cannot listen there; give one of its addresses, ${addresses}`,
      };
    case 'EACCES':
      return {
        path: flags.port,
        message:
          `port ${port} needs privileges this process lacks (below 1024: root or CAP_NET_BIND_SERVICE); ` +
          `choose a port of 1024 or above, e.g. ${flags.port} ${flags.examplePort}`,
      };
    default:
      return undefined;
  }
}

/** The URL a client on this host reaches host:port at: loopback for a wildcard address, IPv6 in brackets. */
export function reachableUrl(host: string, port: number): string {
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const reachable = wildcard ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${reachable}:${port}`;
}
