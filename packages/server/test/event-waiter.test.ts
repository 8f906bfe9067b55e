import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../src/domain/context.ts';
import { EventWaiter, recordEvent } from '../src/domain/events.ts';
import type { Store } from '../src/index.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

const HOUR_MS = 3_600_000;

describe.each(storeEngines)('waiting for new events on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  const record = () =>
    recordEvent(store.db, systemContext('tester', 'test'), {
      type: 'values.changed',
      app: null,
      data: { scope: 'app', version: null, set: ['KEY'], unset: [] },
    });

  beforeAll(async () => {
    ({ store, cleanup } = await openTestStore(engine));
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('ends the wait as soon as this process commits an event, even one committed during the look', async () => {
    const waiter = new EventWaiter(store, new AbortController().signal);
    try {
      // The poll is an hour away: only the commit can end these waits within the test's time.
      waiter.looking();
      const woken = waiter.next(HOUR_MS);
      await record();
      await woken;
      waiter.looking();
      await record();
      await waiter.next(HOUR_MS);
    } finally {
      waiter.close();
    }
  });

  it('ends the wait at the poll when nothing is committed, and at once when its signal aborts', async () => {
    const controller = new AbortController();
    const waiter = new EventWaiter(store, controller.signal);
    try {
      waiter.looking();
      await waiter.next(10);
      waiter.looking();
      const waiting = waiter.next(HOUR_MS);
      controller.abort();
      await waiting;
      await waiter.next(HOUR_MS);
      expect(controller.signal.aborted).toBe(true);
    } finally {
      waiter.close();
    }
  });
});
