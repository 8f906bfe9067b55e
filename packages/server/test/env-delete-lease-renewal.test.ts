import type { RuntimeDriver } from '@pave/plugin-api';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { openStore, type Store } from '../src/index.ts';
import { systemContext } from '../src/domain/context.ts';
import { deleteEnvironment } from '../src/domain/environments.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { eventually } from '../../../test/support/processes.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/** A gate a teardown waits at until the test opens it. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, wait: () => opened };
}

/** The 409 of a change to an environment that a live deletion holds. */
const BEING_DELETED = (env: string) => ({
  detail: `environment "${env}" of app "shop" is being deleted`,
  errors: [
    {
      path: 'path.env',
      message: expect.stringMatching(
        /its deletion goes on.*if the replica deleting it stopped, try again in 6 s/,
      ),
    },
  ],
});

/**
 * A deletion holds its environment's lease while it runs, renewed every 2 s with a short expiry, like a
 * deployment's: one whose replica stopped (killed in the middle of `pave envs delete`, say) leaves it to run out
 * within seconds, and deleting the environment again, or a deployment queued meanwhile, takes it over.
 */
describe.each(storeEngines)("an environment's deletion lease, on %s", (engine) => {
  let api: DeployingApi;
  /** What the API's own deletions wait for before the runtime removes the workloads. */
  let workloadsGate = gate();
  workloadsGate.open();
  const runtime: RuntimeDriver = { ...idleRuntime, name: 'gated', destroy: () => workloadsGate.wait() };
  const replicas: Store[] = [];
  const gates: Array<ReturnType<typeof gate>> = [];

  /** Another replica of the API's store: its own connections to the same database. */
  const replica = async (): Promise<Store> => {
    const store = await openStore({
      url: engine === 'postgres' ? api.store.location : undefined,
      dataDir: api.dataDir,
    });
    replicas.push(store);
    return store;
  };
  const lease = (env: string) => () =>
    api.store.db
      .selectFrom('environments')
      .select(['lease_owner', 'lease_until'])
      .where('app_id', '=', 'shop')
      .where('id', '=', env)
      .executeTakeFirst();
  /** Resolves with the owner of the deletion's lease once a deletion of `env` holds it. */
  const deletionStarted = (env: string) =>
    eventually(
      async () => {
        const owner = (await lease(env)())?.lease_owner;
        return owner?.startsWith('deletion:') ? owner : undefined;
      },
      15_000,
      `the deletion of ${env} to start`,
    );
  /** Resolves once the lease of `env` has been renewed `times` times by `owner`, failing if another took it. */
  const renewedBy = async (env: string, owner: string, times: number) => {
    const seen = new Set<string>();
    for (let attempt = 0; attempt < 1500; attempt++) {
      const row = await lease(env)();
      expect(row?.lease_owner, 'the lease was taken from the deletion holding it').toBe(owner);
      seen.add(row!.lease_until!);
      if (seen.size > times) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`the deletion's lease was not renewed ${times} times`);
  };
  const create = async (env: string) => {
    const created = await api.call('POST', '/apps/shop/envs', { id: env, type: 'development' });
    expect(created.statusCode, created.body).toBe(201);
  };
  /**
   * Starts deleting `env` on a replica of its own, whose teardown waits at a gate, and then kills that replica:
   * it does nothing more, its lease on the environment included.
   */
  const deletionKilled = async (env: string) => {
    const store = await replica();
    const stuck = gate();
    gates.push(stuck);
    const teardown = { workloads: () => stuck.wait(), resources: async () => undefined };
    const deleting = deleteEnvironment(
      store,
      systemContext('admin', 'replica-b'),
      'shop',
      env,
      teardown,
    ).catch((error: unknown) => error);
    await deletionStarted(env);
    await store.close();
    return { deleting };
  };

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime, worker: true });
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
  });
  afterEach(() => {
    vi.useRealTimers();
    workloadsGate.open();
  });
  afterAll(async () => {
    for (const stuck of gates) stuck.open();
    await Promise.all(replicas.map((store) => store.close().catch(() => undefined)));
    await api?.cleanup();
  });

  it('a deletion whose replica was killed is taken over within seconds by deleting the environment again', async () => {
    await create('killed');
    const killed = await deletionKilled('killed');
    const refused = await api.call('DELETE', '/apps/shop/envs/killed');
    const deleted = await eventually(
      async () => {
        const answer = await api.call('DELETE', '/apps/shop/envs/killed');
        return answer.statusCode === 409 ? undefined : answer;
      },
      20_000,
      'the deletion to be taken over',
    );
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect((await api.call('GET', '/apps/shop/envs/killed')).statusCode).toBe(404);
    // While the killed replica's lease lasted, the refusal said when to try again.
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject(BEING_DELETED('killed'));
    // Let go, the killed replica's deletion finds its store closed.
    gates.at(-1)!.open();
    expect(String(await killed.deleting)).toMatch(/destroyed|pool/);
  }, 60_000);

  it("a deployment queued while a killed replica's deletion held the environment runs once its lease runs out", async () => {
    await create('queued');
    await deletionKilled('queued');
    const done = await api.deploy('shop', 'queued', {
      workloads: [
        {
          spec: {
            apiVersion: 'score.dev/v1b1',
            metadata: { name: 'web' },
            containers: { main: { image: 'fake', command: ['serve'] } },
          },
          dir: '/srv/app',
        },
      ],
      minReadySeconds: 0,
    });
    expect(done.status, done.reason ?? '').toBe('succeeded');
  }, 60_000);

  it('a deletion that runs longer than its lease renews it: it is refused again meanwhile, then deletes the environment', async () => {
    await create('slow');
    workloadsGate = gate();
    const first = api.call('DELETE', '/apps/shop/envs/slow');
    const owner = await deletionStarted('slow');
    // Past the lease's length: the deletion still holds it.
    await renewedBy('slow', owner, 4);
    const second = await api.call('DELETE', '/apps/shop/envs/slow');
    expect(second.statusCode, second.body).toBe(409);
    expect(second.json()).toMatchObject(BEING_DELETED('slow'));
    workloadsGate.open();
    expect((await first).statusCode).toBe(204);
  }, 60_000);

  it("a deletion holds its lease by the store's clock: a replica whose clock is 15 s ahead is refused", async () => {
    await create('skewed');
    workloadsGate = gate();
    const first = api.call('DELETE', '/apps/shop/envs/skewed');
    const owner = await deletionStarted('skewed');
    await renewedBy('skewed', owner, 1);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 15_000, shouldAdvanceTime: true });
    const second = await api.call('DELETE', '/apps/shop/envs/skewed');
    const extended = await api.call('POST', '/apps/shop/envs/skewed/extend', { ttlSeconds: 3600 });
    vi.useRealTimers();
    workloadsGate.open();
    expect((await first).statusCode).toBe(204);
    expect(second.statusCode, second.body).toBe(409);
    expect(second.json()).toMatchObject(BEING_DELETED('skewed'));
    expect(extended.statusCode, extended.body).toBe(409);
  });

  it('a deletion that lost its lease (it stalled while another took the environment over) deletes nothing', async () => {
    await create('stalled');
    workloadsGate = gate();
    const first = api.call('DELETE', '/apps/shop/envs/stalled');
    await deletionStarted('stalled');
    // What a worker does once the lease has run out: it takes the environment.
    await api.store.db
      .updateTable('environments')
      .set({ lease_owner: 'another-replica', lease_until: new Date(Date.now() + 60_000).toISOString() })
      .where('app_id', '=', 'shop')
      .where('id', '=', 'stalled')
      .execute();
    workloadsGate.open();
    const answer = await first;
    expect(answer.statusCode, answer.body).toBe(409);
    expect(answer.json().detail).toMatch(/environment "stalled" of app "shop" was not deleted/);
    expect((await api.call('GET', '/apps/shop/envs/stalled')).statusCode).toBe(200);
    expect((await lease('stalled')())?.lease_owner).toBe('another-replica');
  });
});
