// `GET /apps/{app}/envs/{env}/logs`: the last lines of an environment's containers, merged by time, then
// (when following) the lines that come after.
import { byLogTime, logTimeKey } from '@pave/plugin-api';
import type { DriverContext, LogLine, RuntimeDriver, RuntimeTarget } from '@pave/plugin-api';
import { NotFoundError } from '@pave/core';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { Executor } from '../store/index.ts';
import { maskSecrets } from './resources/masking.ts';
import { resourceRows, storedOutputs } from './resources/provision.ts';
import { latestValuesVersion, type ValuesContent } from './values.ts';

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
 * What changes whenever the secrets an environment's workloads may print (environmentSecrets) may have: its
 * newest values version, its current deployment and its resources' records. Cheap: a log stream asks it every
 * second and looks the secrets up again only when it changed.
 */
export async function environmentSecretsMark(
  db: Executor,
  target: { app: string; env: string },
): Promise<string> {
  const { app, env } = target;
  const [environment, resources, retired] = await Promise.all([
    db
      .selectFrom('environments')
      .select('current_deployment_id')
      .where('app_id', '=', app)
      .where('id', '=', env)
      .executeTakeFirst(),
    db
      .selectFrom('resources')
      .select([(eb) => eb.fn.max('updated_at').as('updated'), (eb) => eb.fn.countAll().as('count')])
      .where('app_id', '=', app)
      .where('env_id', '=', env)
      .executeTakeFirst(),
    db
      .selectFrom('retired_resource_secrets')
      .select((eb) => eb.fn.countAll().as('count'))
      .where('app_id', '=', app)
      .where('env_id', '=', env)
      .executeTakeFirst(),
  ]);
  const version = await latestValuesVersion(db, app, env);
  return JSON.stringify([
    version,
    environment?.current_deployment_id ?? null,
    resources?.updated ?? null,
    Number(resources?.count ?? 0),
    Number(retired?.count ?? 0),
  ]);
}

/**
 * Every secret Pave knows that an environment's workloads were given and may print: the secret values of every
 * values version it has had (a log keeps what a workload printed under an older one), and its resources' secret
 * outputs as recorded now (a database's password) and as they were before a replacement, an update or the
 * resource's deletion. The logs route masks them for callers who may not reveal the environment's secrets.
 */
export async function environmentSecrets(
  box: SecretBox,
  db: Executor,
  target: { app: string; env: string },
): Promise<string[]> {
  const { app, env } = target;
  const versions = await db
    .selectFrom('env_value_versions')
    .select('content')
    .where('app_id', '=', app)
    .where('env_id', '=', env)
    .execute();
  // The same secret is in every version from the one that set it on, sealed the same way: opened once.
  const sealed = new Set<string>();
  for (const { content } of versions) {
    for (const entry of Object.values(JSON.parse(content) as ValuesContent)) {
      if (entry.secret) sealed.add(entry.value);
    }
  }
  const secrets = await Promise.all([...sealed].map((value) => box.decrypt(value)));
  const outputs = await storedOutputs(box, (await resourceRows(db, app, env)).values());
  const retired = await db
    .selectFrom('retired_resource_secrets')
    .select('output_secrets')
    .where('app_id', '=', app)
    .where('env_id', '=', env)
    .execute();
  const retiredSecrets = await Promise.all(
    [...new Set(retired.map((row) => row.output_secrets))].map(
      async (sealedOutputs) => JSON.parse(await box.decrypt(sealedOutputs)) as Record<string, string>,
    ),
  );
  return [
    ...new Set([
      ...secrets,
      ...outputs.flatMap((output) => Object.values(output.secrets)),
      ...retiredSecrets.flatMap((retiredOutputs) => Object.values(retiredOutputs)),
    ]),
  ];
}

/** What is said instead of a runtime's words whose secrets could not be read to mask them. */
const WORDS_WITHHELD =
  "(the runtime's words are withheld: the environment's secrets could not be read to mask them)";

/**
 * Masks what a runtime says about `target`'s workloads (an error, a status detail, a log line), which may
 * quote the environment they were given, with every secret environmentSecrets knows; when those cannot be
 * read (the store gone), every text becomes WORDS_WITHHELD. Never rejects.
 */
export async function environmentMasker(
  box: SecretBox,
  db: Executor,
  target: { app: string; env: string },
): Promise<(text: string) => string> {
  const secrets = await environmentSecrets(box, db, target).catch(() => null);
  return (text) => (secrets === null ? WORDS_WITHHELD : maskSecrets(text, secrets));
}
