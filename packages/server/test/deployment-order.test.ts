import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/domain/apps.ts';
import { systemContext } from '../src/domain/context.ts';
import { createEnvironment } from '../src/domain/environments.ts';
import { insertDeployment } from '../src/domain/deployments/service.ts';
import { saveSet } from '../src/domain/deployments/sets.ts';
import type { Store } from '../src/index.ts';
import { openTestStore } from '../../../test/support/stores.ts';
import { eventually } from '../../../test/support/processes.ts';

/*
 * The worker runs an environment's deployments in id order. On PostgreSQL two deploys queued at the same moment
 * (by two replicas, or two requests to one) each draw an id and then wait for the audit chain's head; if the one
 * with the higher id got there first it committed first, so the worker could see it, and run it, before the
 * other one existed for it. A deployment draws its id only once it holds its environment's queue, so ids follow
 * the order in which deployments are queued.
 */
describe('the order of deployments queued at the same time, on PostgreSQL', () => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let url: string;
  let setId: string;
  const context = systemContext('admin', 'deployment-order');

  beforeAll(async () => {
    const opened = await openTestStore('postgres');
    store = opened.store;
    cleanup = opened.cleanup;
    url = opened.location.url!;
    await createApp(store, context, { id: 'shop' });
    await createEnvironment(store, context, 'shop', { id: 'dev', type: 'development' });
    setId = await saveSet(store.db, {});
  });
  afterAll(async () => {
    await cleanup?.();
  });

  const queue = (message: string) =>
    store.transaction((tx) =>
      insertDeployment(
        tx,
        context,
        { app: 'shop', env: 'dev' },
        'deploy',
        { setId, timeoutSeconds: 60, autoRollback: true },
        message,
      ),
    );

  it('draws no id while another transaction holds the environment', async () => {
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    const watcher = new pg.Client({ connectionString: url });
    await watcher.connect();
    try {
      const lastId = async () =>
        Number((await watcher.query('select last_value from deployments_id_seq')).rows[0].last_value);
      await queue('first, alone');
      const before = await lastId();

      // Another transaction holds the environment (a deployment finishing, an environment being changed).
      await holder.query('begin');
      await holder.query(`select id from environments where app_id = 'shop' and id = 'dev' for update`);
      const holderPid = Number((await holder.query('select pg_backend_pid() as pid')).rows[0].pid);

      const waiting = queue('queued while the environment was held');
      // Wait until the deploy's transaction is blocked by the holder (not a timed wait: PostgreSQL says so).
      await eventually(
        async () => {
          const { rows } = await watcher.query(
            `select count(*)::int as n from pg_stat_activity
              where datname = current_database() and wait_event_type = 'Lock' and $1 = any(pg_blocking_pids(pid))`,
            [holderPid],
          );
          return rows[0].n > 0 ? true : undefined;
        },
        10_000,
        'the deploy to wait for the environment',
      );
      expect(await lastId(), 'an id was drawn before the environment was held').toBe(before);

      await holder.query('commit');
      const queued = await waiting;
      expect(Number(queued.id)).toBe(before + 1);
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await holder.end();
      await watcher.end();
    }
  });

  it('twenty deploys queued at once get ids in the order they commit', async () => {
    const committed: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async (_, index) => {
        const deployment = await queue(`concurrent ${index}`);
        committed.push(Number(deployment.id));
      }),
    );
    expect(committed).toEqual([...committed].sort((a, b) => a - b));
  });
});
