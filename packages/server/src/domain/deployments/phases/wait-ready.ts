import type { DriverContext, ReadyResult, RenderedWorkload, RuntimeDriver } from '@pave/plugin-api';
import { valuesContent } from '../../values.ts';
import { maskSecrets } from '../../resources/masking.ts';
import { environmentOutputs } from '../../resources/provision.ts';
import { DeploymentInterrupted, PhaseFailed, type SetRun } from './phase.ts';

/**
 * Wait ready: waits for every workload side by side. A workload with a readiness probe is ready when it
 * passes; one without when it kept running for the stability window. Fails with each workload's reason and
 * last log lines, in which the secrets the run gave its workloads are masked (a workload may print its
 * environment as it crashes, and the reason goes to the journal, the deployment.failed event and webhooks).
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
  const secrets = results.every(({ result }) => result.ready) ? [] : await secretsGiven(run);
  for (const { workload, result } of results) {
    if (result.ready) {
      await run.note({ step: 'wait ready', workload: workload.name, status: 'succeeded', message: 'ready' });
      continue;
    }
    const { reason: said, lastLogs } = masked(result, secrets);
    const reason =
      timeout.aborted && !/timed out/.test(said)
        ? `not ready after ${run.options.timeoutSeconds} s (${said})`
        : said;
    const logs = lastLogs.length ? `\nlast log lines:\n${lastLogs.join('\n')}` : '';
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

/** A not-ready result with `secrets` masked in its reason and log lines. */
function masked(result: Extract<ReadyResult, { ready: false }>, secrets: string[]) {
  return {
    reason: maskSecrets(result.reason, secrets),
    lastLogs: result.lastLogs.map((line) => maskSecrets(line, secrets)),
  };
}

/**
 * The secrets the run gave its workloads: its pinned values that are secret, and the secret outputs of the
 * environment's resources (a database's password).
 */
async function secretsGiven(run: SetRun): Promise<string[]> {
  const { store, box } = run.deps;
  const { app, env } = run.target;
  const version = run.pinned.valuesVersion;
  const content = version === null ? {} : await valuesContent(store.db, app, env, version);
  const values = await Promise.all(
    Object.values(content)
      .filter((entry) => entry.secret)
      .map((entry) => box.decrypt(entry.value)),
  );
  const outputs = await environmentOutputs(box, store.db, run.target);
  return [...values, ...outputs.flatMap((output) => Object.values(output.secrets))];
}
