import {
  portVariableName,
  sleep,
  type DriverContext,
  type ReadyResult,
  type RenderedWorkload,
  type RuntimeDriver,
  type RuntimeTarget,
  type WorkloadStatus,
} from '@pave/plugin-api';
import { maskSecrets } from '../../resources/masking.ts';
import { DeploymentInterrupted, PhaseFailed, type SetRun } from './phase.ts';
import { secretsGiven } from './secrets.ts';

/** How often, by default, the phase journals the workloads it still waits for (OrchestratorDeps.readyProgressMs). */
const PROGRESS_MS = 10_000;

/**
 * Wait ready: waits for every workload side by side. A workload with a readiness probe is ready when it
 * passes; one without when it kept running for the stability window. Every `run.deps.readyProgressMs`
 * (default 10 s) while it waits, it journals each workload that is not ready yet, how long it has waited and
 * why not as the runtime's `status` says. Fails with each workload's reason and last log lines, and for a
 * wait that timed out what to try. The secrets the run gave its workloads are masked in everything it
 * journals (a workload may print its environment as it crashes, a probe may carry a token in its URL, and the
 * reason goes to the journal, the deployment.failed event and webhooks).
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
  const secrets = () => secretsGiven(run);
  const waiting = new Set(rendered.map((workload) => workload.name));
  const settled = new AbortController();
  const progress = journalProgress(run, runtime, rendered, ctx, {
    waiting,
    secrets,
    stop: AbortSignal.any([settled.signal, ctx.signal]),
  }).then(
    () => null,
    (error: unknown) => ({ error }),
  );
  let results: Array<{ workload: RenderedWorkload; result: ReadyResult }>;
  let progressFailed: { error: unknown } | null;
  try {
    results = await Promise.all(
      rendered.map(async (workload) => {
        const result = await runtime.waitReady(target, workload.name, ctx, { stableMs });
        waiting.delete(workload.name);
        return { workload, result };
      }),
    );
  } finally {
    settled.abort();
    // A progress line being written lands before the outcome's.
    progressFailed = await progress;
  }
  if (run.signal.aborted) throw new DeploymentInterrupted('the control plane is stopping');
  if (progressFailed) throw progressFailed.error;
  const failures: string[] = [];
  const known = results.every(({ result }) => result.ready) ? [] : await secrets();
  for (const { workload, result } of results) {
    if (result.ready) {
      await run.note({ step: 'wait ready', workload: workload.name, status: 'succeeded', message: 'ready' });
      continue;
    }
    const { reason: said, lastLogs } = masked(result, known);
    const timedOut = timeout.aborted || /^timed out/.test(said);
    const reason = timeout.aborted ? timedOutReason(run, said) : said;
    const hint = timedOut ? `\n${whatToTry(workload)}` : '';
    const logs = lastLogs.length ? `\nlast log lines:\n${lastLogs.join('\n')}` : '';
    failures.push(`${workload.name}: ${reason}${hint}${logs}`);
    await run.note({
      step: 'wait ready',
      workload: workload.name,
      status: 'failed',
      message: `${reason}${hint}${logs}`,
    });
  }
  if (failures.length) throw new PhaseFailed('wait ready', failures.join('\n'), runtime.name, true);
}

/**
 * Journals, every interval until `stop` aborts, one line for each workload still `waiting`: how long the phase
 * has waited, of the deployment's timeout, and why it is not ready as the runtime's status says (masked). One
 * `status` call per interval serves every workload; without an answer (a failed call, a runtime that says
 * nothing) the line gives the time alone. Rejects when a line cannot be journaled (DeploymentInterrupted when
 * the lease is lost).
 */
async function journalProgress(
  run: SetRun,
  runtime: RuntimeDriver,
  rendered: RenderedWorkload[],
  ctx: DriverContext,
  options: { waiting: ReadonlySet<string>; secrets: () => Promise<string[]>; stop: AbortSignal },
): Promise<void> {
  const { waiting, secrets, stop } = options;
  const startedMs = Date.now();
  while (await sleep(run.deps.readyProgressMs ?? PROGRESS_MS, stop)) {
    const reasons = await notReadyReasons(run, runtime, rendered, ctx);
    if (stop.aborted) return;
    const waited = Math.round((Date.now() - startedMs) / 1000);
    const known = reasons.size ? await secrets() : [];
    for (const workload of rendered) {
      const { name } = workload;
      if (!waiting.has(name)) continue;
      const reason = reasons.get(name);
      const of = `${waited} s of the ${run.options.timeoutSeconds} s timeout`;
      await run.note({
        step: 'wait ready',
        workload: name,
        status: 'info',
        message:
          reason === READY
            ? `waited ${of}: ${readyButWaiting(workload, run.options.minReadySeconds)}`
            : `not ready yet after ${of}` + (reason === undefined ? '' : `: ${maskSecrets(reason, known)}`),
      });
    }
  }
}

/** What notReadyReasons gives for a workload its runtime calls `ready` without a detail. */
const READY = Symbol('ready');

/**
 * What the wait still waits for of a workload its runtime already calls ready: a container without a readiness
 * probe must stay up for the stability window (--min-ready) before it counts; otherwise, the runtime's next
 * look.
 */
function readyButWaiting(workload: RenderedWorkload, minReadySeconds: number): string {
  const unprobed = workload.containers.some((container) => !container.readinessProbe);
  return unprobed && minReadySeconds > 0
    ? `ready, staying up for --min-ready ${minReadySeconds}s before it counts`
    : "ready, counted at the runtime's next look";
}

/**
 * Why each workload of `rendered` is not ready, by name, as the runtime's status tells of the version being
 * waited for (its detail, else its state; READY when it says `ready` and nothing more); empty when the status
 * cannot be had, since the lines it is for can do without.
 */
async function notReadyReasons(
  run: SetRun,
  runtime: RuntimeDriver,
  rendered: RenderedWorkload[],
  ctx: DriverContext,
): Promise<Map<string, string | typeof READY>> {
  const target: RuntimeTarget = { app: run.target.app, env: run.target.env };
  let statuses: WorkloadStatus[];
  try {
    statuses = await runtime.status(target, ctx);
  } catch (error) {
    run.logger.debug({ err: error }, 'no runtime status for the progress of wait ready');
    return new Map();
  }
  const hashes = new Map(rendered.map((workload) => [workload.name, workload.hash]));
  return new Map(
    statuses
      .filter((status) => hashes.get(status.workload) === status.hash)
      .map((status) => [
        status.workload,
        status.detail ?? (status.state === 'ready' ? READY : `it is ${status.state}`),
      ]),
  );
}

/**
 * What to try when a workload timed out: a longer `--timeout`; for one with an HTTP readiness probe, that it
 * listens where the probe looks (most such timeouts are a process listening on another port); for one with
 * service ports and no probe, that it listens on its first port, which runtimes wait for instead (on the
 * process runtime that is `$PORT`, a host port Pave picks: a process listening on the port in its Score file
 * is never reached).
 */
function whatToTry(workload: RenderedWorkload): string {
  return `${waysToTry(workload)}${portsSetByHand(workload)}`;
}

/**
 * What to say of the port variables a workload's Score file sets itself (`PORT: "8080"`, a Heroku habit): on
 * the process runtime they win over the host ports Pave gives, so the process listens where no probe or route
 * looks. Named, not quoted. Empty for a workload without ports or without such variables.
 */
function portsSetByHand(workload: RenderedWorkload): string {
  if (workload.ports.length === 0) return '';
  const names = new Set(['PORT', ...workload.ports.map((port) => portVariableName(port.name))]);
  const said = workload.containers.flatMap((container) => {
    const set = Object.keys(container.env).filter((key) => names.has(key));
    if (set.length === 0) return [];
    // By name only: a value may come from a secret.
    const listed = set.join(' and ');
    const [these, replace, them] = set.length === 1 ? ['it', 'replaces', 'it'] : ['these', 'replace', 'them'];
    return [
      `container ${container.name} sets ${listed} itself: on the process runtime ${these} ${replace} the host ` +
        `ports Pave gives it, which its probes and routes use; remove ${them} from the Score file`,
    ];
  });
  return said.map((text) => `; ${text}`).join('');
}

function waysToTry(workload: RenderedWorkload): string {
  const longer = 'if it needs longer to start, deploy again with a longer --timeout (e.g. --timeout 5m)';
  const probed = workload.containers.some((container) => container.readinessProbe?.httpGet);
  if (probed) {
    return (
      `${longer}; if not, check that it listens on the port its readiness probe names (on the process ` +
      'runtime: $PORT, or $PORT_<NAME> for the port NAME; in a container: the port in its Score file)'
    );
  }
  const first = workload.ports[0];
  const unprobed = workload.containers.every((container) => !container.readinessProbe);
  if (!first || !unprobed) return longer;
  return (
    `${longer}; if not, check that it listens on its port ${first.name}: without a readiness probe, Pave ` +
    `waits until that port accepts connections (on the process runtime: on $PORT, also ` +
    `$${portVariableName(first.name)}, the host port Pave gives it; in a container: on port ${first.targetPort})`
  );
}

/**
 * Why a workload was not ready when the deployment's time ran out, in the deployment's own terms: its timeout
 * and the stability window the wait adds to it (so `--timeout 40s` does not read "timed out after 45 s"),
 * then what the runtime last saw, without the runtime's own count of the seconds.
 */
function timedOutReason(run: SetRun, said: string): string {
  const { timeoutSeconds, minReadySeconds } = run.options;
  const window = minReadySeconds > 0 ? ` and the ${minReadySeconds} s stability window` : '';
  return `timed out after the ${timeoutSeconds} s timeout${window}: ${said.replace(/^timed out after \d+ s: /, '')}`;
}

/** A not-ready result with `secrets` masked in its reason and log lines. */
function masked(result: Extract<ReadyResult, { ready: false }>, secrets: string[]) {
  return {
    reason: maskSecrets(result.reason, secrets),
    lastLogs: result.lastLogs.map((line) => maskSecrets(line, secrets)),
  };
}
