// `pave down`'s part of the process runtime: stopping, in one data directory, every container the runtime left
// running and the supervisors watching them, keeping every file. A process is recognised by the identity
// (pid and start time) its state file recorded, never by its pid alone: after a reboot the pid may be a
// stranger's.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { waitUntil } from '@pave/plugin-api';
import { runtimeRoot, workloadPaths } from './layout.ts';
import { isRunning, signalGroup, signalProcess, type ProcessIdentity } from './proc.ts';
import { readJsonFile, type ContainerState } from './state.ts';

/** A process {@link stopProcessWorkloads} stopped. */
export interface StoppedProcess {
  /** What it was, for people: `container main of workload shop/dev/api`, `process supervisor`. */
  name: string;
  pid: number;
  /** Whether it had to be killed (SIGKILL): it had not exited at the end of its grace period. */
  killed: boolean;
}

/**
 * How long a supervisor may take to stop its containers (SIGTERM, their grace period of 5 s by default, then
 * SIGKILL) and exit, after its own SIGTERM.
 */
const SUPERVISOR_GRACE_MS = 15_000;
/** How long a container whose supervisor is gone may take to exit after SIGTERM. */
const CONTAINER_GRACE_MS = 5_000;
/** How long a process may take to disappear after SIGKILL. */
const KILL_WAIT_MS = 2_000;
const POLL_MS = 50;

/**
 * Stops every process the process runtime left running in `dataDir`: SIGTERM to each live supervisor (the
 * supervisor host stops its containers with their grace period, records them stopped and exits), SIGKILL to
 * one still there after {@link SUPERVISOR_GRACE_MS}; then SIGTERM, and SIGKILL after a grace period, to the
 * process group of any container still running (one whose supervisor was killed). Only processes whose pid
 * and start time match their state file are signalled. Every file (records, state, logs) stays, so a later
 * control plane adopts the containers as stopped. Resolves with the containers that were running, then the
 * supervisors; empty when nothing ran.
 */
export async function stopProcessWorkloads(dataDir: string): Promise<StoppedProcess[]> {
  const containers: Array<{ name: string; leader: ProcessIdentity }> = [];
  const supervisors = new Map<number, ProcessIdentity>();
  for (const state of await recordedContainers(dataDir)) {
    if (state.status === 'stopped' || state.status === 'exited') continue;
    if (isRunning(state.supervisor)) supervisors.set(state.supervisor.pid, state.supervisor);
    if (state.child && isRunning(state.child)) {
      const name = `container ${state.container} of workload ${state.app}/${state.env}/${state.workload}`;
      containers.push({ name, leader: state.child });
    }
  }
  const killedSupervisors = await stopAll([...supervisors.values()], {
    signal: (pid, name) => signalProcess(pid, name),
    graceMs: SUPERVISOR_GRACE_MS,
  });
  // A supervisor stops its container's process group; what is left ran without one, or outlived a killed one.
  const killedContainers = await stopAll(
    containers.map((container) => container.leader),
    { signal: (pid, name) => signalGroup(pid, name), graceMs: CONTAINER_GRACE_MS },
  );
  return [
    ...containers.map(({ name, leader }) => ({
      name,
      pid: leader.pid,
      killed: killedContainers.has(leader.pid),
    })),
    ...[...supervisors.keys()].map((pid) => ({
      name: 'process supervisor',
      pid,
      killed: killedSupervisors.has(pid),
    })),
  ];
}

/**
 * Sends SIGTERM to those of `processes` that still run, waits up to `graceMs` for them to exit, then SIGKILLs
 * the rest and waits for them to go. Resolves with the pids that had to be killed.
 */
async function stopAll(
  processes: ProcessIdentity[],
  options: { signal: (pid: number, name: NodeJS.Signals) => void; graceMs: number },
): Promise<Set<number>> {
  const running = () => processes.filter((entry) => isRunning(entry));
  for (const entry of running()) options.signal(entry.pid, 'SIGTERM');
  await waitUntil(() => running().length === 0, options.graceMs, POLL_MS);
  const killed = new Set<number>();
  for (const entry of running()) {
    options.signal(entry.pid, 'SIGKILL');
    killed.add(entry.pid);
  }
  if (killed.size > 0) await waitUntil(() => running().length === 0, KILL_WAIT_MS, POLL_MS);
  return killed;
}

/** The state file of every container under `dataDir`'s runtime directory that can be read. */
async function recordedContainers(dataDir: string): Promise<ContainerState[]> {
  const root = runtimeRoot(dataDir);
  const states: ContainerState[] = [];
  const list = (dir: string) => readdir(dir).catch(() => [] as string[]);
  for (const app of await list(root)) {
    for (const env of await list(join(root, app))) {
      for (const workload of await list(join(root, app, env))) {
        const { stateDir } = workloadPaths(dataDir, { app, env }, workload);
        for (const file of await list(stateDir)) {
          if (!file.endsWith('.json')) continue;
          const state = readJsonFile<ContainerState>(join(stateDir, file));
          if (state?.supervisor) states.push(state);
        }
      }
    }
  }
  return states;
}
