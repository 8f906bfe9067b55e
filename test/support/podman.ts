import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Podman as the tests' container engine: a containers.conf that works on this
 * host (runc, cgroupfs, file events), the Docker-compatible API on a private socket, and images built
 * locally (no registry is reachable).
 */
const CONTAINERS_CONF = [
  '[containers]',
  'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]',
  '[engine]',
  'runtime = "runc"',
  'cgroup_manager = "cgroupfs"',
  'events_logger = "file"',
  '',
].join('\n');

/** Whether podman and busybox are installed (.ci/run installs them). */
export function podmanAvailable(): boolean {
  return (
    spawnSync('podman', ['--version']).status === 0 &&
    existsSync('/usr/bin/busybox') &&
    process.getuid?.() === 0
  );
}

/** Environment for running `podman` with the tests' containers.conf. */
export function podmanEnv(): NodeJS.ProcessEnv {
  const dir = join(tmpdir(), 'pave-podman');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'containers.conf');
  writeFileSync(file, CONTAINERS_CONF);
  return { ...process.env, CONTAINERS_CONF: file };
}

/** Runs `podman args…`; throws with its output when it fails. */
export function podman(args: string[], options: { input?: string; timeoutMs?: number } = {}): string {
  const result = spawnSync('podman', args, {
    env: podmanEnv(),
    encoding: 'utf8',
    input: options.input,
    timeout: options.timeoutMs ?? 120_000,
  });
  if (result.status !== 0) {
    throw new Error(`podman ${args.join(' ')} failed (${result.status}): ${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/** A running `podman system service` on a private socket: the Docker Engine API for dockerode. */
export interface PodmanService {
  socketPath: string;
  stop(): Promise<void>;
}

/** Starts the Docker-compatible API on a new socket and waits until it answers. */
export async function startPodmanService(): Promise<PodmanService> {
  const dir = mkdtempSync(join(tmpdir(), 'pave-podman-sock-'));
  const socketPath = join(dir, 'podman.sock');
  const child: ChildProcess = spawn('podman', ['system', 'service', '--time=0', `unix://${socketPath}`], {
    env: podmanEnv(),
    stdio: 'ignore',
  });
  const deadline = Date.now() + 20_000;
  while (!existsSync(socketPath)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error('podman system service did not create its socket within 20 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    socketPath,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The busybox applets the test image links: a shell, a web server, wget for clients. */
const APPLETS = [
  'sh',
  'httpd',
  'echo',
  'wget',
  'cat',
  'sleep',
  'env',
  'mkdir',
  'ls',
  'printf',
  'test',
  'true',
];

/**
 * Builds `localhost/<name>:<tag>` FROM scratch holding busybox (with the applets above in /bin) and `files`
 * (path in the image -> content; mode 0755 for paths ending in .sh). Returns the image reference.
 */
export function buildBusyboxImage(name: string, tag: string, files: Record<string, string> = {}): string {
  const context = mkdtempSync(join(tmpdir(), 'pave-image-'));
  try {
    mkdirSync(join(context, 'root/bin'), { recursive: true });
    copyFileSync('/usr/bin/busybox', join(context, 'root/bin/busybox'));
    for (const applet of APPLETS) symlinkSync('busybox', join(context, 'root/bin', applet));
    for (const [path, content] of Object.entries(files)) {
      const target = join(context, 'root', path);
      mkdirSync(join(target, '..'), { recursive: true });
      writeFileSync(target, content, { mode: path.endsWith('.sh') ? 0o755 : 0o644 });
    }
    writeFileSync(join(context, 'Containerfile'), 'FROM scratch\nCOPY root /\nCMD ["/bin/sh"]\n');
    const reference = `localhost/${name}:${tag}`;
    podman(['build', '-q', '-t', reference, '-f', join(context, 'Containerfile'), context]);
    return reference;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}
