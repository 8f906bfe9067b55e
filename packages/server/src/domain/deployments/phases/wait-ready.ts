import type { DriverContext, RenderedWorkload, RuntimeDriver } from '@pave/plugin-api';
import { DeploymentInterrupted, PhaseFailed, type SetRun } from './phase.ts';

/**
 * Wait ready: waits for every workload side by side. A workload with a readiness probe is ready when it
 * passes; one without when it kept running for the stability window. Fails with each workload's reason and
 * last log lines.
 */
export async function waitReady(
  run: SetRun,
  runtime: RuntimeDriver,
  rendered: RenderedWorkload[],
  ctx: DriverContext,
  timeout: AbortSignal,
): Promise<void> {
  const target = { app: run.target.app, env: run.target.env };
  const stableMs = run.options.minReadySeconds * 1000;
  const results = await Promise.all(
    rendered.map(async (workload) => ({
      workload,
      result: await runtime.waitReady(target, workload.name, ctx, { stableMs }),
    })),
  );
  if (run.signal.aborted) throw new DeploymentInterrupted('the control plane is stopping');
  const failures: string[] = [];
  for (const { workload, result } of results) {
    if (result.ready) {
      await run.note({ step: 'wait ready', workload: workload.name, status: 'succeeded', message: 'ready' });
      continue;
    }
    const reason =
      timeout.aborted && !/timed out/.test(result.reason)
        ? `not ready after ${run.options.timeoutSeconds} s (${result.reason})`
        : result.reason;
    const logs = result.lastLogs.length ? `\nlast log lines:\n${result.lastLogs.join('\n')}` : '';
    failures.push(`${workload.name}: ${reason}${logs}`);
    await run.note({
      step: 'wait ready',
      workload: workload.name,
      status: 'failed',
      message: `${reason}${logs}`,
    });
  }
  if (failures.length) throw new PhaseFailed('wait ready', failures.join('\n'), runtime.name, true);
}
