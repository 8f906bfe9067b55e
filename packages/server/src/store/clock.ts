import { sql, type RawBuilder } from 'kysely';
import type { StoreEngine } from './migrations/index.ts';

/**
 * The store's time, `offsetMs` milliseconds on (earlier when negative), as the text Pave stores times as: RFC
 * 3339 UTC with milliseconds, `Date.toISOString()`'s form (`2025-01-31T12:00:00.000Z`), so that it compares as
 * text with the times stored before. For what replicas must agree on whatever their own clocks say: the expiry
 * of leases, set and compared in SQL with this, so that a replica whose clock is off neither loses its leases
 * early nor takes another's. On PostgreSQL it is the server's `clock_timestamp()` (the time of the statement,
 * not of its transaction's start, as `now()` would be); on SQLite, which lives on the one host its control
 * plane runs on, SQLite's own clock, the host's.
 */
export function storeTime(engine: StoreEngine, offsetMs = 0): RawBuilder<string> {
  const ms = Math.round(offsetMs);
  if (engine === 'postgres') {
    return sql<string>`to_char((clock_timestamp() + cast(${ms} as integer) * interval '1 millisecond') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  }
  const modifier = `${ms < 0 ? '-' : '+'}${(Math.abs(ms) / 1000).toFixed(3)} seconds`;
  return sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ${modifier})`;
}
