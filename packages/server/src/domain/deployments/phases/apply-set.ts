import type { DriverContext } from '@pave/plugin-api';
import { driverContext } from '../orchestrator.ts';
import { maskSecrets, maskingLogger } from '../../resources/masking.ts';
import { writeRoutes } from '../../resources/routes.ts';
import { pruneDeletions } from '../../resources/provision.ts';
import {
  PhaseFailed,
  runPhase as runPlainPhase,
  type PhaseName,
  type RunProgress,
  type SetRun,
} from './phase.ts';
import { plan } from './plan.ts';
import { provision, provisionBudgetMs } from './provision.ts';
import { reachTarget, switchTarget } from './switch-target.ts';
import { render } from './render.ts';
import { remove } from './remove.ts';
import { start } from './start.ts';
import { waitReady } from './wait-ready.ts';
import { prune } from './prune.ts';
import { maskGiven, secretsGiven, secretsKnownNow } from './secrets.ts';

/** How applying a set ended; a failure names its phase and says what the run had done by then. */
export type ApplyOutcome =
  { ok: true } | ({ ok: false; phase: PhaseName; driver: string | null; reason: string } & RunProgress);

/**
 * Makes the environment run exactly `run.workloads`, phase by phase: plan → reach target → provision →
 * switch target → render → remove → start → wait ready → routes → prune. The first phase that fails ends the
 * run; its failure is journaled under the phase's name with the driver and its message, and returned with what
 * the run had changed (with `run.record`, what interrupted runs of the deployment had changed too), for the
 * caller's rollback decision. Rejects only with DeploymentInterrupted.
 */
export async function applySet(run: SetRun): Promise<ApplyOutcome> {
  const earlier = run.record?.earlier;
  const progress: RunProgress = {
    touched: earlier?.touched ?? false,
    started: [...(earlier?.started ?? [])],
    created: [...(earlier?.created ?? [])],
  };
  const { signal } = run;
  // Each phase is timed and traced (a span under the deployment's) when the run has telemetry.
  const { telemetry } = run.deps;
  const runPhase = <T>(phase: PhaseName, driver: string | null, stop: AbortSignal, fn: () => Promise<T>) =>
    telemetry
      ? telemetry.phase(run.target, phase, driver, () => runPlainPhase(phase, driver, stop, fn))
      : runPlainPhase(phase, driver, stop, fn);
  try {
    const planned = await runPhase('plan', null, signal, () => plan(run));
    const { runtime } = planned;
    // Each runtime phase calls its driver with a context of its own, whose log lines name the phase.
    const runRuntimePhase = <T>(
      phase: PhaseName,
      stop: AbortSignal,
      secrets: () => Promise<string[]>,
      fn: (ctx: DriverContext) => Promise<T>,
    ) =>
      runPhase(phase, runtime.name, signal, async () => {
        // The runtime's warnings and errors are journaled (files it could not place, a previous version left
        // behind); its info lines only logged. Either has the secrets the run gives its workloads masked: a
        // runtime may quote what it was given.
        const journal = { note: run.note, step: phase, levels: ['warn', 'error'] as const };
        const ctx = driverContext(run.logger.child({ step: phase }), stop, journal);
        try {
          const masked = await secrets();
          return await fn({
            ...ctx,
            logger: maskingLogger(ctx.logger, (text) => maskSecrets(text, masked)),
          });
        } finally {
          // Its lines land before the phase's outcome (a failure they explain).
          await ctx.flushed();
          ctx.dispose();
        }
      });
    // Before anything is provisioned: a target that cannot be reached fails the run with nothing created, and
    // one that does not answer within the deployment's timeout too. The secrets known so far are read afresh
    // (the provisioning that follows may add some to those given).
    const reachStop = AbortSignal.any([signal, AbortSignal.timeout(run.options.timeoutSeconds * 1000)]);
    const running = await runRuntimePhase(
      'reach target',
      reachStop,
      () => secretsKnownNow(run),
      (ctx) => reachTarget(run, planned, ctx),
    );
    const resources = await runPhase('provision', null, signal, () => provision(run, progress));
    // The readiness timeout, plus the stability window probe-less workloads must run for after it (as the
    // runtimes count it).
    const timeout = AbortSignal.timeout((run.options.timeoutSeconds + run.options.minReadySeconds) * 1000);
    const stop = AbortSignal.any([signal, timeout]);
    const given = () => secretsGiven(run);
    await runRuntimePhase('switch target', stop, given, (ctx) => switchTarget(run, planned, ctx, progress));
    const rendered = await runPhase('render', null, signal, () => render(run, runtime, resources));
    await runRuntimePhase('remove', stop, given, (ctx) => remove(run, runtime, running, ctx, progress));
    await runRuntimePhase('start', stop, given, (ctx) =>
      start(run, runtime, rendered, running, ctx, progress),
    );
    await runRuntimePhase('wait ready', stop, given, (ctx) =>
      waitReady(run, runtime, rendered, ctx, timeout),
    );
    await runPhase('routes', null, signal, async () => {
      const notes = await run.deps.store.transaction((tx) =>
        run.fence.write((db) => writeRoutes(db, run.target, run.workloads, rendered, resources), tx),
      );
      for (const entry of notes) await run.note(entry);
    });
    // Not stopped by the readiness timeout: the workloads are ready, and prune's deletes have a budget of
    // their own (pruneStop).
    await runPhase('prune', null, signal, async () => prune(run, await pruneStop(run)));
    return { ok: true };
  } catch (error) {
    if (!(error instanceof PhaseFailed)) throw error;
    // Whichever phase failed, a driver's words may quote what it was given (the workloads' secrets among it);
    // the reason goes to the journal, the deployment.failed event and webhooks.
    const reason = await maskGiven(run, error.message);
    if (!error.journaled) {
      await run.note({
        step: error.phase,
        status: 'failed',
        message: error.driver ? `${error.driver}: ${reason}` : reason,
      });
    }
    return { ok: false, phase: error.phase, driver: error.driver, reason, ...progress };
  }
}

/**
 * What stops prune's driver calls: the deployment stopping (`run.signal`), or their budget spent, counted as
 * provisioning's is (provisionBudgetMs) for the resources prune deletes, with the inputs they were last
 * provisioned with (those their `delete` is given).
 */
async function pruneStop(run: SetRun): Promise<AbortSignal> {
  if (!run.options.prune) return run.signal;
  const options = { allowDataLoss: run.options.allowDataLoss ?? false };
  // A store that cannot be read now fails prune's own read too, which journals it.
  const deletions = await pruneDeletions(run.deps, run.target, run.workloads, options).catch(() => []);
  return AbortSignal.any([run.signal, AbortSignal.timeout(provisionBudgetMs(deletions))]);
}
