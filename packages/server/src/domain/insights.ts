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

const DAY_SECONDS = 86_400;

/** The two measures that have percentiles, by their column in `deployments`. */
const MEASURES = { lead: 'lead_seconds', restore: 'restore_seconds' } as const;
type Measure = keyof typeof MEASURES;

/**
 * Computes the four DORA measures of `scope` from the facts stored with each deployment (whether it is a failed
 * change, its lead time, its time to restore: see deployments/facts.ts). One `group by` counts the finished
 * deployments per UTC day and takes each day's medians; the window's medians and 90th percentiles are read
 * by rank (nearest-rank method) from the index that holds each measure in order. docs/insights.md defines each
 * figure and says how the SQL differs between SQLite and PostgreSQL.
 */
export async function computeInsights(
  store: Pick<Store, 'db' | 'engine'>,
  scope: InsightsScope,
): Promise<Insights> {
  const days = (Date.parse(scope.until) - Date.parse(scope.since)) / 1000 / DAY_SECONDS;
  const counts = new Map<string, DayCounts>();
  const medians = new Map<string, { lead: number | null; restore: number | null }>();
  const window: Record<Measure, Percentiles> = {
    lead: { count: 0, median: null, p90: null },
    restore: { count: 0, median: null, p90: null },
  };
  if (scope.envs.length > 0) {
    const rows = await dailyFigures(store, scope);
    for (const row of rows) {
      counts.set(row.day, {
        deployments: Number(row.succeeded),
        finished: Number(row.finished),
        failures: Number(row.failures),
        unrestored: Number(row.unrestored),
      });
      medians.set(row.day, { lead: rounded(row.lead_median), restore: rounded(row.restore_median) });
      window.lead.count += Number(row.lead_count);
      window.restore.count += Number(row.restore_count);
    }
    for (const measure of Object.keys(MEASURES) as Measure[]) {
      const n = window[measure].count;
      if (n === 0) continue;
      // Ranks ⌈n/2⌉ and ⌈0.9 n⌉, in integer arithmetic.
      window[measure].median = await valueAtRank(store, scope, measure, Math.floor((n + 1) / 2));
      window[measure].p90 = await valueAtRank(store, scope, measure, Math.floor((9 * n + 9) / 10));
    }
  }

  const series: InsightsDay[] = daysBetween(scope.since, scope.until).map((date) => {
    const day = counts.get(date);
    return {
      date,
      deployments: day?.deployments ?? 0,
      finished: day?.finished ?? 0,
      failures: day?.failures ?? 0,
      leadTimeMedianSeconds: medians.get(date)?.lead ?? null,
      restoreMedianSeconds: medians.get(date)?.restore ?? null,
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
  const { lead, restore } = window;
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
      count: lead.count,
      medianSeconds: lead.median,
      p90Seconds: lead.p90,
      band: lead.median === null ? null : leadTimeBand(lead.median),
    },
    changeFailureRate: {
      finished: total.finished,
      failures: total.failures,
      rate: rate === null ? null : round(rate),
      band: rate === null ? null : changeFailureRateBand(rate),
    },
    timeToRestore: {
      count: restore.count,
      medianSeconds: restore.median,
      p90Seconds: restore.p90,
      band: restore.median === null ? null : timeToRestoreBand(restore.median),
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

/** What one UTC day of the window counts, and its medians (drivers give numbers or numeric strings). */
interface DayRow {
  day: string;
  succeeded: number | string;
  finished: number | string;
  failures: number | string;
  unrestored: number | string;
  lead_count: number | string;
  restore_count: number | string;
  lead_median: number | string | null;
  restore_median: number | string | null;
}

/**
 * The figures of each UTC day of the window that has finished deployments. SQLite groups the rows that the
 * index on `(app_id, finished_at, …)` holds, by day. PostgreSQL would sort all of them by day before
 * aggregating (and spill to disk), so it aggregates each day's range of that index on its own instead (a
 * lateral join over the days), sorting only a day's values for its medians.
 */
async function dailyFigures(store: Pick<Store, 'db' | 'engine'>, scope: InsightsScope): Promise<DayRow[]> {
  const figures = sql`sum(case when status = 'succeeded' then 1 else 0 end) as succeeded,
    count(*) as finished,
    sum(failed_change) as failures,
    sum(case when failed_change = 1 and restore_seconds is null then 1 else 0 end) as unrestored,
    count(lead_seconds) as lead_count,
    count(restore_seconds) as restore_count,
    ${median(store.engine, 'lead_seconds')} as lead_median,
    ${median(store.engine, 'restore_seconds')} as restore_median`;
  if (store.engine === 'sqlite') {
    const { rows } = await sql<DayRow>`select substr(finished_at, 1, 10) as day, ${figures}
      from deployments
      where ${inScope(scope)} and status in ('succeeded', 'failed') and ${isChange}
      group by substr(finished_at, 1, 10)`.execute(store.db);
    return rows;
  }
  // A day's deployments are those with day <= finished_at < the next day (RFC 3339 UTC texts sort by time).
  const days = daysBetween(scope.since, scope.until);
  const nextDays = days.map((day) =>
    new Date(Date.parse(`${day}T00:00:00Z`) + DAY_SECONDS * 1000).toISOString(),
  );
  const { rows } = await sql<DayRow>`select d.day, f.*
    from unnest(${days}::text[], ${nextDays}::text[]) as d(day, next_day)
    cross join lateral (
      select ${figures} from deployments
      where ${inScope(scope)} and status in ('succeeded', 'failed') and ${isChange}
        and finished_at >= d.day and finished_at < d.next_day
    ) f
    where f.finished > 0`.execute(store.db);
  return rows;
}

/**
 * Deployments that are changes: restarts (Pave bringing back a current set it found stopped at start) are not,
 * and count nowhere (see isChange in deployments/facts.ts). They never carry a lead time or a time to restore,
 * so the percentiles need no such test.
 */
const isChange = sql<boolean>`kind <> 'restart'`;

/** The deployments of the scope that finished in its window (any status). */
function inScope(scope: InsightsScope): RawBuilder<boolean> {
  const envs = sql.join(scope.envs.map((env) => sql`${env}`));
  return sql<boolean>`app_id = ${scope.app} and env_id in (${envs})
    and finished_at >= ${scope.since} and finished_at <= ${scope.until}`;
}

/**
 * The nearest-rank median of a column, as an aggregate. PostgreSQL's `percentile_disc(0.5)` is the value at
 * rank ⌈0.5 n⌉; SQLite's `percentile_disc(v, 0.5)` is the one at index ⌊0.5 (n − 1)⌋ counted from 0, the same
 * rank for every n (it differs for other fractions, hence valueAtRank for the 90th percentile).
 */
function median(engine: StoreEngine, column: 'lead_seconds' | 'restore_seconds'): RawBuilder<number> {
  return engine === 'postgres'
    ? sql<number>`percentile_disc(0.5) within group (order by ${sql.ref(column)})`
    : sql<number>`percentile_disc(${sql.ref(column)}, 0.5)`;
}

/**
 * The `rank`-th smallest value (from 1) of a measure among the scope's deployments: the index on
 * `(app_id, <measure>, env_id, finished_at)` holds them in order, so the database walks `rank` entries of it
 * and sorts nothing. A measure is only set on finished deployments, so no status test is needed.
 */
async function valueAtRank(
  store: Pick<Store, 'db' | 'engine'>,
  scope: InsightsScope,
  measure: Measure,
  rank: number,
): Promise<number | null> {
  const column = sql.ref(MEASURES[measure]);
  const { rows } = await sql<{ v: number | string }>`select ${column} as v from deployments
    where ${inScope(scope)} and ${column} is not null
    order by ${column} limit 1 offset ${rank - 1}`.execute(store.db);
  return rounded(rows[0]?.v ?? null);
}

const rounded = (value: number | string | null): number | null =>
  value === null ? null : round(Number(value));

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
