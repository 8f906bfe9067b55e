import { sql, type RawBuilder } from 'kysely';
import {
  changeFailureRateBand,
  frequencyBand,
  leadTimeBand,
  timeToRestoreBand,
  type Insights,
  type InsightsDay,
} from '@pave/core';
import type { Store } from '../store/index.ts';
import type { StoreEngine } from '../store/migrations/index.ts';

/** What insights are computed over: an app's environments and a window of time. */
export interface InsightsScope {
  app: string;
  /** The environments counted; none gives empty figures. */
  envs: readonly string[];
  /** Start of the window, RFC 3339 UTC (inclusive). */
  since: string;
  /** End of the window, RFC 3339 UTC (inclusive). */
  until: string;
}

/** How long after a deployment finished a rollback still makes it a failed change. */
export const ROLLBACK_HORIZON_SECONDS = 24 * 3600;

const DAY_SECONDS = 86_400;

/**
 * Computes the four DORA measures of `scope` in the store, with SQL that runs on SQLite and PostgreSQL alike:
 * window functions over the app's deployments find each one's successor and the next success of its
 * environment, aggregates count per UTC day, and percentiles are picked by rank (nearest-rank method), so no
 * more than one row per day and measure leaves the database. docs/insights.md defines each figure.
 */
export async function computeInsights(
  store: Pick<Store, 'db' | 'engine'>,
  scope: InsightsScope,
): Promise<Insights> {
  const days = (Date.parse(scope.until) - Date.parse(scope.since)) / 1000 / DAY_SECONDS;
  const counts = new Map<string, DayCounts>();
  const percentiles = new Map<string, Percentiles>();
  if (scope.envs.length > 0) {
    // One statement, so the deployments are read and windowed once. Rows of kind `day` count a day's
    // deployments; rows of kind `rank` hold a measure's sample count (a), median (b) and 90th percentile (c)
    // for a day or for `all`. Each sample is ranked within its day and within the window; (n + 1) / 2 and
    // (9n + 9) / 10 are the ranks ceil(n / 2) and ceil(0.9 n) in integer arithmetic, which both engines share.
    const rows = await sql<{
      row_kind: 'day' | 'rank';
      bucket: string;
      measure: string;
      a: number | string | null;
      b: number | string | null;
      c: number | string | null;
      d: number | string | null;
    }>`${finishedFacts(store.engine, scope)},
      samples as (
        select day, 'lead' as measure, lead_seconds as v from facts where lead_seconds is not null
        union all
        select day, 'restore' as measure, restore_seconds as v from facts where restore_seconds is not null
      ),
      ranked as materialized (
        select day, measure, v,
          row_number() over (partition by day, measure order by v) as rn_day,
          count(*) over (partition by day, measure) as n_day,
          row_number() over (partition by measure order by v) as rn_all,
          count(*) over (partition by measure) as n_all
        from samples
      )
      select 'day' as row_kind, day as bucket, '' as measure,
        sum(case when status = 'succeeded' then 1 else 0 end) as a,
        count(*) as b,
        sum(failure) as c,
        sum(case when failure = 1 and restore_seconds is null then 1 else 0 end) as d
      from facts group by day
      union all
      select 'rank' as row_kind, day as bucket, measure, max(n_day) as a,
        max(case when rn_day = (n_day + 1) / 2 then v end) as b,
        max(case when rn_day = (9 * n_day + 9) / 10 then v end) as c,
        null as d
      from ranked group by day, measure
      union all
      select 'rank' as row_kind, 'all' as bucket, measure, max(n_all) as a,
        max(case when rn_all = (n_all + 1) / 2 then v end) as b,
        max(case when rn_all = (9 * n_all + 9) / 10 then v end) as c,
        null as d
      from ranked group by measure`.execute(store.db);
    const number = (value: number | string | null) => (value === null ? null : Number(value));
    for (const row of rows.rows) {
      if (row.row_kind === 'day') {
        counts.set(row.bucket, {
          deployments: Number(row.a),
          finished: Number(row.b),
          failures: Number(row.c),
          unrestored: Number(row.d),
        });
      } else {
        const median = number(row.b);
        const p90 = number(row.c);
        percentiles.set(`${row.bucket}/${row.measure}`, {
          count: Number(row.a),
          median: median === null ? null : round(median),
          p90: p90 === null ? null : round(p90),
        });
      }
    }
  }

  const series: InsightsDay[] = daysBetween(scope.since, scope.until).map((date) => {
    const day = counts.get(date);
    return {
      date,
      deployments: day?.deployments ?? 0,
      finished: day?.finished ?? 0,
      failures: day?.failures ?? 0,
      leadTimeMedianSeconds: percentiles.get(`${date}/lead`)?.median ?? null,
      restoreMedianSeconds: percentiles.get(`${date}/restore`)?.median ?? null,
    };
  });
  const total = [...counts.values()].reduce(
    (sum, day) => ({
      deployments: sum.deployments + day.deployments,
      finished: sum.finished + day.finished,
      failures: sum.failures + day.failures,
      unrestored: sum.unrestored + day.unrestored,
    }),
    { deployments: 0, finished: 0, failures: 0, unrestored: 0 },
  );
  const perDay = days > 0 ? total.deployments / days : 0;
  const lead = percentiles.get('all/lead');
  const restore = percentiles.get('all/restore');
  const rate = total.finished > 0 ? total.failures / total.finished : null;
  return {
    app: scope.app,
    envs: [...scope.envs],
    since: scope.since,
    until: scope.until,
    days: round(days),
    deploymentFrequency: {
      deployments: total.deployments,
      perDay: round(perDay),
      perWeek: round(perDay * 7),
      band: frequencyBand(perDay),
    },
    leadTime: {
      count: lead?.count ?? 0,
      medianSeconds: lead?.median ?? null,
      p90Seconds: lead?.p90 ?? null,
      band: lead?.median == null ? null : leadTimeBand(lead.median),
    },
    changeFailureRate: {
      finished: total.finished,
      failures: total.failures,
      rate: rate === null ? null : round(rate),
      band: rate === null ? null : changeFailureRateBand(rate),
    },
    timeToRestore: {
      count: restore?.count ?? 0,
      medianSeconds: restore?.median ?? null,
      p90Seconds: restore?.p90 ?? null,
      band: restore?.median == null ? null : timeToRestoreBand(restore.median),
      unrestored: total.unrestored,
    },
    series,
  };
}

interface DayCounts {
  deployments: number;
  finished: number;
  failures: number;
  unrestored: number;
}

interface Percentiles {
  count: number;
  median: number | null;
  p90: number | null;
}

/** Seconds since the epoch of an RFC 3339 text column, in the engine's SQL (offsets are honoured). */
function epoch(engine: StoreEngine, column: string): RawBuilder<number> {
  return sql.raw<number>(
    engine === 'postgres'
      ? `extract(epoch from (${column})::timestamptz)::double precision`
      : `((julianday(${column}) - 2440587.5) * 86400.0)`,
  );
}

/**
 * `with ran as (…), facts as (…)`: one row per deployment of the scope that finished (succeeded or failed) in
 * the window, with its UTC day, whether it is a failed change, its lead time (succeeded, not a rollback, commit
 * time known) and, for a failed change, the seconds until its environment's next success (null: not yet).
 * `ran` holds the deployments that started, from the oldest that finished in the window on (by id, which
 * both indexes serve): a deployment's successor is seen whatever it is, and nothing older is read. An
 * environment runs one deployment at a time, so none that is older can still be running after it.
 */
function finishedFacts(engine: StoreEngine, scope: InsightsScope): RawBuilder<unknown> {
  const envs = sql.join(scope.envs.map((env) => sql`${env}`));
  // One window order for all three, so each environment's deployments are sorted once.
  const newestFirst = sql.raw('partition by env_id order by id desc');
  return sql`with ran as (
      select id, env_id, kind, status, finished_at, commit_time,
        lag(kind) over (${newestFirst}) as next_kind,
        lag(created_at) over (${newestFirst}) as next_created_at,
        -- Newest first with a frame that grows from the partition's start: both engines aggregate that
        -- incrementally, where a frame whose start moves (1 following .. unbounded) is re-aggregated per row.
        min(case when status = 'succeeded' then finished_at end)
          over (${newestFirst} rows between unbounded preceding and 1 preceding) as restored_at
      from deployments
      where app_id = ${scope.app} and env_id in (${envs}) and started_at is not null
        and id >= (
          select min(id) from deployments
          where app_id = ${scope.app} and env_id in (${envs}) and finished_at >= ${scope.since}
        )
    ),
    failures as (
      select substr(finished_at, 1, 10) as day, status, kind, finished_at, commit_time, restored_at,
        case
          when status = 'failed' then 1
          when next_kind = 'rollback'
            and ${epoch(engine, 'next_created_at')} - ${epoch(engine, 'finished_at')} <= ${sql.lit(ROLLBACK_HORIZON_SECONDS)}
            then 1
          else 0
        end as failure
      from ran
      where status in ('succeeded', 'failed') and finished_at >= ${scope.since} and finished_at <= ${scope.until}
    ),
    facts as materialized (
      select day, status, failure,
        case when status = 'succeeded' and kind <> 'rollback' and commit_time is not null
          then ${epoch(engine, 'finished_at')} - ${epoch(engine, 'commit_time')} end as lead_seconds,
        case when failure = 1 and restored_at is not null
          then ${epoch(engine, 'restored_at')} - ${epoch(engine, 'finished_at')} end as restore_seconds
      from failures
    )`;
}

/** Every UTC day (YYYY-MM-DD) from the day of `since` to the day of `until`, oldest first. */
function daysBetween(since: string, until: string): string[] {
  const result: string[] = [];
  const last = until.slice(0, 10);
  for (
    let day = new Date(`${since.slice(0, 10)}T00:00:00Z`);
    ;
    day = new Date(day.getTime() + DAY_SECONDS * 1000)
  ) {
    const date = day.toISOString().slice(0, 10);
    result.push(date);
    if (date >= last) return result;
  }
}

/** Figures are rounded to a thousandth: seconds to the millisecond, rates and frequencies to 0.1 %. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
