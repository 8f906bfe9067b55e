import type { DriverContext, RenderedWorkload, RuntimeDriver, WorkloadStatus } from '@pave/plugin-api';
import { DeploymentInterrupted, messageOf, PhaseFailed, type RunProgress, type SetRun } from './phase.ts';
import { maskGiven } from './secrets.ts';

/**
 * Start: deploys every workload of the set side by side (a workload whose running version has the same hash
 * keeps running). Fails naming every workload the runtime could not start, with the runtime's error (the
 * secrets the run gives its workloads masked).
 */
export async function start(
  run: SetRun,
  runtime: RuntimeDriver,
  rendered: RenderedWorkload[],
  running: WorkloadStatus[],
  ctx: DriverContext,
  progress: RunProgress,
): Promise<void> {
  const target = { app: run.target.app, env: run.target.env };
  const unchangedOf = (workload: RenderedWorkload) => {
    const existing = running.find((w) => w.workload === workload.name);
    return existing?.hash === workload.hash && existing.state !== 'stopped';
  };
  // Recorded before the runtime is called: a run resumed after the control plane died in a deploy counts
  // the workload as started by this deployment, whether the deploy got through or not.
  const starting = rendered.filter((workload) => !unchangedOf(workload)).map((workload) => workload.name);
  if (starting.length && run.record) {
    const started = [...new Set([...progress.started, ...starting])];
    await run.record.save({ ...progress, touched: true, started });
  }
  const failures: string[] = [];
  await Promise.all(
    rendered.map(async (workload) => {
      const existing = running.find((w) => w.workload === workload.name);
      const unchanged = unchangedOf(workload);
      await run.note({
        step: 'start',
        workload: workload.name,
        status: 'started',
        message: unchanged
          ? 'unchanged: keeps running'
          : existing
            ? 'replacing the running version'
            : 'starting',
      });
      if (!unchanged) progress.touched = true;
      try {
        await runtime.deploy(target, workload, ctx);
      } catch (error) {
        // A runtime's error may quote what it was given (a cluster's validation error, say), secrets included.
        const message = await maskGiven(run, messageOf(error));
        failures.push(`${workload.name}: ${message}`);
        await run.note({ step: 'start', workload: workload.name, status: 'failed', message });
        return;
      }
      if (!unchanged && !progress.started.includes(workload.name)) progress.started.push(workload.name);
    }),
  );
  if (run.signal.aborted) throw new DeploymentInterrupted('the control plane is stopping');
  if (failures.length) throw new PhaseFailed('start', failures.sort().join('\n'), runtime.name, true);
}
