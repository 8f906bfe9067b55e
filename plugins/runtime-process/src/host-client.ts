// The runtime's side of the supervisor host (supervisor/host.ts): starts it when there is none, and sends it
// requests over its Unix socket, one connection per request.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, renameSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { signalIfRunning, waitUntil, withStartLock } from '@pave/plugin-api';
import type { HostPaths } from './layout.ts';
import { readLines, type HostReply, type HostRequest } from './supervisor/protocol.ts';

/** Longest wait for a new host to listen. */
const HOST_START_TIMEOUT_MS = 10_000;
/** How often to look whether a new host listens yet. */
const HOST_START_POLL_MS = 10;
/** The host's log is set aside (one previous file kept) when it is larger than this at a host start. */
const HOST_LOG_MAX_BYTES = 1024 * 1024;
/** Attempts at a request that finds no host (a host may be leaving just as the request arrives). */
const ATTEMPTS = 3;

/** No host listens on the socket, or it hung up before answering. */
export class HostUnreachable extends Error {}

/** The host did not answer in time. */
export class HostTimeout extends Error {}

export interface HostClientOptions {
  paths: HostPaths;
  /** The bundled supervisor, run with this Node.js. */
  supervisorScript: string;
  /** The host's environment (its containers get theirs in their configuration). */
  env: NodeJS.ProcessEnv;
}

export class SupervisorHostClient {
  /** A host start under way in this process, shared by concurrent requests. */
  private starting: Promise<void> | null = null;

  constructor(private readonly options: HostClientOptions) {}

  /** Sends `request`, starting the host first when there is none. */
  async send(request: HostRequest, timeoutMs: number): Promise<HostReply> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.request(request, timeoutMs);
      } catch (error) {
        if (!(error instanceof HostUnreachable) || attempt === ATTEMPTS) throw error;
      }
      await this.ensureRunning();
    }
  }

  /**
   * Sends `request` to the host and resolves with its reply. Rejects with HostUnreachable when no host
   * listens (or it hung up before answering), HostTimeout after `timeoutMs`.
   */
  request(request: HostRequest, timeoutMs: number): Promise<HostReply> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.options.paths.socket);
      let answered = false;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new HostTimeout(`the process runtime's supervisor did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`));
      readLines(socket, (line) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        socket.end();
        try {
          resolve(JSON.parse(line) as HostReply);
        } catch {
          reject(new Error("the process runtime's supervisor gave an answer that is not JSON"));
        }
      });
      socket.on('error', (error) => {
        clearTimeout(timer);
        if (!answered) reject(new HostUnreachable(`no supervisor host: ${error.message}`));
      });
      socket.once('close', () => {
        clearTimeout(timer);
        if (!answered) reject(new HostUnreachable('the supervisor host hung up without an answer'));
      });
    });
  }

  /** The host's answer to a ping, or null when none answers. */
  async ping(timeoutMs = 1_000): Promise<HostReply | null> {
    try {
      return await this.request({ type: 'ping' }, timeoutMs);
    } catch {
      return null;
    }
  }

  /** Starts the host unless one answers; of concurrent calls (in any process) only one starts it. */
  ensureRunning(): Promise<void> {
    this.starting ??= this.startHost().finally(() => (this.starting = null));
    return this.starting;
  }

  private async startHost(): Promise<void> {
    const { paths, supervisorScript } = this.options;
    await withStartLock(
      {
        dir: paths.dir,
        file: paths.lock,
        what: "the process runtime's supervisor",
        timeoutMs: HOST_START_TIMEOUT_MS + 5_000,
        pollMs: 20,
      },
      async () => {
        if (await this.ping()) return;
        if (!existsSync(supervisorScript)) {
          throw new Error(
            `the process runtime's supervisor is missing (${supervisorScript}): build Pave with "npm run build"`,
          );
        }
        if (paths.socketDir) privateDirectory(paths.socketDir);
        setAsideIfLarge(paths.log);
        const output = openSync(paths.log, 'a', 0o600);
        let host;
        try {
          host = spawn(
            process.execPath,
            [supervisorScript, '--socket', paths.socket],
            // Its own session: it outlives the control plane and its terminal.
            { cwd: paths.dir, env: this.options.env, detached: true, stdio: ['ignore', output, output] },
          );
        } finally {
          closeSync(output);
        }
        let exit: string | null = null;
        host.once('exit', (code, signal) => (exit = signal ? `killed by ${signal}` : `exit code ${code}`));
        host.once('error', (error) => (exit = error.message));
        host.unref();
        let up = false;
        await waitUntil(
          async () => (up = (await this.ping()) !== null) || exit !== null,
          HOST_START_TIMEOUT_MS,
          HOST_START_POLL_MS,
        );
        // It may have exited because another host was listening already.
        if (!up && exit !== null) up = (await this.ping()) !== null;
        if (!up) {
          if (exit === null && host.pid !== undefined) signalIfRunning(host.pid, 'SIGKILL');
          throw new Error(
            `the process runtime's supervisor did not start (${exit ?? 'timed out'}); see ${paths.log}`,
          );
        }
      },
    );
  }
}

/** Creates `dir` for this user only, and refuses one that someone else could reach into. */
function privateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  if (!stat.isDirectory() || stat.uid !== process.getuid?.() || (stat.mode & 0o077) !== 0) {
    throw new Error(`${dir} must be a directory of this user that no one else can enter`);
  }
}

/** Keeps the previous log as `<path>.1` when `path` has grown past HOST_LOG_MAX_BYTES. */
function setAsideIfLarge(path: string): void {
  try {
    if (statSync(path).size > HOST_LOG_MAX_BYTES) renameSync(path, `${path}.1`);
  } catch {
    // no log yet
  }
}
