import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ContainerSupervisor } from '../src/supervisor/supervisor.ts';
import type { ContainerState, SupervisorConfig } from '../src/state.ts';

/** bwrap's words when building a sandbox lost a race with a mount change on the host (bubblewrap issue 650). */
const RACE =
  'bwrap: Can\'t bind mount /oldroot/ on /newroot/: Unable to apply mount flags: remount "/newroot/run/netns/netns-1": Invalid argument';

/**
 * A stand-in for bwrap (the race cannot be made to happen on demand): it fails the way bwrap does when it
 * loses the race while `failures` runs are left, counting its runs, and then runs the command after `--`.
 */
function fakeBwrap(dir: string, failures: number): string {
  const file = join(dir, 'bwrap');
  writeFileSync(join(dir, 'race.txt'), `${RACE}\n`);
  writeFileSync(
    file,
    [
      '#!/bin/sh',
      `runs=$(cat "${dir}/runs" 2>/dev/null || echo 0); runs=$((runs + 1)); echo "$runs" > "${dir}/runs"`,
      `if [ "$runs" -le ${failures} ]; then cat "${dir}/race.txt" >&2; exit 1; fi`,
      'while [ "$1" != "--" ]; do shift; done; shift',
      'exec "$@"',
      '',
    ].join('\n'),
  );
  chmodSync(file, 0o755);
  return file;
}

describe('a container whose sandbox lost a race with a mount change', () => {
  const dirs: string[] = [];
  const supervisors: ContainerSupervisor[] = [];
  afterEach(async () => {
    for (const supervisor of supervisors.splice(0)) supervisor.stop('test over', 200);
    // The stand-in's `sleep` goes with its process group; give it the grace period to.
    await new Promise((resolve) => setTimeout(resolve, 400));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  const supervise = (failures: number) => {
    const dir = mkdtempSync(join(tmpdir(), 'pave-sandbox-race-'));
    dirs.push(dir);
    const config: SupervisorConfig = {
      app: 'shop',
      env: 'dev',
      workload: 'api',
      container: 'main',
      hash: 'h1',
      deploymentId: '1',
      ports: [],
      argv: [fakeBwrap(dir, failures), '--ro-bind', '/', '/', '--', 'sleep', '30'],
      cwd: dir,
      environment: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      logFile: join(dir, 'main.log'),
      eventLogFile: join(dir, 'events.log'),
      stateFile: join(dir, 'state.json'),
      maxLogBytes: 1024 * 1024,
      stopGraceMs: 1_000,
      backoff: { initialMs: 60_000, maxMs: 60_000, resetAfterMs: 10_000 },
    };
    const supervisor = new ContainerSupervisor(config, () => {});
    supervisors.push(supervisor);
    supervisor.start();
    const runs = () => Number(readFileSync(join(dir, 'runs'), 'utf8'));
    const state = () => JSON.parse(readFileSync(config.stateFile, 'utf8')) as ContainerState;
    const events = () => (existsSync(config.eventLogFile) ? readFileSync(config.eventLogFile, 'utf8') : '');
    return { runs, state, events };
  };

  const until = async (condition: () => boolean, what: string) => {
    const ends = Date.now() + 10_000;
    while (!condition()) {
      if (Date.now() > ends) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('builds the sandbox again at once, counting neither an exit nor a restart', async () => {
    const { runs, state, events } = supervise(2);
    await until(() => existsSync(join(dirs[0]!, 'runs')) && runs() === 3, 'the third run');
    await until(() => state().status === 'running' && state().child !== null, 'the process to run');
    expect(state()).toMatchObject({ restarts: 0, consecutiveFailures: 0, lastExit: null });
    expect(events().match(/could not build its sandbox/g)).toHaveLength(2);
  });

  it('counts it as an exit, with the usual backoff, once it has lost three times in a row', async () => {
    const { runs, state } = supervise(10);
    await until(() => state().status === 'backoff', 'the exit to count');
    expect(runs()).toBe(4);
    expect(state()).toMatchObject({ consecutiveFailures: 1, lastExit: { code: 1 } });
  });
});
