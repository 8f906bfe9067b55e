import { describe, expect, it } from 'vitest';
import { sleep, WorkloadLocks, workloadKey } from '../src/index.ts';

const target = { app: 'shop', env: 'dev' };

describe('WorkloadLocks', () => {
  it('runs operations on one workload one after the other, even after a failure', async () => {
    const locks = new WorkloadLocks();
    const order: string[] = [];
    const first = locks.run(target, 'web', async () => {
      await sleep(20);
      order.push('first');
      throw new Error('first failed');
    });
    const second = locks.run(target, 'web', async () => {
      order.push('second');
      return 2;
    });
    await expect(first).rejects.toThrow('first failed');
    expect(await second).toBe(2);
    expect(order).toEqual(['first', 'second']);
  });

  it('runs operations on different workloads at once', async () => {
    const locks = new WorkloadLocks();
    const order: string[] = [];
    const slow = locks.run(target, 'web', async () => {
      await sleep(20);
      order.push('web');
    });
    await locks.run(target, 'worker', async () => {
      order.push('worker');
    });
    await slow;
    expect(order).toEqual(['worker', 'web']);
  });

  it('keys a workload by app, environment and name', () => {
    expect(workloadKey(target, 'web')).toBe('shop/dev/web');
  });
});
