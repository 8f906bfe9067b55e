import { describe, expect, it } from 'vitest';
import { arrivals } from '../src/http/streams.ts';

/** A source that gives what `push` hands it, ends on `end` and fails on `fail`; `pulled` counts its reads. */
function pushedSource<T>() {
  const queue: Array<{ value: T } | { end: true } | { error: Error }> = [];
  let wake: (() => void) | undefined;
  const state = { pulled: 0, returned: false };
  const source: AsyncIterable<T> = {
    [Symbol.asyncIterator]: () => ({
      async next(): Promise<IteratorResult<T>> {
        state.pulled++;
        while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        const item = queue.shift()!;
        if ('error' in item) throw item.error;
        return 'end' in item ? { done: true, value: undefined } : { done: false, value: item.value };
      },
      async return(): Promise<IteratorResult<T>> {
        state.returned = true;
        return { done: true, value: undefined };
      },
    }),
  };
  const put = (item: (typeof queue)[number]) => {
    queue.push(item);
    wake?.();
  };
  return {
    source,
    state,
    push: (...values: T[]) => values.forEach((value) => put({ value })),
    end: () => put({ end: true }),
    fail: (error: Error) => put({ error }),
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('arrivals', () => {
  it('hands out everything that arrived since the last take, waiting for one item when none has', async () => {
    const pushed = pushedSource<number>();
    const arrived = arrivals(pushed.source);
    const first = arrived.take();
    pushed.push(1);
    expect(await first).toEqual([1]);
    pushed.push(2, 3, 4);
    await settle();
    expect(await arrived.take()).toEqual([2, 3, 4]);
    pushed.push(5);
    pushed.end();
    await settle();
    expect(await arrived.take()).toEqual([5]);
    expect(await arrived.take()).toBeUndefined();
  });

  it('stops reading while `limit` items wait, and goes on once they are taken', async () => {
    const pushed = pushedSource<number>();
    const arrived = arrivals(pushed.source, 2);
    pushed.push(1, 2, 3, 4);
    await settle();
    expect(pushed.state.pulled).toBe(2);
    expect(await arrived.take()).toEqual([1, 2]);
    await settle();
    expect(await arrived.take()).toEqual([3, 4]);
    arrived.close();
  });

  it("throws the source's error after the items that came before it", async () => {
    const pushed = pushedSource<number>();
    const arrived = arrivals(pushed.source);
    pushed.push(1, 2);
    pushed.fail(new Error('the runtime went away'));
    await settle();
    expect(await arrived.take()).toEqual([1, 2]);
    await expect(arrived.take()).rejects.toThrow('the runtime went away');
  });

  it('stops reading the source when closed', async () => {
    const pushed = pushedSource<number>();
    const arrived = arrivals(pushed.source);
    pushed.push(1);
    await settle();
    arrived.close();
    pushed.push(2);
    await settle();
    expect(pushed.state.returned).toBe(true);
    expect(await arrived.take()).toEqual([1]);
    expect(await arrived.take()).toBeUndefined();
  });
});
