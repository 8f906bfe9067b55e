import type { Command } from 'commander';
import type { Deployment, DeploymentDetail, JournalEntry, PaveClient } from '@pave/core';
import { parseDuration } from '../duration.ts';
import { CliUsageError, WaitTimeoutError } from '../errors.ts';
import type { Colors, OutputStream } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import type { CommandOutput, OutputFormat } from '../output/output.ts';
import { padEnd } from '../output/table.ts';
import { escapeControlCharacters } from '../output/terminal-text.ts';

/** The readiness timeout the server uses when a request gives none (CreateDeploymentBody.timeoutSeconds). */
export const DEFAULT_TIMEOUT_SECONDS = 60;
/** The longest readiness timeout the server accepts. */
export const MAX_TIMEOUT_SECONDS = 3600;
/** How long `--wait` keeps trying beyond the deployment's own timeout before it gives up on a silent server. */
export const WAIT_MARGIN_MS = 30_000;
/**
 * How long `--wait` waits before asking the server about the deployment again, `waitedMs` after it started
 * waiting: every 25 ms in the first second (most deployments of one workload are done within it, and a user
 * waits for the answer), every 100 ms up to 10 s, then every 250 ms, so that long deployments cost the server
 * less than one request every 100 ms.
 */
export function pollDelayMs(waitedMs: number): number {
  if (waitedMs < 1_000) return 25;
  return waitedMs < 10_000 ? 100 : 250;
}
// After this long still queued, `--wait` says why nothing is happening.
const QUEUED_NOTICE_MS = 2000;

const TIMEOUT_FORMAT = 'seconds, minutes or hours such as 90, 60s, 2m, 1m30s or 1h (at most 1h)';
const TIMEOUT_UNITS = { h: 3600, m: 60, s: 1 } as const;

/**
 * The `--wait`, `--timeout` and (deploy, rollback, promote, values set/unset/import/rollback) `--wait-timeout`
 * flags of commands that start a deployment.
 */
export interface WaitOptions {
  wait?: boolean;
  timeout?: string;
  waitTimeout?: string;
}

/**
 * Adds `--wait` and `--timeout <duration>` to a command that starts a deployment. `timeoutHelp` replaces the
 * help of `--timeout` where the command cannot send a readiness timeout to the server.
 */
export function addWaitOptions(command: Command, timeoutHelp?: string): Command {
  return command
    .option('--wait', 'follow the deployment, printing each step on stderr, and fail (exit 1) if it fails')
    .option(
      '--timeout <duration>',
      timeoutHelp ??
        `how long each workload may take to become ready (and the runtime target to answer first), e.g. 60s or 2m ` +
          `(default ${DEFAULT_TIMEOUT_SECONDS}s)`,
    );
}

/**
 * Adds `--wait-timeout <duration>` to a command that starts a deployment which may await approval: `--wait`
 * then stops (exit 4) after that long, leaving the deployment as it is.
 */
export function addWaitTimeoutOption(command: Command): Command {
  return command.option(
    '--wait-timeout <duration>',
    'with --wait: stop waiting after this long (e.g. 10m), exit 4 and leave the deployment as it is ' +
      '(still awaiting approval, queued or running); default: wait as long as it takes',
  );
}

/**
 * Checks `--wait-timeout` before anything is sent (a deployment queued and then a usage error would leave it
 * running unseen): it goes with --wait, and is a duration. Throws CliUsageError.
 */
export function checkWaitTimeout(options: WaitOptions): void {
  if (options.waitTimeout === undefined) return;
  if (!options.wait) {
    throw new CliUsageError(
      '--wait-timeout goes with --wait: add --wait to follow the deployment (and stop waiting after that long)',
    );
  }
  waitTimeoutMsOf(options);
}

/** `--wait-timeout` in milliseconds, or undefined when not given. CliUsageError for a malformed one. */
export function waitTimeoutMsOf(options: WaitOptions): number | undefined {
  return options.waitTimeout === undefined ? undefined : parseDuration(options.waitTimeout, '--wait-timeout');
}

/**
 * Parses a `--timeout` value into whole seconds: a number of seconds (`90`), or hours, minutes and seconds in
 * that order (`60s`, `2m`, `1m30s`, `1h`). Throws CliUsageError naming `flag` and the accepted format when
 * `text` is not one, is zero, or is longer than the server accepts ({@link MAX_TIMEOUT_SECONDS}).
 */
export function parseTimeout(text: string, flag = '--timeout'): number {
  const trimmed = text.trim();
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(trimmed);
  let seconds = NaN;
  if (/^\d+$/.test(trimmed)) seconds = Number(trimmed);
  else if (match && trimmed !== '') {
    seconds =
      Number(match[1] ?? 0) * TIMEOUT_UNITS.h +
      Number(match[2] ?? 0) * TIMEOUT_UNITS.m +
      Number(match[3] ?? 0) * TIMEOUT_UNITS.s;
  }
  if (!Number.isSafeInteger(seconds) || seconds < 1) {
    throw new CliUsageError(`${flag}: "${text}" is not a duration; use ${TIMEOUT_FORMAT}`);
  }
  if (seconds > MAX_TIMEOUT_SECONDS) {
    throw new CliUsageError(`${flag}: "${text}" is too long; the server waits at most 1h`);
  }
  return seconds;
}

/** The `--timeout` of `options` in seconds, or undefined when it was not given (the server's default applies). */
export function timeoutSecondsOf(options: WaitOptions): number | undefined {
  return options.timeout === undefined ? undefined : parseTimeout(options.timeout);
}

/** How long `--wait` tolerates a server that does not answer, for a deployment with this readiness timeout. */
export function giveUpAfterMs(timeoutSeconds: number | undefined): number {
  return (timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000 + WAIT_MARGIN_MS;
}

/** Renders a duration for people: `850ms`, `4.2s`, `1m05s`, `2h03m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const totalSeconds = Math.floor(ms / 1000);
  if (totalSeconds < 3600) {
    return `${Math.floor(totalSeconds / 60)}m${String(totalSeconds % 60).padStart(2, '0')}s`;
  }
  const totalMinutes = Math.floor(totalSeconds / 60);
  return `${Math.floor(totalMinutes / 60)}h${String(totalMinutes % 60).padStart(2, '0')}m`;
}

/** How long a deployment ran (start to finish); undefined while it has not finished, or if it never started. */
export function deploymentDuration(deployment: Deployment): string | undefined {
  // One cancelled or superseded while queued never ran: the time it waited is no duration of a run.
  if (deployment.finishedAt === null || deployment.startedAt === null) return undefined;
  const start = Date.parse(deployment.startedAt);
  const end = Date.parse(deployment.finishedAt);
  return Number.isNaN(start) || Number.isNaN(end) ? undefined : formatDuration(end - start);
}

/** Colours a deployment or journal status: green for success, red for failure, dim for the rest. */
export function colorStatus(status: string, colors: Colors): string {
  switch (status) {
    case 'succeeded':
      return colors.green(status);
    case 'failed':
      return colors.red(status);
    case 'running':
    case 'started':
      return colors.yellow(status);
    default:
      return colors.dim(status);
  }
}

/** Options for {@link formatJournalEntry}. */
export interface JournalLineOptions {
  colors?: Colors;
  /** The IANA time zone the time is shown in; default the local one (this is a live progress stream). */
  timeZone?: string;
}

// Wide enough for every step (the longest phase, `switch target`) and status (`succeeded`), so lines line up.
const STEP_WIDTH = 13;
const WORKLOAD_WIDTH = 12;
const STATUS_WIDTH = 9;

/**
 * Renders one journal entry as a progress line: `HH:MM:SS  step  workload  status  message`, with `-` for an
 * entry about no workload in particular. Columns are padded to fixed widths, so lines printed one at a time
 * still line up; the status is coloured when `colors` are on. A message of several lines (a failure with the
 * workload's last log lines) continues on lines indented under the step. No final newline.
 */
export function formatJournalEntry(entry: JournalEntry, options: JournalLineOptions = {}): string {
  const plain = (text: string) => text;
  const status = padEnd(
    options.colors ? colorStatus(entry.status, options.colors) : entry.status,
    STATUS_WIDTH,
  );
  return [
    (options.colors?.dim ?? plain)(clockTime(entry.at, options.timeZone)),
    padEnd(entry.step, STEP_WIDTH),
    padEnd(entry.workload ?? '-', WORKLOAD_WIDTH),
    status,
    entry.message,
  ]
    .join('  ')
    .trimEnd()
    .replace(/\r?\n/g, `\n${CONTINUATION}`);
}

// Continuation lines of a multi-line message start under the step column.
const CONTINUATION = ' '.repeat('HH:MM:SS  '.length);

// Formats of named time zones, made on first use (see clockTime).
const clockFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * `HH:MM:SS` of `timestamp` on the 24-hour clock of `timeZone` (default: the local one). The local clock and UTC
 * are read off the Date: creating the first Intl.DateTimeFormat loads ICU's locale data, about 30 ms of every
 * `--wait` (docs/benchmarks.md).
 */
export function clockTime(timestamp: string, timeZone: string | undefined): string {
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return timestamp;
  if (timeZone === undefined) return clock(date.getHours(), date.getMinutes(), date.getSeconds());
  if (timeZone === 'UTC') return clock(date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds());
  let format = clockFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZone,
    });
    clockFormats.set(timeZone, format);
  }
  return format.format(date);
}

function clock(hours: number, minutes: number, seconds: number): string {
  return [hours, minutes, seconds].map((part) => String(part).padStart(2, '0')).join(':');
}

/**
 * Where `--wait` tells people what happens while it waits: the queued line, each journal entry as it comes, a
 * server that stops answering, a deployment awaiting approval. It is for people, so it goes to stderr, and
 * stdout keeps only the command's result (how the deployment ended, or with `-o json`/`-o yaml` its data, pure
 * for a script), as kubectl, gh and heroku keep progress off stdout.
 */
export interface Progress {
  /** Writes one line (the server's control characters shown escaped); nothing when progress is off. */
  line(text: string): void;
  /** Whether lines are written at all. */
  readonly shown: boolean;
  /** Colours for the lines: on only when stderr is a terminal and NO_COLOR is not set (see colorsFor). */
  readonly colors: Colors;
}

/**
 * The {@link Progress} of a command printing its result in `format`, written to `stderr`: always for `-o table`
 * (a person, or a CI log, follows it); with `-o json` or `-o yaml` only when stderr is a terminal, so that a
 * person running a script's command sees it while a script that keeps stderr for errors (`2>errors.log`) still
 * gets only errors there.
 */
export function progressOn(
  stderr: OutputStream,
  env: Record<string, string | undefined>,
  format: OutputFormat,
): Progress {
  const shown = format === 'table' || stderr.isTTY === true;
  return {
    shown,
    colors: colorsFor(stderr, env),
    line: (text) => {
      if (!shown) return;
      stderr.write(`${escapeControlCharacters(text, { keepColors: true, keepLineBreaks: true })}\n`);
    },
  };
}

/** The line that says a deployment was queued, e.g. `Deployment 17 queued for shop/dev`. */
export function queuedLine(deployment: Deployment): string {
  const line =
    deployment.status === 'awaiting-approval'
      ? `Deployment ${deployment.id} of ${deployment.appId}/${deployment.envId} awaits approval by someone ` +
        `else (\`pave approvals approve ${deployment.id}\`)`
      : `Deployment ${deployment.id} queued for ${deployment.appId}/${deployment.envId}`;
  if (deployment.kind === 'rollback') {
    const target = deployment.source.deploymentId;
    return `${line} (rollback${target !== undefined ? ` to the set of deployment ${target}` : ''})`;
  }
  if ((deployment.kind === 'promote' || deployment.kind === 'clone') && deployment.source.envId) {
    return `${line} (${deployment.kind} from ${deployment.source.envId})`;
  }
  return line;
}

/** The command that shows a deployment, for hints in messages. */
export function showDeploymentCommand(app: string, env: string, id: string): string {
  return `pave deployments get ${id} --app ${app} --env ${env}`;
}

/**
 * Reports a deployment the server has just queued: without `wait`, the API's JSON or a line saying it was
 * queued and how to follow it; with `wait`, that line as the first of its `progress`, then
 * {@link waitForDeployment}, then (people only, when the client can ask for the status) where the environment's
 * routes answer.
 */
export async function reportQueuedDeployment(
  client: Pick<PaveClient, 'getDeployment'> & Partial<Pick<PaveClient, 'getStatus'>>,
  deployment: Deployment,
  output: CommandOutput,
  options: {
    wait?: boolean | undefined;
    timeoutSeconds: number | undefined;
    /** Colours of stdout, for the result. */
    colors: Colors;
    /** Where the progress of `wait` goes (see {@link progressOn}). */
    progress: Progress;
    /** `--wait-timeout`: stop waiting after this long (WaitTimeoutError, exit 4). */
    waitTimeout?: string | undefined;
    /**
     * After a deployment that succeeded, print where the environment's routes serve its workloads (default
     * true; false when no workload it deploys has a `route` resource).
     */
    showRoutes?: boolean | undefined;
  },
): Promise<void> {
  const { appId: app, envId: env, id } = deployment;
  if (!options.wait) {
    output.show(
      deployment,
      (body) =>
        `${queuedLine(body)}\n` +
        `Follow it with \`${showDeploymentCommand(app, env, id)}\` or \`pave status --app ${app} --env ${env}\``,
    );
    return;
  }
  options.progress.line(queuedLine(deployment));
  const waitTimeoutMs = waitTimeoutMsOf({ waitTimeout: options.waitTimeout });
  await waitForDeployment(client, app, env, id, output, {
    timeoutMs: giveUpAfterMs(options.timeoutSeconds),
    colors: options.colors,
    progress: options.progress,
    ...(waitTimeoutMs !== undefined ? { waitTimeoutMs } : {}),
  });
  if (output.format === 'table' && client.getStatus && options.showRoutes !== false) {
    for (const line of await routeLines(client.getStatus.bind(client), app, env)) output.confirm(line);
  }
}

/**
 * `api is served at http://api.dev.shop.localhost:7300/`, one line per route of the environment through Pave's reverse
 * proxy. None when the status cannot be had: the deployment succeeded whatever it says.
 */
export async function routeLines(
  getStatus: PaveClient['getStatus'],
  app: string,
  env: string,
): Promise<string[]> {
  let status: Awaited<ReturnType<PaveClient['getStatus']>>;
  try {
    status = await getStatus(app, env);
  } catch {
    return [];
  }
  return status.workloads.flatMap((workload) =>
    (workload.routes ?? []).map((url) => `${workload.workload} is served at ${url}`),
  );
}

/**
 * A deployment finished and failed (or ended before it ran: cancelled, rejected, expired, superseded); its
 * message is the server's reason (and whether Pave restored the old set). With `journalShown` (the journal was
 * printed as it came) and the reason whole in one of its entries, only the reason's first line: a failure's
 * last log lines are not told twice.
 */
export class DeploymentFailedError extends Error {
  override name = 'DeploymentFailedError';
  constructor(
    readonly deployment: DeploymentDetail,
    options: { journalShown?: boolean } = {},
  ) {
    super(failureMessage(deployment, options.journalShown ?? false));
  }
}

/** `--wait` stopped waiting because the server did not answer for too long; the deployment may still finish. */
export class WaitGaveUpError extends Error {
  override name = 'WaitGaveUpError';
}

function failureMessage(deployment: DeploymentDetail, journalShown: boolean): string {
  const details = `  Details: ${showDeploymentCommand(deployment.appId, deployment.envId, deployment.id)}`;
  switch (deployment.status) {
    case 'rejected':
      return `deployment ${deployment.id} was ${deployment.reason ?? 'rejected'}; nothing of it ran.\n${details}`;
    case 'expired':
      return (
        `deployment ${deployment.id} expired before anyone approved it (${deployment.reason ?? 'expired'}); ` +
        `nothing of it ran. Deploy again to ask anew.\n${details}`
      );
    case 'superseded':
      return (
        `deployment ${deployment.id} was ${deployment.reason ?? 'superseded'}, a newer deployment of ` +
        `${deployment.appId}/${deployment.envId}; nothing of it ran.\n${details}`
      );
    default:
      break;
  }
  if (deployment.status === 'cancelled') {
    return (
      `deployment ${deployment.id} was ${deployment.reason ?? 'cancelled'}; nothing of it ran.\n` +
      `  Details: ${showDeploymentCommand(deployment.appId, deployment.envId, deployment.id)}`
    );
  }
  const reason = deployment.reason ?? lastFailure(deployment.journal) ?? 'no reason given';
  const [firstLine = '', ...rest] = reason.split(/\r?\n/);
  // The journal printed as it came holds the reason whole when one of its entries (the finish line) does.
  const toldAbove = journalShown && deployment.journal.some((entry) => entry.message.includes(reason));
  const told =
    toldAbove && rest.length
      ? `${firstLine} (the journal above has the rest)`
      : [firstLine, ...rest].join('\n  ');
  const lines = [`deployment ${deployment.id} failed: ${told}`];
  if (deployment.rolledBack) {
    lines.push(
      '  Pave restored the previous successful set (automatic rollback); the failed set is not running.',
    );
  }
  lines.push(`  Details: ${showDeploymentCommand(deployment.appId, deployment.envId, deployment.id)}`);
  return lines.join('\n');
}

function lastFailure(journal: readonly JournalEntry[]): string | undefined {
  for (let index = journal.length - 1; index >= 0; index--) {
    const entry = journal[index];
    if (entry?.status === 'failed') return entry.message;
  }
  return undefined;
}

/** Options for {@link waitForDeployment}. */
export interface WaitForDeploymentOptions {
  /** Give up after the server has not answered for this long (see {@link giveUpAfterMs}). */
  timeoutMs: number;
  /** Colours of stdout, for the closing line. */
  colors: Colors;
  /** Where the journal and notices go while waiting (see {@link progressOn}). */
  progress: Progress;
  /** Stop waiting after this long, whatever the deployment is doing (`--wait-timeout`): WaitTimeoutError. */
  waitTimeoutMs?: number;
  /** Print the final DeploymentDetail with `-o json` (default true); false when the command prints its own result. */
  printResult?: boolean;
  /** For tests: the clock and how to sleep. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  timeZone?: string;
}

/**
 * Follows deployment `id` of `app`/`env` until it has succeeded or failed, asking the server again and again
 * (see {@link pollDelayMs}).
 * It writes each new journal entry once, as it appears, to `progress` (stderr); on stdout, for people
 * (`-o table`) a closing line when it succeeded, with `-o json` the final DeploymentDetail. Resolves with that
 * detail when the deployment succeeded. Rejects with DeploymentFailedError (the server's reason, and whether the
 * previous set was restored) when it failed, with the API's error when the server refuses to show it, and with
 * WaitGaveUpError when the server has not answered for `timeoutMs`; a server that comes back in time is fine,
 * since deployments survive a restart of the control plane. A deployment awaiting approval is waited for
 * (`waiting for approval ID`, said once); rejected, expired or superseded it ends in DeploymentFailedError.
 * With `waitTimeoutMs` it rejects with WaitTimeoutError once that long has passed, whatever the deployment does.
 */
export async function waitForDeployment(
  client: Pick<PaveClient, 'getDeployment'>,
  app: string,
  env: string,
  id: string,
  output: CommandOutput,
  options: WaitForDeploymentOptions,
): Promise<DeploymentDetail> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const { progress } = options;
  const colors = progress.colors;
  const printed = new Set<number>();
  let lastAnswer = now();
  let outage: string | undefined;
  const startedWaiting = now();
  const pause = () => sleep(pollDelayMs(now() - startedWaiting));
  let saidQueued = false;
  let saidAwaiting = false;

  for (;;) {
    if (options.waitTimeoutMs !== undefined && now() - startedWaiting >= options.waitTimeoutMs) {
      throw new WaitTimeoutError(
        `stopped waiting for deployment ${id} after ${formatDuration(now() - startedWaiting)} ` +
          `(--wait-timeout); it is left as it is. Check it with \`${showDeploymentCommand(app, env, id)}\``,
      );
    }
    let detail: DeploymentDetail;
    try {
      detail = await client.getDeployment(app, env, id);
    } catch (error) {
      if (!isTransient(error)) throw error;
      const silentFor = now() - lastAnswer;
      const cause = error instanceof Error ? error.message : String(error);
      if (silentFor >= options.timeoutMs) {
        throw new WaitGaveUpError(
          `gave up waiting for deployment ${id}: the server has not answered for ${formatDuration(silentFor)} ` +
            `(${cause}). The deployment may still finish; check it with \`${showDeploymentCommand(app, env, id)}\``,
        );
      }
      if (outage === undefined) {
        outage = cause;
        progress.line(
          colors.yellow(
            `The server is not answering (${cause}); still trying for up to ${formatDuration(options.timeoutMs)}`,
          ),
        );
      }
      await pause();
      continue;
    }
    lastAnswer = now();
    if (outage !== undefined) {
      outage = undefined;
      progress.line(colors.yellow('The server is answering again'));
    }
    if (detail.status === 'awaiting-approval' && !saidAwaiting) {
      saidAwaiting = true;
      progress.line(
        colors.yellow(`waiting for approval ${id}`) +
          colors.dim(` (someone else approves it with \`pave approvals approve ${id}\`)`),
      );
    }
    if (detail.status === 'queued' && !saidQueued && now() - startedWaiting >= QUEUED_NOTICE_MS) {
      saidQueued = true;
      progress.line(
        colors.dim(`Deployment ${id} is still queued (another deployment of ${app}/${env} may be running)`),
      );
    }
    for (const entry of detail.journal) {
      if (printed.has(entry.id)) continue;
      printed.add(entry.id);
      progress.line(formatJournalEntry(entry, { colors, ...optionalTimeZone(options.timeZone) }));
    }
    if (isFinished(detail.status)) {
      // A failure is told on stderr (DeploymentFailedError); people get no second, stdout line about it.
      if (output.forScripts) {
        if (options.printResult !== false) output.show(detail, () => '');
      } else if (detail.status === 'succeeded') {
        output.confirm(succeededLine(detail, options.colors));
      }
      if (detail.status !== 'succeeded') {
        throw new DeploymentFailedError(detail, { journalShown: progress.shown });
      }
      return detail;
    }
    await pause();
  }
}

function isFinished(status: DeploymentDetail['status']): boolean {
  return !['queued', 'running', 'awaiting-approval'].includes(status);
}

function optionalTimeZone(timeZone: string | undefined): { timeZone?: string } {
  return timeZone === undefined ? {} : { timeZone };
}

function succeededLine(detail: DeploymentDetail, colors: Colors): string {
  const took = deploymentDuration(detail);
  return colors.green(
    `Deployment ${detail.id} succeeded${took !== undefined ? ` in ${took}` : ''}: ` +
      `${detail.appId}/${detail.envId} is up to date`,
  );
}

// A lost connection or a server error may pass (the control plane restarting); a refusal (4xx) will not.
function isTransient(error: unknown): boolean {
  const name = (error as Error | undefined)?.name;
  if (name === 'ConnectionError') return true;
  if (name === 'ApiError') {
    const status = (error as { status?: number }).status ?? 0;
    return status >= 500 || status === 429;
  }
  return false;
}
