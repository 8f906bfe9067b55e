// `GET /apps/{app}/envs/{env}/logs`: the last lines of an environment's containers, merged by time, then
// (when following) the lines that come after.
import { byLogTime, logTimeKey } from '@pave/plugin-api';
import type { DriverContext, LogLine, RuntimeDriver, RuntimeTarget } from '@pave/plugin-api';
import { NotFoundError } from '@pave/core';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { Executor } from '../store/index.ts';
import { resourceRows, storedOutputs } from './resources/provision.ts';
import { latestValuesVersion, valuesContent } from './values.ts';

/** The most lines one request may ask for (LogsQuery.tail's maximum). */
export const MAX_LOG_LINES = 10_000;

/** What a client asked of an environment's logs. */
export interface EnvironmentLogsRequest {
  /** Only this workload's containers; default: every workload. */
  workload?: string;
  /** The last N lines, counted across the selected containers merged by time (not per container). */
  tail: number;
  /** Only lines printed at or after this RFC 3339 time. */
  since?: string;
  follow: boolean;
}

/**
 * The log lines of `target` as `request` asks: the runtime is asked for the last `tail` lines since `since`
 * of each container; they are merged by time and the last `tail` of them all are yielded, oldest first.
 * With `follow`, the runtime is then asked again for the lines printed from the moment this started, and
 * those not in the backlog already (per container: newer than its last line read) are yielded as they come,
 * until `ctx.signal` aborts. Rejects with the runtime's error when it cannot read the logs.
 */
export async function* environmentLogs(
  logs: NonNullable<RuntimeDriver['logs']>,
  target: RuntimeTarget,
  request: EnvironmentLogsRequest,
  ctx: DriverContext,
): AsyncIterable<LogLine> {
  const startedAt = new Date().toISOString();
  const workload = request.workload === undefined ? {} : { workload: request.workload };
  const since = request.since === undefined ? {} : { since: request.since };
  const backlog: LogLine[] = [];
  for await (const line of logs(target, { ...workload, ...since, tail: request.tail, follow: false }, ctx)) {
    backlog.push(line);
  }
  yield* request.tail === 0 ? [] : byLogTime(backlog).slice(-request.tail);
  if (!request.follow) return;

  // Lines printed while the backlog was read come again when following from `startedAt`: each container's
  // lines up to its last one read (and that one's twins at the same time) were dealt with already.
  const shown = lastReadPerContainer(backlog);
  const followFrom =
    request.since !== undefined && logTimeKey(request.since) > logTimeKey(startedAt)
      ? request.since
      : startedAt;
  const options = { ...workload, since: followFrom, tail: MAX_LOG_LINES, follow: true };
  for await (const line of logs(target, options, ctx)) {
    const last = shown.get(containerKey(line));
    const key = logTimeKey(line.at);
    if (last && (key < last.key || (key === last.key && last.lines.has(lineKey(line))))) continue;
    yield line;
  }
}

interface LastRead {
  key: string;
  lines: Set<string>;
}

function lastReadPerContainer(lines: readonly LogLine[]): Map<string, LastRead> {
  const last = new Map<string, LastRead>();
  for (const line of lines) {
    const key = logTimeKey(line.at);
    const seen = last.get(containerKey(line));
    if (!seen || key > seen.key) last.set(containerKey(line), { key, lines: new Set([lineKey(line)]) });
    else if (key === seen.key) seen.lines.add(lineKey(line));
  }
  return last;
}

function containerKey(line: LogLine): string {
  return `${line.workload}/${line.container}`;
}

function lineKey(line: LogLine): string {
  return `${line.stream}:${line.line}`;
}

/**
 * NotFoundError unless `workload` is one of the environment's: in its current deployment set (`expected`), or
 * known to the runtime (one that a deployment is starting). A runtime that cannot be reached does not decide:
 * the log request then fails with its error as before.
 */
export async function requireLoggedWorkload(
  runtime: RuntimeDriver,
  target: RuntimeTarget,
  workload: string,
  expected: readonly string[],
  ctx: DriverContext,
): Promise<void> {
  if (expected.includes(workload)) return;
  const running = await runtime.status(target, ctx).catch(() => undefined);
  if (!running || running.some((status) => status.workload === workload)) return;
  const names = [...new Set([...expected, ...running.map((status) => status.workload)])].sort();
  throw new NotFoundError(`workload "${workload}" of ${target.app}/${target.env} not found: it has no logs`, [
    {
      path: 'query.workload',
      message: names.length
        ? `the environment's workloads: ${names.join(', ')}`
        : `nothing is deployed in ${target.app}/${target.env} yet`,
    },
  ]);
}

/**
 * Every secret Pave knows that an environment's workloads were given and may print: the secret values of its
 * newest values version and of the one its current deployment runs with, and its resources' secret outputs (a
 * database's password). The logs route masks them for callers who may not reveal the environment's secrets.
 */
export async function environmentSecrets(
  box: SecretBox,
  db: Executor,
  target: { app: string; env: string },
): Promise<string[]> {
  const { app, env } = target;
  const deployed = await db
    .selectFrom('environments')
    .leftJoin('deployments', 'deployments.id', 'environments.current_deployment_id')
    .select('deployments.values_version as version')
    .where('environments.app_id', '=', app)
    .where('environments.id', '=', env)
    .executeTakeFirst();
  const versions = new Set([deployed?.version ?? null, await latestValuesVersion(db, app, env)]);
  const secrets: string[] = [];
  for (const version of versions) {
    if (version === null) continue;
    for (const entry of Object.values(await valuesContent(db, app, env, Number(version)))) {
      if (entry.secret) secrets.push(await box.decrypt(entry.value));
    }
  }
  const outputs = await storedOutputs(box, (await resourceRows(db, app, env)).values());
  return [...secrets, ...outputs.flatMap((output) => Object.values(output.secrets))];
}
