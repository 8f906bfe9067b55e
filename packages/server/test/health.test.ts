import { describe, expect, it } from 'vitest';
import { environmentHealth, workloadHealth, worstOf } from '../src/domain/deployments/health.ts';

type State = 'starting' | 'running' | 'ready' | 'crash-looping' | 'stopped';
const workload = (name: string, state: State, restarts = 0, detail?: string) => ({
  workload: name,
  state,
  restarts,
  ...(detail ? { detail } : {}),
});

describe('the health of a workload, apart from how its deployment went', () => {
  it('is healthy when ready, and progressing while a deployment of its environment runs', () => {
    expect(workloadHealth(workload('api', 'ready', 3), false)).toEqual({ health: 'healthy' });
    expect(workloadHealth(workload('api', 'ready'), true).health).toBe('progressing');
  });

  it('is progressing while it starts or runs without being ready yet, saying why', () => {
    expect(workloadHealth(workload('api', 'starting'), false)).toEqual({
      health: 'progressing',
      detail: 'api: starting',
    });
    expect(workloadHealth(workload('api', 'running', 0, 'readiness probe GET /health: 500'), false)).toEqual({
      health: 'progressing',
      detail: 'api: not ready yet (readiness probe GET /health: 500)',
    });
  });

  it('is degraded when it crash-loops or stopped, even while a deployment runs', () => {
    expect(workloadHealth(workload('api', 'crash-looping', 5), true)).toEqual({
      health: 'degraded',
      detail: 'api: crash-looping (5 restarts)',
    });
    expect(workloadHealth(workload('api', 'crash-looping', 1), false).detail).toBe(
      'api: crash-looping (1 restart)',
    );
    expect(workloadHealth(workload('job', 'stopped'), false).health).toBe('degraded');
  });
});

describe('the health of an environment', () => {
  const settled = { deploying: false, deployed: true, expected: [] as string[] };

  it('is the worst of its workloads: degraded > unknown > progressing > healthy, with the worst reasons', () => {
    const result = environmentHealth({
      ...settled,
      expected: ['api', 'web', 'worker'],
      workloads: [
        workload('api', 'crash-looping', 5),
        workload('web', 'starting'),
        workload('worker', 'ready'),
      ],
    });
    expect(result.environment).toEqual({ health: 'degraded', detail: 'api: crash-looping (5 restarts)' });
    expect(result.workloads.get('web')?.health).toBe('progressing');
    expect(result.workloads.get('worker')).toEqual({ health: 'healthy' });
    expect(worstOf([{ health: 'progressing' }, { health: 'unknown', detail: 'x' }])).toEqual({
      health: 'unknown',
      detail: 'x',
    });
  });

  it('is unknown, not healthy, when nothing was ever deployed and nothing runs; progressing while one deploys', () => {
    const fresh = { ...settled, deployed: false, workloads: [] };
    expect(environmentHealth(fresh).environment).toEqual({
      health: 'unknown',
      detail: 'nothing deployed yet',
    });
    expect(environmentHealth({ ...fresh, deploying: true }).environment.health).toBe('progressing');
    // What a failed first deployment left running still says how it is doing.
    expect(
      environmentHealth({ ...fresh, workloads: [workload('api', 'crash-looping', 2)] }).environment,
    ).toEqual({ health: 'degraded', detail: 'api: crash-looping (2 restarts)' });
  });

  it('is healthy when its current set has no workloads on purpose (an Argo CD app without resources is)', () => {
    expect(environmentHealth({ ...settled, workloads: [] }).environment).toEqual({
      health: 'healthy',
    });
  });

  it('is degraded when a workload of the current set is not running at all, unless a deployment runs', () => {
    const missing = { ...settled, expected: ['api', 'worker'], workloads: [workload('api', 'ready')] };
    expect(environmentHealth(missing).environment).toEqual({
      health: 'degraded',
      detail: 'worker: missing (deployed, but not running)',
    });
    expect(environmentHealth({ ...missing, deploying: true }).environment.health).toBe('progressing');
  });

  it('is unknown when the runtime target cannot be reached', () => {
    expect(
      environmentHealth({ ...settled, unreachable: 'no such socket', workloads: [] }).environment,
    ).toEqual({ health: 'unknown', detail: 'the runtime target cannot be reached: no such socket' });
  });
});
