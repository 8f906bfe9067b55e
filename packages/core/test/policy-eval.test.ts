import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Policy, type ScoreWorkload } from '../src/index.ts';
import {
  activeFreezeWindow,
  checkPolicy,
  evaluatePolicies,
  policyApplies,
  type PolicyInput,
} from '../src/policy-eval.ts';

const workload = (name: string, containers: Record<string, object>, resources?: object): ScoreWorkload =>
  ({
    apiVersion: 'score.dev/v1b1',
    metadata: { name },
    containers,
    ...(resources ? { resources } : {}),
  }) as ScoreWorkload;

const input = (overrides: Partial<PolicyInput> = {}): PolicyInput => ({
  app: 'shop',
  environment: { id: 'prod', type: 'production' },
  deployment: { kind: 'deploy', actor: 'ada', allowDataLoss: false, prune: false },
  workloads: [workload('api', { main: { image: 'nginx:1.27' } })],
  valueKeys: ['DATABASE_URL'],
  now: new Date('2026-12-03T12:00:00Z'),
  ...overrides,
});

const pinned = Policy.parse({
  id: 'no-latest-images',
  severity: 'deny',
  message: 'pin images',
  each: 'container',
  rule: 'container.image.contains("@") || (container.image.matches(":[^/:]+$") && !container.image.endsWith(":latest"))',
});

describe('the policy schema', () => {
  it('takes exactly one of rule, promotionGate and freeze, and `each` only with a rule', () => {
    const base = { id: 'p', severity: 'deny', message: 'm' };
    expect(Policy.safeParse({ ...base, rule: 'true' }).success).toBe(true);
    expect(Policy.safeParse(base).success).toBe(false);
    expect(
      Policy.safeParse({ ...base, rule: 'true', promotionGate: { from: 'staging', within: '7d' } }).success,
    ).toBe(false);
    expect(Policy.safeParse({ ...base, each: 'container', freeze: { from: 'x', to: 'y' } }).success).toBe(
      false,
    );
    expect(Policy.safeParse({ ...base, promotionGate: { from: 'staging', within: '7 days' } }).success).toBe(
      false,
    );
  });
});

describe('checkPolicy', () => {
  it('refuses unknown fields and variables with the offset in the expression and the CEL message', () => {
    expect(checkPolicy({ ...pinned, each: undefined, rule: 'environment.typo == "x"' })).toEqual([
      { field: 'rule', offset: 12, message: 'No such key: typo' },
    ]);
    expect(checkPolicy({ ...pinned, each: undefined })[0]?.message).toBe(
      'Unknown variable: container; rules about `container` need `each: container`',
    );
    expect(checkPolicy({ ...pinned, rule: '1 + 1' })[0]?.message).toContain('must be true or false');
    expect(checkPolicy({ ...pinned, rule: 'container.image ==' })[0]).toMatchObject({ field: 'rule' });
    expect(checkPolicy(pinned)).toEqual([]);
  });

  it('refuses bad freeze schedules, time zones and windows', () => {
    const freeze = (f: object) =>
      checkPolicy({ id: 'f', severity: 'deny', message: 'm', freeze: f as never });
    expect(freeze({ schedule: '0 16 * * FRI', duration: '64h', timezone: 'Europe/Berlin' })).toEqual([]);
    expect(freeze({ schedule: '0 16 * * FRY', duration: '64h' })[0]?.field).toBe('freeze/schedule');
    expect(freeze({ schedule: '0 16 * * FRI', duration: '64h', timezone: 'Mars/Olympus' })[0]?.field).toBe(
      'freeze/timezone',
    );
    expect(freeze({ from: '2026-12-03T00:00:00Z', to: '2026-12-02T00:00:00Z' })[0]?.field).toBe('freeze/to');
  });

  it('refuses a schedule that never starts a window, or that is not the documented five fields', () => {
    const freeze = (schedule: string) =>
      checkPolicy({ id: 'f', severity: 'deny', message: 'm', freeze: { schedule, duration: '1h' } });
    expect(freeze('0 0 30 2 *')).toEqual([
      { field: 'freeze/schedule', message: expect.stringContaining('never starts a window') },
    ]);
    expect(freeze('0 0 16 * * FRI')).toEqual([
      { field: 'freeze/schedule', message: expect.stringContaining('has 6 fields') },
    ]);
  });
});

describe('evaluatePolicies', () => {
  it('names the workload and container a container rule fails on, once per failing container', () => {
    const verdicts = evaluatePolicies(
      [pinned],
      input({
        workloads: [
          workload('web', { main: { image: 'nginx' }, side: { image: 'envoy:1.30' } }),
          workload('api', { main: { image: 'node:latest' } }),
        ],
      }),
    );
    expect(verdicts).toEqual([
      {
        policy: 'no-latest-images',
        severity: 'deny',
        outcome: 'deny',
        message: 'pin images',
        workload: 'api',
        container: 'main',
      },
      {
        policy: 'no-latest-images',
        severity: 'deny',
        outcome: 'deny',
        message: 'pin images',
        workload: 'web',
        container: 'main',
      },
    ]);
  });

  it('judges images: a tag other than latest or a digest passes, whatever the registry port', () => {
    const outcome = (image: string) =>
      evaluatePolicies([pinned], input({ workloads: [workload('api', { main: { image } })] }))[0]?.outcome;
    expect(outcome('nginx:1.27')).toBe('pass');
    expect(outcome('registry:5000/shop/api:1f2e3d')).toBe('pass');
    expect(outcome('nginx@sha256:0123abcd')).toBe('pass');
    expect(outcome('nginx:latest')).toBe('deny');
    expect(outcome('nginx')).toBe('deny');
    expect(outcome('registry:5000/shop/api')).toBe('deny');
  });

  it('sees the resource plan with Score params, the deployment and the value names', () => {
    const route = { web: { type: 'route', params: { host: 'shop.evil.com', path: '/', port: 80 } } };
    const rule = (r: string) => Policy.parse({ id: 'r', severity: 'deny', message: 'm', rule: r });
    const context = input({
      workloads: [workload('api', { main: { image: 'x:1' } }, route)],
      resources: [{ address: 'api.web', type: 'route', action: 'create' }],
    });
    const outcome = (r: string) => evaluatePolicies([rule(r)], context)[0]?.outcome;
    expect(
      outcome('plan.resources.all(r, r.type != "route" || r.params.host.endsWith(".example.com"))'),
    ).toBe('deny');
    expect(outcome('plan.resources[0].action == "create" && plan.resources[0].address == "api.web"')).toBe(
      'pass',
    );
    expect(outcome('"DATABASE_URL" in values.keys && deployment.actor == "ada" && app == "shop"')).toBe(
      'pass',
    );
    expect(outcome('environment.type == "production" && environment.id == "prod"')).toBe('pass');
  });

  it('fails closed: a rule that throws denies, even with severity warn', () => {
    const verdicts = evaluatePolicies(
      [
        Policy.parse({
          id: 'm',
          severity: 'warn',
          message: 'memory',
          each: 'container',
          rule: 'container.resources.limits.memory != ""',
        }),
      ],
      input(),
    );
    expect(verdicts).toEqual([
      {
        policy: 'm',
        severity: 'warn',
        outcome: 'deny',
        message: 'memory (the rule failed to evaluate: No such key: resources)',
        workload: 'api',
        container: 'main',
      },
    ]);
  });

  it('gates on the exact set having succeeded in the named environment type within the time given', () => {
    const gate = Policy.parse({
      id: 'g',
      severity: 'deny',
      message: 'stage it',
      promotionGate: { from: 'staging', within: '7d' },
    });
    const at = (finishedAt: string, envType = 'staging') =>
      evaluatePolicies([gate], input({ setSuccesses: [{ envId: 'stage', envType, finishedAt }] }))[0]
        ?.outcome;
    expect(at('2026-12-01T12:00:00Z')).toBe('pass');
    expect(at('2026-11-20T12:00:00Z')).toBe('deny');
    expect(at('2026-12-01T12:00:00Z', 'development')).toBe('deny');
    expect(evaluatePolicies([gate], input())[0]?.message).toBe(
      'stage it (promotion gate not checked offline)',
    );
  });
});

describe('freeze windows', () => {
  const weekend = { schedule: '0 16 * * FRI', duration: '64h', timezone: 'Europe/Berlin' };

  it('covers Friday 16:00 Berlin time to Monday 08:00', () => {
    expect(activeFreezeWindow(weekend, new Date('2026-12-04T14:59:00Z'))).toBeUndefined();
    expect(activeFreezeWindow(weekend, new Date('2026-12-04T15:00:00Z'))).toEqual({
      from: new Date('2026-12-04T15:00:00Z'),
      to: new Date('2026-12-07T07:00:00Z'),
    });
    expect(activeFreezeWindow(weekend, new Date('2026-12-07T06:59:00Z'))).toBeDefined();
    expect(activeFreezeWindow(weekend, new Date('2026-12-07T07:00:00Z'))).toBeUndefined();
  });

  it('lasts until the last of overlapping windows ends, not the first', () => {
    // Daily starts at 02:00 UTC, each lasting 30 h: every window starts before the one before it ends.
    const overlapping = { schedule: '0 2 * * *', duration: '30h' };
    const window = activeFreezeWindow(overlapping, new Date('2026-06-05T12:00:00Z'));
    expect(window?.from).toEqual(new Date('2026-06-05T02:00:00Z'));
    // The next windows start before it ends, without a gap: not this window's end (06-06 08:00).
    expect(window!.to.getTime()).toBeGreaterThan(new Date('2026-06-20T00:00:00Z').getTime());
    // Windows with gaps between them end where the current one ends.
    expect(
      activeFreezeWindow({ schedule: '0 2 * * *', duration: '20h' }, new Date('2026-06-05T12:00:00Z')),
    ).toEqual({ from: new Date('2026-06-05T02:00:00Z'), to: new Date('2026-06-05T22:00:00Z') });
  });

  it('holds an instant exactly when it lies in [start, start + duration) of some scheduled start', () => {
    // Daily windows at 02:00 UTC lasting `hours`: the instant is inside when its time of day is below 02:00 + hours.
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 7 * 24 * 60 - 1 }),
        (hours, minute) => {
          const now = new Date(Date.UTC(2026, 0, 5) + minute * 60_000);
          const sinceStart = (((minute - 120) % 1440) + 1440) % 1440;
          const inside =
            activeFreezeWindow({ schedule: '0 2 * * *', duration: `${hours}h` }, now) !== undefined;
          return inside === sinceStart < hours * 60;
        },
      ),
      { numRuns: 200 },
    );
  });

  it('matches criteria like definitions: any criterion whose every field equals', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ envType: fc.constantFrom('production', 'staging', undefined) }, { requiredKeys: [] }),
          { maxLength: 3 },
        ),
        fc.constantFrom('production', 'staging', 'development'),
        (criteria, envType) => {
          const clean = criteria.map((c) => (c.envType === undefined ? {} : { envType: c.envType }));
          const applies = policyApplies({ criteria: clean }, { appId: 'shop', envId: 'e', envType });
          return applies === (clean.length === 0 || clean.some((c) => !c.envType || c.envType === envType));
        },
      ),
    );
  });
});
