import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { identify, type ProcessIdentity } from '../proc.ts';
import type { SupervisorConfig } from '../state.ts';
import { configProblems, readLines, type HostReply, type HostRequest } from './protocol.ts';
import { ContainerSupervisor } from './supervisor.ts';

interface Supervised {
  supervisor: ContainerSupervisor;
  /** Resolves once the container is stopped and forgotten. */
  stopped: Promise<void>;
}

/**
 * The supervisor host: one process per runtime directory that supervises every container of it, one
 * ContainerSupervisor each, and takes requests (protocol.ts) on a Unix socket. It exits by itself once it has
 * supervised nothing and had no connection for `idleExitMs`, removing its socket first so that a new request
 * starts a new host instead of reaching one that is leaving.
 */
export class SupervisorHost {
  readonly identity: ProcessIdentity;
  /** By state file: a container's state file names it uniquely. */
  private readonly supervised = new Map<string, Supervised>();
  private readonly server: Server;
  private connections = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  /** The inode of the socket this host bound, so it never removes a successor's. */
  private socketInode: number | null = null;
  private exiting = false;

  constructor(
    private readonly socketPath: string,
    private readonly idleExitMs: number,
    private readonly log: (message: string) => void,
  ) {
    const self = identify(process.pid);
    if (!self) throw new Error(`cannot read /proc/${process.pid}/stat`);
    this.identity = self;
    this.server = createServer((socket) => this.serve(socket));
  }

  /** Binds the socket (owner-only); false when another host already listens on it. */
  async listen(): Promise<boolean> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await new Promise<void>((resolve, reject) => {
          this.server.once('error', reject);
          this.server.listen(this.socketPath, () => {
            this.server.off('error', reject);
            resolve();
          });
        });
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 2) throw error;
        if (await answers(this.socketPath)) return false;
        // A host that was killed left its socket behind.
        unlinkSync(this.socketPath);
      }
    }
    chmodSync(this.socketPath, 0o600);
    this.socketInode = lstatSync(this.socketPath).ino;
    this.server.on('error', (error) => this.log(`socket error: ${error.message}`));
    this.log(`supervisor host ${process.pid} listening on ${this.socketPath}`);
    this.idleCheck();
    return true;
  }

  /** Stops every container, then exits (SIGTERM, SIGINT). */
  async stopAll(reason: string): Promise<never> {
    this.log(`${reason}: stopping ${this.supervised.size} container(s)`);
    this.closeSocket();
    const all = [...this.supervised.values()];
    for (const { supervisor } of all) supervisor.stop(reason);
    await Promise.all(all.map((entry) => entry.stopped));
    process.exit(0);
  }

  /** Last resort after an internal error: kills every container's process group, records them stopped, exits. */
  abort(error: unknown): never {
    this.log(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    this.closeSocket();
    for (const { supervisor } of [...this.supervised.values()]) {
      try {
        supervisor.abort(error);
      } catch {
        // keep going: every other container must be stopped too
      }
    }
    process.exit(1);
  }

  private serve(socket: Socket): void {
    this.connections += 1;
    this.idleCheck();
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.connections -= 1;
      this.idleCheck();
    });
    readLines(socket, (line) => {
      void this.handle(line).then((reply) => {
        if (!socket.destroyed) socket.write(`${JSON.stringify({ ...reply, host: this.identity })}\n`);
      });
    });
  }

  private async handle(line: string): Promise<HostReply> {
    let request: HostRequest;
    try {
      request = JSON.parse(line) as HostRequest;
    } catch {
      return { ok: false, error: 'the request is not JSON' };
    }
    const id = typeof request?.id === 'number' ? { id: request.id } : {};
    try {
      switch (request?.type) {
        case 'ping':
          return { ...id, ok: true, containers: this.supervised.size };
        case 'start':
          return { ...id, ...(await this.start(request.config)) };
        case 'stop':
          return { ...id, ...(await this.stop(request)) };
        default:
          return { ...id, ok: false, error: 'unknown request type' };
      }
    } catch (error) {
      return { ...id, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  private async start(config: SupervisorConfig): Promise<HostReply> {
    const problems = configProblems(config);
    if (problems.length > 0) {
      return { ok: false, error: `invalid configuration fields: ${problems.join(', ')}` };
    }
    const name = `${config.app}/${config.env}/${config.workload}/${config.container}`;
    if (this.supervised.has(config.stateFile)) {
      return { ok: false, error: `container ${name} is already supervised: stop it first` };
    }
    let done = (): void => undefined;
    const stopped = new Promise<void>((resolve) => (done = resolve));
    const supervisor = new ContainerSupervisor(config, (code) => {
      if (this.supervised.get(config.stateFile)?.supervisor === supervisor) {
        this.supervised.delete(config.stateFile);
      }
      this.log(`container ${name} ${code === 0 ? 'stopped' : 'aborted'}`);
      done();
      this.idleCheck();
    });
    this.supervised.set(config.stateFile, { supervisor, stopped });
    this.idleCheck();
    supervisor.start();
    const state = await supervisor.settled;
    this.log(`container ${name} ${state.status === 'running' ? 'started' : state.status}`);
    return {
      ok: true,
      state: { status: state.status, lastExit: state.lastExit, child: state.child },
      runsToCompletion: config.runToCompletion === true,
    };
  }

  private async stop(request: Extract<HostRequest, { type: 'stop' }>): Promise<HostReply> {
    const entry = this.supervised.get(request.stateFile);
    if (!entry) return { ok: true, known: false };
    const graceMs = typeof request.graceMs === 'number' && request.graceMs >= 0 ? request.graceMs : undefined;
    entry.supervisor.stop(request.reason ?? 'stop requested', graceMs);
    await entry.stopped;
    return { ok: true, known: true };
  }

  /** Starts the idle timer when nothing is supervised and nobody is connected, and cancels it otherwise. */
  private idleCheck(): void {
    const idle = this.supervised.size === 0 && this.connections === 0;
    if (!idle) {
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.idleTimer = null;
    } else if (!this.idleTimer && !this.exiting) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        if (this.supervised.size > 0 || this.connections > 0) return;
        this.log(`nothing to supervise for ${this.idleExitMs} ms: exiting`);
        this.closeSocket();
        process.exit(0);
      }, this.idleExitMs);
    }
  }

  /** Removes the socket (if still this host's) so new requests start a new host, and stops listening. */
  private closeSocket(): void {
    if (this.exiting) return;
    this.exiting = true;
    try {
      if (this.socketInode !== null && lstatSync(this.socketPath).ino === this.socketInode) {
        unlinkSync(this.socketPath);
      }
    } catch {
      // already gone
    }
    this.server.close();
  }
}

/** Whether something accepts connections on the Unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
