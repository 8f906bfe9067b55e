import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * Route hosts: each host the reverse proxy serves belongs to one environment, claimed by a unique row, so
 * no other environment can route any path of it. Existing routes are claimed here: a host under
 * `.<env>.<app>.localhost` by that environment only; any other host by the first environment (in app, env
 * order: routes carry no timestamps) that serves it. Routes of environments that do not own their host
 * are removed, which stops a hijack that was already recorded.
 */
export const routeHosts: StoreMigration = {
  name: '0009_route_hosts',
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('route_hosts')
      .addColumn('host', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('env_id', 'text', (c) => c.notNull())
      .addColumn('claimed_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('route_hosts_env').on('route_hosts').columns(['app_id', 'env_id']).execute();
    const typed = db as unknown as Kysely<{
      routes: { host: string; path: string; app_id: string; env_id: string };
      route_hosts: { host: string; app_id: string; env_id: string; claimed_at: string };
    }>;
    const rows = await typed
      .selectFrom('routes')
      .select(['host', 'app_id', 'env_id'])
      .distinct()
      .orderBy('host')
      .orderBy('app_id')
      .orderBy('env_id')
      .execute();
    const owners = new Map<string, { app_id: string; env_id: string } | null>();
    for (const row of rows) {
      if (owners.has(row.host)) continue;
      // This migration's own copy of the reservation rule: landed migrations never change.
      const labels = row.host.split('.');
      const reserved =
        labels.length >= 3 && labels[labels.length - 1] === 'localhost'
          ? { app_id: labels[labels.length - 2]!, env_id: labels[labels.length - 3]! }
          : undefined;
      if (!reserved) owners.set(row.host, row);
      else if (
        rows.some((r) => r.host === row.host && r.app_id === reserved.app_id && r.env_id === reserved.env_id)
      )
        owners.set(row.host, reserved);
      else owners.set(row.host, null);
    }
    for (const [host, owner] of owners) {
      if (owner) {
        await typed
          .insertInto('route_hosts')
          .values({ host, ...owner, claimed_at: new Date().toISOString() })
          .execute();
      }
      await typed
        .deleteFrom('routes')
        .where('host', '=', host)
        .$if(owner !== null, (qb) =>
          qb.where((eb) => eb.or([eb('app_id', '!=', owner!.app_id), eb('env_id', '!=', owner!.env_id)])),
        )
        .execute();
    }
  },
};
