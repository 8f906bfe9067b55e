import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

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
