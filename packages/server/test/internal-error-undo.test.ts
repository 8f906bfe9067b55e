import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeResourceDriver, FakeRuntime } from '@pave/plugin-api/testing';
import type { ScoreWorkload } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const TARGET = { app: 'shop', env: 'dev' };

/** What the store says when it refuses to record a success: words for the log, not for users. */
const STORE_ERROR = 'disk I/O error at page 4711';

/** The web workload answering with `greeting`, with a redis `cache` when asked. */
function web(greeting: string, withCache = false): ScoreWorkload {
  return {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'web' },
    containers: { main: { image: 'fake', command: ['serve'], variables: { GREETING: greeting } } },
    ...(withCache ? { resources: { cache: { type: 'redis' } } } : {}),
  };
}

/**
 * A deployment that Pave itself fails, not a driver: its workloads are ready, but the store refuses to record
 * its success (a trigger stands in for a store failing at that moment). It fails as a driver's failure would:
 * the previous set runs again (or, with none, what it started is stopped) and the resources it created are
 * deleted; its reason says "internal error" and where the details are, never the store's words, which the log
 * keeps.
 */
describe.each(storeEngines)('a deployment failed by an internal error, on %s', (engine) => {
  let api: DeployingApi;
  const runtime = new FakeRuntime({ serveHttp: false });
  const resources = new FakeResourceDriver();
  const logged: Array<{ msg: string; err?: { message?: string } }> = [];

  /** From now on the store refuses to mark any deployment succeeded. */
  const refuseSuccess = async () => {
    if (api.store.engine === 'sqlite') {
      await sql
        .raw(
          `CREATE TRIGGER refuse_success BEFORE UPDATE OF status ON deployments WHEN NEW.status = 'succeeded' ` +
            `BEGIN SELECT RAISE(ABORT, '${STORE_ERROR}'); END`,
        )
        .execute(api.store.db);
      return;
    }
    await sql
      .raw(
        `CREATE OR REPLACE FUNCTION refuse_success() RETURNS trigger LANGUAGE plpgsql AS ` +
          `$$ BEGIN RAISE EXCEPTION '${STORE_ERROR}'; END $$`,
      )
      .execute(api.store.db);
    await sql
      .raw(
        `CREATE TRIGGER refuse_success BEFORE UPDATE OF status ON deployments FOR EACH ROW ` +
          `WHEN (NEW.status = 'succeeded') EXECUTE FUNCTION refuse_success()`,
      )
      .execute(api.store.db);
  };
  const allowSuccess = () =>
    sql
      .raw(
        api.store.engine === 'sqlite'
          ? 'DROP TRIGGER IF EXISTS refuse_success'
          : 'DROP TRIGGER IF EXISTS refuse_success ON deployments',
      )
      .execute(api.store.db);
  const deploy = (spec: ScoreWorkload) =>
    api.deploy('shop', 'dev', { workloads: [{ spec, dir: '/srv/app' }], minReadySeconds: 0 });
  const recorded = async () =>
    (
      await api.store.db
        .selectFrom('resources')
        .select('address')
        .where('app_id', '=', 'shop')
        .where('env_id', '=', 'dev')
        .execute()
    ).map((row) => row.address);
  const greetings = () =>
    Object.fromEntries([...runtime.running(TARGET)].map(([name, w]) => [name, w.env.GREETING ?? '']));

  beforeAll(async () => {
    api = await openDeployingApi(engine, {
      runtime,
      resourceDrivers: [resources],
      worker: true,
      logger: pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line)) }),
    });
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    const applied = await api.call('POST', '/resource-definitions/apply', {
      definitions: [
        {
          id: 'fake-redis',
          type: 'redis',
          driver: 'fake',
          driverInputs: { values: {} },
          criteria: [{ appId: 'shop' }],
        },
      ],
    });
    expect(applied.statusCode, applied.body).toBe(200);
  });
  afterAll(async () => {
    await api?.cleanup();
  });
  beforeEach(async () => {
    await allowSuccess();
    await api.call('DELETE', '/apps/shop/envs/dev');
    expect((await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(
      201,
    );
  });

  it('brings the previous set back and deletes the resource it created; the reason hides the store’s words', async () => {
    expect((await deploy(web('v1'))).status).toBe('succeeded');
    await refuseSuccess();
    const failed = await deploy(web('v2', true));
    expect(greetings()).toEqual({ web: 'v1' });
    expect(await recorded()).toEqual([]);
    expect([...resources.resources.keys()].filter((id) => id.startsWith('shop/dev/'))).toEqual([]);
    expect(failed).toMatchObject({
      status: 'failed',
      reason: `internal error; the server log has details under deployment ${failed.id}`,
      rolledBack: true,
    });
    expect(failed.journal.filter((entry) => entry.message.includes(STORE_ERROR))).toEqual([]);
    expect(logged.some((line) => line.err?.message?.includes(STORE_ERROR))).toBe(true);
  });

  it('a first deployment stops what it started and deletes what it created', async () => {
    await refuseSuccess();
    const failed = await deploy(web('v1', true));
    expect(runtime.running(TARGET).size).toBe(0);
    expect(await recorded()).toEqual([]);
    expect([...resources.resources.keys()].filter((id) => id.startsWith('shop/dev/'))).toEqual([]);
    expect(failed).toMatchObject({ status: 'failed', rolledBack: false });
    expect(failed.reason).toMatch(/^internal error; the server log has details under deployment \d+$/);
  });
});
